// files exercises the filesystem through the os package: create, write,
// read back, append, seek, stat, rename, directories and their listing,
// symlinks, truncation, removal, /dev/null, and the working directory.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

func check(what string, err error) {
	if err != nil {
		fmt.Println(what, "error:", err)
	}
}

func main() {
	dir, err := os.MkdirTemp("", "rt0files")
	check("mkdtemp", err)
	fmt.Println("tempdir under /tmp:", filepath.Dir(dir) == os.TempDir())
	p := filepath.Join(dir, "a.txt")
	check("write", os.WriteFile(p, []byte("hello\n"), 0o644))
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	check("open append", err)
	f.WriteString("world\n")
	f.Close()
	b, err := os.ReadFile(p)
	check("read", err)
	fmt.Printf("contents: %q\n", b)

	f, _ = os.Open(p)
	f.Seek(6, io.SeekStart)
	rest, _ := io.ReadAll(f)
	f.Close()
	fmt.Printf("after seek: %q\n", rest)

	st, err := os.Stat(p)
	check("stat", err)
	fmt.Println("size:", st.Size(), "mode:", st.Mode(), "dir:", st.IsDir())

	check("mkdir", os.MkdirAll(filepath.Join(dir, "sub/deeper"), 0o755))
	check("rename", os.Rename(p, filepath.Join(dir, "sub/b.txt")))
	check("symlink", os.Symlink("b.txt", filepath.Join(dir, "sub/link")))
	target, err := os.Readlink(filepath.Join(dir, "sub/link"))
	check("readlink", err)
	viaLink, err := os.ReadFile(filepath.Join(dir, "sub/link"))
	check("read via link", err)
	fmt.Printf("link -> %s: %q\n", target, viaLink)

	entries, err := os.ReadDir(filepath.Join(dir, "sub"))
	check("readdir", err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name()+map[bool]string{true: "/", false: ""}[e.IsDir()])
	}
	sort.Strings(names)
	fmt.Println("sub:", names)

	check("truncate", os.Truncate(filepath.Join(dir, "sub/b.txt"), 3))
	b, _ = os.ReadFile(filepath.Join(dir, "sub/b.txt"))
	fmt.Printf("truncated: %q\n", b)

	_, err = os.Stat(p)
	fmt.Println("old name gone:", os.IsNotExist(err))
	err = os.Remove(filepath.Join(dir, "sub"))
	fmt.Println("remove non-empty dir fails:", err != nil)
	check("removeall", os.RemoveAll(dir))
	_, err = os.Stat(dir)
	fmt.Println("all gone:", os.IsNotExist(err))

	n, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	check("devnull", err)
	k, _ := n.WriteString("discarded")
	n.Close()
	fmt.Println("devnull wrote:", k)

	check("chdir", os.Chdir("/tmp"))
	wd, _ := os.Getwd()
	fmt.Println("cwd:", wd)
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	check("big write", os.WriteFile("big", big, 0o600))
	back, _ := os.ReadFile("/tmp/big")
	same := len(back) == len(big)
	for i := range back {
		if back[i] != big[i] {
			same = false
			break
		}
	}
	fmt.Println("3 MiB file round trip:", same)
}
