// Package build is rt0's host library for "a Go package in, a bootable ELF
// out": it runs the stock go command (GOOS=linux GOARCH=amd64
// CGO_ENABLED=0) on an unmodified main package with an -overlay that adds
// one file importing rt0's kernel (kernelsrc.go), asks go list whether the
// program imports net so that the kernel's sockets are linked only then
// (usesnet.go), and applies the post-link step (rt0/host/image) that makes
// the ELF multiboot-bootable. The package may be in the rt0 module, in
// another module (built in a temporary go.work with rt0), or in no module
// (a temporary module that requires rt0); the user's files are never
// modified. rt0 finds its own source through Root.
//
// The rt0 command is a thin shell over it; the KVM probe of rt0/host/qemu uses
// it to build the kernel it boots.
package build

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	gobuild "go/build"
	"go/parser"
	"go/token"
	"go/version"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"rt0/contract"
	"rt0/host/image"
	"rt0/host/shell"
)

// KernelFile is the file the overlay adds to the user's main package so that
// it links rt0's kernel (MainKernelSource is its text). The user's source is
// never touched.
const (
	KernelFile    = "zz_rt0_kernel.go"
	KernelImport  = contract.KernelPkg
	painterImport = "rt0/guest/painter" // the screen console's goroutine (above the runtime)
)

// GoEnvTarget is the environment of the go commands that build for the
// guest, or list what such a build holds: rt0's kernel serves Linux, on
// amd64, without C, with this very toolchain.
var GoEnvTarget = []string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOTOOLCHAIN=local"}

// Patch is the post-link step (image.Patch); tests replace it.
var Patch = image.Patch

// Flags are the go build flags rt0 build, rt0 run and rt0 test pass through.
type Flags struct {
	A, X, Trimpath bool
	Tags           string
	GCFlags        string
	LDFlags        string
	ASMFlags       string
	BuildVCS       string
	Mod            string
	Work           bool   // keep the temporary directory and print its name
	Verbose        bool   // say what rt0 does
	NoPatch        bool   // rt0 build only: write go build's ELF unpatched
	Output         string // rt0 build only: -o
}

func (f *Flags) Register(fs *flag.FlagSet, withOutput bool) {
	fs.BoolVar(&f.A, "a", false, "go build -a: rebuild every package")
	fs.BoolVar(&f.X, "x", false, "go build -x: print the commands")
	fs.BoolVar(&f.Trimpath, "trimpath", false, "go build -trimpath")
	fs.StringVar(&f.Tags, "tags", "", "go build -tags: comma-separated build tags")
	fs.StringVar(&f.GCFlags, "gcflags", "", "go build -gcflags")
	fs.StringVar(&f.LDFlags, "ldflags", "", "go build -ldflags (never -s or -w: the boot image needs symbols and DWARF)")
	fs.StringVar(&f.ASMFlags, "asmflags", "", "go build -asmflags")
	fs.StringVar(&f.BuildVCS, "buildvcs", "false", "go build -buildvcs")
	fs.StringVar(&f.Mod, "mod", "", "go build -mod (readonly, vendor, mod)")
	fs.BoolVar(&f.Work, "work", false, "keep rt0's temporary directory and print its name")
	fs.BoolVar(&f.Verbose, "v", false, "print what rt0 does")
	if withOutput {
		fs.StringVar(&f.Output, "o", "", "write the image to `file` (or into a directory: <dir>/<name>.elf)")
		fs.BoolVar(&f.NoPatch, "nopatch", false, "write go build's ELF without the boot patch (for debugging rt0)")
	}
}

// goArgs returns the flags for go build.
func (f *Flags) GoArgs() ([]string, error) {
	var args []string
	if f.A {
		args = append(args, "-a")
	}
	if f.X {
		args = append(args, "-x")
	}
	if f.Trimpath {
		args = append(args, "-trimpath")
	}
	if f.Tags != "" {
		args = append(args, "-tags="+f.Tags)
	}
	if f.GCFlags != "" {
		args = append(args, "-gcflags="+f.GCFlags)
	}
	if f.LDFlags != "" {
		for _, w := range strings.Fields(f.LDFlags) {
			name, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
			if strings.HasPrefix(w, "-") && (name == "s" || name == "w") {
				return nil, fmt.Errorf("-ldflags %s: rt0 needs the symbols and DWARF that %s strips", f.LDFlags, w)
			}
		}
		args = append(args, "-ldflags="+f.LDFlags)
	}
	if f.ASMFlags != "" {
		args = append(args, "-asmflags="+f.ASMFlags)
	}
	if f.Mod != "" {
		args = append(args, "-mod="+f.Mod)
	}
	args = append(args, "-buildvcs="+f.BuildVCS)
	return args, nil
}

// Builder runs the stock go command on a user's main package with rt0's
// kernel linked in.
type Builder struct {
	Root    string    // rt0 module source directory
	Go      string    // the go command
	Env     []string  // environment for go (GOOS etc. are added)
	Stderr  io.Writer // go's output and -v messages
	Verbose bool
}

// New returns a Builder for the rt0 checkout Root finds and the go command
// FindGo finds, writing go's output and (when verbose) rt0's messages to
// stderr.

func New(stderr io.Writer, verbose bool) (*Builder, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	goCmd, err := FindGo()
	if err != nil {
		return nil, err
	}
	return &Builder{Root: root, Go: goCmd, Env: os.Environ(), Stderr: stderr, Verbose: verbose}, nil
}

// FindGo returns the go command: $RT0_GO, go in PATH, or $GOROOT/bin/go.
func FindGo() (string, error) {
	if g := os.Getenv("RT0_GO"); g != "" {
		return g, nil
	}
	if g, err := exec.LookPath("go"); err == nil {
		return g, nil
	}
	if r := os.Getenv("GOROOT"); r != "" {
		g := filepath.Join(r, "bin", "go")
		if _, err := os.Stat(g); err == nil {
			return g, nil
		}
	}
	return "", errors.New("cannot find the go command: put it in PATH (or set RT0_GO)")
}

func (b *Builder) Logf(format string, args ...any) {
	if b.Verbose {
		fmt.Fprintf(b.Stderr, "rt0: "+format+"\n", args...)
	}
}

// Plan is how one target gets built (Link returns it).
type Plan struct {
	Kind      string            // "rt0 module", "workspace" or "temporary module"
	Dir       string            // where go build runs
	Pkgs      []string          // go build's package arguments
	Overlay   map[string]string // -overlay Replace map
	KernelSrc string            // the file the overlay adds as KernelFile
	Sockets   bool              // the program imports net: its KernelFile enables sockets
	Env       []string          // added environment (GOWORK)
	Name      string            // default output name, without .elf
}

// goEnv is the environment go build runs with for p (after the user's
// own), and so every go command that must see the program as go build does.
func (p *Plan) goEnv() []string {
	return append(slices.Clone(GoEnvTarget), p.Env...)
}

// goCommand is the go command with args, run where and how go build runs
// for p.
func (b *Builder) goCommand(p *Plan, args ...string) *exec.Cmd {
	cmd := exec.Command(b.Go, args...)
	cmd.Dir = p.Dir
	// PWD keeps the go command's idea of the package directory the path
	// the overlay names, even through symbolic links.
	cmd.Env = append(slices.Clip(b.Env), append(p.goEnv(), "PWD="+p.Dir)...)
	return cmd
}

// IsGoFile reports whether a command-line target names a Go source file.
func IsGoFile(arg string) bool { return strings.HasSuffix(arg, ".go") }

// isLocalPath reports whether the go command treats arg as a directory
// rather than an import path.
func isLocalPath(arg string) bool {
	return arg == "." || arg == ".." || filepath.IsAbs(arg) ||
		strings.HasPrefix(arg, "./") || strings.HasPrefix(arg, "../")
}

// makePlan decides how to build targets (one package, or .go files of one
// directory), writing what it needs into tmp.
func (b *Builder) makePlan(targets []string, tags string, tmp string) (*Plan, error) {
	if len(targets) == 0 {
		return nil, errors.New("no package or .go files to build")
	}
	// Without sockets until link knows better: go list needs the file
	// to exist, and its imports are the same either way.
	kernelSrc := filepath.Join(tmp, KernelFile)
	if err := os.WriteFile(kernelSrc, []byte(MainKernelSource(false)), 0o644); err != nil {
		return nil, err
	}

	var dir string
	var files []string // absolute; nil for a package
	if IsGoFile(targets[0]) {
		for _, t := range targets {
			if !IsGoFile(t) {
				return nil, fmt.Errorf("cannot mix .go files and packages: %s", t)
			}
			if strings.HasSuffix(t, "_test.go") {
				return nil, fmt.Errorf("cannot build test file %s", t)
			}
			abs, err := filepath.Abs(t)
			if err != nil {
				return nil, err
			}
			if fi, err := os.Stat(abs); err != nil {
				return nil, err
			} else if fi.IsDir() {
				return nil, fmt.Errorf("%s is a directory, not a .go file", t)
			}
			if dir == "" {
				dir = filepath.Dir(abs)
			} else if filepath.Dir(abs) != dir {
				return nil, fmt.Errorf("named files must all be in one directory; have %s and %s", dir, filepath.Dir(abs))
			}
			if filepath.Base(abs) == KernelFile {
				return nil, fmt.Errorf("%s: that name is reserved for rt0's kernel import", t)
			}
			files = append(files, abs)
		}
		if err := checkMainFiles(files); err != nil {
			return nil, err
		}
	} else {
		if len(targets) > 1 {
			return nil, fmt.Errorf("build one main package at a time (have %s)", strings.Join(targets, " "))
		}
		var err error
		dir, err = b.packageDir(targets[0])
		if err != nil {
			return nil, err
		}
		if err := checkMainDir(dir, tags); err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, KernelFile)); err == nil {
			return nil, fmt.Errorf("%s already exists: that name is reserved for rt0's kernel import", filepath.Join(dir, KernelFile))
		}
	}

	p := &Plan{Overlay: map[string]string{}, KernelSrc: kernelSrc}
	if files != nil {
		p.Name = strings.TrimSuffix(filepath.Base(files[0]), ".go")
	} else {
		p.Name = filepath.Base(dir)
	}

	modRoot := FindModuleRoot(dir)
	if modRoot == "" {
		return b.tempModulePlan(p, dir, files, kernelSrc, tmp)
	}
	modPath, err := ModulePath(filepath.Join(modRoot, "go.mod"))
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(modRoot, dir)
	if err != nil {
		return nil, err
	}
	if files == nil {
		p.Name = ImportName(path.Join(modPath, filepath.ToSlash(rel)))
	}
	p.Overlay[filepath.Join(dir, KernelFile)] = kernelSrc
	if files != nil {
		p.Dir = dir
		for _, f := range files {
			p.Pkgs = append(p.Pkgs, "./"+filepath.Base(f))
		}
		p.Pkgs = append(p.Pkgs, "./"+KernelFile)
	} else {
		p.Dir = dir
		p.Pkgs = []string{"."}
	}

	if SamePath(modRoot, b.Root) || modPath == "rt0" {
		// (a) inside rt0 itself (or another checkout of it, whose own
		// kernel is then the one linked).
		p.Kind = "rt0 module"
		p.Env = []string{"GOWORK=off"}
		if !SamePath(modRoot, b.Root) {
			b.Logf("%s is another checkout of rt0: linking its kernel", modRoot)
		}
		return p, nil
	}

	// (b) another module: a workspace with it and rt0.
	goVersion, err := b.GoVersion()
	if err != nil {
		return nil, err
	}
	work := fmt.Sprintf("go %s\n\nuse (\n\t%s\n\t%s\n)\n", goVersion, strconv.Quote(modRoot), strconv.Quote(b.Root))
	workFile := filepath.Join(tmp, "go.work")
	if err := os.WriteFile(workFile, []byte(work), 0o644); err != nil {
		return nil, err
	}
	p.Kind = "workspace"
	p.Env = []string{"GOWORK=" + workFile}
	return p, nil
}

// tempModulePlan is case (c): code outside any module. A temporary module
// requires rt0 (replaced by its source directory) and holds the user's
// files, mapped in by the overlay, not copied.
func (b *Builder) tempModulePlan(p *Plan, dir string, files []string, kernelSrc, tmp string) (*Plan, error) {
	mod := filepath.Join(tmp, "mod")
	if err := os.Mkdir(mod, 0o755); err != nil {
		return nil, err
	}
	gomod, err := b.tempGoMod()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		return nil, err
	}
	// rt0's go.sum covers every module rt0 may need.
	if sum, err := os.ReadFile(filepath.Join(b.Root, "go.sum")); err == nil {
		if err := os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644); err != nil {
			return nil, err
		}
	}
	if files == nil {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			n := e.Name()
			if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
				if IsGoFile(n) && !strings.HasSuffix(n, "_test.go") {
					files = append(files, filepath.Join(dir, n))
				}
			}
		}
	}
	for _, f := range files {
		p.Overlay[filepath.Join(mod, filepath.Base(f))] = f
	}
	p.Overlay[filepath.Join(mod, KernelFile)] = kernelSrc
	p.Kind = "temporary module"
	p.Dir = mod
	p.Pkgs = []string{"."}
	p.Env = []string{"GOWORK=off"}
	return p, nil
}

// tempGoMod returns the go.mod of the temporary module for code outside any
// module: it requires rt0 at its source directory, and repeats rt0's own
// requirements and replacements (which apply only in a main module), with a
// go line no older than rt0's, so the go command finds the module graph
// complete and consistent without updating anything.
func (b *Builder) tempGoMod() (string, error) {
	cmd := exec.Command(b.Go, "mod", "edit", "-json", filepath.Join(b.Root, "go.mod"))
	cmd.Env = append(slices.Clip(b.Env), "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("reading rt0's go.mod: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	type modVer struct{ Path, Version string }
	var mf struct {
		Go      string
		Require []struct {
			modVer
			Indirect bool
		}
		Replace []struct{ Old, New modVer }
	}
	if err := json.Unmarshal(out, &mf); err != nil {
		return "", fmt.Errorf("reading rt0's go.mod: %v", err)
	}
	goLine := "1.26"
	if mf.Go != "" && version.Compare("go"+mf.Go, "go"+goLine) > 0 {
		goLine = mf.Go
	}
	var w strings.Builder
	fmt.Fprintf(&w, "module rt0prog\n\ngo %s\n\nrequire rt0 v0.0.0\n", goLine)
	if len(mf.Require) > 0 {
		w.WriteString("\nrequire (\n")
		for _, r := range mf.Require {
			fmt.Fprintf(&w, "\t%s %s // indirect\n", modfileQuote(r.Path), modfileQuote(r.Version))
		}
		w.WriteString(")\n")
	}
	fmt.Fprintf(&w, "\nreplace rt0 => %s\n", modfileQuote(b.Root))
	for _, r := range mf.Replace {
		old := modfileQuote(r.Old.Path)
		if r.Old.Version != "" {
			old += " " + modfileQuote(r.Old.Version)
		}
		repl := r.New.Path
		if r.New.Version != "" {
			repl = modfileQuote(repl) + " " + modfileQuote(r.New.Version)
		} else {
			if !filepath.IsAbs(repl) {
				repl = filepath.Join(b.Root, repl) // a directory, relative to rt0
			}
			repl = modfileQuote(repl)
		}
		fmt.Fprintf(&w, "replace %s => %s\n", old, repl)
	}
	return w.String(), nil
}

// modfileQuote quotes a path for go.mod when it needs it.
func modfileQuote(s string) string {
	if strings.ContainsAny(s, " \t\n\"'`\\") || s == "" {
		return strconv.Quote(s)
	}
	return s
}

// ImportName is the default executable name for an import path, as go
// build picks it: the last element, skipping a major version suffix.
func ImportName(ip string) string {
	elem := path.Base(ip)
	if len(elem) >= 2 && elem[0] == 'v' && strings.Trim(elem[1:], "0123456789") == "" && ip != elem {
		if parent := path.Base(path.Dir(ip)); parent != "." && parent != "/" {
			return parent
		}
	}
	return elem
}

// packageDir resolves a package argument to its directory.
func (b *Builder) packageDir(arg string) (string, error) {
	var dir string
	switch {
	case isLocalPath(arg):
		abs, err := filepath.Abs(arg)
		if err != nil {
			return "", err
		}
		dir = abs
	case strings.Contains(arg, "..."):
		return "", fmt.Errorf("%s: patterns are not supported; name one main package", arg)
	case arg == "rt0" || strings.HasPrefix(arg, "rt0/"):
		dir = filepath.Join(b.Root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(arg, "rt0"), "/")))
	default:
		// An import path of the current module (or its dependencies).
		cmd := exec.Command(b.Go, "list", "-f", "{{.Dir}}", "--", arg)
		cmd.Env = append(slices.Clip(b.Env), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("cannot find package %s: %s", arg, strings.TrimSpace(stderr.String()))
		}
		dir = strings.TrimSpace(string(out))
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("package %s: %v", arg, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("package %s: %s is not a directory", arg, dir)
	}
	return dir, nil
}

// targetContext is go/build's view of the target platform.
func targetContext(tags string) gobuild.Context {
	ctx := gobuild.Default
	ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = "linux", "amd64", false
	ctx.BuildTags = nil
	for _, t := range strings.FieldsFunc(tags, func(r rune) bool { return r == ',' || r == ' ' }) {
		ctx.BuildTags = append(ctx.BuildTags, t)
	}
	return ctx
}

// checkMainDir checks that dir holds a main package for linux/amd64.
func checkMainDir(dir, tags string) error {
	ctx := targetContext(tags)
	pkg, err := ctx.ImportDir(dir, gobuild.ImportComment)
	if err != nil {
		var noGo *gobuild.NoGoError
		if errors.As(err, &noGo) {
			return fmt.Errorf("no Go files for linux/amd64 in %s", dir)
		}
		if pkg == nil || pkg.Name == "" {
			return err
		}
		var multi *gobuild.MultiplePackageError
		if errors.As(err, &multi) {
			return err
		}
	}
	if pkg.Name != "main" {
		return fmt.Errorf("%s is package %s, not a main package (rt0 builds commands)", dir, pkg.Name)
	}
	return nil
}

// checkMainFiles checks that the named files are package main.
func checkMainFiles(files []string) error {
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly)
		if err != nil {
			return err
		}
		if af.Name.Name != "main" {
			return fmt.Errorf("%s is package %s, not package main", f, af.Name.Name)
		}
	}
	return nil
}

// goVersion returns the go command's version as a go.work go line wants
// it ("1.26.8"): never older than a module this toolchain can build.
func (b *Builder) GoVersion() (string, error) {
	cmd := exec.Command(b.Go, "env", "GOVERSION")
	cmd.Env = append(slices.Clip(b.Env), "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOVERSION: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "go")
	if i := strings.IndexAny(v, " -"); i >= 0 { // "1.27rc1 X:..." or devel
		v = v[:i]
	}
	if v == "" || strings.Trim(v, "0123456789.") != "" {
		return "1.26", nil
	}
	return v, nil
}

// link runs go build for targets and returns the path of the linked ELF
// (inside tmp).
func (b *Builder) Link(targets []string, f *Flags, tmp string) (elfPath string, p *Plan, err error) {
	goFlags, err := f.GoArgs()
	if err != nil {
		return "", nil, err
	}
	p, err = b.makePlan(targets, f.Tags, tmp)
	if err != nil {
		return "", nil, err
	}
	ov, err := json.MarshalIndent(map[string]any{"Replace": p.Overlay}, "", "\t")
	if err != nil {
		return "", nil, err
	}
	ovFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovFile, ov, 0o644); err != nil {
		return "", nil, err
	}
	b.Logf("building %s (%s)", strings.Join(targets, " "), p.Kind)
	if err := b.enableSocketsIfNet(p, ovFile, f); err != nil {
		return "", p, err
	}
	elfPath = filepath.Join(tmp, p.Name+".elf")

	args := []string{"build", "-o", elfPath, "-overlay", ovFile, "-buildmode=exe"}
	args = append(args, goFlags...)
	args = append(args, p.Pkgs...)
	b.Logf("cd %s; %s %s", p.Dir, strings.Join(p.goEnv(), " "), shell.Quote(append([]string{b.Go}, args...)))

	cmd := b.goCommand(p, args...)
	cmd.Stdout = b.Stderr
	cmd.Stderr = b.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", p, fmt.Errorf("go build failed (%v)", ee.ProcessState)
		}
		return "", p, fmt.Errorf("go build: %v", err)
	}
	if err := CheckLinksKernel(elfPath); err != nil {
		return "", p, err
	}
	return elfPath, p, nil
}

// CheckLinksKernel makes sure the overlay worked: the executable must hold
// code of package rt0/guest/kernel.
func CheckLinksKernel(elfPath string) error {
	f, err := elf.Open(elfPath)
	if err != nil {
		return fmt.Errorf("go build wrote no ELF executable: %v", err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return fmt.Errorf("%s: no symbol table (rt0 needs symbols and DWARF: do not strip): %v", elfPath, err)
	}
	for _, s := range syms {
		if strings.HasPrefix(s.Name, contract.KernelPkg+".") {
			return nil
		}
	}
	return fmt.Errorf("the program was built without %s: the overlay adding %s was not applied", KernelImport, KernelFile)
}

// PatchFile applies the boot patch to the ELF at elfPath, turning a panic of
// an unfinished image package into an error too.
func PatchFile(elfPath string) (out []byte, err error) {
	in, err := os.ReadFile(elfPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("image.Patch panicked: %v", r)
		}
	}()
	out, err = Patch(in)
	if err == nil && len(out) == 0 {
		err = errors.New("image.Patch returned an empty image")
	}
	return out, err
}

// OutputPath applies go build's -o rules to a file of extension ext
// (".elf", ".img"): empty means <name><ext> in the current directory; an
// existing directory or a name ending in a slash means <dir>/<name><ext>.
func OutputPath(o, name, ext string) (string, error) {
	file := name + ext
	if o == "" {
		return file, nil
	}
	if strings.HasSuffix(o, "/") || strings.HasSuffix(o, string(filepath.Separator)) {
		if err := os.MkdirAll(o, 0o755); err != nil {
			return "", err
		}
		return filepath.Join(o, file), nil
	}
	if fi, err := os.Stat(o); err == nil && fi.IsDir() {
		return filepath.Join(o, file), nil
	}
	return o, nil
}

// WriteFileAtomic writes data to name through a temporary file in the same
// directory, so a failed build never leaves half an image.
func WriteFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// buildImage builds targets into the image file out (go build -o rules when
// out is "" or a directory) and returns the file written.
func (b *Builder) BuildImage(targets []string, f *Flags, out string) (string, error) {
	tmp, cleanup, err := WorkDir(b.Stderr, "rt0-build-", f.Work)
	if err != nil {
		return "", err
	}
	defer cleanup()
	elfPath, p, err := b.Link(targets, f, tmp)
	if err != nil {
		return "", err
	}
	dst, err := OutputPath(out, p.Name, ".elf")
	if err != nil {
		return "", err
	}
	var img []byte
	if f.NoPatch {
		img, err = os.ReadFile(elfPath)
	} else {
		img, err = PatchFile(elfPath)
		if err != nil {
			return "", fmt.Errorf("boot image: %v", err)
		}
	}
	if err != nil {
		return "", err
	}
	if err := WriteFileAtomic(dst, img); err != nil {
		return "", err
	}
	b.Logf("wrote %s (%d bytes)", dst, len(img))
	return dst, nil
}

// WorkDir makes the temporary directory a command builds in. With keep
// (the -work flag, as go build's) it is announced and left behind;
// otherwise cleanup removes it.
func WorkDir(w io.Writer, prefix string, keep bool) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", func() {}, err
	}
	if keep {
		fmt.Fprintf(w, "WORK=%s\n", dir)
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// KernelPackages returns the import paths and directories of the kernel's
// packages outside std (rt0/guest/kernel and what it imports from rt0).
func (b *Builder) KernelPackages() (map[string]string, error) {
	out, err := b.listDeps(KernelImport, "{{if not .Standard}}{{.ImportPath}}\t{{.Dir}}{{end}}")
	if err != nil {
		return nil, err
	}
	pkgs := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		ip, dir, ok := strings.Cut(line, "\t")
		if ok {
			pkgs[ip] = dir
		}
	}
	if _, ok := pkgs[KernelImport]; !ok {
		return nil, fmt.Errorf("go list -deps %s did not list the kernel", KernelImport)
	}
	return pkgs, nil
}

// listDeps runs go list -deps -f format pkg for the target, in the rt0
// module.
func (b *Builder) listDeps(pkg, format string) ([]byte, error) {
	cmd := exec.Command(b.Go, "list", "-deps", "-f", format, pkg)
	cmd.Dir = b.Root
	cmd.Env = append(slices.Clip(b.Env), append(GoEnvTarget, "GOWORK=off", "PWD="+b.Root)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %v\n%s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// ModulePackage is a package of a module dependency: where its source is
// and which module (path, version) it comes from.
type ModulePackage struct {
	ImportPath, Dir, Module, Version string
}

// NetworkPackages lists what the network's package (NetstackImport)
// brings outside the standard library and beyond the kernel's packages:
// rt0's own (in rt0) and those of module dependencies (gVisor's stack,
// the DHCP messages, ...).
func (b *Builder) NetworkPackages() (rt0 map[string]string, mods []ModulePackage, err error) {
	out, err := b.listDeps(NetstackImport, "{{if not .Standard}}{{.ImportPath}}\t{{.Dir}}\t{{with .Module}}{{.Path}}\t{{.Version}}{{end}}{{end}}")
	if err != nil {
		return nil, nil, err
	}
	rt0 = map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		switch {
		case len(f) == 4 && f[2] == "rt0":
			rt0[f[0]] = f[1]
		case len(f) == 4 && f[2] != "":
			mods = append(mods, ModulePackage{ImportPath: f[0], Dir: f[1], Module: f[2], Version: f[3]})
		}
	}
	if _, ok := rt0[NetstackImport]; !ok {
		return nil, nil, fmt.Errorf("go list -deps %s did not list it", NetstackImport)
	}
	return rt0, mods, nil
}

// GoRoot returns the real GOROOT of the go command.
func (b *Builder) GoRoot() (string, error) {
	cmd := exec.Command(b.Go, "env", "GOROOT")
	cmd.Env = append(slices.Clip(b.Env), "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %v", err)
	}
	r := strings.TrimSpace(string(out))
	if r == "" {
		return "", errors.New("go env GOROOT is empty")
	}
	return r, nil
}
