package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/u-root/mkuimage/cpio"
)

// mkTree makes files under dir: "name" -> contents; a name ending in / is a
// directory, contents "->target" a symbolic link.
func mkTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(data, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func archiveOf(t *testing.T, trees []fileTree) map[string]archiveEntry {
	t.Helper()
	var buf bytes.Buffer
	if _, _, err := writeArchive(&buf, trees); err != nil {
		t.Fatalf("writeArchive: %v", err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("070701")) {
		t.Fatalf("archive starts %q, want the newc magic 070701", buf.Bytes()[:6])
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d is not a multiple of 4", buf.Len())
	}
	ents, err := readArchive(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("reading the archive back: %v", err)
	}
	return ents
}

func TestWriteArchive(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, map[string]string{
		"a.go":                "package a\n",
		"testdata/x.txt":      "x",
		"testdata/empty":      "",
		"testdata/deep/y.txt": "yy",
		"testdata/link":       "->x.txt",
		"testdata/abs":        "->/etc/passwd",
		"emptydir/":           "",
		".git/config":         "secret",
	})
	if err := os.Chmod(filepath.Join(src, "a.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1700000000, 0)
	if err := os.Chtimes(filepath.Join(src, "testdata/x.txt"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	ents := archiveOf(t, []fileTree{{Src: src, Dst: "/home/u/pkg"}})

	want := map[string]struct {
		mode uint64
		data string
	}{
		"tmp":                            {cpio.S_IFDIR | 0o1777, ""},
		"home":                           {cpio.S_IFDIR | 0o755, ""},
		"home/u":                         {cpio.S_IFDIR | 0o755, ""},
		"home/u/pkg/a.go":                {cpio.S_IFREG | 0o755, "package a\n"},
		"home/u/pkg/testdata/x.txt":      {cpio.S_IFREG | 0o644, "x"},
		"home/u/pkg/testdata/empty":      {cpio.S_IFREG | 0o644, ""},
		"home/u/pkg/testdata/deep/y.txt": {cpio.S_IFREG | 0o644, "yy"},
		"home/u/pkg/testdata/link":       {cpio.S_IFLNK | 0o777, "x.txt"},
		"home/u/pkg/testdata/abs":        {cpio.S_IFLNK | 0o777, "/etc/passwd"},
	}
	for name, w := range want {
		e, ok := ents[name]
		if !ok {
			t.Errorf("archive lacks %s", name)
			continue
		}
		if e.Mode != w.mode || e.Data != w.data {
			t.Errorf("%s: mode %#o data %q; want %#o %q", name, e.Mode, e.Data, w.mode, w.data)
		}
	}
	for _, d := range []string{"home/u/pkg", "home/u/pkg/testdata", "home/u/pkg/testdata/deep", "home/u/pkg/emptydir"} {
		if e, ok := ents[d]; !ok || e.Mode&cpio.S_IFMT != cpio.S_IFDIR {
			t.Errorf("%s: %+v, %v; want a directory", d, e, ok)
		}
	}
	for name := range ents {
		if strings.Contains(name, ".git") {
			t.Errorf("archive holds %s", name)
		}
		if strings.HasPrefix(name, "/") || strings.HasPrefix(name, "./") {
			t.Errorf("entry name %q is not relative to /", name)
		}
	}
	if e := ents["home/u/pkg/testdata/x.txt"]; e.MTime != uint64(mtime.Unix()) {
		t.Errorf("mtime %d, want %d", e.MTime, mtime.Unix())
	}
	inos := map[uint64]string{}
	for name, e := range ents {
		if other, dup := inos[e.Ino]; dup {
			t.Errorf("%s and %s share inode %d", name, other, e.Ino)
		}
		inos[e.Ino] = name
	}
}

// Parents come before children, each name once, whatever the trees share.
func TestWriteArchiveOrderAndSharing(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, map[string]string{"p/testdata/a": "1", "q/testdata/b": "2", "lib/z.zip": "zip"})
	var buf bytes.Buffer
	_, _, err := writeArchive(&buf, []fileTree{
		{Src: filepath.Join(src, "p"), Dst: "/g/src/p"},
		{Src: filepath.Join(src, "q/testdata"), Dst: "/g/src/testdata"},
		{Src: filepath.Join(src, "lib/z.zip"), Dst: "/g/lib/time/z.zip"},
		{Src: filepath.Join(src, "p"), Dst: "/g/src/p"}, // again: ignored
	})
	if err != nil {
		t.Fatal(err)
	}
	rr := cpio.EOFReader{RecordReader: cpio.Newc.Reader(bytes.NewReader(buf.Bytes()))}
	seen := map[string]bool{}
	for {
		rec, err := rr.ReadRecord()
		if err != nil {
			break
		}
		if seen[rec.Name] {
			t.Errorf("%s twice", rec.Name)
		}
		if parent := filepath.Dir(rec.Name); parent != "." && !seen[parent] {
			t.Errorf("%s before its parent %s", rec.Name, parent)
		}
		seen[rec.Name] = true
	}
	for _, n := range []string{"g/src/p/testdata/a", "g/src/testdata/b", "g/lib/time/z.zip"} {
		if !seen[n] {
			t.Errorf("missing %s (have %v)", n, seen)
		}
	}
}

// A link given as a tree is followed; links inside are not.
func TestWriteArchiveTopLink(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, map[string]string{"real/f": "f", "real/l": "->f", "top": "->real"})
	ents := archiveOf(t, []fileTree{{Src: filepath.Join(src, "top"), Dst: "/x"}})
	if e := ents["x"]; e.Mode&cpio.S_IFMT != cpio.S_IFDIR {
		t.Errorf("x: mode %#o, want a directory", e.Mode)
	}
	if e := ents["x/f"]; e.Data != "f" || e.Mode&cpio.S_IFMT != cpio.S_IFREG {
		t.Errorf("x/f: %+v", e)
	}
	if e := ents["x/l"]; e.Data != "f" || e.Mode&cpio.S_IFMT != cpio.S_IFLNK {
		t.Errorf("x/l: %+v", e)
	}
}

func TestWriteArchiveErrors(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, map[string]string{"f": "data"})
	var buf bytes.Buffer
	for _, trees := range [][]fileTree{
		{{Src: src, Dst: "relative/path"}},
		{{Src: filepath.Join(src, "missing"), Dst: "/m"}},
		{{Src: filepath.Join(src, "f"), Dst: "/"}},
	} {
		if _, _, err := writeArchive(&buf, trees); err == nil {
			t.Errorf("%+v: no error", trees)
		}
	}
	a := &archiveWriter{w: cpio.Newc.Writer(&buf), seen: map[string]bool{}, limit: 3}
	fi, _ := os.Stat(filepath.Join(src, "f"))
	if err := a.file(filepath.Join(src, "f"), "f", fi); err == nil || !strings.Contains(err.Error(), "exceed") {
		t.Errorf("over the size limit: %v", err)
	}
}

func TestPackFiles(t *testing.T) {
	src := t.TempDir()
	mkTree(t, src, map[string]string{"in.txt": "hello", "sub/more.txt": "more"})
	out := filepath.Join(t.TempDir(), "files.cpio")
	t.Chdir(src)
	cwd, err := packFiles(out, []string{".", filepath.Join(src, "sub")})
	if err != nil {
		t.Fatal(err)
	}
	if cwd != src {
		t.Errorf("cwd %q, want %q", cwd, src)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ents, err := readArchive(f)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(filepath.ToSlash(src), "/") + "/in.txt"
	if ents[name].Data != "hello" {
		t.Errorf("%s: %+v (archive %v)", name, ents[name], ents)
	}
	if _, err := packFiles(out, []string{filepath.Join(src, "in.txt")}); err == nil {
		t.Error("a file as -files: no error")
	}
	if _, err := packFiles(out, []string{filepath.Join(src, "nope")}); err == nil {
		t.Error("a missing -files directory: no error")
	}
}

func TestCpioMode(t *testing.T) {
	for _, tc := range []struct {
		m    fs.FileMode
		want uint64
	}{
		{0o644, 0o100644},
		{fs.ModeDir | 0o755, 0o40755},
		{fs.ModeDir | fs.ModeSticky | 0o777, 0o41777},
		{fs.ModeSymlink | 0o777, 0o120777},
		{fs.ModeSetuid | fs.ModeSetgid | 0o755, 0o106755},
	} {
		if got := cpioMode(tc.m); got != tc.want {
			t.Errorf("cpioMode(%v) = %#o, want %#o", tc.m, got, tc.want)
		}
	}
}
