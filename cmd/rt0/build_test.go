package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"rt0/host/boottest"
	"rt0/host/build"
)

// The build tests check rt0's build path: that go build succeeds on each
// kind of target and links rt0/guest/kernel. They use the real rt0 checkout when
// its kernel links; while the kernel is in flux (it does not link) they use
// a temporary copy of the checkout whose kernel package is a stand-in, so
// that the build path is still tested (RT0_TEST_STANDIN_KERNEL=1 forces
// this). The repository is never modified.

var (
	rootOnce    sync.Once
	rootDir     string
	rootStandIn bool
	rootErr     error
	copyDir     string // removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if copyDir != "" {
		os.RemoveAll(copyDir)
	}
	os.Exit(code)
}

// testRoot returns the rt0 root the build tests use, and whether it is a
// copy with a stand-in kernel.
func testRoot(t *testing.T) (string, bool) {
	t.Helper()
	rootOnce.Do(func() {
		real, err := build.Root()
		if err != nil {
			rootErr = err
			return
		}
		tmp, err := os.MkdirTemp("", "rt0-testroot-probe-")
		if err != nil {
			rootErr = err
			return
		}
		defer os.RemoveAll(tmp)
		var log bytes.Buffer
		b := &build.Builder{Root: real, Go: mustGo(), Env: os.Environ(), Stderr: &log}
		_, _, err = b.Link([]string{filepath.Join(real, "examples", "hello")}, &build.Flags{BuildVCS: "false"}, tmp)
		if os.Getenv("RT0_TEST_STANDIN_KERNEL") != "" {
			err = errors.New("RT0_TEST_STANDIN_KERNEL is set")
		}
		if err == nil {
			rootDir = real
			return
		}
		log.WriteString(err.Error())
		copyDir, rootErr = os.MkdirTemp("", "rt0-testroot-")
		if rootErr != nil {
			return
		}
		rootDir = filepath.Join(copyDir, "rt0")
		rootStandIn = true
		rootErr = copyWithStandInKernel(real, rootDir)
		standInReason = strings.TrimSpace(log.String())
	})
	if rootErr != nil {
		t.Fatalf("rt0 root: %v", rootErr)
	}
	if rootStandIn {
		t.Logf("rt0/guest/kernel does not link yet; using a stand-in kernel in a copy of the checkout (%s)\n%s", rootDir, standInReason)
	}
	return rootDir, rootStandIn
}

var standInReason string

const standInKernel = `// Package kernel is a stand-in for rt0's kernel, made by cmd/rt0's tests
// in a temporary copy of the checkout.
package kernel

// Linked is set by init, so the linker keeps this package's code.
var Linked bool

func init() { mark() }

//go:noinline
func mark() { Linked = !Linked }

// EnableSockets is the real kernel's entry point for programs that import
// net (rt0 build's overlay file calls it).
func EnableSockets() {}
`

// copyWithStandInKernel copies the rt0 checkout src (without .git) to dst
// and replaces the kernel package's own files (not its subpackages) by a
// stand-in.
func copyWithStandInKernel(src, dst string) error {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" && strings.HasPrefix(rel, "cmd")) {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if filepath.Dir(rel) == filepath.Join("guest", "kernel") {
			return nil // the kernel package's files: replaced below
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, "guest", "kernel", "kernel.go"), []byte(standInKernel), 0o644)
}

func mustGo() string {
	g, err := build.FindGo()
	if err != nil {
		panic(err)
	}
	return g
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testBuilder(t *testing.T) *build.Builder {
	root, _ := testRoot(t)
	return &build.Builder{Root: root, Go: mustGo(), Env: os.Environ(), Stderr: testWriter{t}, Verbose: true}
}

// assertLinksKernel checks that the ELF at path is an x86-64 executable
// holding code of package rt0/guest/kernel.
func assertLinksKernel(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		t.Errorf("%s: machine %v type %v; want an x86-64 executable", path, f.Machine, f.Type)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatalf("%s: symbols: %v (stripped?)", path, err)
	}
	n := 0
	for _, s := range syms {
		if strings.HasPrefix(s.Name, build.KernelImport+".") {
			n++
		}
	}
	if n == 0 {
		t.Errorf("%s: no symbol of package %s", path, build.KernelImport)
	}
	if f.Section(".debug_info") == nil && f.Section(".zdebug_info") == nil {
		t.Errorf("%s: no DWARF", path)
	}
}

// snapshot records every file under dir and its contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			m[p] = string(b)
		}
		return nil
	})
	return m
}

func assertUnchanged(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Errorf("files in %s changed: before %d, after %d", dir, len(before), len(after))
	}
	for p, c := range before {
		if after[p] != c {
			t.Errorf("%s changed", p)
		}
	}
}

// link runs the build path for targets and checks the result links the kernel.
func linkOK(t *testing.T, b *build.Builder, wantKind string, targets ...string) *build.Plan {
	t.Helper()
	tmp := t.TempDir()
	elfPath, p, err := b.Link(targets, &build.Flags{BuildVCS: "false"}, tmp)
	if err != nil {
		t.Fatalf("build %v: %v", targets, err)
	}
	if p.Kind != wantKind {
		t.Errorf("build %v: %s; want %s", targets, p.Kind, wantKind)
	}
	assertLinksKernel(t, elfPath)
	return p
}

const helloMain = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello,world\") }\n"

// (a) a package of the rt0 module, named as a directory, a relative path,
// an import path, or by its files.
func TestBuildRT0Package(t *testing.T) {
	b := testBuilder(t)
	hello := filepath.Join(b.Root, "examples", "hello")
	before := snapshot(t, hello)
	p := linkOK(t, b, "rt0 module", hello)
	if p.Name != "hello" {
		t.Errorf("default name %q; want hello", p.Name)
	}
	linkOK(t, b, "rt0 module", "rt0/examples/hello")
	linkOK(t, b, "rt0 module", filepath.Join(hello, "main.go"))
	t.Chdir(b.Root)
	linkOK(t, b, "rt0 module", "./examples/hello")
	t.Chdir(hello)
	linkOK(t, b, "rt0 module", ".")
	linkOK(t, b, "rt0 module", "main.go")
	assertUnchanged(t, hello, before)
}

// (b) a package of another module: a temporary go.work uses both modules.
func TestBuildOtherModule(t *testing.T) {
	b := testBuilder(t)
	dir := filepath.Join(t.TempDir(), "prog")
	boottest.WriteFiles(t, dir, map[string]string{
		"go.mod":         "module example.com/prog\n\ngo 1.26\n",
		"cmd/hi/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/prog/greet\"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n",
		"greet/greet.go": "package greet\n\nfunc Hello() string { return \"hi\" }\n",
		"main.go":        helloMain,
	})
	before := snapshot(t, dir)
	p := linkOK(t, b, "workspace", filepath.Join(dir, "cmd", "hi"))
	if p.Name != "hi" {
		t.Errorf("default name %q; want hi", p.Name)
	}
	p = linkOK(t, b, "workspace", dir)
	if p.Name != "prog" {
		t.Errorf("default name %q; want prog (the module path's last element)", p.Name)
	}
	linkOK(t, b, "workspace", filepath.Join(dir, "main.go"))
	t.Chdir(dir)
	linkOK(t, b, "workspace", "example.com/prog/cmd/hi")
	linkOK(t, b, "workspace", "./cmd/hi")
	assertUnchanged(t, dir, before)
}

// (c) code in no module: a temporary module requires rt0 and sees the
// user's files through the overlay.
func TestBuildNoModule(t *testing.T) {
	b := testBuilder(t)
	dir := filepath.Join(t.TempDir(), "loose")
	if build.FindModuleRoot(filepath.Dir(dir)) != "" {
		t.Fatalf("temporary directory %s is inside a module", dir)
	}
	boottest.WriteFiles(t, dir, map[string]string{
		"main.go":      "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(msg()) }\n",
		"msg.go":       "package main\n\nfunc msg() string { return \"hello,world\" }\n",
		"main_test.go": "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
		"other.go":     "//go:build ignore\n\npackage other\n",
	})
	before := snapshot(t, dir)
	p := linkOK(t, b, "temporary module", dir)
	if p.Name != "loose" {
		t.Errorf("default name %q; want loose", p.Name)
	}
	p = linkOK(t, b, "temporary module", filepath.Join(dir, "main.go"), filepath.Join(dir, "msg.go"))
	if p.Name != "main" {
		t.Errorf("default name %q; want main (first file, as go build)", p.Name)
	}
	t.Chdir(dir)
	linkOK(t, b, "temporary module", "main.go", "msg.go")
	linkOK(t, b, "temporary module", ".")
	assertUnchanged(t, dir, before)

	// A lone file.
	one := filepath.Join(t.TempDir(), "one.go")
	boottest.WriteFiles(t, filepath.Dir(one), map[string]string{"one.go": helloMain})
	linkOK(t, b, "temporary module", one)
}

func TestBuildErrors(t *testing.T) {
	b := testBuilder(t)
	dir := t.TempDir()
	boottest.WriteFiles(t, dir, map[string]string{
		"lib/lib.go":                "package lib\n",
		"empty/README":              "nothing\n",
		"a/main.go":                 helloMain,
		"b/main.go":                 helloMain,
		"taken/main.go":             helloMain,
		"taken/" + build.KernelFile: "package main\n",
		"test/main_test.go":         "package main\n",
		"notmain/x.go":              "package x\n",
		"two/a.go":                  "package a\n",
		"two/b.go":                  "package b\n",
		"dup/" + build.KernelFile:   "package main\n",
		"brokensrc/main.go":         "package main\n\nfunc main() { undefined() }\n",
		"brokensrc2/main.go":        "package main\n\nimport \"nonexistent.example/pkg\"\n\nfunc main() { pkg.X() }\n",
		"tagged/main.go":            "//go:build special\n\npackage main\n\nfunc main() {}\n",
		"tagged/notspecial.go":      "//go:build !special\n\npackage lib\n",
	})
	for _, tc := range []struct {
		targets []string
		flags   build.Flags
		want    string
	}{
		{nil, build.Flags{}, "no package"},
		{[]string{filepath.Join(dir, "lib")}, build.Flags{}, "not a main package"},
		{[]string{filepath.Join(dir, "empty")}, build.Flags{}, "no Go files"},
		{[]string{filepath.Join(dir, "missing")}, build.Flags{}, "no such file"},
		{[]string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}, build.Flags{}, "one main package"},
		{[]string{filepath.Join(dir, "a", "main.go"), filepath.Join(dir, "b")}, build.Flags{}, "cannot mix"},
		{[]string{filepath.Join(dir, "a", "main.go"), filepath.Join(dir, "b", "main.go")}, build.Flags{}, "one directory"},
		{[]string{filepath.Join(dir, "taken")}, build.Flags{}, "reserved"},
		{[]string{filepath.Join(dir, "dup", build.KernelFile)}, build.Flags{}, "reserved"},
		{[]string{filepath.Join(dir, "test", "main_test.go")}, build.Flags{}, "test file"},
		{[]string{filepath.Join(dir, "notmain", "x.go")}, build.Flags{}, "not package main"},
		{[]string{filepath.Join(dir, "two")}, build.Flags{}, "found packages"},
		{[]string{filepath.Join(dir, "a")}, build.Flags{LDFlags: "-s -X main.v=1"}, "-s"},
		{[]string{filepath.Join(dir, "a")}, build.Flags{LDFlags: "-w=true"}, "-w"},
		{[]string{filepath.Join(dir, "brokensrc")}, build.Flags{}, "go build failed"},
		{[]string{filepath.Join(dir, "brokensrc2")}, build.Flags{}, "go build failed"},
		{[]string{filepath.Join(dir, "tagged")}, build.Flags{}, "not a main package"},
		{[]string{"rt0/..."}, build.Flags{}, "patterns"},
		{[]string{"example.invalid/nope"}, build.Flags{}, "cannot find package"},
	} {
		f := tc.flags
		f.BuildVCS = "false"
		_, _, err := b.Link(tc.targets, &f, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("build %v %+v: error %v; want one about %q", tc.targets, tc.flags, err, tc.want)
		}
	}
	// Build tags reach both the main-package check and go build.
	linkOK(t, b, "temporary module", filepath.Join(dir, "a"))
	tmp := t.TempDir()
	if _, _, err := b.Link([]string{filepath.Join(dir, "tagged")}, &build.Flags{BuildVCS: "false", Tags: "special"}, tmp); err != nil {
		t.Errorf("-tags special: %v", err)
	}
}

func TestOutputPath(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ o, want string }{
		{"", "hello.elf"},
		{"out.elf", "out.elf"},
		{filepath.Join(dir, "x"), filepath.Join(dir, "x")},
		{dir, filepath.Join(dir, "hello.elf")},
		{filepath.Join(dir, "new") + "/", filepath.Join(dir, "new", "hello.elf")},
	} {
		got, err := build.OutputPath(tc.o, "hello", ".elf")
		if err != nil || got != tc.want {
			t.Errorf("build.OutputPath(%q) = %q, %v; want %q", tc.o, got, err, tc.want)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "new")); err != nil || !fi.IsDir() {
		t.Errorf("-o dir/ did not create the directory: %v", err)
	}
}

func TestImportName(t *testing.T) {
	for ip, want := range map[string]string{
		"rt0/examples/hello":      "hello",
		"example.com/prog":        "prog",
		"example.com/prog/v2":     "prog",
		"example.com/prog/cmd/v2": "cmd",
		"v2":                      "v2",
	} {
		if got := build.ImportName(ip); got != want {
			t.Errorf("build.ImportName(%q) = %q; want %q", ip, got, want)
		}
	}
}

// setPatch replaces image.Patch for one test.
func setPatch(t *testing.T, f func([]byte) ([]byte, error)) {
	old := build.Patch
	build.Patch = f
	t.Cleanup(func() { build.Patch = old })
}

// rt0 build: the patched image is written where -o says, go build -o style.
func TestBuildCommandOutput(t *testing.T) {
	root, _ := testRoot(t)
	t.Setenv("RT0ROOT", root)
	setPatch(t, func(in []byte) ([]byte, error) { return append([]byte("PATCHED"), in...), nil })
	out := t.TempDir()
	t.Chdir(root)
	var stderr bytes.Buffer
	sio := stdio{strings.NewReader(""), &stderr, &stderr}
	if code := rt0Main([]string{"build", "-o", filepath.Join(out, "hello.elf"), "./examples/hello"}, sio); code != 0 {
		t.Fatalf("rt0 build: exit %d: %s", code, stderr.String())
	}
	img, err := os.ReadFile(filepath.Join(out, "hello.elf"))
	if err != nil || !bytes.HasPrefix(img, []byte("PATCHED\x7fELF")) {
		t.Errorf("output not the patched image: %v %q", err, img[:min(len(img), 12)])
	}
	if code := rt0Main([]string{"build", "-o", out, "./examples/goroutine"}, sio); code != 0 {
		t.Fatalf("rt0 build -o dir: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "goroutine.elf")); err != nil {
		t.Errorf("-o dir: %v", err)
	}
	t.Chdir(out)
	if code := rt0Main([]string{"build", "rt0/examples/hello"}, sio); code != 0 {
		t.Fatalf("rt0 build (no -o): exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "hello.elf")); err != nil {
		t.Errorf("default output: %v", err)
	}
	// -nopatch writes go build's ELF, which links the kernel.
	if code := rt0Main([]string{"build", "-nopatch", "-o", "raw.elf", "rt0/examples/hello"}, sio); code != 0 {
		t.Fatalf("rt0 build -nopatch: exit %d: %s", code, stderr.String())
	}
	assertLinksKernel(t, filepath.Join(out, "raw.elf"))
}

// image.Patch's error becomes a clear message and exit 1, and no output.
func TestBuildPatchError(t *testing.T) {
	root, _ := testRoot(t)
	t.Setenv("RT0ROOT", root)
	out := filepath.Join(t.TempDir(), "hello.elf")
	for _, tc := range []struct {
		patch func([]byte) ([]byte, error)
		want  string
	}{
		{func([]byte) ([]byte, error) { return nil, errors.New("no padding for the multiboot header") }, "rt0 build: boot image: no padding for the multiboot header"},
		{func([]byte) ([]byte, error) { panic("not yet") }, "rt0 build: boot image: image.Patch panicked: not yet"},
		{func([]byte) ([]byte, error) { return nil, nil }, "empty image"},
	} {
		setPatch(t, tc.patch)
		var stderr bytes.Buffer
		code := rt0Main([]string{"build", "-o", out, filepath.Join(root, "examples", "hello")}, stdio{nil, &stderr, &stderr})
		if code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("exit %d, stderr %q; want non-zero and %q", code, stderr.String(), tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s written despite the patch error", out)
		}
	}
}

// No C toolchain: rt0 build works with nothing but the go command in PATH
// (no gcc, as, ld, git), offline (GOPROXY=off), from a fresh HOME.
func TestBuildNoCToolchain(t *testing.T) {
	root, standIn := testRoot(t)
	real, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	goCmd := mustGo()
	goEnv := func(name string) string {
		out, err := exec.Command(goCmd, "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	tmp := t.TempDir()
	rt0Bin := filepath.Join(tmp, "rt0")
	build := exec.Command(goCmd, "build", "-o", rt0Bin, "./cmd/rt0")
	build.Dir = real
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building rt0: %v\n%s", err, out)
	}
	bin := filepath.Join(tmp, "bin")
	os.Mkdir(bin, 0o755)
	if err := os.Symlink(goCmd, filepath.Join(bin, "go")); err != nil {
		t.Fatal(err)
	}
	if standIn {
		// A VCS directory without git in PATH: rt0 must not need git.
		os.Mkdir(filepath.Join(root, ".git"), 0o755)
	}
	home := filepath.Join(tmp, "home")
	os.Mkdir(home, 0o755)
	env := []string{
		"PATH=" + bin,
		"HOME=" + home,
		"GOROOT=" + goEnv("GOROOT"),
		"GOCACHE=" + goEnv("GOCACHE"),
		"GOMODCACHE=" + filepath.Join(tmp, "modcache"), // empty: nothing may be fetched
		"GOPROXY=off",
		"RT0ROOT=" + root,
	}
	for _, name := range []string{"gcc", "cc", "as", "ld", "git"} {
		if _, err := lookPathIn(name, bin); err == nil {
			t.Fatalf("%s found in the restricted PATH", name)
		}
	}
	loose := filepath.Join(tmp, "loose")
	boottest.WriteFiles(t, loose, map[string]string{"main.go": helloMain})
	other := filepath.Join(tmp, "other")
	boottest.WriteFiles(t, other, map[string]string{"go.mod": "module example.com/other\n\ngo 1.26\n", "main.go": helloMain})

	for _, tc := range []struct{ dir, target string }{
		{root, "./examples/hello"},
		{loose, "main.go"},
		{other, "."},
	} {
		args := []string{"build", "-v", "-o", filepath.Join(tmp, "out.elf")}
		if standIn {
			args = append(args, "-nopatch") // the stand-in kernel has nothing to patch
		}
		cmd := exec.Command(rt0Bin, append(args, tc.target)...)
		cmd.Dir = tc.dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		t.Logf("rt0 %s (in %s):\n%s", strings.Join(cmd.Args[1:], " "), tc.dir, out)
		if err != nil {
			t.Errorf("rt0 build %s without a C toolchain: %v", tc.target, err)
			continue
		}
		if standIn {
			assertLinksKernel(t, filepath.Join(tmp, "out.elf"))
		} else if img, err := os.ReadFile(filepath.Join(tmp, "out.elf")); err != nil || len(img) == 0 {
			t.Errorf("no image: %v", err)
		}
		os.Remove(filepath.Join(tmp, "out.elf"))
	}
}

func lookPathIn(name, dir string) (string, error) {
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// Paths through a symbolic link: the overlay and go.work name the path as
// given, and the go command must see the same one.
func TestBuildThroughSymlink(t *testing.T) {
	b := testBuilder(t)
	real := t.TempDir()
	boottest.WriteFiles(t, real, map[string]string{
		"loose/main.go": helloMain,
		"mod/go.mod":    "module example.com/m\n\ngo 1.26\n",
		"mod/main.go":   helloMain,
	})
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	linkOK(t, b, "temporary module", filepath.Join(link, "loose"))
	linkOK(t, b, "workspace", filepath.Join(link, "mod"))
	linkOK(t, b, "workspace", filepath.Join(link, "mod", "main.go"))
	t.Chdir(filepath.Join(link, "mod"))
	linkOK(t, b, "workspace", ".")
}
