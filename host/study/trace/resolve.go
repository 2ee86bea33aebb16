package trace

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"rt0/contract"
	"rt0/host/image"
	"rt0/host/study/bin"
)

// Timeline is a resolved trace: every record named, decoded and checked
// against the image it was made with.
type Timeline struct {
	Image   string // the ELF's base name
	TSCHz   uint64
	Events  []Event // by TSC (log order among equal TSCs)
	Checks  []Check
	Summary Summary
	Ended   bool
	Status  int
	Threads int
	// Warnings are things the trace could not decode (a DWARF field not
	// found, a milestone that never fired).
	Warnings []string
}

// Lanes of the timeline.
const (
	LaneKernel  = "kernel"
	LaneRuntime = "runtime"
)

// Kinds of events.
const (
	KindKernel    = "kernel"    // a kernel TSC stamp
	KindMilestone = "milestone" // a breakpoint hit
	KindClone     = "clone"     // a clone syscall
)

// Event is one point of the timeline.
type Event struct {
	Kind       string
	Lane       string
	Name       string // the milestone's name; a repeat gets " #2", " #3", ...
	Base       string // Name without the repeat suffix
	Index      int    // the milestone table index; -1 for stamps and clones
	Occurrence int    // 1 for the first event of this Base
	TSC        uint64
	Cycles     uint64 // since the first instruction (the boot32 stamp)
	Delta      uint64 // since the previous event
	Why        string
	Func       string // the function at RIP (milestones), or the clone's fn
	Hit        *Hit   // the raw record of a milestone
	Clone      *Clone // the raw record of a clone
	Values     []Value
	Code       []Inst // the first instructions at RIP
}

// Value is something decoded from a record, named.
type Value struct {
	Name string
	V    uint64
	Dec  bool   // a count, size or id: shown in decimal
	Sym  string // the symbol V points into, from the ELF
	Note string
}

// Inst is a decoded instruction.
type Inst struct {
	Addr   uint64
	Text   string // Go assembler syntax (x86asm.GoSyntax)
	Source string // file:line from the pclntab
	Note   string // what the tour resolved (a symbol, an MSR)
}

// Check is a property of the trace that must hold.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// Summary splits the startup into the kernel's part and the runtime's, in
// cycles.
type Summary struct {
	Kernel      uint64 // boot32 -> entering _rt0_amd64_linux
	Calibration uint64 // the TSC calibration, inside Kernel
	// CalibrationFrom says where Calibration comes from: the kernel's own
	// count, or the memory -> clock step.
	CalibrationFrom string
	Runtime         uint64 // entering _rt0_amd64_linux -> main.main
	ToMain          uint64 // boot32 -> main.main
	Program         uint64 // main.main -> exit
	Total           uint64 // boot32 -> exit
}

// US converts cycles to microseconds.
func (t *Timeline) US(cycles uint64) float64 {
	if t.TSCHz == 0 {
		return 0
	}
	return float64(cycles) * 1e6 / float64(t.TSCHz)
}

// Event returns the event called name ("runtime.execute", "runtime.newproc #2").
func (t *Timeline) Event(name string) *Event {
	for i := range t.Events {
		if t.Events[i].Name == name {
			return &t.Events[i]
		}
	}
	return nil
}

// Check returns the check called name.
func (t *Timeline) Check(name string) *Check {
	for i := range t.Checks {
		if t.Checks[i].Name == name {
			return &t.Checks[i]
		}
	}
	return nil
}

// Failed returns the checks that did not hold.
func (t *Timeline) Failed() []Check {
	var out []Check
	for _, c := range t.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Value returns the value of an event called name.
func (e *Event) Value(name string) (Value, bool) {
	for _, v := range e.Values {
		if v.Name == name {
			return v, true
		}
	}
	return Value{}, false
}

// kernelWhy explains the kernel's stamps.
var kernelWhy = map[string]string{
	"boot32":  "rt0's first instruction: the multiboot loader jumped into the 32-bit stub (protected mode, paging off); it reads the TSC, enables PAE, long mode and paging, and far-jumps to 64-bit code",
	"entry64": "64-bit mode: entry64 zeroes the bss, takes a boot stack and enables SSE, then calls kernel.boot",
	"cpu":     "the CPU is set up: serial console, GDT/TSS, per-CPU data, SYSCALL MSRs, the IDT",
	"memory":  "memory is set up: boot information parsed, frame bitmap, ACPI tables, the kernel's page tables",
	"clock":   "the clock is calibrated: TSC and LAPIC timer against 1 ms of the ACPI PM timer (or three 2 ms windows of PIT channel 2 without one), wall time from the RTC",
	"files":   "I/O APIC, serial input, the in-memory files, the idle thread, the Linux initial stack (argc, argv, envp, auxv) and FS",
	"runtime": "the kernel enters the first thread at _rt0_amd64_linux with IRETQ, as execve would",
	"exit":    "the program called exit_group: the kernel writes this trace and stops the machine",
}

// Resolve names and decodes a record with the image it was made with and
// its milestone table (host/image.Milestones).
func Resolve(rec *Record, b *bin.Binary, ms []image.Milestone) (*Timeline, error) {
	t := &Timeline{TSCHz: rec.TSCHz, Ended: rec.Ended, Status: rec.Status, Threads: rec.Threads}
	if b.Path != "" {
		t.Image = filepath.Base(b.Path)
	}
	r := &resolver{b: b, t: t, ms: ms, rec: rec, occ: map[string]int{}, funcOcc: map[string]int{}}
	r.offsets()
	for _, s := range rec.Kernel {
		t.Events = append(t.Events, Event{Kind: KindKernel, Lane: LaneKernel, Name: s.Name, Base: s.Name, Index: -1, TSC: s.TSC, Why: kernelWhy[s.Name]})
	}
	for i := range rec.Hits {
		h := &rec.Hits[i]
		e := Event{Kind: KindMilestone, Lane: LaneRuntime, Index: h.Index, TSC: h.TSC, Hit: h}
		if h.Index < len(ms) {
			e.Name, e.Why = ms[h.Index].Name, ms[h.Index].Why
		} else {
			e.Name = fmt.Sprintf("milestone %d", h.Index)
		}
		e.Base = e.Name
		t.Events = append(t.Events, e)
	}
	for i := range rec.Clones {
		c := &rec.Clones[i]
		t.Events = append(t.Events, Event{Kind: KindClone, Lane: LaneRuntime, Name: "clone", Base: "clone", Index: -1, TSC: c.TSC, Clone: c})
	}
	for _, ap := range rec.APs {
		for _, st := range []struct {
			name, why string
			tsc       uint64
		}{
			{"sipi", "the boot CPU sent this AP INIT (to all APs at once, 10 ms before on CPUs that need the wait) and now two startup IPIs naming the trampoline's page below 1 MiB", ap.SIPI},
			{"trampoline", "the AP runs the trampoline in 16-bit real mode: a GDT, protected mode", ap.Real},
			{"long mode", "the AP is in 64-bit mode on the boot CPU's page tables, CR0, CR4 and EFER, and jumps to the kernel's apEntry", ap.Long},
			{"apMain", "the AP's own GDT, TSS, IST stacks, GS base, IDT, SYSCALL MSRs and LAPIC timer; then it waits for the kernel lock", ap.Main},
			{"first schedule", "the AP leaves the kernel for the first time through the scheduler: a thread, or its idle loop (STI; HLT) until an IPI brings one", ap.Sched},
		} {
			if st.tsc == 0 {
				continue
			}
			name := fmt.Sprintf("cpu%d %s", ap.CPU, st.name)
			t.Events = append(t.Events, Event{Kind: KindKernel, Lane: LaneKernel, Name: name, Base: name, Index: -1, TSC: st.tsc, Why: st.why})
		}
	}
	// The TSC orders everything, on every CPU: they share it (the kernel
	// calibrated one clock for all). Log order breaks ties.
	sort.SliceStable(t.Events, func(i, j int) bool { return t.Events[i].TSC < t.Events[j].TSC })

	var base uint64
	if e := t.kernel("boot32"); e != nil {
		base = e.TSC
	} else if len(t.Events) > 0 {
		base = t.Events[0].TSC
		t.Warnings = append(t.Warnings, "no boot32 stamp: times count from the first event")
	}
	for i := range t.Events {
		e := &t.Events[i]
		r.occ[e.Base]++
		e.Occurrence = r.occ[e.Base]
		if e.Occurrence > 1 {
			e.Name = fmt.Sprintf("%s #%d", e.Base, e.Occurrence)
		}
		if e.Kind == KindKernel && e.Base == "runtime" {
			e.Name = "enter runtime" // the stamp "runtime": not to be confused with the lane
		}
		if e.TSC >= base {
			e.Cycles = e.TSC - base
		}
		if i > 0 && e.TSC >= t.Events[i-1].TSC {
			e.Delta = e.TSC - t.Events[i-1].TSC
		}
		switch e.Kind {
		case KindKernel:
			r.kernelStamp(e)
		case KindMilestone:
			r.milestone(e)
		case KindClone:
			r.clone(e)
		}
	}
	r.orderCheck()
	if len(rec.APs) > 0 {
		all := true
		for _, ap := range rec.APs {
			all = all && ap.Main != 0 && ap.Sched >= ap.Main
		}
		r.check("SMP: every AP started reached apMain and the scheduler", all, "%d APs", len(rec.APs))
	}
	r.summary()
	return t, nil
}

func (t *Timeline) kernel(name string) *Event {
	for i := range t.Events {
		if t.Events[i].Kind == KindKernel && t.Events[i].Base == name {
			return &t.Events[i]
		}
	}
	return nil
}

// resolver carries what earlier milestones established to later ones.
type resolver struct {
	b       *bin.Binary
	t       *Timeline
	ms      []image.Milestone
	rec     *Record
	occ     map[string]int // events per Base name
	funcOcc map[string]int // milestone hits per function

	// DWARF offsets (ok false: not found, values not decoded)
	gStack, gStackHi, gGuard0, gGuard1, gM, gSched, gStktopsp, gStatus, gGoid, gGopc, gStartpc uint64
	bufSP, bufPC, bufG, bufCtxt, bufBP                                                         uint64
	mTLS                                                                                       uint64
	gOK, bufOK, mOK                                                                            bool

	// established by earlier events
	entrySP        uint64 // RSP at _rt0_amd64_linux
	argc, argv     uint64 // from rt0_go's DI, SI
	g0             uint64 // DI at the _cgo_init hook
	g0Lo, g0Hi     uint64
	fs             uint64 // FS base at runtime.args
	rounds         map[int]*round
	mainG          uint64 // the g runtime.main runs on
	mainLo, mainHi uint64
	sysmonNewm     bool
	firstClone     bool
}

// round is one goroutine's way from newproc to its first instruction.
type round struct {
	fn       uint64 // funcval.fn passed to newproc
	g        uint64 // the new g (runqput's BX)
	goid     uint64
	lo, hi   uint64
	execG    uint64
	gobufSP  uint64
	gobufPC  uint64
	haveGoid bool
}

func (r *resolver) round(n int) *round {
	if r.rounds == nil {
		r.rounds = map[int]*round{}
	}
	if r.rounds[n] == nil {
		r.rounds[n] = &round{}
	}
	return r.rounds[n]
}

func (r *resolver) offsets() {
	var errs []string
	get := func(typ, path string) uint64 {
		o, err := r.b.Offset(typ, path)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return o
	}
	r.gStack, r.gStackHi, r.gGuard0, r.gGuard1 = get("runtime.g", "stack.lo"), get("runtime.g", "stack.hi"), get("runtime.g", "stackguard0"), get("runtime.g", "stackguard1")
	r.gM, r.gSched, r.gStktopsp = get("runtime.g", "m"), get("runtime.g", "sched"), get("runtime.g", "stktopsp")
	r.gStatus, r.gGoid, r.gGopc, r.gStartpc = get("runtime.g", "atomicstatus"), get("runtime.g", "goid"), get("runtime.g", "gopc"), get("runtime.g", "startpc")
	r.gOK = len(errs) == 0
	n := len(errs)
	r.bufSP, r.bufPC, r.bufG, r.bufCtxt, r.bufBP = get("runtime.gobuf", "sp"), get("runtime.gobuf", "pc"), get("runtime.gobuf", "g"), get("runtime.gobuf", "ctxt"), get("runtime.gobuf", "bp")
	r.bufOK = len(errs) == n
	n = len(errs)
	r.mTLS = get("runtime.m", "tls")
	r.mOK = len(errs) == n
	if len(errs) > 0 {
		r.t.Warnings = append(r.t.Warnings, "DWARF: "+strings.Join(errs, "; "))
	}
}

func (r *resolver) check(name string, ok bool, format string, args ...any) {
	r.t.Checks = append(r.t.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// sym names the symbol an address is in ("runtime.m0+0x88"), or "".
func (r *resolver) sym(addr uint64) string {
	if addr == 0 {
		return ""
	}
	name, base := r.b.Lookup(addr)
	if name == "" {
		return ""
	}
	if addr == base {
		return name
	}
	return fmt.Sprintf("%s+%#x", name, addr-base)
}

// fn names the function starting at addr, or the symbol it is in.
func (r *resolver) fn(addr uint64) string {
	if n := r.b.FuncAt(addr); n != "" {
		return n
	}
	return r.sym(addr)
}

// isFunc reports whether addr is the start of name (or of its ABI0 form).
func (r *resolver) isFunc(addr uint64, names ...string) bool {
	got := r.b.FuncAt(addr)
	for _, n := range names {
		if got != "" && (got == n || got == n+".abi0") {
			return true
		}
	}
	return false
}

// code decodes n instructions at addr for e, following direct JMPs (as
// _rt0_amd64_linux's JMP _rt0_amd64) and stopping after a RET or an
// indirect JMP.
func (r *resolver) code(e *Event, addr uint64, n int) {
	for len(e.Code) < n {
		insts := r.b.InstsAt(addr, n-len(e.Code))
		if len(insts) == 0 {
			return
		}
		next := uint64(0)
		for _, in := range insts {
			e.Code = append(e.Code, r.inst(in))
			if in.Inst.Op == x86asm.RET || in.Inst.Op == x86asm.JMP && in.Target == 0 || in.Text == "?" {
				return
			}
			if in.Inst.Op == x86asm.JMP {
				next = in.Target
				break
			}
		}
		if next == 0 {
			return
		}
		addr = next
	}
}

func (r *resolver) inst(in bin.Inst) Inst {
	out := Inst{Addr: in.Addr, Text: in.Text, Note: in.Resolved}
	if in.File != "" {
		out.Source = fmt.Sprintf("%s:%d", in.File, in.Line)
	}
	return out
}

func (e *Event) add(name string, v uint64, sym, note string) {
	e.Values = append(e.Values, Value{Name: name, V: v, Sym: sym, Note: note})
}

func (e *Event) addDec(name string, v uint64, note string) {
	e.Values = append(e.Values, Value{Name: name, V: v, Dec: true, Note: note})
}

func (r *resolver) kernelStamp(e *Event) {
	switch e.Base {
	case "boot32":
		if mb, insts, err := r.b.Stub32(); err == nil {
			e.add("multiboot entry", mb.Entry, "", "the stub sits in the ELF's first page; the loader jumps here")
			for i, in := range insts {
				if i == 4 {
					break
				}
				e.Code = append(e.Code, r.inst(in))
			}
		}
	case "entry64":
		if _, insts, err := r.b.Stub32(); err == nil && len(insts) > 0 {
			if _, off, ok := bin.FarTarget(&insts[len(insts)-1]); ok {
				e.Func = r.fn(off)
				e.add("far jump target", off, r.sym(off), "")
				r.code(e, off, 4)
			}
		}
	case "runtime":
		e.add("entry point", r.b.Entry, r.sym(r.b.Entry), "ELF e_entry: the runtime's own entry for linux/amd64")
	}
}

func (r *resolver) clone(e *Event) {
	c := e.Clone
	e.Func = r.fn(c.Fn)
	first := !r.firstClone
	r.firstClone = true
	if first && r.sysmonNewm {
		e.Why = "clone: the thread of the M that newm made for sysmon, started at fn"
	} else {
		e.Why = "clone: another M's thread, started at fn"
	}
	e.addDec("tid", c.TID, "the new thread")
	if cpu, ok := r.rec.ThreadCPU[c.TID]; ok {
		e.addDec("cpu", uint64(cpu), "the CPU this M's thread ran on last (at exit)")
	}
	e.add("fn (R12)", c.Fn, r.fn(c.Fn), "where the new thread starts, on its own g0 stack")
	e.add("mp (R13)", c.MP, r.sym(c.MP), "the new M")
	e.add("gp (R9)", c.GP, r.sym(c.GP), "the new M's g0: getg() in mstart on that thread")
	e.add("stack", c.Stack, "", "top of the new M's g0 stack")
	if first {
		ok := r.isFunc(c.Fn, "runtime.mstart")
		r.check("clone: fn is runtime.mstart", ok, "first clone fn %#x = %s", c.Fn, r.fn(c.Fn))
		r.check("clone: its g0 is not m0's", c.GP != 0 && c.GP != r.g0, "gp %#x, runtime.g0 %#x", c.GP, r.g0)
	}
	r.code(e, c.Fn, 3)
}

// gField reads a field of the g at gp from a hit's snapshot.
func (r *resolver) gField(h *Hit, gp, off uint64, size int) (uint64, bool) {
	if !r.gOK || gp == 0 {
		return 0, false
	}
	return h.Mem(gp+off, size)
}

var gStatusNames = []string{"_Gidle", "_Grunnable", "_Grunning", "_Gsyscall", "_Gwaiting",
	"_Gmoribund_unused", "_Gdead", "_Genqueue_unused", "_Gcopystack", "_Gpreempted", "_Gleaked"}

func statusName(s uint64) string {
	scan := ""
	if s&0x1000 != 0 {
		scan = "_Gscan|"
		s &^= 0x1000
	}
	if s < uint64(len(gStatusNames)) {
		return scan + gStatusNames[s]
	}
	return fmt.Sprintf("status %d", s)
}

// gValues decodes the g at gp from a snapshot: stack, guards, sched,
// status, goid, as far as the snapshot reaches.
func (r *resolver) gValues(e *Event, h *Hit, gp uint64, who string, sched bool) (lo, hi, goid, status uint64, haveGoid, haveStatus bool) {
	var haveStack bool
	if v, ok := r.gField(h, gp, r.gStack, 8); ok {
		lo = v
		if v2, ok := r.gField(h, gp, r.gStackHi, 8); ok {
			hi, haveStack = v2, true
		}
	}
	if haveStack {
		e.add(who+".stack.lo", lo, "", "")
		e.add(who+".stack.hi", hi, "", "")
		e.addDec(who+".stack size", hi-lo, "stack.hi - stack.lo")
	}
	if v, ok := r.gField(h, gp, r.gGuard0, 8); ok {
		note := ""
		if haveStack && v == lo {
			note = "= stack.lo, for now: rt0_go adds stackGuard once _cgo_init returns"
		} else if haveStack && v > lo {
			note = fmt.Sprintf("stack.lo + %d (stackGuard)", v-lo)
		}
		e.add(who+".stackguard0", v, "", note)
	}
	if v, ok := r.gField(h, gp, r.gGuard1, 8); ok {
		note := ""
		if v == ^uint64(0) {
			note = "^0: a //go:systemstack function's prologue always fails on this stack -> morestackc -> throw"
		}
		e.add(who+".stackguard1", v, "", note)
	}
	if r.bufOK && sched {
		if v, ok := r.gField(h, gp, r.gSched+r.bufSP, 8); ok {
			e.add(who+".sched.sp", v, "", "")
		}
		if v, ok := r.gField(h, gp, r.gSched+r.bufPC, 8); ok {
			e.add(who+".sched.pc", v, r.fn(v), "where gogo will jump")
		}
		if v, ok := r.gField(h, gp, r.gSched+r.bufCtxt, 8); ok && v != 0 {
			e.add(who+".sched.ctxt", v, r.sym(v), "the funcval (closure context, DX on entry)")
		}
		sp, ok1 := r.gField(h, gp, r.gSched+r.bufSP, 8)
		top, ok2 := r.gField(h, gp, r.gStktopsp, 8)
		if ok1 && ok2 && top != 0 {
			note := ""
			if top-sp == 8 {
				note = "stktopsp - sched.sp = 8: gostartcall pushed one word, goexit's PC, as the return address of fn"
			}
			e.add(who+".stktopsp", top, "", note)
		}
	}
	if !sched {
		return
	}
	if v, ok := r.gField(h, gp, r.gStatus, 4); ok {
		status, haveStatus = v, true
		e.addDec(who+".atomicstatus", v, statusName(v))
	}
	if v, ok := r.gField(h, gp, r.gGoid, 8); ok {
		goid, haveGoid = v, true
		e.addDec(who+".goid", v, "")
	}
	if v, ok := r.gField(h, gp, r.gGopc, 8); ok && v != 0 {
		e.add(who+".gopc", v, r.sym(v), r.gopcNote(v))
	}
	if v, ok := r.gField(h, gp, r.gStartpc, 8); ok && v != 0 {
		e.add(who+".startpc", v, r.fn(v), "fn.fn")
	}
	return
}

// milestone decodes a breakpoint hit by the function it stopped at.
func (r *resolver) milestone(e *Event) {
	h := e.Hit
	e.Func = r.fn(h.RIP)
	r.code(e, h.RIP, 4)
	fn := strings.TrimSuffix(r.b.FuncAt(h.RIP), ".abi0")
	if fn == "" {
		fn = e.Base
	}
	r.funcOcc[fn]++
	n := r.funcOcc[fn]
	sfx := ""
	if n > 1 {
		sfx = fmt.Sprintf(" #%d", n)
	}
	g := func(note string) { e.add("R14 (g)", h.Reg("r14"), r.sym(h.Reg("r14")), note) }
	rnd := r.round(n)
	if why, ok := againWhy[fn]; ok && n > 1 {
		e.Why = why
	}

	switch fn {
	case "_rt0_amd64_linux":
		r.entrySP = h.RSP
		e.add("RSP", h.RSP, "", "the Linux initial stack: argc at 0(SP), then argv, envp, auxv")
		if h.SnapAddr == h.RSP && h.SnapAddr != 0 {
			e.addDec("argc (0(SP))", h.Snap[0], "")
		}

	case "runtime.rt0_go":
		r.argc, r.argv = h.Reg("rdi"), h.Reg("rsi")
		e.addDec("DI (argc)", r.argc, "_rt0_amd64: MOVQ 0(SP), DI")
		e.add("SI (argv)", r.argv, "", "_rt0_amd64: LEAQ 8(SP), SI")
		r.check("rt0_go: argv = entry SP + 8", r.entrySP != 0 && r.argv == r.entrySP+8, "SI %#x, SP at _rt0_amd64_linux %#x", r.argv, r.entrySP)

	case contract.SymCgoInitHook:
		r.g0 = h.Reg("rdi")
		g0sym, _ := r.b.Sym("runtime.g0")
		e.add("DI (&g0)", r.g0, r.sym(r.g0), "rt0_go: MOVQ $runtime·g0(SB), DI, kept for _cgo_init's first argument")
		e.add("SI", h.Reg("rsi"), r.sym(h.Reg("rsi")), "setg_gcc: how C code would set g (unused)")
		e.add("FS base", h.FSBase, "", "no TLS yet: the hook is about to write IA32_FS_BASE")
		r.check("hook: DI is runtime.g0", g0sym.Addr != 0 && r.g0 == g0sym.Addr, "DI %#x, ELF runtime.g0 %#x", r.g0, g0sym.Addr)
		lo, hi, _, _, _, _ := r.gValues(e, h, r.g0, "g0", false)
		r.g0Lo, r.g0Hi = lo, hi
		if v, ok := r.gField(h, r.g0, r.gM, 8); ok {
			e.add("g0.m", v, r.sym(v), "not yet: rt0_go links g0 and m0 after TLS works (the ok: label)")
		}
		r.check("g0 stack is 64 KiB", hi-lo == 65536, "g0.stack [%#x, %#x): %d bytes", lo, hi, hi-lo)
		// rt0_go: SUBQ $(5*8), SP; ANDQ $~15, SP; ...; MOVQ SP, stack.hi
		if sub, and, ok := r.rt0goFrame(); ok && r.entrySP != 0 {
			want := (r.entrySP - sub) & and
			r.check("g0 stack.hi = rt0_go's aligned SP", hi == want, "stack.hi %#x; entry SP %#x, rt0_go's SUBQ $%#x, SP; ANDQ $%#x, SP give %#x", hi, r.entrySP, sub, int64(and), want)
		}
		if v, ok := r.gField(h, r.g0, r.gGuard0, 8); ok {
			r.check("g0 stackguard0 = stack.lo before _cgo_init", v == lo, "stackguard0 %#x, stack.lo %#x (rt0_go adds stackGuard after the call)", v, lo)
		}

	case "runtime.args":
		r.fs = h.FSBase
		e.addDec("AX (argc)", h.Reg("rax"), "")
		e.add("BX (argv)", h.Reg("rbx"), "", "")
		note := ""
		var want uint64
		if m0, ok := r.b.Sym("runtime.m0"); ok && r.mOK {
			want = m0.Addr + r.mTLS + 8
			note = fmt.Sprintf("= &m0.tls[0] + 8 (m0 %#x, m.tls at +%#x by DWARF): -8(FS) is m0.tls[0]", m0.Addr, r.mTLS)
		}
		e.add("FS base", h.FSBase, r.sym(h.FSBase), note)
		g("loaded by the ABI0 wrapper runtime.args.abi0 from FS:-8, i.e. from m0.tls[0]")
		r.check("FS base = &m0.tls[0] + 8", want != 0 && h.FSBase == want, "FS %#x, want %#x", h.FSBase, want)
		r.check("m0.tls[0] = &g0", r.g0 != 0 && h.Reg("r14") == r.g0, "R14 (read from FS:-8) %#x, &g0 (DI at the hook) %#x", h.Reg("r14"), r.g0)
		r.check("args: argc, argv as rt0_go got them", h.Reg("rax") == r.argc && h.Reg("rbx") == r.argv, "AX %d BX %#x; rt0_go DI %d SI %#x", h.Reg("rax"), h.Reg("rbx"), r.argc, r.argv)
		if r.g0Hi != 0 {
			r.check("args runs on g0's stack", h.RSP >= r.g0Lo && h.RSP < r.g0Hi, "SP %#x in [%#x, %#x)", h.RSP, r.g0Lo, r.g0Hi)
		}
		if h.SnapAddr == h.Reg("rbx") && h.SnapAddr != 0 {
			e.add("argv[0]", h.Snap[0], "", "")
		}

	case "runtime.osinit", "runtime.schedinit", "runtime.mstart", "runtime.schedule":
		g("")
		if fn == "runtime.mstart" {
			e.note("R14 (g)", "m0's g0; getg() in mstart is the starting M's g0, and every other M enters mstart on its own g0")
		}
		if fn != "runtime.osinit" && r.g0 != 0 && n == 1 {
			r.check(strings.TrimPrefix(fn, "runtime.")+" runs on g0", h.Reg("r14") == r.g0, "R14 %#x, &g0 %#x", h.Reg("r14"), r.g0)
		}

	case "runtime.procresize":
		e.addDec("AX (nprocs)", h.Reg("rax"), "GOMAXPROCS: the number of Ps procresize builds")
		r.check("procresize: nprocs >= 1", h.Reg("rax") >= 1, "nprocs %d", h.Reg("rax"))

	case "runtime.newproc":
		fv := h.Reg("rax")
		e.add("AX (fn *funcval)", fv, r.sym(fv), "go1.26: newproc(fn *funcval), one register argument")
		g("the caller's g (newproc1's callergp)")
		if v, ok := h.Mem(fv, 8); ok {
			rnd.fn = v
			e.add("fn.fn", v, r.fn(v), "the function the new goroutine will run")
		}
		if !r.isFunc(rnd.fn, "runtime.main") {
			// A go statement's closure: the compiler wraps the call and
			// its arguments into a funcval; newproc copies no arguments.
			for i := uint64(1); i <= 3; i++ {
				if v, ok := h.Mem(fv+8*i, 8); ok {
					if s := r.fn(v); s != "" {
						e.add(fmt.Sprintf("fn word %d", i), v, s, "captured by the closure")
					} else if w, ok := r.b.Word(v); ok && r.b.FuncAt(w) != "" {
						e.add(fmt.Sprintf("fn word %d", i), v, "", "captured by the closure: a funcval of "+r.b.FuncAt(w))
					} else {
						e.add(fmt.Sprintf("fn word %d", i), v, "", fmt.Sprintf("captured by the closure (%d)", int64(v)))
					}
				}
			}
		}
		if n == 1 {
			r.check("newproc: fn is runtime.main", r.isFunc(rnd.fn, "runtime.main"), "fn.fn %#x = %s", rnd.fn, r.fn(rnd.fn))
		} else {
			r.check("newproc"+sfx+": fn is the program's", strings.HasPrefix(r.fn(rnd.fn), "main."), "fn.fn %#x = %s", rnd.fn, r.fn(rnd.fn))
		}

	case "runtime.runqput":
		gp := h.Reg("rbx")
		rnd.g = gp
		e.add("AX (pp)", h.Reg("rax"), r.sym(h.Reg("rax")), "the P (allp[0])")
		e.add("BX (gp)", gp, "", "the new g")
		e.addDec("CX (next)", h.Reg("rcx"), "1: put it in pp.runnext, to run next")
		lo, hi, goid, status, okGoid, okStatus := r.gValues(e, h, gp, "g", true)
		rnd.lo, rnd.hi, rnd.goid, rnd.haveGoid = lo, hi, goid, okGoid
		if n == 1 {
			r.check("new g: goid 1", okGoid && goid == 1, "goid %d", goid)
		} else {
			r.check("new g"+sfx+": has a goid", okGoid && goid > 1, "goid %d", goid)
		}
		r.check("new g"+sfx+": _Grunnable", okStatus && status == 1, "atomicstatus %d (%s)", status, statusName(status))
		if v, ok := r.gField(h, gp, r.gGuard1, 8); ok {
			r.check("new g"+sfx+": stackguard1 = ^0", v == ^uint64(0), "stackguard1 %#x", v)
		}
		if pc, ok := r.gField(h, gp, r.gSched+r.bufPC, 8); ok && r.bufOK {
			r.check("new g"+sfx+": sched.pc = fn", rnd.fn != 0 && pc == rnd.fn, "sched.pc %#x (%s), newproc's fn %#x", pc, r.fn(pc), rnd.fn)
		}

	case "runtime.execute":
		gp := h.Reg("rax")
		rnd.execG = gp
		e.add("AX (gp)", gp, "", "the g to run")
		e.addDec("BX (inheritTime)", h.Reg("rbx"), "")
		g("still g0: execute runs on the scheduler's stack")
		_, _, goid, status, okGoid, okStatus := r.gValues(e, h, gp, "gp", true)
		if okStatus && status == 1 {
			e.note("gp.atomicstatus", "_Grunnable at entry: execute sets m.curg = gp, gp.m, then casgstatus(gp, _Grunnable, _Grunning)")
		}
		// After main.main, an execute with no newproc before it in its
		// round is not the go statement's goroutine (the program made
		// none): on several CPUs another M reschedules a goroutine that
		// was parked. Only a round that made a goroutine is checked.
		if n == 1 || rnd.g != 0 {
			r.check("execute"+sfx+": gp is the new g", rnd.g != 0 && gp == rnd.g, "AX %#x, runqput's gp %#x", gp, rnd.g)
			r.check("execute"+sfx+": goid = the new g's", okGoid && rnd.haveGoid && goid == rnd.goid, "goid %d, newproc made goid %d", goid, rnd.goid)
		} else {
			e.note("gp", "not a new goroutine: main.main made none before this execute (another M scheduling a parked one)")
		}
		r.check("execute"+sfx+": _Grunnable at entry", okStatus && status == 1, "atomicstatus %d (%s)", status, statusName(status))

	case "gogo":
		buf, gp := h.Reg("rbx"), h.Reg("rdx")
		e.add("BX (buf *gobuf)", buf, "", fmt.Sprintf("&gp.sched (g+%#x)", r.gSched))
		e.add("DX (gp)", gp, "", "gobuf.g, loaded by the ABI0 entry runtime.gogo")
		var pc, sp, bg uint64
		var okPC, okSP, okG bool
		if r.bufOK {
			if sp, okSP = h.Mem(buf+r.bufSP, 8); okSP {
				e.add("gobuf.sp", sp, "", "the SP the goroutine will start with")
			}
			if pc, okPC = h.Mem(buf+r.bufPC, 8); okPC {
				e.add("gobuf.pc", pc, r.fn(pc), "JMP BX jumps here")
			}
			if bg, okG = h.Mem(buf+r.bufG, 8); okG {
				e.add("gobuf.g", bg, "", "stored to FS:-8 and R14: from here getg() is this g")
			}
			if v, ok := h.Mem(buf+r.bufCtxt, 8); ok && v != 0 {
				e.add("gobuf.ctxt", v, r.sym(v), "to DX: the closure context")
			}
		}
		if r.gOK {
			if v, ok := h.Mem(gp+r.gGopc, 8); ok && v != 0 {
				e.add("g.gopc", v, r.sym(v), r.gopcNote(v))
			}
			if v, ok := h.Mem(gp+r.gStartpc, 8); ok && v != 0 {
				e.add("g.startpc", v, r.fn(v), "")
			}
		}
		rnd.gobufSP, rnd.gobufPC = sp, pc
		r.check("gogo"+sfx+": buf = &gp.sched", rnd.execG != 0 && buf == rnd.execG+r.gSched, "BX %#x, execute's gp %#x + sched %#x", buf, rnd.execG, r.gSched)
		r.check("gogo"+sfx+": gobuf.g = gp", okG && bg == rnd.execG && gp == bg, "gobuf.g %#x, DX %#x, execute's gp %#x", bg, gp, rnd.execG)
		if n == 1 {
			r.check("gogo: target PC is runtime.main", okPC && r.isFunc(pc, "runtime.main"), "gobuf.pc %#x = %s", pc, r.fn(pc))
		} else if rnd.fn != 0 {
			r.check("gogo"+sfx+": target PC is newproc"+sfx+"'s fn", okPC && pc == rnd.fn, "gobuf.pc %#x = %s, fn %#x", pc, r.fn(pc), rnd.fn)
		}

	case "runtime.main":
		r.mainG = h.Reg("r14")
		g("gogo set R14 = gobuf.g: the main goroutine")
		e.add("RSP", h.RSP, "", "gobuf.sp: the word at SP is goexit's PC (gostartcall)")
		e.add("FS base", h.FSBase, r.sym(h.FSBase), "unchanged: still m0's thread")
		r.mainLo, r.mainHi = r.round(1).lo, r.round(1).hi
		r.check("runtime.main: SP = gobuf.sp", r.round(1).gobufSP != 0 && h.RSP == r.round(1).gobufSP, "SP %#x, gobuf.sp %#x", h.RSP, r.round(1).gobufSP)
		r.check("runtime.main: g = the new g", h.Reg("r14") == r.round(1).g && r.round(1).g != 0, "R14 %#x, new g %#x", h.Reg("r14"), r.round(1).g)

	case "runtime.newm":
		fv := h.Reg("rax")
		e.add("AX (fn func())", fv, r.sym(fv), "a funcval")
		if v, ok := h.Mem(fv, 8); ok {
			e.add("fn.fn", v, r.fn(v), "what the new M runs before scheduling (m.mstartfn)")
			if n == 1 {
				r.sysmonNewm = r.isFunc(v, "runtime.sysmon")
				r.check("newm: fn is runtime.sysmon", r.sysmonNewm, "fn.fn %#x = %s", v, r.fn(v))
			}
		}
		e.add("BX (pp)", h.Reg("rbx"), "", "nil: sysmon runs without a P")
		if id := h.Reg("rcx"); id == ^uint64(0) {
			e.add("CX (id)", id, "", "-1: allocate a new M id")
		} else {
			e.addDec("CX (id)", id, "")
		}

	case "main.main":
		g("the main goroutine, as in runtime.main")
		e.add("RSP", h.RSP, "", "")
		if r.mainHi != 0 {
			note := fmt.Sprintf("inside the first stack [%#x, %#x)", r.mainLo, r.mainHi)
			if h.RSP < r.mainLo || h.RSP >= r.mainHi {
				note = fmt.Sprintf("outside the first %d-byte stack [%#x, %#x): it grew (morestack -> newstack -> copystack) during runtime.main's inits", r.mainHi-r.mainLo, r.mainLo, r.mainHi)
			}
			e.note("RSP", note)
		}
		if r.mainG != 0 {
			r.check("main.main runs on runtime.main's g", h.Reg("r14") == r.mainG, "R14 %#x, runtime.main's %#x", h.Reg("r14"), r.mainG)
		}

	default:
		g("")
		for _, reg := range []string{"rax", "rbx", "rcx", "rdi", "rsi"} {
			v := h.Reg(reg)
			if s := r.sym(v); s != "" {
				e.add(strings.ToUpper(reg[1:]), v, s, "")
			}
		}
		for i := 1; i <= len(r.rounds); i++ {
			if rd := r.rounds[i]; rd != nil && rd.g != 0 && rd.g == h.Reg("r14") {
				e.note("R14 (g)", fmt.Sprintf("goroutine %d, the g newproc made", rd.goid))
			}
		}
	}
}

// rt0goFrame returns the SUBQ and ANDQ immediates rt0_go applies to SP
// before it makes SP g0's stack.hi, from its machine code.
func (r *resolver) rt0goFrame() (sub, and uint64, ok bool) {
	s, found := r.b.Func("runtime.rt0_go.abi0", "runtime.rt0_go")
	if !found {
		return 0, 0, false
	}
	insts, err := r.b.Disasm(s)
	if err != nil {
		return 0, 0, false
	}
	var haveSub bool
	for _, in := range insts[:min(len(insts), 8)] {
		imm, isImm := in.Inst.Args[1].(x86asm.Imm)
		if in.Inst.Args[0] != x86asm.RSP || !isImm {
			continue
		}
		switch in.Inst.Op {
		case x86asm.SUB:
			sub, haveSub = uint64(imm), true
		case x86asm.AND:
			if haveSub {
				return sub, uint64(imm), true
			}
		}
	}
	return 0, 0, false
}

// gopcNote explains g.gopc: the return address of the CALL to newproc
// (getcallerpc in newproc); tracebacks look up gopc-1, the CALL itself.
func (r *resolver) gopcNote(pc uint64) string {
	file, line := r.b.Line(pc - 1)
	return fmt.Sprintf("newproc's return address (getcallerpc): the CALL before it is at %s:%d", file, line)
}

// againWhy explains the milestones the kernel records a second time, after
// main.main: the program's first goroutine.
var againWhy = map[string]string{
	"runtime.newproc":  "newproc(fn=AX) again, after main.main: the program's first go statement",
	"runtime.runqput":  "runqput(pp=AX, gp=BX): the program's goroutine, _Grunnable, into pp.runnext",
	"runtime.schedule": "schedule again: the main goroutine stopped running (it blocked or yielded); g0 looks for the next g",
	"runtime.execute":  "execute(gp=AX): the program's goroutine gets the M",
	"gogo":             "gogo(buf=BX): switch to the program's goroutine and JMP to its function",
}

// note sets the note of the value called name.
func (e *Event) note(name, text string) {
	for i := range e.Values {
		if e.Values[i].Name == name {
			e.Values[i].Note = text
		}
	}
}

// orderCheck: every milestone with an address fired, first hits in table
// order.
func (r *resolver) orderCheck() {
	first := map[int]uint64{}
	for _, h := range r.rec.Hits {
		if _, ok := first[h.Index]; !ok {
			first[h.Index] = h.TSC
		}
	}
	var missing []string
	prev, prevName, inOrder := uint64(0), "", ""
	n := min(r.rec.Count, len(r.ms))
	if r.rec.Count == 0 {
		n = len(r.ms)
	}
	for i := 0; i < n; i++ {
		m := r.ms[i]
		found := false
		for _, s := range m.Symbols {
			if sym, ok := r.b.Sym(s); ok && sym.Addr != 0 {
				found = true
				break
			}
		}
		tsc, hit := first[i]
		if !hit {
			if found {
				missing = append(missing, m.Name)
			}
			continue
		}
		if tsc < prev && inOrder == "" {
			inOrder = fmt.Sprintf("%s (%d) fired before %s", m.Name, i, prevName)
		}
		prev, prevName = tsc, m.Name
	}
	detail := fmt.Sprintf("%d of %d", n-len(missing), n)
	if len(missing) > 0 {
		detail += "; missing: " + strings.Join(missing, ", ")
	}
	r.check("all milestones fired", len(missing) == 0, "%s", detail)
	if inOrder == "" {
		inOrder = "each first hit later than the one before"
	}
	r.check("milestones in table order", !strings.Contains(inOrder, "fired before"), "%s", inOrder)
	if len(missing) > 0 {
		r.t.Warnings = append(r.t.Warnings, "milestones that did not fire: "+strings.Join(missing, ", "))
	}
}

func (r *resolver) summary() {
	t := r.t
	s := &t.Summary
	at := func(name string) (uint64, bool) {
		if e := t.kernel(name); e != nil {
			return e.Cycles, true
		}
		return 0, false
	}
	run, okRun := at("runtime")
	if okRun {
		s.Kernel = run
	}
	if mm := t.Event("main.main"); mm != nil {
		s.ToMain = mm.Cycles
		if okRun && mm.Cycles >= run {
			s.Runtime = mm.Cycles - run
		}
		if ex, ok := at("exit"); ok && ex >= mm.Cycles {
			s.Program = ex - mm.Cycles
		}
	}
	if ex, ok := at("exit"); ok {
		s.Total = ex
	}
	if r.rec.Calibration != 0 {
		s.Calibration, s.CalibrationFrom = r.rec.Calibration, "the kernel's count"
	} else if mem, ok := at("memory"); ok {
		if clk, ok := at("clock"); ok && clk >= mem {
			s.Calibration, s.CalibrationFrom = clk-mem, "the memory -> clock step (calibration and the RTC read)"
		}
	}
}
