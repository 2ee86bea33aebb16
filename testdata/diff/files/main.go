// files: the program's own directory (rt0 run -files): reading testdata,
// writing, renaming and removing in a temporary directory, symbolic links,
// directory listings and the errors for missing files.
//
//rt0diff:files
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func main() {
	wd, err := os.Getwd()
	check(err)
	fmt.Println("cwd ends in:", filepath.Base(wd))

	b, err := os.ReadFile("testdata/input.txt")
	check(err)
	fmt.Printf("input: %q\n", b)

	var walked []string
	check(filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		check(err)
		walked = append(walked, fmt.Sprintf("%s dir=%v", p, d.IsDir()))
		return nil
	}))
	fmt.Println("walk:", strings.Join(walked, ", "))

	_, err = os.Open("testdata/missing.txt")
	fmt.Println("missing:", err, errors.Is(err, fs.ErrNotExist))

	dir, err := os.MkdirTemp("", "diff-")
	check(err)
	p := filepath.Join(dir, "a.txt")
	check(os.WriteFile(p, []byte("hello"), 0o644))
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	check(err)
	_, err = f.WriteString(", world")
	check(err)
	check(f.Close())
	q := filepath.Join(dir, "b.txt")
	check(os.Rename(p, q))
	b, err = os.ReadFile(q)
	check(err)
	fi, err := os.Stat(q)
	check(err)
	fmt.Printf("renamed: %q size %d mode %v\n", b, fi.Size(), fi.Mode())
	_, err = os.Stat(p)
	fmt.Println("old name gone:", errors.Is(err, fs.ErrNotExist))

	check(os.Symlink("b.txt", filepath.Join(dir, "link")))
	target, err := os.Readlink(filepath.Join(dir, "link"))
	check(err)
	b, err = os.ReadFile(filepath.Join(dir, "link"))
	check(err)
	lfi, err := os.Lstat(filepath.Join(dir, "link"))
	check(err)
	fmt.Printf("link -> %s reads %q, is link %v\n", target, b, lfi.Mode()&fs.ModeSymlink != 0)

	check(os.MkdirAll(filepath.Join(dir, "x/y/z"), 0o755))
	check(os.WriteFile(filepath.Join(dir, "x/y/z/f"), []byte("f"), 0o600))
	ents, err := os.ReadDir(dir)
	check(err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	fmt.Println("temp dir:", names)
	err = os.Remove(filepath.Join(dir, "x"))
	fmt.Println("remove non-empty dir fails:", err != nil)
	check(os.RemoveAll(dir))
	_, err = os.Stat(dir)
	fmt.Println("removed:", errors.Is(err, fs.ErrNotExist))

	// Writes to the package directory stay in memory on rt0; on the host
	// they are undone here.
	check(os.WriteFile("testdata/scratch.txt", []byte("scratch"), 0o644))
	b, err = os.ReadFile("testdata/scratch.txt")
	check(err)
	check(os.Remove("testdata/scratch.txt"))
	fmt.Printf("scratch: %q\n", b)
}
