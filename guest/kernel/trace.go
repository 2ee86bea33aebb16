package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/sched"
)

// The startup tracer (kernel option rt0.trace; `rt0 run -trace`).
//
// Go's startup runs as on Linux, unmodified; the kernel watches it with the
// CPU's debug registers. host/image writes into traceTable the addresses of
// the milestones (host/image/trace.go: rt0_go, schedinit, newproc, execute,
// gogo, main.main, ...), each with the register that points at what is worth
// copying then (a g, a gobuf). The kernel keeps execution breakpoints on the
// next four milestones not yet seen (DR0-DR3); each #DB records the TSC, all
// registers and 256 bytes at that pointer, and moves the window on. Nothing
// is formatted here: at exit the records go to the kernel log as hex, and
// `rt0 run -trace` names, decodes and draws them on the host. With the
// option off nothing is armed but one breakpoint on main.main (for the
// rt0.stats cycle count), which fires once.
//
// The kernel's own milestones are TSC stamps taken as boot goes.

const (
	traceEntries = 30 // host/image.TraceTableEntries
	snapWords    = 32
)

// Kernel milestones, in boot order.
const (
	kmBoot32 = iota // the stub's first instruction (bootTSC)
	kmEntry64
	kmCPU
	kmMemory
	kmClock
	kmFiles
	kmRuntime // entering _rt0_amd64_linux
	kmExit
	kmCount
)

var kmNames = [kmCount]string{"boot32", "entry64", "cpu", "memory", "clock", "files", "runtime", "exit"}

type traceRec struct {
	tsc, rip, rsp, fs uint64
	regs              [15]uint64 // RAX RBX RCX RDX RSI RDI RBP R8 ... R15
	snapAddr          uint64
	snap              [snapWords]uint64
}

type cloneRec struct{ tsc, tid, fn, mp, gp, stk uint64 }

var (
	trace struct {
		on     bool
		next   int
		armed  [4]int
		fired  [traceEntries]bool
		recs   [traceEntries]traceRec
		clones [4]cloneRec
		nclone int
		// After main.main: the entries marked "again", recorded once more
		// in the order they fire (the program's first goroutine).
		again  bool
		again2 [traceEntries]bool // recorded the second time
		order2 [traceEntries]int  // milestone index of each second record
		recs2  [traceEntries]traceRec
		n2     int
	}
	kmTSC    [kmCount]uint64
	entryTSC uint64 // set by entry64
	mainTSC  uint64 // TSC when main.main was entered (0: not yet)
)

func traceTableAddr() uintptr

const traceAgain = 1 << 8 // host/image: record again after main.main

// milestone returns the address, snapshot register and flags of milestone i.
func milestone(i int) (addr, snap uint64) {
	t := traceTableAddr()
	if i < 0 || i >= int(*amd64.U64(t)) || i >= traceEntries {
		return 0, 0
	}
	return *amd64.U64(t + 8 + uintptr(i)*16), *amd64.U64(t + 16 + uintptr(i)*16)
}

// wanted reports whether milestone k is still to be recorded.
func wanted(k int) bool {
	a, w := milestone(k)
	if a == 0 {
		return false
	}
	if trace.again {
		return w&traceAgain != 0 && !trace.again2[k]
	}
	return !trace.fired[k]
}

func milestoneCount() int { return int(min(*amd64.U64(traceTableAddr()), traceEntries)) }

func stamp(k int) { kmTSC[k] = amd64.Rdtsc() }

// armBreakpoints arms the tracer's window, or just main.main.
func armBreakpoints() {
	kmTSC[kmBoot32] = bootTSC
	kmTSC[kmEntry64] = entryTSC
	if !trace.on {
		if mm := links().MainMain; mm != 0 {
			setDebugRegs([4]uint64{mm}, 1) // L0: local enable, execution breakpoint, 1 byte
		}
		return
	}
	armWindow()
}

// armWindow puts the next four milestones not yet seen in DR0-DR3.
func armWindow() {
	var dr7 uint64
	var addrs [4]uint64
	k := trace.next
	if trace.again {
		k = 0 // the second round may run in any order
	}
	for r := 0; r < 4; r++ {
		trace.armed[r] = -1
		for ; k < milestoneCount(); k++ {
			if wanted(k) {
				break
			}
		}
		if k >= milestoneCount() {
			continue
		}
		addrs[r], _ = milestone(k)
		trace.armed[r] = k
		dr7 |= 1 << (2 * r) // Lr; R/W and LEN 0: execution
		k++
	}
	setDebugRegs(addrs, dr7)
}

// The debug registers are per CPU; the tracer's window is one. setDebugRegs
// records it and loads it here; every other CPU loads it on its way out of
// the kernel (loadDebugRegs, from reschedule and apMain), and the ones
// running threads are interrupted to do so at once.
var debugRegs struct {
	addr [4]uint64
	dr7  uint64
	gen  uint64
}

func setDebugRegs(addrs [4]uint64, dr7 uint64) {
	debugRegs.addr, debugRegs.dr7 = addrs, dr7
	debugRegs.gen++
	k, me := thisCPU()
	loadDebugRegs(k)
	for i := 0; i < ncpu; i++ {
		if i != me && amd64.CPUs(i).Current != 0 {
			ipi(i, vecWake)
		}
	}
}

func loadDebugRegs(k *kcpu) {
	if k.drSeen == debugRegs.gen {
		return
	}
	k.drSeen = debugRegs.gen
	for r := 0; r < 4; r++ {
		amd64.WriteDR(r, debugRegs.addr[r])
	}
	amd64.WriteDR6(0)
	amd64.WriteDR7(debugRegs.dr7)
}

// debugTrap serves #DB: a milestone breakpoint records and moves on.
// Anything else (single-step, a program's own INT1) is not expected.
func debugTrap(tf *amd64.TrapFrame) {
	dr6 := amd64.ReadDR6()
	amd64.WriteDR6(0)
	if dr6&0xF == 0 {
		fault(tf, "unexpected debug exception")
		return
	}
	now := amd64.Rdtsc()
	if !trace.on {
		if tf.RIP == links().MainMain {
			mainTSC = now
		}
		setDebugRegs([4]uint64{}, 0)
		return
	}
	for r := 0; r < 4; r++ {
		k := trace.armed[r]
		if dr6&(1<<r) == 0 || k < 0 {
			continue
		}
		a, snap := milestone(k)
		if a != tf.RIP {
			continue
		}
		if trace.again {
			record(&trace.recs2[trace.n2], tf, now, snap&0xFF)
			trace.order2[trace.n2] = k
			trace.n2++
			trace.again2[k] = true
			continue
		}
		record(&trace.recs[k], tf, now, snap&0xFF)
		trace.fired[k] = true
		if k+1 > trace.next {
			trace.next = k + 1
		}
		if a == links().MainMain {
			mainTSC = now
			trace.again = true // now watch the program's first goroutine
		}
	}
	armWindow()
}

func record(rec *traceRec, tf *amd64.TrapFrame, now, snap uint64) {
	rec.tsc, rec.rip, rec.rsp, rec.fs = now, tf.RIP, tf.RSP, tf.FSBase
	rec.regs = [15]uint64{tf.RAX, tf.RBX, tf.RCX, tf.RDX, tf.RSI, tf.RDI, tf.RBP,
		tf.R8, tf.R9, tf.R10, tf.R11, tf.R12, tf.R13, tf.R14, tf.R15}
	var p uint64
	switch snap {
	case 1:
		p = tf.RAX
	case 2:
		p = tf.RBX
	case 3:
		p = tf.RCX
	case 4:
		p = tf.RDX
	case 5:
		p = tf.RSI
	case 6:
		p = tf.RDI
	case 7:
		p = tf.RBP
	case 8:
		p = tf.RSP
	}
	if p == 0 || p%8 != 0 {
		return
	}
	// Copy what is readable of the 256 bytes (near the top of the initial
	// stack they run past its end); the rest stays zero.
	for i := 0; i < snapWords && readable(p+uint64(i)*8, 8); i++ {
		rec.snapAddr = p
		rec.snap[i] = *amd64.U64(uintptr(p + uint64(i)*8))
	}
}

// traceClone records the first clones (sysmon's M is the first).
func traceClone(tf *amd64.TrapFrame, tid int32, stk uint64) {
	if !trace.on || trace.nclone >= len(trace.clones) {
		return
	}
	trace.clones[trace.nclone] = cloneRec{amd64.Rdtsc(), uint64(tid), tf.R12, tf.R13, tf.R9, stk}
	trace.nclone++
}

// dumpTrace writes the records to the kernel log, for the host to format.
func dumpTrace(status int) {
	stamp(kmExit)
	kprint("rt0: trace begin tsc-hz ")
	kprintDec(int64(tscHz))
	kprint(" milestones ")
	kprintDec(int64(milestoneCount()))
	kprint(" calibration ")
	kprintDec(int64(calibrationTSC))
	kprint("\n")
	for k := 0; k < kmCount; k++ {
		if kmTSC[k] == 0 {
			continue
		}
		kprint("rt0: trace k ")
		kprint(kmNames[k])
		kprint(" ")
		kprintHex(kmTSC[k])
		kprint("\n")
	}
	for k := 0; k < milestoneCount(); k++ {
		if trace.fired[k] {
			dumpRec(k, &trace.recs[k])
		}
	}
	for i := 0; i < trace.n2; i++ {
		dumpRec(trace.order2[i], &trace.recs2[i])
	}
	for i := 0; i < trace.nclone; i++ {
		c := &trace.clones[i]
		kprint("rt0: trace clone")
		for _, v := range [6]uint64{c.tsc, c.tid, c.fn, c.mp, c.gp, c.stk} {
			kprint(" ")
			kprintHex(v)
		}
		kprint("\n")
	}
	// The APs' start-up (smp.go) and the CPU each live thread ran on last.
	for i := 1; i < ncpu; i++ {
		k := &kcpus[i]
		kprint("rt0: trace ap ")
		kprintDec(int64(i))
		kprint(" ")
		kprintDec(int64(k.apicID))
		for _, v := range [5]uint64{k.tscSIPI, k.tscReal, k.tscLong, k.tscMain, k.tscSched} {
			kprint(" ")
			kprintHex(v)
		}
		kprint("\n")
	}
	for i := 1; i < sched.Top(); i++ {
		if t := sched.T(i); t.State != sched.Free {
			kprint("rt0: trace thread ")
			kprintDec(int64(t.Tid))
			kprint(" ")
			kprintDec(int64(t.CPU))
			kprint("\n")
		}
	}
	kprint("rt0: trace end status ")
	kprintDec(int64(status))
	kprint(" threads ")
	live, _ := sched.Counts()
	kprintDec(int64(live))
	kprint("\n")
}

// dumpRec writes one record as a "rt0: trace m" line.
func dumpRec(k int, r *traceRec) {
	kprint("rt0: trace m ")
	kprintDec(int64(k))
	for _, v := range [4]uint64{r.tsc, r.rip, r.rsp, r.fs} {
		kprint(" ")
		kprintHex(v)
	}
	for _, v := range r.regs {
		kprint(" ")
		kprintHex(v)
	}
	kprint(" ")
	kprintHex(r.snapAddr)
	for _, v := range r.snap {
		kprint(" ")
		kprintHex(v)
	}
	kprint("\n")
}

// printMilestones logs the startup timeline measured so far (rt0.stats).
func printMilestones() {
	if mainTSC == 0 {
		return
	}
	us := func(c uint64) int64 { return int64(c * 1_000_000 / tscHz) }
	kprint("rt0: first instruction -> _rt0_amd64_linux: ")
	kprintDec(us(kmTSC[kmRuntime] - bootTSC))
	kprint(" us (TSC calibration ")
	kprintDec(us(calibrationTSC))
	kprint(" us); -> main.main: ")
	kprintDec(us(mainTSC - kmTSC[kmRuntime]))
	kprint(" us in the runtime\n")
	c := mainTSC - bootTSC
	kprint("rt0: first instruction -> main.main: ")
	kprintDec(int64(c))
	kprint(" cycles (")
	kprintDec(int64(c * 1_000_000 / tscHz))
	kprint(" us at ")
	kprintDec(int64(tscHz / 1_000_000))
	kprint(" MHz)\n")
}
