// Command conformance runs the standard library's own tests on rt0 and
// reports which packages pass.
//
//	go run ./host/conformance [-p n] [-o docs/conformance.md] [-quick] [packages]
//
// It builds the rt0 command, runs `rt0 test -json` over the package list
// (packages.go; one invocation per set of flags, packages in parallel up to
// -p machines), prints a summary table (package, result, time, and for each
// failure the failed tests with the first lines of their output and a
// reason), and writes the same as Markdown to -o. It exits 1 if a package
// failed.
//
// The differential runner lives in this package's tests:
//
//	go test ./conformance -run Differential
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"rt0/host/qemu"
)

func main() {
	os.Exit(conformanceMain(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the runner's flags.
type options struct {
	p       int
	out     string
	quick   bool
	timeout time.Duration
	rt0     string
	verbose bool
	events  string
	extra   string
	readme  string
	from    string
	commit  string
}

func conformanceMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.p, "p", runtime.NumCPU(), "machines at a time")
	fs.StringVar(&o.out, "o", "", "write the Markdown report to `file` (make conformance: docs/conformance.md)")
	fs.BoolVar(&o.quick, "quick", false, "only the quick subset (make test's)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "per-package test timeout (rt0 test -timeout)")
	fs.StringVar(&o.rt0, "rt0", "", "use this rt0 `binary` instead of building ./cmd/rt0")
	fs.BoolVar(&o.verbose, "v", false, "show the rt0 test command lines")
	fs.StringVar(&o.events, "json", "", "also save the raw go test -json events to `file`")
	fs.StringVar(&o.readme, "readme", "", "update the table between the conformance markers of `file` (README.md)")
	fs.StringVar(&o.commit, "commit", "", "describe the rt0 tested as `text` in the report (default: git log -1 of the module)")
	fs.StringVar(&o.from, "from", "", "make the report from events saved by -json in `file`, without running anything")
	fs.StringVar(&o.extra, "args", "", "extra rt0 test `flags` for every package (e.g. \"-append rt0.stats\")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	pkgs := selectPackages(fs.Args(), o.quick)
	if len(pkgs) == 0 {
		fmt.Fprintln(stderr, "conformance: no packages")
		return 2
	}
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "rt0-conformance-")
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	bin := o.rt0
	if bin == "" && o.from == "" {
		bin = filepath.Join(tmp, "rt0")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/rt0")
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(stderr, "conformance: building rt0: %v\n", err)
			return 1
		}
	}
	goroot := goEnv("GOROOT")

	run := Run{Started: time.Now(), Parallel: o.p, Command: "go run ./host/conformance " + strings.Join(args, " ")}
	run.Commit = o.commit
	if run.Commit == "" {
		run.Commit = gitDescribe(root)
	}
	run.Go = strings.TrimSpace(cmdOutput("go", "version"))
	run.QEMU = firstLine(cmdOutput(qemuBinary(), "--version"))
	run.Accel = os.Getenv("RT0_ACCEL")
	if run.Accel == "" || run.Accel == qemu.AccelAuto {
		run.Accel = qemu.AccelTCG
		if qemu.KVMUsable("") {
			run.Accel = qemu.AccelKVM
		}
	}

	var events io.Writer
	if o.events != "" {
		f, err := os.Create(o.events)
		if err != nil {
			fmt.Fprintf(stderr, "conformance: %v\n", err)
			return 1
		}
		defer f.Close()
		events = f
	}

	c := newCollector()
	flagsOf := map[string]string{}
	if o.from != "" {
		f, err := os.Open(o.from)
		if err != nil {
			fmt.Fprintf(stderr, "conformance: %v\n", err)
			return 1
		}
		_, err = c.read(f, nil)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "conformance: %s: %v\n", o.from, err)
			return 1
		}
		if fi, err := os.Stat(o.from); err == nil {
			run.Started = fi.ModTime()
		}
	}
	for _, g := range groupPackages(pkgs, goroot) {
		for _, p := range g.paths {
			flagsOf[p] = strings.Join(g.display, " ")
		}
		if o.from != "" {
			continue
		}
		args := append([]string{"test", "-json", "-p", fmt.Sprint(o.p), "-timeout", o.timeout.String()}, g.flags...)
		args = append(args, strings.Fields(o.extra)...)
		args = append(args, g.paths...)
		if o.verbose {
			fmt.Fprintf(stderr, "conformance: %s %s\n", bin, strings.Join(args, " "))
		}
		if err := runGroup(c, bin, args, root, stderr, events); err != nil {
			fmt.Fprintf(stderr, "conformance: %v\n", err)
		}
	}
	if o.from == "" {
		run.Wall = time.Since(run.Started)
	}

	results := c.results()
	// In list order, with packages rt0 test never reported.
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Package] = r
	}
	var ordered []Result
	for _, p := range pkgs {
		r, ok := byName[p.Path]
		if !ok {
			r = Result{Package: p.Path, Status: "not run"}
		}
		r.Flags = flagsOf[p.Path]
		ordered = append(ordered, r)
	}

	fmt.Fprintln(stdout)
	WriteText(stdout, ordered, run)
	if o.out != "" {
		var md bytes.Buffer
		WriteMarkdown(&md, ordered, run)
		out := o.out
		if !filepath.IsAbs(out) {
			out = filepath.Join(root, out)
		}
		if err := os.WriteFile(out, md.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "conformance: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "conformance: wrote %s\n", out)
	}
	if o.readme != "" {
		path := o.readme
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "conformance: %v\n", err)
			return 1
		}
		var table bytes.Buffer
		WriteReadmeTable(&table, ordered, run)
		updated, ok := replaceReadme(string(b), table.String())
		if !ok {
			fmt.Fprintf(stderr, "conformance: %s has no %q ... %q markers: table not written there\n", path, readmeStart, readmeEnd)
		} else if updated != string(b) {
			if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
				fmt.Fprintf(stderr, "conformance: %v\n", err)
				return 1
			}
			fmt.Fprintf(stderr, "conformance: updated the table in %s\n", path)
		}
	}
	for _, r := range ordered {
		if !r.Passed() {
			return 1
		}
	}
	return 0
}

// selectPackages returns the named packages (from the list, or ad hoc), or
// the list (its quick subset with quick).
func selectPackages(names []string, quick bool) []Package {
	var out []Package
	if len(names) > 0 {
		for _, n := range names {
			p := Package{Path: n}
			for _, q := range Packages {
				if q.Path == n {
					p = q
				}
			}
			out = append(out, p)
		}
		return out
	}
	for _, p := range Packages {
		if !quick || p.Quick {
			out = append(out, p)
		}
	}
	return out
}

// group is packages that share rt0 test flags.
type group struct {
	flags   []string // for rt0 test
	display []string // for the table (GOROOT-relative)
	paths   []string
}

// groupPackages groups packages by their flags, in list order of each
// group's first package.
func groupPackages(pkgs []Package, goroot string) []*group {
	var groups []*group
	byKey := map[string]*group{}
	for _, p := range pkgs {
		var flags, display []string
		if p.Short {
			flags = append(flags, "-short")
			display = append(display, "-short")
		}
		for _, f := range p.Files {
			if filepath.IsAbs(f) {
				if _, err := os.Stat(f); err != nil {
					continue // not on this host
				}
				flags = append(flags, "-files", f)
				display = append(display, "-files "+f)
				continue
			}
			flags = append(flags, "-files", filepath.Join(goroot, filepath.FromSlash(f)))
			display = append(display, "-files $GOROOT/"+f)
		}
		key := strings.Join(flags, "\x00")
		g := byKey[key]
		if g == nil {
			g = &group{flags: flags, display: display}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.paths = append(g.paths, p.Path)
	}
	return groups
}

// runGroup runs one rt0 test -json command and feeds its events to c,
// printing each package's result line as it comes.
func runGroup(c *collector, bin string, args []string, dir string, stderr, events io.Writer) error {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if os.Getenv("RT0ROOT") == "" {
		cmd.Env = append(cmd.Env, "RT0ROOT="+dir)
	}
	var errBuf lockedBuffer
	cmd.Stderr = io.MultiWriter(&errBuf, stderr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var r io.Reader = out
	if events != nil {
		r = io.TeeReader(out, events)
	}
	_, rerr := c.read(r, func(e Event) {
		if e.Action == "output" && e.Test == "" {
			t := strings.TrimPrefix(e.Output, "\x16")
			if strings.HasPrefix(t, "ok  \t") || strings.HasPrefix(t, "FAIL\t") || strings.HasPrefix(t, "?   \t") {
				fmt.Fprint(stderr, t)
			}
		}
	})
	werr := cmd.Wait()
	if rerr != nil {
		return rerr
	}
	var ee *exec.ExitError
	if werr != nil && !(errors.As(werr, &ee) && ee.ExitCode() == 1) {
		return fmt.Errorf("rt0 %s: %v", strings.Join(args, " "), werr)
	}
	return nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// moduleRoot finds rt0's module root from the current directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "module rt0\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run this inside the rt0 module")
		}
		dir = parent
	}
}

func goEnv(name string) string { return strings.TrimSpace(cmdOutput("go", "env", name)) }

func cmdOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func qemuBinary() string {
	if q := os.Getenv("RT0_QEMU"); q != "" {
		return q
	}
	return "qemu-system-x86_64"
}

// gitDescribe names rt0's commit (read-only git), marking a dirty tree.
func gitDescribe(root string) string {
	cmd := exec.Command("git", "log", "-1", "--format=%h %s")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	s := firstLine(string(out))
	st := exec.Command("git", "status", "--porcelain", "--untracked-files=no")
	st.Dir = root
	st.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0") // no index refresh: read only
	if o, err := st.Output(); err == nil && len(bytes.TrimSpace(o)) > 0 {
		s += " (with uncommitted changes)"
	}
	return s
}
