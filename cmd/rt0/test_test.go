package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func parseTest(t *testing.T, args ...string) (*testFlags, []string) {
	t.Helper()
	fs := flag.NewFlagSet("rt0 test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	tf := &testFlags{}
	tf.register(fs)
	pkgs, err := parseTestArgs(fs, tf, args)
	if err != nil {
		t.Fatalf("parseTestArgs(%q): %v", args, err)
	}
	return tf, pkgs
}

func TestParseTestArgs(t *testing.T) {
	tf, pkgs := parseTest(t, "-v", "strings", "-run", "TestX", "sort", "-short", "-args", "-x", "y")
	if !slices.Equal(pkgs, []string{"strings", "sort"}) {
		t.Errorf("packages %q", pkgs)
	}
	if !tf.v || !tf.short || tf.run != "TestX" || !slices.Equal(tf.testArgs, []string{"-x", "y"}) {
		t.Errorf("flags %+v", tf)
	}
	want := []string{"-test.paniconexit0", "-test.timeout=10m0s", "-test.v=true", "-test.run=TestX", "-test.short=true", "-x", "y"}
	if got := tf.binaryArgs(); !slices.Equal(got, want) {
		t.Errorf("binaryArgs\n got %q\nwant %q", got, want)
	}

	tf, pkgs = parseTest(t, "-json", "-timeout=0", "-count=1", "-cpu", "1,2", "-bench=.", "-benchtime=1x", "-benchmem", "-failfast",
		"-skip", "S", "-list", "L", "-parallel", "3", "-shuffle", "on", "-fullpath", "./...")
	if !slices.Equal(pkgs, []string{"./..."}) {
		t.Errorf("packages %q", pkgs)
	}
	want = []string{"-test.paniconexit0", "-test.v=test2json", "-test.skip=S", "-test.bench=.", "-test.benchtime=1x",
		"-test.benchmem=true", "-test.cpu=1,2", "-test.list=L", "-test.count=1", "-test.parallel=3", "-test.shuffle=on",
		"-test.failfast=true", "-test.fullpath=true"}
	if got := tf.binaryArgs(); !slices.Equal(got, want) {
		t.Errorf("binaryArgs\n got %q\nwant %q", got, want)
	}
	if !tf.showPass() {
		t.Error("showPass with -list")
	}

	// No flags: go test's defaults; rt0's own flags are not test flags.
	tf, pkgs = parseTest(t, "-m", "2G", "-p", "3", "-klog", "-x", "-tags", "a,b", "-env", "K=V", "pkg")
	if got := tf.binaryArgs(); !slices.Equal(got, []string{"-test.paniconexit0", "-test.timeout=10m0s"}) {
		t.Errorf("binaryArgs %q", got)
	}
	if tf.memory != "2G" || tf.p != 3 || !tf.klog || !tf.build.X || tf.build.Tags != "a,b" || !slices.Equal(tf.env, []string{"K=V"}) || !slices.Equal(pkgs, []string{"pkg"}) {
		t.Errorf("flags %+v, packages %q", tf, pkgs)
	}
	if tf.showPass() {
		t.Error("showPass without -v")
	}

	for _, bad := range [][]string{{"-nosuchflag"}, {"-p", "0", "x"}, {"-smp", "0"}, {"-timeout", "soon"}} {
		fs := flag.NewFlagSet("rt0 test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var tf testFlags
		tf.register(fs)
		if _, err := parseTestArgs(fs, &tf, bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestMakeStdRoot(t *testing.T) {
	goroot := t.TempDir()
	mkTree(t, goroot, map[string]string{"VERSION": "go1.26", "bin/go": "", "lib/time/zoneinfo.zip": "z", "src/strings/s.go": "package strings", "src/math/bits/b.go": "package bits"})
	rt0 := t.TempDir()
	mkTree(t, rt0, map[string]string{"kernel/k.go": "", "kernel/mem/m.go": "", "guest/arch/amd64/a.go": "", "guest/multiboot/mb.go": "", "elsewhere/cmdline/c.go": ""})
	kp := map[string]string{
		"rt0/guest/kernel":         filepath.Join(rt0, "kernel"),
		"rt0/guest/kernel/mem":     filepath.Join(rt0, "kernel/mem"),
		"rt0/guest/kernel/cmdline": filepath.Join(rt0, "elsewhere/cmdline"), // not below kernel on the host
		"rt0/guest/arch/amd64":     filepath.Join(rt0, "guest/arch/amd64"),
		"rt0/guest/multiboot":      filepath.Join(rt0, "guest/multiboot"),
	}
	dir := filepath.Join(t.TempDir(), "goroot")
	// rt0/guest/kernel/cmdline cannot be linked inside the rt0/guest/kernel link
	// (that would write into rt0's source).
	if err := makeStdRoot(dir, goroot, kp); err == nil {
		t.Error("a package outside its parent's directory: no error")
	}
	if _, err := os.Lstat(filepath.Join(rt0, "kernel", "cmdline")); err == nil {
		t.Error("makeStdRoot wrote into the kernel's source directory")
	}
	// The layout rt0 really has: every package below its parent.
	kp["rt0/guest/kernel/cmdline"] = filepath.Join(rt0, "kernel/cmdline")
	mkTree(t, rt0, map[string]string{"kernel/cmdline/c.go": "package cmdline"})
	dir = filepath.Join(t.TempDir(), "goroot")
	if err := makeStdRoot(dir, goroot, kp); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"VERSION":                           "go1.26",
		"lib/time/zoneinfo.zip":             "z",
		"src/strings/s.go":                  "package strings",
		"src/rt0/guest/kernel/cmdline/c.go": "package cmdline",
		"src/rt0/guest/kernel/k.go":         "",
		"src/rt0/guest/arch/amd64/a.go":     "",
		"src/rt0/guest/multiboot/mb.go":     "",
		"src/math/bits/b.go":                "package bits",
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
	if fi, err := os.Lstat(filepath.Join(dir, "src")); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("src must be a real directory: %v %v", fi, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "src/rt0/elsewhere")); err == nil {
		t.Error("unrelated rt0 directories linked")
	}
	// A GOROOT that already has src/rt0 is refused.
	mkTree(t, goroot, map[string]string{"src/rt0/x.go": ""})
	if err := makeStdRoot(filepath.Join(t.TempDir(), "g"), goroot, kp); err == nil {
		t.Error("GOROOT with src/rt0: no error")
	}
}

func TestTestTrees(t *testing.T) {
	root := t.TempDir()
	mkTree(t, root, map[string]string{
		"src/compress/flate/f.go":       "",
		"src/compress/testdata/e.txt":   "e",
		"src/testdata/Isaac.Newton.txt": "n",
		"testdata/outside.txt":          "no",
		"lib/time/zoneinfo.zip":         "z",
	})
	tb := &testBuild{
		srcDir:  filepath.Join(root, "src/compress/flate"),
		pkgDir:  "/g/src/compress/flate",
		rootDir: "/g/src",
		goroot:  "/g",
	}
	got := testTrees(tb, root, []string{filepath.Join(root, "src/testdata"), "/elsewhere/x"})
	want := []fileTree{
		{Src: filepath.Join(root, "src/compress/flate"), Dst: "/g/src/compress/flate"},
		{Src: filepath.Join(root, "src/compress/testdata"), Dst: "/g/src/compress/testdata"},
		{Src: filepath.Join(root, "src/testdata"), Dst: "/g/src/testdata"},
		{Src: filepath.Join(root, "lib/time/zoneinfo.zip"), Dst: "/g/lib/time/zoneinfo.zip"},
		{Src: filepath.Join(root, "src/testdata"), Dst: "/g/src/testdata"}, // -files below GOROOT
		{Src: "/elsewhere/x", Dst: "/elsewhere/x"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("testTrees\n got %+v\nwant %+v", got, want)
	}

	// A module package: the package, its parents' testdata up to the
	// module root, no further.
	tb = &testBuild{srcDir: filepath.Join(root, "src/compress/flate"), pkgDir: filepath.Join(root, "src/compress/flate"), rootDir: filepath.Join(root, "src/compress"), goroot: "/nowhere"}
	got = testTrees(tb, "/nowhere", nil)
	want = []fileTree{
		{Src: filepath.Join(root, "src/compress/flate"), Dst: filepath.Join(root, "src/compress/flate")},
		{Src: filepath.Join(root, "src/compress/testdata"), Dst: filepath.Join(root, "src/compress/testdata")},
	}
	if !slices.Equal(got, want) {
		t.Errorf("testTrees (module)\n got %+v\nwant %+v", got, want)
	}
	// The module root itself: just the package.
	tb = &testBuild{srcDir: root, pkgDir: root, rootDir: root, goroot: "/nowhere"}
	if got := testTrees(tb, "/nowhere", nil); len(got) != 1 {
		t.Errorf("testTrees (module root) = %+v", got)
	}
}

func TestTestEnv(t *testing.T) {
	env := testEnv(&testBuild{pkgDir: "/g/src/x", goroot: "/g"}, []string{"A=b"})
	want := []string{"PWD=/g/src/x", "HOME=/tmp", "TMPDIR=/tmp", "PATH=/g/bin:/usr/local/bin:/usr/bin:/bin", "A=b"}
	if !slices.Equal(env, want) {
		t.Errorf("testEnv = %q, want %q", env, want)
	}
}

func TestTailLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc\n"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"", 3, ""},
		{"one", 1, "one\n"},
	} {
		if got := string(tailLines([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("tailLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// The sequencer shows packages in order: the first writes through, the
// others wait, whatever order they finish in.
func TestSequencer(t *testing.T) {
	var out bytes.Buffer
	s := newSequencer(&out, 3)
	s.outs[2].Write([]byte("c1\n"))
	s.outs[0].Write([]byte("a1\n"))
	s.outs[1].Write([]byte("b1\n"))
	if out.String() != "a1\n" {
		t.Errorf("before any finished: %q", out.String())
	}
	s.outs[2].Write([]byte("c2\n"))
	s.outs[2].Close()
	s.outs[0].Write([]byte("a2\n"))
	s.outs[0].Close()
	if out.String() != "a1\na2\nb1\n" {
		t.Errorf("after the first finished: %q", out.String())
	}
	s.outs[1].Write([]byte("b2\n"))
	s.outs[1].Close()
	if out.String() != "a1\na2\nb1\nb2\nc1\nc2\n" {
		t.Errorf("at the end: %q", out.String())
	}
}

func TestSequencerConcurrent(t *testing.T) {
	var out bytes.Buffer
	const n = 20
	s := newSequencer(&out, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				s.outs[i].Write([]byte{byte('A' + i)})
			}
			s.outs[i].Close()
		}(i)
	}
	wg.Wait()
	var want strings.Builder
	for i := 0; i < n; i++ {
		want.WriteString(strings.Repeat(string(rune('A'+i)), 50))
	}
	if out.String() != want.String() {
		t.Errorf("got %q\nwant %q", out.String(), want.String())
	}
}

func TestWriteBuildEvents(t *testing.T) {
	var buf bytes.Buffer
	writeBuildEvents(&buf, "x/y", "# x/y\n./a.go:1: bad\n")
	dec := json.NewDecoder(&buf)
	var evs []map[string]string
	for dec.More() {
		var e map[string]string
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	if len(evs) != 3 || evs[0]["Action"] != "build-output" || evs[0]["Output"] != "# x/y\n" || evs[1]["Output"] != "./a.go:1: bad\n" ||
		evs[2]["Action"] != "build-fail" || evs[2]["ImportPath"] != "x/y" {
		t.Errorf("events %v", evs)
	}
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := &prefixWriter{w: &out, mu: &mu, prefix: "[p] "}
	io.WriteString(w, "ab")
	io.WriteString(w, "c\nd\ne")
	if out.String() != "[p] abc\n[p] d\n" {
		t.Errorf("got %q", out.String())
	}
}

func TestTestUsage(t *testing.T) {
	var out bytes.Buffer
	if code := rt0Main([]string{"test", "-h"}, stdio{strings.NewReader(""), &out, &out}); code != 0 {
		t.Errorf("rt0 test -h: exit %d", code)
	}
	for _, w := range []string{"usage: rt0 test", "-run", "-json", "-klog", "private GOROOT"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("usage lacks %q", w)
		}
	}
	out.Reset()
	if code := rt0Main([]string{"test", "-nosuchflag"}, stdio{strings.NewReader(""), &out, &out}); code != 2 {
		t.Errorf("rt0 test -nosuchflag: exit %d, want 2", code)
	}
}
