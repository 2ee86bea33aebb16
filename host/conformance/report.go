package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Event is one go test -json event (cmd/test2json), or a build event.
type Event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string // build-output, build-fail
	FailedBuild string
}

// Result is what happened to one package.
type Result struct {
	Package string
	Flags   string        // the rt0 test flags it ran with ("-short")
	Status  string        // "pass", "fail", "build failed", "no test files", "not run"
	Elapsed time.Duration // the package's time (QEMU's wall time)
	Tests   int           // top-level tests that ran
	Skipped int           // top-level tests skipped
	Failed  []Failure     // failed tests (the innermost that failed)
	Output  []string      // package-level output lines (not in a test), for failures
}

// Failure is one failed test.
type Failure struct {
	Test  string
	Lines []string // its output, without the === and --- framing lines
	Kind  string   // the reason's kind (see classify)
	Why   string   // the reason in words
	// Unfinished says the test never ended: the test binary exited or
	// the machine stopped while it ran.
	Unfinished bool
}

// Passed reports whether the package passed (or had nothing to test).
func (r *Result) Passed() bool { return r.Status == "pass" || r.Status == "no test files" }

// collector turns an event stream into Results.
type collector struct {
	byPkg map[string]*pkgState
	order []string
}

type pkgState struct {
	res       Result
	testOut   map[string][]string
	failed    map[string]bool
	running   map[string]bool // tests that started and did not end
	pkgOut    []string
	partial   map[string]string // unfinished output line per test ("" key: package)
	buildOut  []string
	buildFail bool
}

func newCollector() *collector { return &collector{byPkg: map[string]*pkgState{}} }

func (c *collector) pkg(name string) *pkgState {
	p := c.byPkg[name]
	if p == nil {
		p = &pkgState{res: Result{Package: name, Status: "not run"}, testOut: map[string][]string{}, failed: map[string]bool{}, running: map[string]bool{}, partial: map[string]string{}}
		c.byPkg[name] = p
		c.order = append(c.order, name)
	}
	return p
}

// add takes one event.
func (c *collector) add(e Event) {
	if e.Action == "build-output" || e.Action == "build-fail" {
		p := c.pkg(strings.Fields(e.ImportPath + " x")[0]) // "pkg [pkg.test]" -> pkg
		if e.Action == "build-fail" {
			p.buildFail = true
		} else {
			p.buildOut = append(p.buildOut, strings.TrimSuffix(e.Output, "\n"))
		}
		return
	}
	if e.Package == "" {
		return
	}
	p := c.pkg(e.Package)
	switch e.Action {
	case "output":
		text := p.partial[e.Test] + e.Output
		lines := strings.SplitAfter(text, "\n")
		p.partial[e.Test] = lines[len(lines)-1]
		for _, l := range lines[:len(lines)-1] {
			l = strings.TrimSuffix(l, "\n")
			if e.Test == "" {
				p.pkgOut = append(p.pkgOut, l)
			} else {
				p.testOut[e.Test] = append(p.testOut[e.Test], l)
			}
		}
	case "pause":
		delete(p.running, e.Test) // a parallel test waiting: not the culprit if the binary dies
	case "cont":
		p.running[e.Test] = true
	case "run":
		p.running[e.Test] = true
		if !strings.Contains(e.Test, "/") {
			p.res.Tests++
		}
	case "skip":
		delete(p.running, e.Test)
		if e.Test == "" {
			if p.res.Status == "not run" {
				p.res.Status = "no test files"
			}
		} else if !strings.Contains(e.Test, "/") {
			p.res.Skipped++
		}
	case "fail":
		if e.Test != "" {
			delete(p.running, e.Test)
			p.failed[e.Test] = true
			return
		}
		p.res.Status = "fail"
		if e.FailedBuild != "" || p.buildFail {
			p.res.Status = "build failed"
		}
		p.res.Elapsed = time.Duration(e.Elapsed * float64(time.Second))
	case "pass":
		delete(p.running, e.Test)
		if e.Test == "" {
			p.res.Status = "pass"
			p.res.Elapsed = time.Duration(e.Elapsed * float64(time.Second))
		}
	}
}

// read takes a whole JSON stream; lines that are not JSON are returned
// (rt0 test writes its own complaints to stderr, but be lenient).
func (c *collector) read(r io.Reader, progress func(Event)) (other []string, err error) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 64<<20)
	for s.Scan() {
		line := s.Bytes()
		var e Event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			other = append(other, s.Text())
			continue
		}
		c.add(e)
		if progress != nil {
			progress(e)
		}
	}
	return other, s.Err()
}

// results returns the packages' results, with failures explained.
func (c *collector) results() []Result {
	var out []Result
	for _, name := range c.order {
		p := c.byPkg[name]
		r := p.res
		if p.buildFail && r.Status == "not run" {
			r.Status = "build failed"
		}
		if !r.Passed() {
			// The innermost failed tests: those no failed subtest names.
			// A test that never ended (the binary exited or the machine
			// stopped in it) counts as failed.
			for t := range p.running {
				p.failed[t] = true
			}
			var names []string
			for t := range p.failed {
				inner := false
				for u := range p.failed {
					if strings.HasPrefix(u, t+"/") {
						inner = true
						break
					}
				}
				if !inner {
					names = append(names, t)
				}
			}
			sort.Strings(names)
			for _, t := range names {
				f := Failure{Test: t, Lines: trimFraming(p.testOut[t]), Unfinished: p.running[t]}
				f.Kind, f.Why = classify(name, t, f.Lines)
				r.Failed = append(r.Failed, f)
			}
			r.Output = append(trimFraming(p.buildOut), trimFraming(p.pkgOut)...)
		}
		out = append(out, r)
	}
	return out
}

// trimFraming drops the lines the testing package frames tests with.
func trimFraming(lines []string) []string {
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "=== RUN"), strings.HasPrefix(t, "=== PAUSE"), strings.HasPrefix(t, "=== CONT"),
			strings.HasPrefix(t, "=== NAME"), strings.HasPrefix(t, "--- FAIL"), strings.HasPrefix(t, "--- PASS"),
			strings.HasPrefix(t, "--- SKIP"), t == "":
			continue
		}
		out = append(out, l)
	}
	return out
}

// signature recognizes a reason for a failure in its output.
type signature struct {
	re   *regexp.Regexp
	kind string // "exec", "network", "kernel", "timeout", "harness"
	why  string
}

var signatures = []signature{
	{regexp.MustCompile(`pipe2: function not implemented`), "kernel", "pipe2 is not implemented (the testing package runs examples through os.Pipe)"},
	{regexp.MustCompile(`rt0: the machine stopped`), "kernel", "the kernel stopped the machine"},
	{regexp.MustCompile(`readlink /proc/self/exe|os\.Executable`), "exec", "needs exec (and os.Executable: /proc/self/exe)"},
	{regexp.MustCompile(`fork/exec|exec: "|: exec format error|not supported by windows`), "exec", "needs exec"},
	{regexp.MustCompile(`socket: function not implemented|listen (tcp|udp|unix)|dial (tcp|udp|unix)|(tcp|udp|unix) is not supported on`), "network", "needs the network"},
	{regexp.MustCompile(`too many open files in system`), "kernel", "the open file table fills up (ENFILE)"},
	{regexp.MustCompile(`\*\*\* Test killed|panic: test timed out`), "timeout", "timed out"},
	{regexp.MustCompile(`function not implemented|ENOSYS`), "kernel", "a system call is not implemented"},
}

// classify explains a failed test: a known note for it, or a signature in
// its output, or a plain test failure.
func classify(pkg, test string, lines []string) (kind, why string) {
	if n, ok := Notes[pkg+"."+strings.SplitN(test, "/", 2)[0]]; ok {
		return n.Kind, n.Why
	}
	text := strings.Join(lines, "\n")
	for _, s := range signatures {
		if s.re.MatchString(text) {
			return s.kind, s.why
		}
	}
	return "failure", "test failure (unexplained)"
}

// packageReason is a failed package's reason in one line.
func packageReason(r Result) string {
	if r.Status == "build failed" {
		var msgs []string
		for _, l := range interesting(r.Output) {
			if !strings.HasPrefix(l, "# ") {
				msgs = append(msgs, l)
			}
		}
		return "build failed: " + firstLines(msgs, 1)
	}
	var parts []string
	seen := map[string]int{}
	var order []string
	for _, f := range r.Failed {
		key := f.Why
		if seen[key] == 0 {
			order = append(order, key)
		}
		seen[key]++
	}
	for _, k := range order {
		var tests []string
		for _, f := range r.Failed {
			if f.Why == k {
				tests = append(tests, f.Test)
			}
		}
		names := strings.Join(tests, ", ")
		if len(tests) > 3 {
			names = fmt.Sprintf("%s and %d more", strings.Join(tests[:3], ", "), len(tests)-3)
		}
		parts = append(parts, fmt.Sprintf("%s: %s", names, k))
	}
	// Output outside any test: the package failed as a whole (an example
	// could not run, a panic, the machine stopped).
	if len(r.Failed) == 0 || pkgLevelFailure(r.Output) {
		text := strings.Join(r.Output, "\n")
		why := ""
		for _, s := range signatures {
			if s.re.MatchString(text) {
				why = s.why
				break
			}
		}
		if why == "" {
			why = firstLines(interesting(r.Output), 1)
		}
		if why != "" {
			parts = append(parts, "package: "+why)
		}
	}
	return strings.Join(parts, "; ")
}

// pkgLevelFailure reports whether the package's own output shows a
// failure beyond its tests' (a message before the final FAIL).
func pkgLevelFailure(out []string) bool {
	return len(interesting(out)) > 0
}

// interesting drops the summary lines from package-level output.
func interesting(out []string) []string {
	var res []string
	for _, l := range out {
		t := strings.TrimSpace(strings.TrimPrefix(l, "\x16"))
		if t == "FAIL" || t == "PASS" || strings.HasPrefix(t, "FAIL\t") || strings.HasPrefix(t, "ok  \t") ||
			strings.HasPrefix(t, "exit status") || t == "" {
			continue
		}
		res = append(res, l)
	}
	return res
}

func firstLines(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.TrimSpace(strings.Join(lines, " / "))
}
