package main

// rt0 test: go test, with each package's test binary booted on rt0.
//
// How the kernel gets into a test binary without touching the package:
// the -overlay adds an external test file (package <name>_test, which may
// import anything, so there is no import cycle even for packages the kernel
// imports) holding `import _ "rt0/guest/kernel"`.
//
// For a standard-library package that import cannot resolve: the go command
// looks up a std package's imports inside GOROOT only. So rt0 test builds
// std packages against a private GOROOT: a directory of symbolic links to
// every entry of the real GOROOT and of GOROOT/src, plus src/rt0/...
// links to the source of the kernel's packages (everything `go list -deps
// rt0/guest/kernel` shows outside std). "rt0/guest/kernel" then resolves as if it were
// in std, under its own import path, so the symbols the post-link step
// looks up (rt0/guest/kernel.linkinfo) keep their names. The package directories
// must really exist (the go command runs the assembler in them), which is
// why an overlay alone does not do. The build cache does not key std
// packages by GOROOT's location, so nothing is rebuilt for it; the test
// binary's runtime.GOROOT() is the private GOROOT, and the guest sees the
// package (and GOROOT/lib/time/zoneinfo.zip) under that same path.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"rt0/guest/kernel/cmdline"
	"rt0/host/build"
	"rt0/host/qemu"
	"rt0/host/shell"
)

// testKernelFile is the external test file the overlay adds to each tested
// package (build.TestKernelSource is its text).
const testKernelFile = "zz_rt0_kernel_test.go"

const testUsage = `usage: rt0 test [build/test flags] [packages] [-args test arguments...]

Test works like go test, but boots each package's test binary on rt0 in
QEMU: go test -c builds it (GOOS=linux GOARCH=amd64 CGO_ENABLED=0) with
rt0's kernel linked in through an -overlay (the package's files are never
modified), host/image makes it bootable, and the package directory is
packed into a cpio archive at its absolute path (with the testdata
directories of its parents and GOROOT/lib/time/zoneinfo.zip), served by the
kernel from memory, writable, never written back; the test starts in the
package directory. Packages run one machine each, up to -p at a time, and
report like go test: ok/FAIL lines with the time (QEMU's wall time, boot
included), output shown for failures (for everything with -v), exit status
1 if any package failed. -json gives go test -json's stream (through go tool
test2json).

Standard-library packages work too (rt0 test strings sort): they are built
against a private GOROOT of symbolic links in which rt0's kernel packages
appear as std packages.

The test binary sees: its flags (-test.*) and the words after -args on the
kernel command line after --; the environment PWD, HOME=/tmp, TMPDIR=/tmp,
PATH and the -env words; the time zone UTC; one CPU per -smp. What a
unikernel cannot do (exec, other processes, the network) fails as on a
Linux machine without it.

Flags:
`

// testFlags are rt0 test's flags.
type testFlags struct {
	// Passed to the test binary as -test.NAME.
	run, skip, bench, benchtime, cpu, list, count, parallel, shuffle string
	v, short, failfast, benchmem, json, fullpath                     bool
	timeout                                                          time.Duration

	// go test -c.
	build build.Flags
	vet   string

	// The machine and rt0.
	memory   string
	smp      int
	accel    string
	appendTo string
	env      stringsFlag
	qemuArgs stringsFlag
	net      stringsFlag
	files    stringsFlag
	p        int
	klog     bool
	compile  bool

	set      map[string]bool // flags given on the command line
	testArgs []string        // after -args
}

func (tf *testFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&tf.run, "run", "", "run only the tests and examples matching `regexp` (-test.run)")
	fs.StringVar(&tf.skip, "skip", "", "skip tests matching `regexp` (-test.skip)")
	fs.StringVar(&tf.bench, "bench", "", "run benchmarks matching `regexp` (-test.bench)")
	fs.StringVar(&tf.benchtime, "benchtime", "", "run each benchmark for `d` or Nx (-test.benchtime)")
	fs.BoolVar(&tf.benchmem, "benchmem", false, "print memory allocations for benchmarks (-test.benchmem)")
	fs.StringVar(&tf.cpu, "cpu", "", "comma-separated `list` of GOMAXPROCS values (-test.cpu)")
	fs.StringVar(&tf.list, "list", "", "list tests, examples and benchmarks matching `regexp` (-test.list)")
	fs.StringVar(&tf.count, "count", "", "run each test and benchmark `n` times (-test.count)")
	fs.StringVar(&tf.parallel, "parallel", "", "allow `n` parallel tests (-test.parallel)")
	fs.StringVar(&tf.shuffle, "shuffle", "", "shuffle tests: off, on or a `seed` (-test.shuffle)")
	fs.BoolVar(&tf.v, "v", false, "verbose: log every test (-test.v)")
	fs.BoolVar(&tf.short, "short", false, "tell long-running tests to shorten (-test.short)")
	fs.BoolVar(&tf.failfast, "failfast", false, "stop after the first failed test, and start no further package")
	fs.BoolVar(&tf.fullpath, "fullpath", false, "show full file names in error messages (-test.fullpath)")
	fs.BoolVar(&tf.json, "json", false, "print go test -json's event stream")
	fs.DurationVar(&tf.timeout, "timeout", 10*time.Minute, "panic a test binary after `d` (-test.timeout; 0 disables); its machine is killed one minute later")

	f := &tf.build
	fs.BoolVar(&f.A, "a", false, "go build -a: rebuild every package")
	fs.BoolVar(&f.X, "x", false, "print the go commands (go -x) and QEMU command lines")
	fs.BoolVar(&f.Trimpath, "trimpath", false, "go build -trimpath")
	fs.StringVar(&f.Tags, "tags", "", "go build -tags: comma-separated build tags")
	fs.StringVar(&f.GCFlags, "gcflags", "", "go build -gcflags")
	fs.StringVar(&f.LDFlags, "ldflags", "", "go build -ldflags (never -s or -w: the boot image needs symbols and DWARF)")
	fs.StringVar(&f.ASMFlags, "asmflags", "", "go build -asmflags")
	fs.StringVar(&f.Mod, "mod", "", "go build -mod (readonly, vendor, mod)")
	fs.BoolVar(&f.Work, "work", false, "keep rt0's temporary directory and print its name")
	fs.StringVar(&tf.vet, "vet", "", "go test -vet `list` (default: go test's own choice; off to skip vet)")

	fs.StringVar(&tf.memory, "m", "2G", "guest memory `size` per package (QEMU -m syntax; QEMU backs only what the guest touches)")
	fs.IntVar(&tf.smp, "smp", qemu.DefaultSMP(), "number of virtual `cpus`; by default the host's CPU count, at most 64")
	fs.StringVar(&tf.accel, "accel", "", "QEMU accelerator: auto, tcg or kvm (default $RT0_ACCEL or auto)")
	fs.StringVar(&tf.appendTo, "append", "", "raw kernel command line `words` (rt0.strace, rt0.stats)")
	fs.Var(&tf.env, "env", "set an environment variable of the tests (`KEY=VALUE`, or KEY to copy rt0's own); repeatable")
	fs.Var(&tf.qemuArgs, "qemu-arg", "extra QEMU command-line `argument`; repeatable")
	fs.Var(&tf.net, "net", "a network card: QEMU's -nic `spec` (user[,hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT...][,model=virtio-net-pci|e1000|e1000e]; default model virtio-net-pci); repeatable")
	fs.Var(&tf.files, "files", "also give the tests `dir` (or file), at its absolute path (below GOROOT: at the same place in the GOROOT the binary sees); repeatable")
	fs.IntVar(&tf.p, "p", runtime.NumCPU(), "run up to `n` packages (build and machine) at a time")
	fs.BoolVar(&tf.klog, "klog", false, "stream each machine's kernel log (debugcon) to standard error, lines prefixed with the package")
	fs.BoolVar(&tf.compile, "c", false, "build the boot image <name>.test and its file archive <name>.test.cpio into the current directory; do not run")
}

// parseTestArgs parses rt0 test's command line: flags and package names
// may be mixed (as go test allows); -args ends both, and what follows goes
// to the test binaries.
func parseTestArgs(fs *flag.FlagSet, tf *testFlags, args []string) (pkgs []string, err error) {
	if i := slices.IndexFunc(args, func(a string) bool { return a == "-args" || a == "--args" }); i >= 0 {
		tf.testArgs = slices.Clone(args[i+1:])
		args = args[:i]
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		for len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "-") {
			pkgs = append(pkgs, args[0])
			args = args[1:]
		}
		if len(args) == 0 {
			break
		}
		if args[0] == "--" { // everything after is a package
			pkgs = append(pkgs, args[1:]...)
			break
		}
	}
	tf.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { tf.set[f.Name] = true })
	if tf.p < 1 {
		return nil, fmt.Errorf("-p %d: need at least 1", tf.p)
	}
	if tf.smp < 1 {
		return nil, fmt.Errorf("-smp %d: need at least 1 cpu", tf.smp)
	}
	return pkgs, nil
}

// binaryArgs are the test binary's arguments, as go test passes them:
// -test.paniconexit0, -test.timeout, the test flags given, then -args.
func (tf *testFlags) binaryArgs() []string {
	args := []string{"-test.paniconexit0"}
	if tf.timeout > 0 {
		args = append(args, "-test.timeout="+tf.timeout.String())
	}
	switch {
	case tf.json:
		args = append(args, "-test.v=test2json")
	case tf.v:
		args = append(args, "-test.v=true")
	}
	str := func(name, v string) {
		if tf.set[name] {
			args = append(args, "-test."+name+"="+v)
		}
	}
	boolean := func(name string, v bool) {
		if tf.set[name] {
			args = append(args, "-test."+name+"="+strconv.FormatBool(v))
		}
	}
	str("run", tf.run)
	str("skip", tf.skip)
	str("bench", tf.bench)
	str("benchtime", tf.benchtime)
	boolean("benchmem", tf.benchmem)
	str("cpu", tf.cpu)
	str("list", tf.list)
	str("count", tf.count)
	str("parallel", tf.parallel)
	str("shuffle", tf.shuffle)
	boolean("short", tf.short)
	boolean("failfast", tf.failfast)
	boolean("fullpath", tf.fullpath)
	return append(args, tf.testArgs...)
}

// showPass reports whether a passing package's output is shown (go test's
// testShowPass).
func (tf *testFlags) showPass() bool { return tf.v || tf.list != "" }

// listedPkg is what go list says about a package.
type listedPkg struct {
	ImportPath   string
	Name         string
	Dir          string
	Standard     bool
	TestGoFiles  []string
	XTestGoFiles []string
	Module       *struct {
		Path string
		Dir  string
		Main bool
	}
	Error *struct{ Err string }

	// Of go list -test's records, read by foldTestListing.
	Match   []string // the patterns that named the package
	ForTest string   // set in a test variant: the package under test
	Deps    []string // a test variant's dependencies

	testsImportNet bool // the package's test binary imports net
}

// listPackages resolves the package arguments with go list, in the current
// directory (as go test does). The same go list, with -test, says which
// test binaries import net (foldTestListing): the build of a test binary
// runs elsewhere (in the package directory, with a go.work, or against the
// private GOROOT), but sees the same source files of the same packages:
// the private GOROOT's std is the real one's, through links.
func listPackages(b *build.Builder, patterns []string, tags, mod string) ([]*listedPkg, error) {
	args := []string{"list", "-e", "-test", "-json=ImportPath,Name,Dir,Standard,TestGoFiles,XTestGoFiles,Module,Error,Match,ForTest,Deps"}
	if tags != "" {
		args = append(args, "-tags="+tags)
	}
	if mod != "" {
		args = append(args, "-mod="+mod)
	}
	args = append(args, "--")
	args = append(args, patterns...)
	cmd := exec.Command(b.Go, args...)
	cmd.Env = append(slices.Clip(b.Env), build.GoEnvTarget...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, strings.TrimSpace(stderr.String()))
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		fmt.Fprintln(b.Stderr, s) // "matched no packages" and the like
	}
	var pkgs []*listedPkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		p := new(listedPkg)
		if err := dec.Decode(p); err != nil {
			return nil, fmt.Errorf("go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return foldTestListing(pkgs), nil
}

// makeStdRoot builds the private GOROOT at dir: links to every entry of
// goroot and of goroot/src, and src/<import path> links to the kernel's
// package directories (a link for the shortest path covers those below
// it when they live below it on the host too).
func makeStdRoot(dir, goroot string, kernelPkgs map[string]string) error {
	return makeStdRootWith(dir, goroot, kernelPkgs, false)
}

// makeStdRootWith is makeStdRoot; with ownVendor, src/vendor is left out,
// for vendorModules to build.
func makeStdRootWith(dir, goroot string, kernelPkgs map[string]string, ownVendor bool) error {
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		return err
	}
	link := func(parent string, skip string) error {
		ents, err := os.ReadDir(filepath.Join(goroot, parent))
		if err != nil {
			return err
		}
		for _, e := range ents {
			if e.Name() == skip || ownVendor && parent == "src" && e.Name() == "vendor" {
				continue
			}
			if err := os.Symlink(filepath.Join(goroot, parent, e.Name()), filepath.Join(dir, parent, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	if err := link("", "src"); err != nil {
		return err
	}
	top := strings.SplitN(build.KernelImport, "/", 2)[0] // "rt0"
	if _, err := os.Stat(filepath.Join(goroot, "src", top)); err == nil {
		return fmt.Errorf("%s already exists: cannot add rt0's kernel packages to a private GOROOT", filepath.Join(goroot, "src", top))
	}
	if err := link("src", top); err != nil {
		return err
	}
	paths := make([]string, 0, len(kernelPkgs))
	for ip := range kernelPkgs {
		paths = append(paths, ip)
	}
	sort.Strings(paths)
	var linked []string // import paths linked so far
	for _, ip := range paths {
		covered := false
		for _, l := range linked {
			if rel, ok := strings.CutPrefix(ip, l+"/"); ok {
				if filepath.Join(kernelPkgs[l], filepath.FromSlash(rel)) != kernelPkgs[ip] {
					// Linking it would write into the source tree
					// that the link for l points to.
					return fmt.Errorf("package %s is not in %s's directory tree (%s)", ip, l, kernelPkgs[ip])
				}
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		at := filepath.Join(dir, "src", filepath.FromSlash(ip))
		if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(kernelPkgs[ip], at); err != nil {
			return err
		}
		linked = append(linked, ip)
	}
	return nil
}

// testBuild is how one package's test binary is built.
type testBuild struct {
	dir     string            // where go test -c runs
	env     []string          // added environment (GOROOT, GOWORK)
	pkgArg  string            // the package argument
	overlay map[string]string // -overlay Replace map
	pkgDir  string            // the package directory, as the binary knows it
	srcDir  string            // the package directory on the host
	goroot  string            // runtime.GOROOT() of the binary
	rootDir string            // the boundary for parent testdata: module root or GOROOT/src
}

// tester runs the packages of one rt0 test command.
type tester struct {
	b      *build.Builder
	tf     *testFlags
	tmp    string
	sio    stdio
	ctx    context.Context
	goroot string
	files  []string // -files, absolute

	stdOnce sync.Once
	stdRoot string // the private GOROOT
	stdErr  error
	// stdNet: the private GOROOT has the network's packages too (with
	// -net), and stdOverlay the vendored files test builds replace
	// (test_stdnet.go).
	stdNet     bool
	stdOverlay map[string]string

	workOnce sync.Once
	workVer  string
	workErr  error

	errMu    sync.Mutex // serializes build output on sio.err
	failFast atomic.Bool

	t2jOnce sync.Once
	t2jPath string // go tool test2json's binary
}

// stdGOROOT makes the private GOROOT (once).
func (t *tester) stdGOROOT() (string, error) {
	t.stdOnce.Do(func() {
		kp, err := t.b.KernelPackages()
		if err != nil {
			t.stdErr = err
			return
		}
		var mods []build.ModulePackage
		if len(t.tf.net) > 0 {
			// A card: the network's packages join the kernel's.
			var np map[string]string
			if np, mods, err = t.b.NetworkPackages(); err != nil {
				t.stdErr = err
				return
			}
			for ip, d := range np {
				kp[ip] = d
			}
		}
		dir := filepath.Join(t.tmp, "goroot")
		if err := makeStdRootWith(dir, t.goroot, kp, len(mods) > 0); err != nil {
			t.stdErr = fmt.Errorf("private GOROOT: %v", err)
			return
		}
		if len(mods) > 0 {
			scratch := filepath.Join(t.tmp, "vendor-sanitized")
			if err := os.MkdirAll(scratch, 0o755); err != nil {
				t.stdErr = err
				return
			}
			if t.stdOverlay, err = vendorModules(dir, t.goroot, mods, scratch); err != nil {
				t.stdErr = fmt.Errorf("private GOROOT: %v", err)
				return
			}
			t.stdNet = true
		}
		t.stdRoot = dir
		t.b.Logf("private GOROOT %s: %s with %d kernel packages and %d of modules for the network (%d files with directives -std refuses replaced)", dir, t.goroot, len(kp), len(mods), len(t.stdOverlay))
	})
	return t.stdRoot, t.stdErr
}

// plan decides how to build p's test binary; work is the package's own
// temporary directory.
func (t *tester) plan(p *listedPkg, work string) (*testBuild, error) {
	src := filepath.Join(work, testKernelFile)
	if p.testsImportNet {
		t.b.Logf("%s: the test binary imports package net; %s enables the kernel's sockets", p.ImportPath, testKernelFile)
	}
	network := !p.Standard
	if p.Standard && p.testsImportNet && len(t.tf.net) > 0 {
		if _, err := t.stdGOROOT(); err != nil {
			return nil, err
		}
		network = t.stdNet
	}
	if err := os.WriteFile(src, []byte(build.TestKernelSource(p.Name, p.testsImportNet, network)), 0o644); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(p.Dir, testKernelFile)); err == nil {
		return nil, fmt.Errorf("%s already exists: that name is reserved for rt0's kernel import", filepath.Join(p.Dir, testKernelFile))
	}
	tb := &testBuild{srcDir: p.Dir, goroot: t.goroot}
	switch {
	case p.Standard:
		root, err := t.stdGOROOT()
		if err != nil {
			return nil, err
		}
		tb.goroot = root
		tb.pkgDir = filepath.Join(root, "src", filepath.FromSlash(p.ImportPath))
		tb.rootDir = filepath.Join(root, "src")
		tb.dir = t.tmp // outside any module
		tb.env = []string{"GOROOT=" + root, "GOWORK=off"}
		tb.pkgArg = p.ImportPath
	case p.Module == nil:
		return nil, fmt.Errorf("%s is in no module: rt0 test needs module mode", p.ImportPath)
	case p.Module.Path == "rt0" || build.SamePath(p.Module.Dir, t.b.Root):
		tb.pkgDir, tb.rootDir, tb.dir = p.Dir, p.Module.Dir, p.Dir
		tb.env = []string{"GOWORK=off"}
		tb.pkgArg = "."
	case !p.Module.Main:
		return nil, fmt.Errorf("%s is in module %s, a dependency: rt0 test runs packages of the main module, of other local modules and of std", p.ImportPath, p.Module.Path)
	default:
		t.workOnce.Do(func() { t.workVer, t.workErr = t.b.GoVersion() })
		if t.workErr != nil {
			return nil, t.workErr
		}
		work := fmt.Sprintf("go %s\n\nuse (\n\t%s\n\t%s\n)\n", t.workVer, strconv.Quote(p.Module.Dir), strconv.Quote(t.b.Root))
		wf := filepath.Join(filepath.Dir(src), "go.work")
		if err := os.WriteFile(wf, []byte(work), 0o644); err != nil {
			return nil, err
		}
		tb.pkgDir, tb.rootDir, tb.dir = p.Dir, p.Module.Dir, p.Dir
		tb.env = []string{"GOWORK=" + wf}
		tb.pkgArg = "."
	}
	tb.overlay = map[string]string{filepath.Join(tb.pkgDir, testKernelFile): src}
	if p.Standard {
		for k, v := range t.stdOverlay {
			tb.overlay[k] = v
		}
	}
	return tb, nil
}

// buildTest runs go test -c for p into work/<name>.test, and returns the
// path of the boot image. Go's output goes to out.
func (t *tester) buildTest(p *listedPkg, tb *testBuild, work string, out io.Writer) (string, error) {
	goFlags, err := t.tf.build.GoArgs()
	if err != nil {
		return "", err
	}
	ov, err := json.Marshal(map[string]any{"Replace": tb.overlay})
	if err != nil {
		return "", err
	}
	ovFile := filepath.Join(work, "overlay.json")
	if err := os.WriteFile(ovFile, ov, 0o644); err != nil {
		return "", err
	}
	name := build.ImportName(p.ImportPath) + ".test"
	elfPath := filepath.Join(work, name+".elf")
	args := []string{"test", "-c", "-o", elfPath, "-overlay", ovFile}
	if t.tf.vet != "" {
		args = append(args, "-vet="+t.tf.vet)
	}
	args = append(args, goFlags...)
	args = append(args, tb.pkgArg)
	env := append(slices.Clone(build.GoEnvTarget), tb.env...)
	if t.tf.build.X {
		t.errMu.Lock()
		fmt.Fprintf(t.sio.err, "cd %s; %s %s\n", tb.dir, strings.Join(env, " "), shell.Quote(append([]string{t.b.Go}, args...)))
		t.errMu.Unlock()
	}
	cmd := exec.CommandContext(t.ctx, t.b.Go, args...)
	cmd.Dir = tb.dir
	cmd.Env = append(slices.Clip(t.b.Env), append(env, "PWD="+tb.dir)...)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Run(); err != nil {
		return "", err
	}
	if err := build.CheckLinksKernel(elfPath); err != nil {
		return "", err
	}
	img, err := build.PatchFile(elfPath)
	if err != nil {
		return "", fmt.Errorf("boot image: %v", err)
	}
	image := filepath.Join(work, name)
	if err := os.WriteFile(image, img, 0o644); err != nil {
		return "", err
	}
	os.Remove(elfPath)
	return image, nil
}

// testTrees is what the guest sees of the host for a package: the package
// directory; the testdata directories of its parents up to the module root
// (GOROOT/src for std), for tests that read ../testdata; and GOROOT's time
// zone database where runtime.GOROOT() says it is.
func testTrees(tb *testBuild, realGOROOT string, extra []string) []fileTree {
	trees := []fileTree{{Src: tb.srcDir, Dst: filepath.ToSlash(tb.pkgDir)}}
	src, dst := tb.srcDir, tb.pkgDir
	for dst != tb.rootDir {
		parent := filepath.Dir(dst)
		if rel, err := filepath.Rel(tb.rootDir, parent); parent == dst || err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			break
		}
		src, dst = filepath.Dir(src), parent
		if fi, err := os.Stat(filepath.Join(src, "testdata")); err == nil && fi.IsDir() {
			trees = append(trees, fileTree{Src: filepath.Join(src, "testdata"), Dst: filepath.ToSlash(filepath.Join(dst, "testdata"))})
		}
	}
	// Paths below the real GOROOT appear below the binary's GOROOT.
	guest := func(p string) string {
		if rel, err := filepath.Rel(realGOROOT, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			p = filepath.Join(tb.goroot, rel)
		}
		return filepath.ToSlash(p)
	}
	zone := filepath.Join(realGOROOT, "lib", "time", "zoneinfo.zip")
	if _, err := os.Stat(zone); err == nil {
		trees = append(trees, fileTree{Src: zone, Dst: guest(zone)})
	}
	for _, e := range extra {
		trees = append(trees, fileTree{Src: e, Dst: guest(e)})
	}
	return trees
}

// testEnv is the test binary's environment: what go test adds (PWD, PATH
// with GOROOT/bin first), a home and a temporary directory that exist in
// the guest, then the -env words.
func testEnv(tb *testBuild, extra []string) []string {
	env := []string{
		"PWD=" + tb.pkgDir,
		"HOME=/tmp",
		"TMPDIR=/tmp",
		"PATH=" + filepath.Join(tb.goroot, "bin") + ":/usr/local/bin:/usr/bin:/bin",
	}
	return append(env, extra...)
}

// maxCmdline is what the kernel keeps of its command line (a 4 KiB buffer
// with the image path QEMU puts first).
const maxCmdline = 4000

// pkgResult is one package's outcome.
type pkgResult struct {
	failed bool
}

// runPkg tests one package, writing go test's text for it to out (the
// terminal's writer for this package, or test2json's input).
func (t *tester) runPkg(p *listedPkg, out io.Writer, jsonOut io.Writer) pkgResult {
	tf := t.tf
	fail := func(format string, args ...any) pkgResult {
		fmt.Fprintf(out, format, args...)
		return pkgResult{failed: true}
	}
	if p.Error != nil {
		t.errMu.Lock()
		fmt.Fprintf(t.sio.err, "# %s\n%s\n", p.ImportPath, strings.TrimSpace(p.Error.Err))
		t.errMu.Unlock()
		return fail("FAIL\t%s [setup failed]\n", p.ImportPath)
	}
	if len(p.TestGoFiles)+len(p.XTestGoFiles) == 0 {
		fmt.Fprintf(out, "?   \t%s\t[no test files]\n", p.ImportPath)
		return pkgResult{}
	}
	work := filepath.Join(t.tmp, strings.NewReplacer("/", "_", "\\", "_").Replace(p.ImportPath))
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fail("FAIL\t%s [setup failed]\n%v\n", p.ImportPath, err)
	}
	var buildOut bytes.Buffer
	tb, err := t.plan(p, work)
	var image string
	if err == nil {
		image, err = t.buildTest(p, tb, work, &buildOut)
	}
	if err != nil {
		if t.ctx.Err() != nil {
			return pkgResult{failed: true}
		}
		text := buildOut.String()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			text += "rt0 test: " + err.Error() + "\n"
		}
		if !strings.HasPrefix(text, "# ") {
			text = "# " + p.ImportPath + "\n" + text
		}
		if jsonOut != nil {
			writeBuildEvents(jsonOut, p.ImportPath, text)
		} else {
			t.errMu.Lock()
			io.WriteString(t.sio.err, text)
			t.errMu.Unlock()
		}
		return fail("FAIL\t%s [build failed]\n", p.ImportPath)
	}
	if buildOut.Len() > 0 { // vet's or the compiler's remarks
		t.errMu.Lock()
		t.sio.err.Write(buildOut.Bytes())
		t.errMu.Unlock()
	}

	cpioFile := image + ".cpio"
	if _, _, err := writeArchiveFile(cpioFile, testTrees(tb, t.goroot, t.files)); err != nil {
		return fail("FAIL\t%s [setup failed]\npacking the package's files: %v\n", p.ImportPath, err)
	}
	raw := cmdline.Quote(cwdOption(filepath.ToSlash(tb.pkgDir)))
	if s := strings.TrimSpace(tf.appendTo); s != "" {
		raw += " " + s
	}
	envw, err := envWords(testEnv(tb, tf.env))
	if err != nil {
		return fail("FAIL\t%s [setup failed]\n%v\n", p.ImportPath, err)
	}
	line := kernelCmdline(envw, raw, tf.binaryArgs())
	if len(line)+len(image)+1 > maxCmdline {
		return fail("FAIL\t%s [setup failed]\nthe kernel command line is %d bytes; the kernel keeps %d\n", p.ImportPath, len(line)+len(image)+1, maxCmdline)
	}

	if tf.compile {
		base := filepath.Base(image)
		for _, f := range [][2]string{{image, base}, {cpioFile, base + ".cpio"}} {
			data, err := os.ReadFile(f[0])
			if err == nil {
				err = build.WriteFileAtomic(f[1], data)
			}
			if err != nil {
				return fail("FAIL\t%s [setup failed]\n%v\n", p.ImportPath, err)
			}
		}
		t.errMu.Lock()
		fmt.Fprintf(t.sio.err, "rt0 test: wrote %s and %s.cpio; boot with:\n\tqemu-system-x86_64 -nodefaults -no-reboot -display none -cpu max -m %s -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel %s -initrd %s.cpio -append %s\n",
			base, base, tf.memory, base, base, shell.Quote([]string{line}))
		t.errMu.Unlock()
		return pkgResult{}
	}

	// Run.
	var binOut bytes.Buffer // everything the binary printed
	var serial io.Writer = &binOut
	stream := tf.showPass() || jsonOut != nil
	if stream {
		serial = io.MultiWriter(&binOut, out)
	}
	cfg := qemu.Config{
		Kernel:    image,
		Initrd:    []string{cpioFile},
		Append:    line,
		Memory:    tf.memory,
		SMP:       tf.smp,
		Accel:     tf.accel,
		Net:       tf.net,
		ExtraArgs: tf.qemuArgs,
		Serial:    serial,
	}
	if tf.timeout > 0 {
		cfg.Timeout = tf.timeout + time.Minute
	}
	if err := qemu.CheckMemory(image, tf.memory); err != nil {
		return fail("FAIL\t%s [setup failed]\nrt0 test: %v\n", p.ImportPath, err)
	}
	if tf.klog {
		cfg.Debug = &prefixWriter{w: t.sio.err, mu: &t.errMu, prefix: "[" + p.ImportPath + "] "}
	}
	if tf.build.X {
		if args, err := cfg.Args(); err == nil {
			t.errMu.Lock()
			fmt.Fprintln(t.sio.err, shell.Quote(args))
			t.errMu.Unlock()
		}
	}
	if s, ok := out.(interface{ start() }); ok {
		s.start() // test2json's clock starts with the machine, as go test's with the binary
	}
	res, err := qemu.Run(t.ctx, cfg)
	if err != nil {
		if t.ctx.Err() != nil {
			return pkgResult{failed: true}
		}
		return fail("FAIL\t%s [setup failed]\nrt0 test: %v\n", p.ImportPath, err)
	}
	elapsed := fmt.Sprintf("%.3fs", res.Wall.Seconds())
	outb := binOut.Bytes()
	var w io.Writer = out
	if res.ExitCode == 0 && res.ExitLine {
		norun := ""
		if bytes.HasPrefix(outb, []byte("testing: warning: no tests to run\n")) || bytes.Contains(outb, []byte("\ntesting: warning: no tests to run\n")) {
			norun = " [no tests to run]"
		}
		if stream && len(outb) > 0 && !bytes.HasSuffix(outb, []byte("\n")) {
			io.WriteString(w, "\n")
		}
		fmt.Fprintf(w, "ok  \t%s\t%s%s\n", p.ImportPath, elapsed, norun)
		return pkgResult{}
	}
	if !stream {
		w.Write(outb)
	}
	if len(outb) > 0 && !bytes.HasSuffix(outb, []byte("\n")) {
		io.WriteString(w, "\n")
	}
	switch {
	case res.TimedOut:
		fmt.Fprintf(w, "*** Test killed: ran too long (%v).\n", cfg.Timeout)
	case res.ExitCode == qemu.ExitFailure || !res.ExitLine || res.ExitCode > 128:
		fmt.Fprintf(w, "rt0: the machine stopped with status %d", res.ExitCode)
		if res.Reason != "" {
			fmt.Fprintf(w, " (%s)", res.Reason)
		}
		io.WriteString(w, "; the end of the kernel log:\n")
		w.Write(tailLines(res.Debug, 30))
		if len(res.Stderr) > 0 {
			fmt.Fprintf(w, "QEMU said: %s\n", bytes.TrimSpace(res.Stderr))
		}
	case len(outb) == 0:
		fmt.Fprintf(w, "exit status %d\n", res.ExitCode)
	}
	prefix := ""
	if jsonOut != nil {
		prefix = "\x16"
	}
	fmt.Fprintf(w, "%sFAIL\t%s\t%s\n", prefix, p.ImportPath, elapsed)
	return pkgResult{failed: true}
}

// tailLines returns the last n lines of b, ending in a newline.
func tailLines(b []byte, n int) []byte {
	b = bytes.TrimRight(b, "\n")
	i := len(b)
	for ; n > 0 && i > 0; n-- {
		i = bytes.LastIndexByte(b[:i], '\n')
		if i < 0 {
			i = 0
			break
		}
	}
	if i > 0 {
		i++
	}
	out := slices.Clone(b[i:])
	if len(out) > 0 {
		out = append(out, '\n')
	}
	return out
}

// writeBuildEvents writes go test -json's build-output and build-fail
// events for a package that did not build.
func writeBuildEvents(w io.Writer, importPath, text string) {
	type event struct {
		ImportPath string
		Action     string
		Output     string `json:",omitempty"`
	}
	enc := json.NewEncoder(w)
	for _, line := range strings.SplitAfter(text, "\n") {
		if line != "" {
			enc.Encode(event{ImportPath: importPath, Action: "build-output", Output: line})
		}
	}
	enc.Encode(event{ImportPath: importPath, Action: "build-fail"})
}

// prefixWriter writes whole lines to w, each with a prefix, under mu.
type prefixWriter struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	line   []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range b {
		p.line = append(p.line, c)
		if c == '\n' {
			io.WriteString(p.w, p.prefix)
			p.w.Write(p.line)
			p.line = p.line[:0]
		}
	}
	return len(b), nil
}

// sequencer prints the packages' output in package order while they run
// concurrently: the first unfinished package writes through, the others
// are held until their turn.
type sequencer struct {
	mu   sync.Mutex
	w    io.Writer
	head int
	outs []*seqOut
}

type seqOut struct {
	s    *sequencer
	i    int
	buf  bytes.Buffer
	done bool
}

func newSequencer(w io.Writer, n int) *sequencer {
	s := &sequencer{w: w}
	for i := 0; i < n; i++ {
		s.outs = append(s.outs, &seqOut{s: s, i: i})
	}
	return s
}

func (o *seqOut) Write(p []byte) (int, error) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if o.s.head == o.i {
		o.s.w.Write(p)
	} else {
		o.buf.Write(p)
	}
	return len(p), nil
}

// Close marks the package finished, handing the terminal to the next.
func (o *seqOut) Close() error {
	s := o.s
	s.mu.Lock()
	defer s.mu.Unlock()
	o.done = true
	for s.head < len(s.outs) && s.outs[s.head].done {
		s.head++
		if s.head < len(s.outs) {
			next := s.outs[s.head]
			s.w.Write(next.buf.Bytes())
			next.buf.Reset()
		}
	}
	return nil
}

// test2json runs go tool test2json for one package: go test's text in, the
// JSON events out to w.
type test2json struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	done chan struct{}
}

func (t *tester) startTest2JSON(importPath string, w io.Writer) (*test2json, error) {
	// The tool's own binary: go tool would add its start-up to the
	// package's elapsed time, which test2json measures from its own start.
	t.t2jOnce.Do(func() {
		cmd := exec.Command(t.b.Go, "tool", "-n", "test2json")
		cmd.Env = append(slices.Clip(t.b.Env), "GOTOOLCHAIN=local")
		if out, err := cmd.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
			t.t2jPath = string(bytes.TrimSpace(out))
		}
	})
	args := []string{"-t", "-p", importPath}
	cmd := exec.Command(t.t2jPath, args...)
	if t.t2jPath == "" {
		cmd = exec.Command(t.b.Go, append([]string{"tool", "test2json"}, args...)...)
	}
	cmd.Env = append(slices.Clip(t.b.Env), "GOTOOLCHAIN=local")
	cmd.Dir = t.tmp
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = w
	cmd.Stderr = t.sio.err
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("go tool test2json: %v", err)
	}
	tj := &test2json{cmd: cmd, in: in, done: make(chan struct{})}
	go func() { cmd.Wait(); close(tj.done) }()
	return tj, nil
}

func (tj *test2json) close() {
	tj.in.Close()
	<-tj.done
}

func runTest(args []string, sio stdio) int {
	fs := flag.NewFlagSet("rt0 test", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var tf testFlags
	tf.build.BuildVCS = "false"
	tf.register(fs)
	fs.Usage = func() {
		io.WriteString(fs.Output(), testUsage)
		fs.PrintDefaults()
	}
	patterns, err := parseTestArgs(fs, &tf, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if !strings.Contains(err.Error(), "flag provided but not defined") && !strings.Contains(err.Error(), "invalid") {
			fmt.Fprintf(sio.err, "rt0 test: %v\n", err)
		}
		return 2
	}
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	if _, err := envWords(tf.env); err != nil {
		fmt.Fprintf(sio.err, "rt0 test: %v\n", err)
		return 2
	}
	if _, err := qemu.ParseMemory(tf.memory); err != nil {
		fmt.Fprintf(sio.err, "rt0 test: -m: %v\n", err)
		return 2
	}
	for _, n := range tf.net {
		if _, err := qemu.NICArgs(n); err != nil {
			fmt.Fprintf(sio.err, "rt0 test: %v\n", err)
			return 2
		}
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gotSig atomic.Value
	go func() {
		select {
		case s := <-sigs:
			gotSig.Store(s)
			cancel()
		case <-ctx.Done():
		}
	}()

	b, err := build.New(sio.err, tf.build.X)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 test: %v\n", err)
		return 1
	}
	goroot, err := b.GoRoot()
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 test: %v\n", err)
		return 1
	}
	pkgs, err := listPackages(b, patterns, tf.build.Tags, tf.build.Mod)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 test: %v\n", err)
		return 1
	}
	if len(pkgs) == 0 {
		return 1 // go list said why
	}
	tmp, cleanup, err := build.WorkDir(sio.err, "rt0-test-", tf.build.Work)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 test: %v\n", err)
		return 1
	}
	defer cleanup()
	t := &tester{b: b, tf: &tf, tmp: tmp, sio: sio, ctx: ctx, goroot: goroot}
	for _, f := range tf.files {
		abs, err := filepath.Abs(f)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			fmt.Fprintf(sio.err, "rt0 test: -files: %v\n", err)
			return 2
		}
		t.files = append(t.files, abs)
	}

	seq := newSequencer(sio.out, len(pkgs))
	results := make([]pkgResult, len(pkgs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(tf.p, len(pkgs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = t.one(pkgs[i], seq.outs[i])
			}
		}()
	}
	for i := range pkgs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	if s, ok := gotSig.Load().(syscall.Signal); ok {
		fmt.Fprintf(sio.err, "rt0: %v\n", s)
		return 128 + int(s)
	}
	for _, r := range results {
		if r.failed {
			return 1
		}
	}
	return 0
}

// one tests one package and writes its report (text, or JSON events) to
// out, in package order.
func (t *tester) one(p *listedPkg, out *seqOut) (r pkgResult) {
	defer out.Close()
	if t.ctx.Err() != nil || (t.tf.failfast && t.failFast.Load()) {
		return pkgResult{failed: t.ctx.Err() != nil}
	}
	defer func() {
		if r.failed && t.tf.failfast {
			t.failFast.Store(true)
		}
	}()
	if !t.tf.json {
		return t.runPkg(p, out, nil)
	}
	// JSON: build events are written directly; test2json starts when
	// the package's text begins.
	lw := &lazyJSON{t: t, p: p, out: out}
	r = t.runPkg(p, lw, out)
	if err := lw.close(); err != nil {
		fmt.Fprintf(t.sio.err, "rt0 test: %v\n", err)
		r.failed = true
	}
	return r
}

// lazyJSON starts test2json on the first write.
type lazyJSON struct {
	t   *tester
	p   *listedPkg
	out io.Writer
	tj  *test2json
	err error
}

func (l *lazyJSON) start() {
	if l.tj == nil && l.err == nil {
		l.tj, l.err = l.t.startTest2JSON(l.p.ImportPath, l.out)
	}
}

func (l *lazyJSON) Write(b []byte) (int, error) {
	l.start()
	if l.err != nil {
		return 0, l.err
	}
	return l.tj.in.Write(b)
}

func (l *lazyJSON) close() error {
	if l.tj != nil {
		l.tj.close()
	}
	return l.err
}
