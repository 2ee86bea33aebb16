package main

// Startup-trace tests: real boots with the kernel option rt0.trace, the
// records resolved with the image that ran. The values are checked here
// from the raw records (registers and snapshots, DWARF offsets and symbols
// of the image), independently of the checks trace.Resolve makes itself,
// and then those checks must all hold too.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rt0/host/boottest"
	"rt0/host/build"
	"rt0/host/image"
	"rt0/host/qemu"
	"rt0/host/study/bin"
	"rt0/host/study/trace"
)

// bootTrace boots target with rt0.trace and returns the image and the
// resolved timeline.
func bootTrace(t *testing.T, target, wantSerial string) (*bin.Binary, *trace.Timeline) {
	return bootTraceSMP(t, target, wantSerial, 1)
}

// bootTraceSMP is bootTrace on a machine of smp CPUs.
func bootTraceSMP(t *testing.T, target, wantSerial string, smp int) (*bin.Binary, *trace.Timeline) {
	t.Helper()
	elfPath := boottest.Build(t, target)
	res := boottest.Boot(t, elfPath, qemu.Config{Append: traceOption, SMP: smp})
	if string(res.Serial) != wantSerial || res.ExitCode != 0 {
		t.Fatalf("%s: serial %q, exit %d", target, res.Serial, res.ExitCode)
	}
	tl, err := timeline(elfPath, res.Debug)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bin.Open(elfPath)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	tl.WriteText(&text, trace.DefaultText)
	t.Logf("%s", text.String())
	return b, tl
}

func offset(t *testing.T, b *bin.Binary, typ, path string) uint64 {
	t.Helper()
	o, err := b.Offset(typ, path)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func mem(t *testing.T, e *trace.Event, addr uint64, n int) uint64 {
	t.Helper()
	v, ok := e.Hit.Mem(addr, n)
	if !ok {
		t.Fatalf("%s: %#x not in the snapshot at %#x", e.Name, addr, e.Hit.SnapAddr)
	}
	return v
}

func event(t *testing.T, tl *trace.Timeline, name string) *trace.Event {
	t.Helper()
	e := tl.Event(name)
	if e == nil || (e.Kind == trace.KindMilestone && e.Hit == nil) {
		t.Fatalf("no %s in the trace", name)
	}
	return e
}

// checkStartup checks the first round of the startup, as every program
// runs it.
func checkStartup(t *testing.T, b *bin.Binary, tl *trace.Timeline) {
	t.Helper()
	// Every milestone, each once before main.main, in the table's order.
	var got, want []string
	for _, m := range image.Milestones {
		want = append(want, m.Name)
	}
	for _, e := range tl.Events {
		if e.Kind == trace.KindMilestone && e.Occurrence == 1 {
			got = append(got, e.Base)
		}
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("milestones in TSC order:\n got %s\nwant %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	var kernel []string
	for _, e := range tl.Events {
		if e.Kind == trace.KindKernel && !strings.HasPrefix(e.Base, "cpu") || e.Base == "cpu" {
			kernel = append(kernel, e.Base) // the boot CPU's stamps (APs: TestTraceSMP)
		}
	}
	if strings.Join(kernel, " ") != "boot32 entry64 cpu memory clock files runtime exit" {
		t.Errorf("kernel stamps in TSC order: %v", kernel)
	}

	g0, _ := b.Sym("runtime.g0")
	m0, _ := b.Sym("runtime.m0")
	lo, hi := offset(t, b, "runtime.g", "stack.lo"), offset(t, b, "runtime.g", "stack.hi")
	goid, status := offset(t, b, "runtime.g", "goid"), offset(t, b, "runtime.g", "atomicstatus")

	// The hook: DI = &g0, whose stack is 64 KiB.
	hook := event(t, tl, "_cgo_init hook")
	if di := hook.Hit.Reg("rdi"); di != g0.Addr || g0.Addr == 0 {
		t.Errorf("hook DI %#x, runtime.g0 %#x", di, g0.Addr)
	}
	if size := mem(t, hook, g0.Addr+hi, 8) - mem(t, hook, g0.Addr+lo, 8); size != 65536 {
		t.Errorf("g0 stack size %d, want 65536", size)
	}
	if v, ok := hook.Value("g0.stack size"); !ok || v.V != 65536 {
		t.Errorf("timeline's g0 stack size: %+v", v)
	}
	// runtime.args: FS = &m0.tls[0]+8, and R14, loaded from FS:-8, is &g0.
	args := event(t, tl, "runtime.args")
	if fs := args.Hit.FSBase; fs != m0.Addr+offset(t, b, "runtime.m", "tls")+8 {
		t.Errorf("FS base %#x, &m0.tls[0]+8 = %#x", fs, m0.Addr+offset(t, b, "runtime.m", "tls")+8)
	}
	if r14 := args.Hit.Reg("r14"); r14 != hook.Hit.Reg("rdi") {
		t.Errorf("m0.tls[0] (R14 at runtime.args) %#x, &g0 (DI at the hook) %#x", r14, hook.Hit.Reg("rdi"))
	}
	// newproc(runtime.main) -> runqput(goid 1, _Grunnable) -> execute(the
	// same g) -> gogo(its sched, to runtime.main).
	np := event(t, tl, "runtime.newproc")
	if fn := mem(t, np, np.Hit.Reg("rax"), 8); b.FuncAt(fn) != "runtime.main" {
		t.Errorf("newproc fn %#x = %q, want runtime.main", fn, b.FuncAt(fn))
	}
	rq := event(t, tl, "runtime.runqput")
	gp := rq.Hit.Reg("rbx")
	if id, st := mem(t, rq, gp+goid, 8), mem(t, rq, gp+status, 4); id != 1 || st != 1 {
		t.Errorf("new g: goid %d status %d, want 1 and 1 (_Grunnable)", id, st)
	}
	ex := event(t, tl, "runtime.execute")
	if ex.Hit.Reg("rax") != gp || mem(t, ex, gp+goid, 8) != 1 {
		t.Errorf("execute gp %#x (goid %d), runqput's %#x", ex.Hit.Reg("rax"), mem(t, ex, ex.Hit.Reg("rax")+goid, 8), gp)
	}
	gg := event(t, tl, "runtime.gogo")
	buf := gg.Hit.Reg("rbx")
	if buf != gp+offset(t, b, "runtime.g", "sched") {
		t.Errorf("gogo buf %#x, &gp.sched %#x", buf, gp+offset(t, b, "runtime.g", "sched"))
	}
	if pc := mem(t, gg, buf+offset(t, b, "runtime.gobuf", "pc"), 8); b.FuncAt(pc) != "runtime.main" {
		t.Errorf("gogo target %#x = %q, want runtime.main", pc, b.FuncAt(pc))
	}
	if rm := event(t, tl, "runtime.main"); rm.Hit.Reg("r14") != gp {
		t.Errorf("runtime.main runs on g %#x, want %#x", rm.Hit.Reg("r14"), gp)
	}
	// sysmon's M: the first clone starts at mstart.
	var clone *trace.Event
	for i := range tl.Events {
		if tl.Events[i].Kind == trace.KindClone {
			clone = &tl.Events[i]
			break
		}
	}
	if clone == nil || b.FuncAt(clone.Clone.Fn) != "runtime.mstart.abi0" {
		t.Errorf("first clone: %+v", clone)
	}
	// The timeline's own checks.
	for _, c := range tl.Failed() {
		t.Errorf("check failed: %s: %s", c.Name, c.Detail)
	}
	if len(tl.Checks) < 25 {
		t.Errorf("only %d checks", len(tl.Checks))
	}
	if s := tl.Summary; s.Kernel == 0 || s.Runtime == 0 || s.Calibration == 0 || s.ToMain != s.Kernel+s.Runtime {
		t.Errorf("summary %+v", s)
	}
}

// With 4 CPUs the startup trace holds as on one, and shows each AP
// starting, in order, and procresize building 4 Ps.
func TestTraceSMP(t *testing.T) {
	b, tl := bootTraceSMP(t, "examples/hello", "hello,world\n", 4)
	checkStartup(t, b, tl)
	for cpu := 1; cpu < 4; cpu++ {
		var prev uint64
		for _, st := range []string{"sipi", "trampoline", "long mode", "apMain", "first schedule"} {
			e := event(t, tl, fmt.Sprintf("cpu%d %s", cpu, st))
			if e.TSC < prev {
				t.Errorf("cpu%d %s before the stage before it", cpu, st)
			}
			prev = e.TSC
		}
	}
	if v, ok := event(t, tl, "runtime.procresize").Value("AX (nprocs)"); !ok || v.V != 4 {
		t.Errorf("procresize nprocs %+v, want 4", v)
	}
}

func TestTraceHello(t *testing.T) {
	b, tl := bootTrace(t, "examples/hello", "hello,world\n")
	checkStartup(t, b, tl)
}

// The goroutine program: after main.main the kernel records newproc,
// runqput, schedule, execute and gogo again, for main.main's go statement.
func TestTraceGoroutine(t *testing.T) {
	b, tl := bootTrace(t, "examples/goroutine", "169\n")
	checkStartup(t, b, tl)
	goid := offset(t, b, "runtime.g", "goid")
	np := event(t, tl, "runtime.newproc #2")
	fn := mem(t, np, np.Hit.Reg("rax"), 8)
	if name := b.FuncAt(fn); name != "main.main.gowrap1" && name != "main.main.func1" {
		t.Errorf("second newproc's fn %#x = %q, want main.main's go statement", fn, name)
	}
	mm := event(t, tl, "main.main")
	if np.TSC < mm.TSC {
		t.Errorf("second newproc before main.main")
	}
	rq := event(t, tl, "runtime.runqput #2")
	gp := rq.Hit.Reg("rbx")
	id := mem(t, rq, gp+goid, 8)
	ex := event(t, tl, "runtime.execute #2")
	if ex.Hit.Reg("rax") != gp || mem(t, ex, gp+goid, 8) != id || id <= 1 {
		t.Errorf("execute #2 gp %#x, runqput #2 gp %#x goid %d", ex.Hit.Reg("rax"), gp, id)
	}
	gg := event(t, tl, "runtime.gogo #2")
	if pc := mem(t, gg, gg.Hit.Reg("rbx")+offset(t, b, "runtime.gobuf", "pc"), 8); pc != fn {
		t.Errorf("gogo #2 jumps to %#x (%s), want the go statement's fn %#x", pc, b.FuncAt(pc), fn)
	}
	for _, name := range []string{"runtime.newproc #2", "runtime.runqput #2", "runtime.execute #2", "runtime.gogo #2"} {
		if e := tl.Event(name); e != nil && e.TSC < mm.TSC {
			t.Errorf("%s before main.main", name)
		}
	}
}

// rt0 run -trace -trace-out -trace-svg: the program's output untouched on
// stdout, the timeline on stderr after it, the JSON and SVG files.
func TestRunTraceFlags(t *testing.T) {
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	dir := t.TempDir()
	jsonFile, svgFile := filepath.Join(dir, "trace.json"), filepath.Join(dir, "trace.svg")
	var stdout, stderr bytes.Buffer
	code := rt0Main([]string{"run", "-timeout", boottest.Timeout.String(), "-trace", "-trace-out", jsonFile, "-trace-svg", svgFile, "./examples/hello"},
		stdio{strings.NewReader(""), &stdout, &stderr})
	if code != 0 || stdout.String() != "hello,world\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
	}
	errText := stderr.String()
	for _, want := range []string{"rt0 startup trace of hello.elf", "runtime.gogo", "gobuf.pc", "(runtime.main)", "g0.stack size  = 65536", "Summary", "TSC calibration"} {
		if !strings.Contains(errText, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errText)
		}
	}
	if strings.Contains(errText, "FAIL") {
		t.Errorf("a check failed:\n%s", errText)
	}

	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema string `json:"schema"`
		Exit   struct {
			Status int `json:"status"`
		} `json:"exit"`
		Events []struct {
			Name      string            `json:"name"`
			US        float64           `json:"us"`
			Registers map[string]string `json:"registers"`
			Values    []struct {
				Name    string  `json:"name"`
				Decimal *uint64 `json:"decimal"`
			} `json:"values"`
		} `json:"events"`
		Checks []struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != trace.Schema || doc.Exit.Status != 0 || len(doc.Checks) == 0 {
		t.Errorf("JSON: schema %q, exit %d, %d checks", doc.Schema, doc.Exit.Status, len(doc.Checks))
	}
	for _, c := range doc.Checks {
		if !c.OK {
			t.Errorf("JSON check failed: %s", c.Name)
		}
	}
	found := false
	for _, e := range doc.Events {
		if e.Name != "_cgo_init hook" {
			continue
		}
		for _, v := range e.Values {
			if v.Name == "g0.stack size" && v.Decimal != nil && *v.Decimal == 65536 {
				found = true
			}
		}
		if e.Registers["rdi"] == "" || e.US <= 0 {
			t.Errorf("JSON hook event: %+v", e)
		}
	}
	if !found {
		t.Errorf("JSON has no g0.stack size of 65536")
	}

	svg, err := os.ReadFile(svgFile)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
	}
	if !bytes.Contains(svg, []byte("main.main")) || !bytes.Contains(svg, []byte("runtime.gogo")) {
		t.Errorf("SVG lacks milestones")
	}
}

// Without the flags nothing is asked of the kernel; with any of them the
// option goes in front of the raw words (which may end in -- arguments).
func TestTraceFlagsAppend(t *testing.T) {
	if got := (&traceFlags{}).appendWords("rt0.strace -- a"); got != "rt0.strace -- a" {
		t.Errorf("off: %q", got)
	}
	for _, tf := range []traceFlags{{on: true}, {jsonFile: "x"}, {svgFile: "y"}} {
		if got := tf.appendWords("rt0.strace -- a"); got != "rt0.trace rt0.strace -- a" {
			t.Errorf("%+v: %q", tf, got)
		}
	}
	if got := (&traceFlags{on: true}).appendWords(""); got != "rt0.trace" {
		t.Errorf("alone: %q", got)
	}
}
