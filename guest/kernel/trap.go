package kernel

import (
	"unsafe"

	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/mem"
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// trap is where every kernel entry lands (guest/arch/amd64.SetHandler): on a kernel
// stack, interrupts off, the interrupted thread's state in tf.
//
// depth (per CPU, smp.go) counts kernel entries in progress. The boot code
// counts as one, so a page fault while boot writes the initial stack does
// not try to schedule. A trap that arrives at depth 0 came from a thread:
// it takes the kernel lock (smp.go), and after serving it, the scheduler
// decides which thread the trap returns to. A nested trap (depth > 0) is
// the kernel faulting on its own: only a demand-zero page fault (the
// kernel touching user memory it has validated) is served there, on the
// #PF stack, apart from the handler it interrupted (idt.go); the page-fault
// path itself never touches unbacked memory (usermem.go backs what it
// checks), since a #PF there would reuse its own stack. Anything else
// stops the machine (panic.go says "in the kernel").
func trap(tf *amd64.TrapFrame) {
	// The TSC readings of rt0.stats's system call path cost as much as a
	// tenth of a getpid under TCG: only with the option.
	var t0, t1, t2 uint64
	if showStats {
		t0 = amd64.Rdtsc()
	}
	c := amd64.This()
	me := int(c.ID)
	k := &kcpus[me]
	if tf.Vector == amd64.VecNMI {
		if s := amd64.Load32(&stopping); s != 0 && s != uint32(me)+1 {
			amd64.Halt() // another CPU stops the machine
		}
		if amd64.Load32(&prof.nmi) != profNMIOff {
			profileNMI(tf, c, k) // the profiler's clock: no lock, nothing changed
			return
		}
	}
	if k.depth == 0 {
		if tf.Vector == vecTLB {
			serviceTLB(k) // the lock's holder waits for this: no lock
			eoi()
			return
		}
		// lockKernel, in line (two calls put it over the inliner's
		// budget): the uncontended lock is one XCHG.
		if amd64.Xchg32(&bkl.held, 1) != 0 {
			lockContended(k)
		}
		bkl.taken++
		serviceTLB(k)
		k.kicked = 0
		c.Frame = uint64(uintptr(unsafe.Pointer(tf)))
		if prof.hz != 0 {
			profEnter(k, tf, c)
		}
	}
	k.depth++
	if showStats {
		t1 = amd64.Rdtsc()
	}
	switch v := tf.Vector; {
	case v == amd64.VectorSyscall:
		syscall(tf)
	case v == amd64.VecPageFault:
		pageFault(tf)
	case v == vecTimer:
		if prof.hz != 0 && k.depth == 1 {
			profileSample(tf, k, c)
		}
		k.timerAt = 0
		maybeRefineTSC()
		eoi() // a deadline passed: Expire below wakes whoever waited
	case v == vecWake:
		eoi() // another CPU wants this one to look at the queue: below
	case v == vecProfile:
		eoi()
		profileUser(tf, k, c)
	case v == vecISA+4:
		serialInterrupt()
		eoi()
	case v == vecISA+1:
		keyboardInterrupt()
		eoi()
	case v >= vecISA && v < vecISA+maxGSI:
		deviceInterrupt(uint32(v - vecISA))
		eoi()
	case v == amd64.VecSpurious, v >= picBase && v < picBase+16:
		// spurious LAPIC or 8259 interrupt: no EOI
	case v == amd64.VecDebug:
		debugTrap(tf)
	case v == amd64.VecNMI:
		fault(tf, "non-maskable interrupt")
	case v < 32:
		exception(tf)
	default:
		eoi()
		kprint("rt0: unexpected interrupt vector ")
		kprintDec(int64(v))
		kprint("\n")
	}
	if showStats {
		t2 = amd64.Rdtsc()
	}
	if k.depth == 1 {
		reschedule(tf, c, k, me)
	}
	k.depth--
	if k.depth == 0 {
		if showStats && tf.Vector == amd64.VectorSyscall {
			// Where a system call's cycles go, for rt0.stats (the
			// counters are the lock holder's: no race).
			t3 := amd64.Rdtsc()
			sysPath.n++
			sysPath.lock += t1 - t0
			sysPath.handler += t2 - t1
			sysPath.resched += t3 - t2
			if nr := syscallNR; nr < uint64(len(syscallCycles)) {
				syscallCycles[nr] += t2 - t1
			}
		}
		c.Frame = 0
		if prof.hz != 0 {
			profExit(k)
		}
		unlockKernel()
	}
}

// trapAddr returns trap's ABI0 address, which the entry paths call
// (entry_amd64.s).
func trapAddr() uintptr

// sysPath adds up the TSC cycles of the system calls' path through trap:
// taking the lock, the handler, the way out (expiring timers, scheduling,
// signals, the timer, wake-ups). The assembly around trap (saving and
// restoring registers, FS, the x87/SSE state) is what a round trip costs
// beyond their sum.
var sysPath struct{ n, lock, handler, resched uint64 }

// printSyscallPath prints sysPath's averages.
func printSyscallPath() {
	if sysPath.n == 0 {
		return
	}
	kprint("rt0: system call path, TSC cycles per call: lock ")
	kprintDec(int64(sysPath.lock / sysPath.n))
	kprint(", handler ")
	kprintDec(int64(sysPath.handler / sysPath.n))
	kprint(", way out ")
	kprintDec(int64(sysPath.resched / sysPath.n))
	kprint(" (")
	kprintDec(int64(sysPath.n))
	kprint(" calls)\n")
	kprint("rt0: system call handlers, TSC cycles per call:")
	for nr, c := range syscallCycles {
		if n := syscallCounts[nr]; c != 0 && n != 0 {
			kprint(" ")
			kprint(linux.SyscallName(uint64(nr)))
			kprint("=")
			kprintDec(int64(c / n))
		}
	}
	kprint("\n")
}

// syscallCycles adds up each system call's handler cycles (sysPath).
var syscallCycles [512]uint64

// inKernel reports whether the running CPU is in a nested trap: the
// kernel itself faulted.
func inKernel() bool {
	k, _ := thisCPU()
	return k.depth > 1
}

// reschedule runs on the way out of a trap that came from a thread.
//
// Most system calls change nothing it decides on: no thread blocked, woke,
// appeared or exited, no slice ended. The way out of one then checks just
// that — the thread table's change count against what its last full pass
// saw — and goes on to signals and debug registers, without walking the
// table (four walks of every thread) or touching the timer. Time needs no
// check: a deadline or a slice's end that the last pass saw coming has
// the LAPIC timer armed for it, on this CPU or on the one that owns the
// deadline (timerFor), and that interrupt takes the full pass. getpid
// under TCG: 412 ns of this path down to the check.
func reschedule(tf *amd64.TrapFrame, c *amd64.CPU, k *kcpu, me int) {
	if tf.Vector == amd64.VectorSyscall && k.quietGen == sched.Gen() && c.Current != 0 {
		// The checks of deliverPending and loadDebugRegs, in line.
		if t := sched.T(int(c.Current)); t.Pending&^t.SigMask != 0 {
			deliverPending(tf)
		}
		if k.drSeen != debugRegs.gen {
			loadDebugRegs(k)
		}
		return
	}
	now := nanotime()
	sched.Expire(now)
	expireTimers(now, int(c.Current)) // before Schedule: a signal may wake a thread
	sched.Schedule(tf, now)
	timerWall, timerCPU := expireTimers(now, int(c.Current)) // the next expiries, for the thread now here
	deliverPending(tf)
	loadDebugRegs(k)
	if k.tscSched == 0 {
		k.tscSched = amd64.Rdtsc()
	}
	next := earliest(sched.NextDeadline(), timerWall)
	live, runnable := sched.Counts()
	if live == 0 {
		panicMsg("no threads left")
	}
	if runnable == 0 && next == 0 && !waitingForInput() && !waitingForDevice() {
		panicMsg("deadlock: every thread is blocked with no timeout and nothing can wake them")
	}
	ready := sched.Ready()
	var slice int64
	if sched.Current() != 0 && ready > 0 {
		slice = sched.SliceEnd()
	}
	at := earliest(earliest(timerFor(me, slice, next), timerCPU), profNext(k, now))
	if at != k.timerAt {
		// Unchanged, the LAPIC counts down to it already: a write of
		// its register is an MMIO access, the dearest step of the way
		// out under emulation (3 µs of a 6 µs getpid under TCG).
		armTimer(now, at)
	}
	k.timerAt = at
	if ready > 0 && ncpu > 1 {
		kick(me, ready, now)
	}
	k.quietGen = sched.Gen()
}

// pageFault serves demand-zero faults on user VMAs; any other fault of the
// program becomes SIGSEGV (segv), which the runtime turns into a panic.
func pageFault(tf *amd64.TrapFrame) {
	addr := amd64.ReadCR2()
	const errPresent, errWrite, errFetch = 1, 2, 16
	if inKernel() {
		if cpu, stack, ok := guardHit(addr); ok {
			logToConsole = true
			kprint("\nrt0: kernel stack overflow: CPU ")
			kprintDec(int64(cpu))
			kprint("'s ")
			kprint(stackNames[stack])
			kprint(" stack ran into its guard page\n")
			fault(tf, "kernel stack overflow")
			return
		}
		if tf.ErrCode&(errPresent|errFetch) == errPresent|errFetch {
			fault(tf, "instruction fetch from no-execute memory")
			return
		}
	}
	i, ok := vmas.Find(addr)
	if !ok {
		if tf.ErrCode&errPresent != 0 {
			segv(tf, linux.SEGV_ACCERR, addr, "write to read-only memory")
		} else {
			segv(tf, linux.SEGV_MAPERR, addr, "address not mapped")
		}
		return
	}
	v := vmas.At(i)
	write := tf.ErrCode&errWrite != 0
	if e := pte(addr, false); e != nil && *e&ptePresent != 0 && (!write || *e&pteWrite != 0) {
		// The page allows the access now: another CPU filled it first,
		// or this CPU's TLB held an entry from before an mprotect that
		// granted more. Drop the entry and let the access retry.
		amd64.Invlpg(uintptr(addr))
		return
	}
	switch {
	case v.Prot == mem.PROT_NONE:
		segv(tf, linux.SEGV_ACCERR, addr, "access to a PROT_NONE mapping")
	case write && v.Prot&mem.PROT_WRITE == 0:
		segv(tf, linux.SEGV_ACCERR, addr, "write to a read-only mapping")
	case tf.ErrCode&errPresent != 0:
		segv(tf, linux.SEGV_ACCERR, addr, "protection violation")
	default:
		if !mapZeroPage(addr&^(mem.PageSize-1), v.Prot&mem.PROT_WRITE != 0) {
			panicMsg("out of memory: no free page frame for a page fault (give the machine more memory: rt0 run -m)")
		}
		stats.pageFaults++
	}
}

// segv delivers SIGSEGV for a bad access by a thread, or stops the machine
// if the program has no handler or the kernel itself faulted.
func segv(tf *amd64.TrapFrame, code int32, addr uint64, why string) {
	if !faultSignal(tf, linux.SIGSEGV, code, addr) {
		fatalSignal(tf, linux.SIGSEGV, why)
	}
}

// exception serves the CPU exceptions other than #PF, #DB and NMI: the ones
// a program can cause become signals, as on Linux.
func exception(tf *amd64.TrapFrame) {
	var sig uint64
	var code int32 = linux.SI_KERNEL
	addr := tf.RIP
	switch tf.Vector {
	case amd64.VecDivide:
		sig, code = linux.SIGFPE, linux.FPE_INTDIV
	case amd64.VecX87, amd64.VecSIMD:
		sig, code = linux.SIGFPE, 0
	case amd64.VecInvalidOp:
		sig, code = linux.SIGILL, linux.ILL_ILLOPN
	case amd64.VecBreakpoint:
		sig, code = linux.SIGTRAP, linux.TRAP_BRKPT
	case amd64.VecGP, 12: // #GP (e.g. a non-canonical address), #SS
		sig, addr = linux.SIGSEGV, 0
	case 17: // #AC
		sig = linux.SIGBUS
	default:
		fault(tf, "")
		return
	}
	if !faultSignal(tf, sig, code, addr) {
		fatalSignal(tf, sig, "")
	}
}

// fatalSignal reports a fault nobody handles. In the kernel it is a kernel
// panic (exit 125); in a program without a handler it is Linux's default
// action, death by the signal (exit 128+sig), with the same report.
func fatalSignal(tf *amd64.TrapFrame, sig uint64, why string) {
	if inKernel() || sched.Current() == 0 {
		fault(tf, why)
		return
	}
	faultReport(tf, why)
	killedBy(sig)
}

// stats counts what the kernel did, for `rt0 run -v` and the benchmarks.
var stats struct {
	pageFaults uint64
	syscalls   uint64
	signals    uint64
}
