package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/acpitab"
	"rt0/guest/sched"
)

// More than one CPU.
//
// Discovery: the ACPI MADT lists the processors (acpitab.ParseMADT: local
// APIC and x2APIC entries, enabled or online capable, by APIC ID). Without
// a MADT the machine runs on the boot CPU alone, and says so.
//
// Start-up (startAPs, on the boot CPU before the runtime runs): the
// trampoline (guest/arch/amd64/trampoline.go) goes to a free page below
// 1 MiB; then, as the Intel SDM's MP initialization describes (vol. 3
// §9.4.4), every AP gets an INIT IPI, 10 ms pass (on CPUs that need it:
// amd64.INITNeedsDelay), and each in turn gets
// two startup IPIs 200 µs apart naming that page. The AP runs the
// trampoline to long mode on the shared page tables, the boot CPU's CR0,
// CR4 and EFER, and jumps to apEntry (smp_amd64.s) on its own stack, which
// calls apMain: its GDT, TSS, IST stacks and GS base (amd64.LoadCPU), the
// shared IDT, the SYSCALL MSRs, SSE as on the boot CPU, its LAPIC and
// timer (the boot CPU's calibration). Then it takes the kernel lock and
// becomes idle: sched picks threads for it like for any CPU. An AP that has
// not reached apMain a second after its SIPIs is reported, put back to
// sleep with INIT, and left out. CPU numbers (what sched_getaffinity,
// getcpu and /sys call CPU n) are given in start-up order, the boot CPU 0.
//
// Concurrency: one big kernel lock. Every kernel entry runs to completion
// with interrupts off and never sleeps on a kernel stack (a blocked thread
// is a saved frame, sched.go), so the lock is taken on the way in (trap,
// at depth 0) and dropped on the way out: every kernel table — threads,
// VMAs, frames, page tables, files, pipes, sockets, the console — is then
// touched by one CPU at a time. Three things run without it: the TLB
// shoot-down IPI (the lock's holder waits for it), the NMI that stops the
// machine, and the spin on the lock itself, which answers shoot-downs so
// that a CPU spinning with interrupts off cannot deadlock the holder.
//
// Waking: a CPU with nothing to run HLTs in the idle thread with interrupts
// on. On its way out of the kernel, a CPU that leaves Runnable threads
// behind sends a wake IPI to an idle CPU for each (kick); a thread that
// gets a signal while running on another CPU gets that CPU interrupted so
// the signal lands now. The LAPIC timer of each CPU ends its own time
// slices; the earliest sleeper's deadline is armed on one CPU at a time
// (timerOwner), the last one to see it change.

// kcpu is the kernel's state of one CPU (kcpus, by CPU number).
type kcpu struct {
	depth   int    // kernel entries in progress on this CPU (trap.go)
	apicID  uint32 // its local APIC's ID
	online  uint32 // 1 once it can take IPIs and the lock (atomic)
	alive   uint32 // set by the AP in apMain: the boot CPU stops waiting (atomic)
	kicked  uint32 // a wake IPI is on its way and not yet served
	timerAt int64  // the deadline its LAPIC timer is armed for (0: none)
	tlbSeen uint64 // the shoot-down generation it has flushed for (atomic)
	drSeen  uint64 // the debug-register generation it has loaded (trace.go)
	// profAt is when this CPU takes its next profile sample; profEntry
	// what the kernel entry in progress serves and for which thread, and
	// profLast the last one that ended, and when; profUser is 1 while a
	// thread's sample an NMI asked for waits for vecProfile (profile.go).
	profAt    int64
	profEntry profEntry
	profLast  profEntry
	profUser  uint32
	// quietGen is the thread table's change count when reschedule
	// (trap.go) last made its full pass here.
	quietGen uint64

	// Start-up times (TSC), for the log and the tracer: SIPI sent, the
	// trampoline seen running, long mode seen, apMain, first schedule.
	tscSIPI, tscReal, tscLong, tscMain, tscSched uint64
}

var (
	kcpus [amd64.MaxCPUs]kcpu
	ncpu  = 1 // CPUs online: numbers 0 .. ncpu-1

	// What the MADT listed, for the log.
	cpusFound, cpusDropped int

	// stopping is set by stop before it interrupts the other CPUs with an
	// NMI: they halt where they are. It holds the stopping CPU's index +1,
	// so that an NMI on that CPU itself (the profiler's clock) does not
	// halt it.
	stopping uint32
)

// The MADT parser keeps as many processor entries as the kernel has CPU
// slots: both constants fail to compile here if they ever differ.
const (
	_ = uint(amd64.MaxCPUs - acpitab.MaxCPUs)
	_ = uint(acpitab.MaxCPUs - amd64.MaxCPUs)
)

// thisCPU returns the kernel state of the running CPU, and its number.
func thisCPU() (*kcpu, int) {
	id := int(amd64.This().ID)
	return &kcpus[id], id
}

// The kernel lock and what it measured (rt0.stats).
var bkl struct {
	held      uint32
	taken     uint64 // acquisitions
	contended uint64 // acquisitions that had to wait
	spinTSC   uint64 // TSC ticks spent waiting
}

// lockKernel takes the kernel lock, answering TLB shoot-downs while it
// waits (interrupts are off, so the IPI itself cannot arrive). trap has
// its own copy, in line.
func lockKernel(k *kcpu) {
	if amd64.Xchg32(&bkl.held, 1) != 0 {
		lockContended(k)
	}
	bkl.taken++
	serviceTLB(k) // a kernel mapping may have changed while we were out
}

// lockContended waits for the lock another CPU holds.
func lockContended(k *kcpu) {
	start := amd64.Rdtsc()
	for {
		for amd64.Load32(&bkl.held) != 0 {
			serviceTLB(k)
			if amd64.Load32(&stopping) != 0 {
				amd64.Halt()
			}
			amd64.Pause()
		}
		if amd64.Xchg32(&bkl.held, 1) == 0 {
			break
		}
	}
	bkl.contended++
	bkl.spinTSC += amd64.Rdtsc() - start
}

func unlockKernel() { amd64.Store32(&bkl.held, 0) }

// IPI vectors (the LAPIC's fixed interrupts; vecTimer is 32).
const (
	vecWake = 33 // look at the run queue (and pending signals) on the way out
	vecTLB  = 34 // flush the TLB, acknowledge, go back (no lock)
	// vecProfile: take the thread's profile sample an NMI asked for
	// (profile.go), from this CPU to itself.
	vecProfile = 35
)

// Interrupt command register: delivery modes and flags.
const (
	icrFixed    = 0 << 8
	icrNMI      = 4 << 8
	icrInit     = 5 << 8
	icrStartup  = 6 << 8
	icrPending  = 1 << 12 // xAPIC: delivery status, "send pending"
	icrAssert   = 1 << 14
	icrLevel    = 1 << 15
	lapicICRLow = 0x300
	lapicICRHi  = 0x310
)

// sendIPI sends an interprocessor interrupt to the CPU with APIC ID dest;
// low is the ICR's low word (vector, delivery mode, level).
func sendIPI(dest uint32, low uint32) {
	if x2apic {
		amd64.Wrmsr(0x830, uint64(dest)<<32|uint64(low))
		return
	}
	for i := 0; i < 1_000_000 && lapicRead(lapicICRLow)&icrPending != 0; i++ {
		amd64.Pause()
	}
	lapicWrite(lapicICRHi, dest<<24)
	lapicWrite(lapicICRLow, low)
}

// ipi interrupts CPU n with vector v.
func ipi(n int, v uint32) { sendIPI(kcpus[n].apicID, icrFixed|icrAssert|v) }

// delayNS busy-waits for ns nanoseconds of TSC time.
func delayNS(ns int64) {
	end := nanotime() + ns
	for nanotime() < end {
		amd64.Pause()
	}
}

// startAPs discovers the CPUs and starts all but the boot CPU. It runs on
// the boot CPU, holding the kernel lock, after the clock is calibrated.
func startAPs() {
	k0 := &kcpus[0]
	k0.apicID = lapicSelfID()
	k0.online = 1
	t, n := table(acpi.madt)
	if t == 0 {
		kprint("rt0: no ACPI MADT: running on the boot CPU only\n")
		return
	}
	m := acpitab.ParseMADT(amd64.Bytes(uintptr(t), int(n)))
	cpusFound, cpusDropped = m.NCPUs, m.Dropped
	if m.NCPUs <= 1 {
		logCPUs()
		return
	}
	page, ok := trampolinePage()
	if !ok {
		kprint("rt0: no free page below 1 MiB for the AP trampoline: running on the boot CPU only\n")
		return
	}
	cr3 := amd64.ReadCR3()
	if cr3 >= 1<<32 {
		kprint("rt0: page tables above 4 GiB: the APs cannot reach them; running on the boot CPU only\n")
		return
	}
	amd64.WriteTrampoline(amd64.Bytes(page, 4096), uint32(page))
	p := amd64.Trampoline(page)
	p.CR3 = uint32(cr3)
	p.CR4 = uint32(amd64.ReadCR4())
	p.EFER = uint32(amd64.Rdmsr(amd64.MSR_EFER)) & (1<<0 | 1<<8 | 1<<11) // SCE, LME, NXE
	p.CR0 = uint32(amd64.ReadCR0())
	p.Entry = uint64(apEntryAddr())

	// INIT every AP to be started, then one wait for all of them.
	var targets [amd64.MaxCPUs]uint32
	nt := 0
	for i := 0; i < m.NCPUs && nt < amd64.MaxCPUs-1; i++ {
		c := m.CPUs[i]
		if c.APICID == k0.apicID {
			continue
		}
		if !x2apic && c.APICID > 0xFE {
			kprint("rt0: CPU with APIC ID ")
			kprintDec(int64(c.APICID))
			kprint(" needs x2APIC mode, which the firmware did not enable: left out\n")
			continue
		}
		targets[nt] = c.APICID
		nt++
	}
	if nt < m.NCPUs-1 && nt == amd64.MaxCPUs-1 {
		cpusDropped += m.NCPUs - 1 - nt
	}
	for i := 0; i < nt; i++ {
		sendIPI(targets[i], icrInit|icrAssert|icrLevel)
		if !x2apic { // the de-assert, for APICs that want it (x2APIC has none)
			sendIPI(targets[i], icrInit|icrLevel)
		}
	}
	// The MP specification's 10 ms after INIT, which Linux keeps only for
	// CPUs older than x86-64's makers' (amd64.INITNeedsDelay): a tenth of
	// hello's boot under TCG.
	_, vb, vc, vd := amd64.Cpuid(0, 0)
	if sig, _, _, _ := amd64.Cpuid(1, 0); amd64.INITNeedsDelay([3]uint32{vb, vd, vc}, sig) {
		delayNS(10_000_000)
	}
	for i := 0; i < nt; i++ {
		startAP(p, page, targets[i])
	}
	logCPUs()
}

// startAP starts the AP with the given APIC ID as CPU ncpu, or reports why
// it could not.
func startAP(p *amd64.TrampolineParams, page uintptr, apicID uint32) {
	id := ncpu
	stacks, ok := kalloc(amd64.CPUStackBytes)
	if !ok {
		kprint("rt0: no memory for another CPU's stacks\n")
		return
	}
	c := amd64.PrepareCPU(id, uintptr(stacks))
	guardStacks(id)
	k := &kcpus[id]
	*k = kcpu{apicID: apicID}
	p.RSP = c.KStack
	p.Arg = uint64(id)
	amd64.Store32(&p.Stage, 0)
	k.tscSIPI = amd64.Rdtsc()
	for try := 0; try < 2; try++ {
		sendIPI(apicID, icrStartup|icrAssert|uint32(page>>12))
		delayNS(200_000)
	}
	deadline := nanotime() + 1_000_000_000
	for amd64.Load32(&k.alive) == 0 && nanotime() < deadline {
		st := amd64.Load32(&p.Stage)
		if st >= amd64.StageReal && k.tscReal == 0 {
			k.tscReal = amd64.Rdtsc()
		}
		if st >= amd64.StageLongMode && k.tscLong == 0 {
			k.tscLong = amd64.Rdtsc()
		}
		amd64.Pause()
	}
	if amd64.Load32(&k.alive) == 0 {
		logToConsole = true
		kprint("rt0: CPU with APIC ID ")
		kprintDec(int64(apicID))
		switch st := amd64.Load32(&p.Stage); {
		case st == 0:
			kprint(" did not answer its startup IPIs")
		case st == amd64.StageReal:
			kprint(" ran the trampoline but did not reach long mode")
		default:
			kprint(" reached long mode but not the kernel")
		}
		kprint(" within 1 s: left out\n")
		logToConsole = false
		sendIPI(apicID, icrInit|icrAssert|icrLevel) // back to waiting for a SIPI
		kfree(stacks, amd64.CPUStackBytes)
		return
	}
	// The boot CPU sees the stages in its poll loop, later than they
	// happen; apMain's own TSC proves both were passed by then, so no
	// stage is recorded after it (nor the trampoline after long mode).
	if k.tscLong == 0 || k.tscLong > k.tscMain {
		k.tscLong = k.tscMain
	}
	if k.tscReal == 0 || k.tscReal > k.tscLong {
		k.tscReal = k.tscLong
	}
	ncpu++
}

// trampolinePage returns a 4 KiB page below 1 MiB that the memory map calls
// available and no boot module uses: 0x8000 and up first (below is the
// real-mode interrupt table and the BIOS data area, and loaders' stacks).
// Nothing else in low memory is still needed once the boot information has
// been read (physmem.go copies what it keeps, and the frame allocator never
// hands out the first MiB).
func trampolinePage() (uintptr, bool) {
	free := func(a uint64) bool {
		if !inAvailable(a, a+4096) {
			return false
		}
		for i := 0; i < bootInfo.NModules; i++ {
			if m := bootInfo.Modules[i]; m.Start < a+4096 && m.End > a {
				return false
			}
		}
		return true
	}
	for a := uint64(0x8000); a < 0x9F000; a += 4096 {
		if free(a) {
			return uintptr(a), true
		}
	}
	for a := uint64(0x1000); a < 0x8000; a += 4096 {
		if free(a) {
			return uintptr(a), true
		}
	}
	return 0, false
}

// logCPUs names the CPUs found and started.
func logCPUs() {
	kprint("rt0: CPUs: ")
	kprintDec(int64(cpusFound))
	kprint(" in the MADT")
	if cpusDropped > 0 {
		kprint(" (")
		kprintDec(int64(cpusDropped))
		kprint(" beyond rt0's limit of ")
		kprintDec(amd64.MaxCPUs)
		kprint(" left out)")
	}
	kprint(", ")
	kprintDec(int64(ncpu))
	kprint(" started; APIC IDs")
	for i := 0; i < ncpu; i++ {
		kprint(" ")
		kprintDec(int64(kcpus[i].apicID))
	}
	kprint("\n")
}

// printCPUStats (rt0.stats) says how busy each CPU was and what the
// kernel lock cost.
func printCPUStats() {
	kprint("rt0: cpus:")
	for i := 0; i < ncpu; i++ {
		c := amd64.CPUs(i)
		busy := c.BusyNS
		if c.Current != 0 {
			busy += uint64(nanotime() - c.RunSince)
		}
		kprint(" cpu")
		kprintDec(int64(i))
		kprint("=")
		kprintDec(int64(busy / 1000))
		kprint("us")
	}
	kprint(" busy; kernel lock taken ")
	kprintDec(int64(bkl.taken))
	kprint(" times, ")
	kprintDec(int64(bkl.contended))
	kprint(" contended, ")
	kprintDec(int64(bkl.spinTSC * 1_000_000 / tscHz))
	kprint(" us spinning\n")
}

// apEntryAddr returns the address of apEntry (smp_amd64.s).
func apEntryAddr() uintptr

// apMain is the first Go code of an AP, on its syscall stack, interrupts
// off. It never returns: it enters the idle thread.
func apMain(id uint64) {
	amd64.LoadCPU(int(id))
	k := &kcpus[id]
	k.tscMain = amd64.Rdtsc()
	k.depth = 1
	initLAPIC()
	amd64.Store32(&k.online, 1)
	amd64.Store32(&k.alive, 1)
	lockKernel(k)
	loadDebugRegs(k) // the tracer's breakpoints, as on the boot CPU
	amd64.This().Current = 0
	k.depth = 0
	unlockKernel()
	// The idle frame never changes after boot (sched.Switch does not save
	// it), so reading it without the lock is safe.
	amd64.Enter(&sched.T(0).Frame)
}

// kick wakes CPUs for the Runnable threads this CPU leaves behind: for
// each, an idle CPU it may run on (affinity) that no wake IPI is on its way
// to. A thread no idle CPU can take gets a busy CPU it may run on that has
// no slice timer armed (none due within a quantum) interrupted, so that it arms one and the thread gets
// its turn.
func kick(me, ready int, now int64) {
	var claimed [amd64.MaxCPUs]bool // a CPU kicked for an earlier thread of this pass
	for i := 1; i < sched.Top() && ready > 0; i++ {
		t := sched.T(i)
		if t.State != sched.Runnable {
			continue
		}
		ready--
		target := -1
		for c := 0; c < ncpu; c++ {
			if c != me && !claimed[c] && amd64.CPUs(c).Current == 0 && t.Eligible(c) {
				target = c
				break
			}
		}
		if target < 0 {
			if t.Eligible(me) {
				continue // this CPU's own slice timer is armed: it will take it
			}
			for c := 0; c < ncpu; c++ {
				if at := kcpus[c].timerAt; c != me && !claimed[c] && (at == 0 || at > now+sched.Quantum) && t.Eligible(c) {
					target = c
					break
				}
			}
		}
		if target < 0 {
			continue
		}
		claimed[target] = true
		if k := &kcpus[target]; k.kicked == 0 {
			k.kicked = 1
			ipi(target, vecWake)
		}
	}
}

// interruptThread makes the CPU running thread slot i (if another) enter
// the kernel now: a signal for it is then delivered at once.
func interruptThread(i int) {
	_, me := thisCPU()
	t := sched.T(i)
	if t.State != sched.Running || int(t.CPU) == me {
		return
	}
	ipi(int(t.CPU), vecWake)
}

// The earliest sleeper's deadline is armed on one CPU.
var (
	timerOwner = -1
	timerDue   int64
)

// timerFor returns what CPU me arms its LAPIC timer for, on its way out:
// its slice's end if others wait for a CPU, and the sleepers' next
// deadline if it owns that (it takes it over if the deadline moved
// earlier, or nobody has it).
func timerFor(me int, slice, next int64) int64 {
	switch {
	case next == 0:
		if timerOwner == me {
			timerOwner = -1
		}
	case timerOwner < 0 || timerOwner == me || next < timerDue:
		timerOwner, timerDue = me, next
	}
	at := slice
	if timerOwner == me && (at == 0 || timerDue < at) {
		at = timerDue
	}
	return at
}

// tlbGen counts changes to the page tables that other CPUs may have
// cached: unmapped or write-protected pages.
var tlbGen uint64

// serviceTLB flushes this CPU's TLB if the page tables changed since it
// last did.
func serviceTLB(k *kcpu) {
	// k.tlbSeen: only this CPU writes it, so a plain read sees its own
	// last store (the others read it atomically).
	if g := amd64.Load64(&tlbGen); g != k.tlbSeen {
		flushTLB(k, g)
	}
}

// flushTLB flushes this CPU's TLB, which has now seen generation g.
func flushTLB(k *kcpu, g uint64) {
	amd64.WriteCR3(amd64.ReadCR3())
	amd64.Store64(&k.tlbSeen, g)
}

// shootdown makes a page-table change that takes access away seen by
// every CPU before the system call that made it returns: each CPU running
// a thread (in user code, or spinning on the lock) flushes its TLB and
// says so; idle CPUs flush when they next take the lock. The caller holds
// the lock and has flushed its own entries.
func shootdown() {
	if ncpu == 1 {
		return
	}
	g := amd64.Add64(&tlbGen, 1)
	k, me := thisCPU()
	amd64.Store64(&k.tlbSeen, g)
	var wait [amd64.MaxCPUs]bool
	for i := 0; i < ncpu; i++ {
		if i != me && amd64.CPUs(i).Current != 0 {
			wait[i] = true
			ipi(i, vecTLB)
		}
	}
	deadline := nanotime() + 1_000_000_000
	for i := 0; i < ncpu; i++ {
		for wait[i] && amd64.Load64(&kcpus[i].tlbSeen) < g {
			if nanotime() > deadline {
				kprint("rt0: CPU ")
				kprintDec(int64(i))
				kprint(" did not answer a TLB shoot-down within 1 s\n")
				panicMsg("a CPU stopped answering interrupts")
			}
			amd64.Pause()
		}
	}
}

// stopOthers halts every other CPU (stop, panics): an NMI reaches them
// even spinning on the lock with interrupts off.
func stopOthers() {
	_, me := thisCPU()
	amd64.Store32(&stopping, uint32(me)+1)
	for i := 0; i < ncpu; i++ {
		if i != me && amd64.Load32(&kcpus[i].online) != 0 {
			sendIPI(kcpus[i].apicID, icrNMI|icrAssert)
		}
	}
}
