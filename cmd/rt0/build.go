package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/build"
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

	"rt0/boot/image"
	"rt0/qemu"
)

// kernelFile is the file the overlay adds to the user's main package so that
// it links rt0's kernel (mainKernelSource is its text). The user's source is
// never touched.
const (
	kernelFile    = "zz_rt0_kernel.go"
	kernelImport  = "rt0/kernel"
	painterImport = "rt0/painter" // the screen console's goroutine (above the runtime)
)

// goEnvTarget is the environment of the go commands that build for the
// guest, or list what such a build holds: rt0's kernel serves Linux, on
// amd64, without C, with this very toolchain.
var goEnvTarget = []string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOTOOLCHAIN=local"}

// patch is image.Patch; tests replace it.
var patch = image.Patch

// buildFlags are the go build flags rt0 build and rt0 run pass through.
type buildFlags struct {
	a, x, trimpath bool
	tags           string
	gcflags        string
	ldflags        string
	asmflags       string
	buildvcs       string
	mod            string
	work           bool
	verbose        bool
	noPatch        bool   // rt0 build only
	output         string // rt0 build only
}

func (f *buildFlags) register(fs *flag.FlagSet, withOutput bool) {
	fs.BoolVar(&f.a, "a", false, "go build -a: rebuild every package")
	fs.BoolVar(&f.x, "x", false, "go build -x: print the commands")
	fs.BoolVar(&f.trimpath, "trimpath", false, "go build -trimpath")
	fs.StringVar(&f.tags, "tags", "", "go build -tags: comma-separated build tags")
	fs.StringVar(&f.gcflags, "gcflags", "", "go build -gcflags")
	fs.StringVar(&f.ldflags, "ldflags", "", "go build -ldflags (never -s or -w: the boot image needs symbols and DWARF)")
	fs.StringVar(&f.asmflags, "asmflags", "", "go build -asmflags")
	fs.StringVar(&f.buildvcs, "buildvcs", "false", "go build -buildvcs")
	fs.StringVar(&f.mod, "mod", "", "go build -mod (readonly, vendor, mod)")
	fs.BoolVar(&f.work, "work", false, "keep rt0's temporary directory and print its name")
	fs.BoolVar(&f.verbose, "v", false, "print what rt0 does")
	if withOutput {
		fs.StringVar(&f.output, "o", "", "write the image to `file` (or into a directory: <dir>/<name>.elf)")
		fs.BoolVar(&f.noPatch, "nopatch", false, "write go build's ELF without the boot patch (for debugging rt0)")
	}
}

// goArgs returns the flags for go build.
func (f *buildFlags) goArgs() ([]string, error) {
	var args []string
	if f.a {
		args = append(args, "-a")
	}
	if f.x {
		args = append(args, "-x")
	}
	if f.trimpath {
		args = append(args, "-trimpath")
	}
	if f.tags != "" {
		args = append(args, "-tags="+f.tags)
	}
	if f.gcflags != "" {
		args = append(args, "-gcflags="+f.gcflags)
	}
	if f.ldflags != "" {
		for _, w := range strings.Fields(f.ldflags) {
			name, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
			if strings.HasPrefix(w, "-") && (name == "s" || name == "w") {
				return nil, fmt.Errorf("-ldflags %s: rt0 needs the symbols and DWARF that %s strips", f.ldflags, w)
			}
		}
		args = append(args, "-ldflags="+f.ldflags)
	}
	if f.asmflags != "" {
		args = append(args, "-asmflags="+f.asmflags)
	}
	if f.mod != "" {
		args = append(args, "-mod="+f.mod)
	}
	args = append(args, "-buildvcs="+f.buildvcs)
	return args, nil
}

// builder runs the stock go command on a user's main package with rt0's
// kernel linked in.
type builder struct {
	root    string    // rt0 module source directory
	goCmd   string    // the go command
	env     []string  // environment for go (GOOS etc. are added)
	stderr  io.Writer // go's output and -v messages
	verbose bool
}

func newBuilder(stderr io.Writer, verbose bool) (*builder, error) {
	root, err := rt0Root()
	if err != nil {
		return nil, err
	}
	goCmd, err := findGo()
	if err != nil {
		return nil, err
	}
	return &builder{root: root, goCmd: goCmd, env: os.Environ(), stderr: stderr, verbose: verbose}, nil
}

// findGo returns the go command: $RT0_GO, go in PATH, or $GOROOT/bin/go.
func findGo() (string, error) {
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

func (b *builder) logf(format string, args ...any) {
	if b.verbose {
		fmt.Fprintf(b.stderr, "rt0: "+format+"\n", args...)
	}
}

// plan is how one target gets built.
type plan struct {
	kind      string            // "rt0 module", "workspace" or "temporary module"
	dir       string            // where go build runs
	pkgs      []string          // go build's package arguments
	overlay   map[string]string // -overlay Replace map
	kernelSrc string            // the file the overlay adds as kernelFile
	sockets   bool              // the program imports net: its kernelFile enables sockets
	env       []string          // added environment (GOWORK)
	name      string            // default output name, without .elf
}

// goEnv is the environment go build runs with for p (after the user's
// own), and so every go command that must see the program as go build does.
func (p *plan) goEnv() []string {
	return append(slices.Clone(goEnvTarget), p.env...)
}

// goCommand is the go command with args, run where and how go build runs
// for p.
func (b *builder) goCommand(p *plan, args ...string) *exec.Cmd {
	cmd := exec.Command(b.goCmd, args...)
	cmd.Dir = p.dir
	// PWD keeps the go command's idea of the package directory the path
	// the overlay names, even through symbolic links.
	cmd.Env = append(slices.Clip(b.env), append(p.goEnv(), "PWD="+p.dir)...)
	return cmd
}

// isGoFile reports whether a command-line target names a Go source file.
func isGoFile(arg string) bool { return strings.HasSuffix(arg, ".go") }

// isLocalPath reports whether the go command treats arg as a directory
// rather than an import path.
func isLocalPath(arg string) bool {
	return arg == "." || arg == ".." || filepath.IsAbs(arg) ||
		strings.HasPrefix(arg, "./") || strings.HasPrefix(arg, "../")
}

// makePlan decides how to build targets (one package, or .go files of one
// directory), writing what it needs into tmp.
func (b *builder) makePlan(targets []string, tags string, tmp string) (*plan, error) {
	if len(targets) == 0 {
		return nil, errors.New("no package or .go files to build")
	}
	// Without sockets until link knows better: go list needs the file
	// to exist, and its imports are the same either way.
	kernelSrc := filepath.Join(tmp, kernelFile)
	if err := os.WriteFile(kernelSrc, []byte(mainKernelSource(false)), 0o644); err != nil {
		return nil, err
	}

	var dir string
	var files []string // absolute; nil for a package
	if isGoFile(targets[0]) {
		for _, t := range targets {
			if !isGoFile(t) {
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
			if filepath.Base(abs) == kernelFile {
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
		if _, err := os.Stat(filepath.Join(dir, kernelFile)); err == nil {
			return nil, fmt.Errorf("%s already exists: that name is reserved for rt0's kernel import", filepath.Join(dir, kernelFile))
		}
	}

	p := &plan{overlay: map[string]string{}, kernelSrc: kernelSrc}
	if files != nil {
		p.name = strings.TrimSuffix(filepath.Base(files[0]), ".go")
	} else {
		p.name = filepath.Base(dir)
	}

	modRoot := findModuleRoot(dir)
	if modRoot == "" {
		return b.tempModulePlan(p, dir, files, kernelSrc, tmp)
	}
	modPath, err := modulePath(filepath.Join(modRoot, "go.mod"))
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(modRoot, dir)
	if err != nil {
		return nil, err
	}
	if files == nil {
		p.name = importName(path.Join(modPath, filepath.ToSlash(rel)))
	}
	p.overlay[filepath.Join(dir, kernelFile)] = kernelSrc
	if files != nil {
		p.dir = dir
		for _, f := range files {
			p.pkgs = append(p.pkgs, "./"+filepath.Base(f))
		}
		p.pkgs = append(p.pkgs, "./"+kernelFile)
	} else {
		p.dir = dir
		p.pkgs = []string{"."}
	}

	if samePath(modRoot, b.root) || modPath == "rt0" {
		// (a) inside rt0 itself (or another checkout of it, whose own
		// kernel is then the one linked).
		p.kind = "rt0 module"
		p.env = []string{"GOWORK=off"}
		if !samePath(modRoot, b.root) {
			b.logf("%s is another checkout of rt0: linking its kernel", modRoot)
		}
		return p, nil
	}

	// (b) another module: a workspace with it and rt0.
	goVersion, err := b.goVersion()
	if err != nil {
		return nil, err
	}
	work := fmt.Sprintf("go %s\n\nuse (\n\t%s\n\t%s\n)\n", goVersion, strconv.Quote(modRoot), strconv.Quote(b.root))
	workFile := filepath.Join(tmp, "go.work")
	if err := os.WriteFile(workFile, []byte(work), 0o644); err != nil {
		return nil, err
	}
	p.kind = "workspace"
	p.env = []string{"GOWORK=" + workFile}
	return p, nil
}

// tempModulePlan is case (c): code outside any module. A temporary module
// requires rt0 (replaced by its source directory) and holds the user's
// files, mapped in by the overlay, not copied.
func (b *builder) tempModulePlan(p *plan, dir string, files []string, kernelSrc, tmp string) (*plan, error) {
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
	if sum, err := os.ReadFile(filepath.Join(b.root, "go.sum")); err == nil {
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
				if isGoFile(n) && !strings.HasSuffix(n, "_test.go") {
					files = append(files, filepath.Join(dir, n))
				}
			}
		}
	}
	for _, f := range files {
		p.overlay[filepath.Join(mod, filepath.Base(f))] = f
	}
	p.overlay[filepath.Join(mod, kernelFile)] = kernelSrc
	p.kind = "temporary module"
	p.dir = mod
	p.pkgs = []string{"."}
	p.env = []string{"GOWORK=off"}
	return p, nil
}

// tempGoMod returns the go.mod of the temporary module for code outside any
// module: it requires rt0 at its source directory, and repeats rt0's own
// requirements and replacements (which apply only in a main module), with a
// go line no older than rt0's, so the go command finds the module graph
// complete and consistent without updating anything.
func (b *builder) tempGoMod() (string, error) {
	cmd := exec.Command(b.goCmd, "mod", "edit", "-json", filepath.Join(b.root, "go.mod"))
	cmd.Env = append(slices.Clip(b.env), "GOTOOLCHAIN=local")
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
	fmt.Fprintf(&w, "\nreplace rt0 => %s\n", modfileQuote(b.root))
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
				repl = filepath.Join(b.root, repl) // a directory, relative to rt0
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

// importName is the default executable name for an import path, as go
// build picks it: the last element, skipping a major version suffix.
func importName(ip string) string {
	elem := path.Base(ip)
	if len(elem) >= 2 && elem[0] == 'v' && strings.Trim(elem[1:], "0123456789") == "" && ip != elem {
		if parent := path.Base(path.Dir(ip)); parent != "." && parent != "/" {
			return parent
		}
	}
	return elem
}

// packageDir resolves a package argument to its directory.
func (b *builder) packageDir(arg string) (string, error) {
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
		dir = filepath.Join(b.root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(arg, "rt0"), "/")))
	default:
		// An import path of the current module (or its dependencies).
		cmd := exec.Command(b.goCmd, "list", "-f", "{{.Dir}}", "--", arg)
		cmd.Env = append(slices.Clip(b.env), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
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
func targetContext(tags string) build.Context {
	ctx := build.Default
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
	pkg, err := ctx.ImportDir(dir, build.ImportComment)
	if err != nil {
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return fmt.Errorf("no Go files for linux/amd64 in %s", dir)
		}
		if pkg == nil || pkg.Name == "" {
			return err
		}
		var multi *build.MultiplePackageError
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
func (b *builder) goVersion() (string, error) {
	cmd := exec.Command(b.goCmd, "env", "GOVERSION")
	cmd.Env = append(slices.Clip(b.env), "GOTOOLCHAIN=local")
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
func (b *builder) link(targets []string, f *buildFlags, tmp string) (elfPath string, p *plan, err error) {
	goFlags, err := f.goArgs()
	if err != nil {
		return "", nil, err
	}
	p, err = b.makePlan(targets, f.tags, tmp)
	if err != nil {
		return "", nil, err
	}
	ov, err := json.MarshalIndent(map[string]any{"Replace": p.overlay}, "", "\t")
	if err != nil {
		return "", nil, err
	}
	ovFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovFile, ov, 0o644); err != nil {
		return "", nil, err
	}
	b.logf("building %s (%s)", strings.Join(targets, " "), p.kind)
	if err := b.enableSocketsIfNet(p, ovFile, f); err != nil {
		return "", p, err
	}
	elfPath = filepath.Join(tmp, p.name+".elf")

	args := []string{"build", "-o", elfPath, "-overlay", ovFile, "-buildmode=exe"}
	args = append(args, goFlags...)
	args = append(args, p.pkgs...)
	b.logf("cd %s; %s %s", p.dir, strings.Join(p.goEnv(), " "), qemu.ShellQuote(append([]string{b.goCmd}, args...)))

	cmd := b.goCommand(p, args...)
	cmd.Stdout = b.stderr
	cmd.Stderr = b.stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", p, fmt.Errorf("go build failed (%v)", ee.ProcessState)
		}
		return "", p, fmt.Errorf("go build: %v", err)
	}
	if err := checkLinksKernel(elfPath); err != nil {
		return "", p, err
	}
	return elfPath, p, nil
}

// checkLinksKernel makes sure the overlay worked: the executable must hold
// code of package rt0/kernel.
func checkLinksKernel(elfPath string) error {
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
		if strings.HasPrefix(s.Name, kernelImport+".") {
			return nil
		}
	}
	return fmt.Errorf("the program was built without %s: the overlay adding %s was not applied", kernelImport, kernelFile)
}

// patchFile applies the boot patch to the ELF at elfPath, turning a panic of
// an unfinished image package into an error too.
func patchFile(elfPath string) (out []byte, err error) {
	in, err := os.ReadFile(elfPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("image.Patch panicked: %v", r)
		}
	}()
	out, err = patch(in)
	if err == nil && len(out) == 0 {
		err = errors.New("image.Patch returned an empty image")
	}
	return out, err
}

// outputPath applies go build's -o rules to a file of extension ext
// (".elf", ".img"): empty means <name><ext> in the current directory; an
// existing directory or a name ending in a slash means <dir>/<name><ext>.
func outputPath(o, name, ext string) (string, error) {
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

// parseCommand gives fs the usage text of a subcommand and parses args;
// ok is false when the subcommand is to end at once with status code: 0
// after -h, 2 after a bad flag (the flag package said why).
func parseCommand(fs *flag.FlagSet, usage string, args []string) (code int, ok bool) {
	fs.Usage = func() {
		io.WriteString(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// namesPackage reports whether the subcommand cmd was given a package or
// files to build, and says what is missing if not.
func namesPackage(fs *flag.FlagSet, sio stdio, cmd string) bool {
	if fs.NArg() > 0 {
		return true
	}
	fmt.Fprintf(sio.err, "rt0 %s: no package or .go files named\n", cmd)
	fs.Usage()
	return false
}

// writeFileAtomic writes data to name through a temporary file in the same
// directory, so a failed build never leaves half an image.
func writeFileAtomic(name string, data []byte) error {
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
func (b *builder) buildImage(targets []string, f *buildFlags, out string) (string, error) {
	tmp, cleanup, err := workDir(b.stderr, "rt0-build-", f.work)
	if err != nil {
		return "", err
	}
	defer cleanup()
	elfPath, p, err := b.link(targets, f, tmp)
	if err != nil {
		return "", err
	}
	dst, err := outputPath(out, p.name, ".elf")
	if err != nil {
		return "", err
	}
	var img []byte
	if f.noPatch {
		img, err = os.ReadFile(elfPath)
	} else {
		img, err = patchFile(elfPath)
		if err != nil {
			return "", fmt.Errorf("boot image: %v", err)
		}
	}
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(dst, img); err != nil {
		return "", err
	}
	b.logf("wrote %s (%d bytes)", dst, len(img))
	return dst, nil
}

const buildUsage = `usage: rt0 build [-o output] [-v] [build flags] <package | files.go...>

Build compiles a Go main package (a directory, an import path, or .go files
of one directory) with rt0's kernel linked in and writes a multiboot image
that QEMU (-kernel) and GRUB boot. Like go build -o, the output defaults to
<name>.elf in the current directory, and a directory output (existing, or
ending in a slash) receives <name>.elf.

The package may be in the rt0 module, in another module (built in a
temporary go.work with rt0), or in no module at all (built in a temporary
module that requires rt0). The user's files are never modified. A program
that imports package net gets the kernel's loopback sockets too; others
are built without them.

Flags:
`

func runBuild(args []string, sio stdio) int {
	fs := flag.NewFlagSet("rt0 build", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var f buildFlags
	f.register(fs, true)
	if code, ok := parseCommand(fs, buildUsage, args); !ok {
		return code
	}
	if !namesPackage(fs, sio, "build") {
		return 2
	}
	b, err := newBuilder(sio.err, f.verbose)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 build: %v\n", err)
		return 1
	}
	if _, err := b.buildImage(fs.Args(), &f, f.output); err != nil {
		fmt.Fprintf(sio.err, "rt0 build: %v\n", err)
		return 1
	}
	return 0
}

// workDir makes the temporary directory a command builds in. With keep
// (the -work flag, as go build's) it is announced and left behind;
// otherwise cleanup removes it.
func workDir(w io.Writer, prefix string, keep bool) (dir string, cleanup func(), err error) {
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
