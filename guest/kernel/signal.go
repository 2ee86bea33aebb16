package kernel

import (
	"unsafe"

	"rt0/guest/arch/amd64"
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Signal delivery, the way Linux's x86-64 kernel does it, because the Go
// runtime is built on it: a nil dereference becomes SIGSEGV and the
// runtime's handler turns it into a panic; a tight loop is preempted by
// SIGURG from tgkill (async preemption); a crash ends with raise().
//
// To deliver signal sig to a thread, the kernel writes an rt_sigframe on
// the thread's stack (its alternate signal stack if the handler asked for
// SA_ONSTACK, as the runtime always does), and points the thread's frame at
// the handler:
//
//	sp ->  pretcode     sa_restorer: the handler's RET lands there
//	       ucontext     uc_flags, uc_link, uc_stack, uc_mcontext (the
//	                    interrupted registers, struct sigcontext), uc_sigmask
//	       siginfo      si_signo, si_errno, si_code, si_addr, ...
//	       (fpstate)    the FXSAVE or XSAVE image, 64-byte aligned, above
//	                    the frame (signal_fpstate.go)
//
// with RDI=sig, RSI=&siginfo, RDX=&ucontext. The restorer calls
// rt_sigreturn, which loads the registers back from uc_mcontext — as the
// handler left them: the runtime's handler edits RIP and RSP there to
// inject a call to sigpanic or asyncPreempt.

// Offsets in the rt_sigframe (Linux arch/x86/include/asm/sigframe.h,
// uapi/asm/sigcontext.h); the runtime reads the same layout
// (runtime/defs_linux_amd64.go: ucontext, sigcontext, siginfo).
const (
	sfPretcode = 0
	sfUcontext = 8
	ucStack    = 16  // from the ucontext
	ucMcontext = 40  // struct sigcontext
	ucSigmask  = 296 // 40 + 256
	sfSiginfo  = 8 + 304
	siCode     = 8  // in the siginfo
	siAddr     = 16 // in the siginfo (si_pid for a signal from kill)
	sfSize     = sfSiginfo + 128

	// struct sigcontext: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp,
	// rip, eflags, cs/gs/fs/pad, err, trapno, oldmask, cr2, fpstate
	scR8, scR9, scR10, scR11, scR12, scR13, scR14, scR15                = 0, 8, 16, 24, 32, 40, 48, 56
	scRDI, scRSI, scRBP, scRBX, scRDX, scRAX, scRCX, scRSP              = 64, 72, 80, 88, 96, 104, 112, 120
	scRIP, scEflags, scCS, scErr, scTrapno, scOldmask, scCR2, scFpstate = 128, 136, 144, 152, 160, 168, 176, 184

	siTkill = linux.SI_TKILL

	// The siginfo union (where si_addr is), for SI_TIMER: si_tid (the
	// timer's id), si_overrun, si_value (asm-generic/siginfo.h's _timer;
	// host/rules checks its fields' order and types).
	siTimerID = 16
	siOverrun = 20
	siValue   = 24
)

// defaultIgnored reports the signals whose default action is to do nothing.
func defaultIgnored(sig uint64) bool {
	return sig == linux.SIGCHLD || sig == linux.SIGURG || sig == linux.SIGWINCH || sig == linux.SIGCONT
}

// signalThread makes sig pending for thread i (tgkill, tkill, kill). A
// signal with no handler does its default: nothing, or the end of the
// program with status 128+sig, as a shell would report.
func signalThread(i int, sig uint64) { signalFrom(i, sig, 0) }

// signalFrom is signalThread for a signal from src (a Thread.SigSource):
// what its siginfo will say, if it was not pending already (a standard
// signal is pending once, with the first sender's information).
func signalFrom(i int, sig uint64, src int8) {
	h := sigactions[sig][0]
	switch {
	case h == linux.SIG_IGN || (h == linux.SIG_DFL && defaultIgnored(sig)):
		return
	case h == linux.SIG_DFL:
		killedBy(sig)
	}
	t := sched.T(i)
	if t.Pending&(1<<(sig-1)) == 0 {
		t.SigSource[sig-1] = src
	}
	t.Pending |= 1 << (sig - 1)
	// A thread sleeping in a system call is woken to take the signal, the
	// call failing with EINTR, as Linux does (the runtime retries): the
	// runtime counts on it, e.g. AllThreadsSyscall signals every M and
	// waits for each to answer, parked ones included.
	if t.State == sched.Blocked && t.SigMask&(1<<(sig-1)) == 0 {
		r := int64(-linux.EINTR)
		if t.Wait == sched.WaitPipeWrite && t.Args[2] > 0 {
			r = int64(t.Args[2]) // what was written so far
		}
		sched.Wake(i, r)
	}
	interruptThread(i) // running on another CPU: deliver now, not at its next tick
}

// killedBy ends the program as a fatal signal's default action would.
func killedBy(sig uint64) {
	kprint("rt0: program killed by signal ")
	kprintDec(int64(sig))
	kprint("\n")
	stop(128 + int(sig))
}

// deliverPending delivers one pending, unblocked signal of the thread whose
// frame is tf, if it has one.
func deliverPending(tf *amd64.TrapFrame) {
	t := sched.Cur()
	ready := t.Pending &^ t.SigMask
	if ready == 0 || sched.Current() == 0 {
		return
	}
	sig := uint64(1)
	for ready&1 == 0 {
		ready >>= 1
		sig++
	}
	t.Pending &^= 1 << (sig - 1)
	src := t.SigSource[sig-1]
	t.SigSource[sig-1] = 0
	code := int32(siTkill)
	switch {
	case src < 0:
		code = linux.SI_KERNEL
	case src > 0:
		code = linux.SI_TIMER
	}
	if !deliver(tf, sig, code, 0, src) {
		killedBy(linux.SIGSEGV)
	}
}

// faultSignal turns a CPU exception in a thread into a signal, if the
// program has a handler for it; it returns false if the fault is fatal.
func faultSignal(tf *amd64.TrapFrame, sig uint64, code int32, addr uint64) bool {
	if inKernel() || sched.Current() == 0 {
		return false // the kernel itself, or the idle thread
	}
	t := sched.Cur()
	h := sigactions[sig][0]
	if h == linux.SIG_DFL || h == linux.SIG_IGN || t.SigMask&(1<<(sig-1)) != 0 {
		return false // a blocked or unhandled synchronous fault kills, as on Linux
	}
	return deliver(tf, sig, code, addr, 0)
}

// deliver builds the signal frame for sig on the current thread's stack and
// redirects tf to the handler. It returns false if the stack is unusable.
// src is the signal's SigSource (0 for a fault).
func deliver(tf *amd64.TrapFrame, sig uint64, code int32, addr uint64, src int8) bool {
	t := sched.Cur()
	act := &sigactions[sig]
	handler, flags, restorer, mask := act[0], act[1], act[2], act[3]

	sp := tf.RSP
	onAlt := t.AltStack[0] != 0 && t.AltStack[1]&linux.SS_DISABLE == 0 &&
		sp > t.AltStack[0] && sp <= t.AltStack[0]+t.AltStack[2]
	if flags&linux.SA_ONSTACK != 0 && t.AltStack[1]&linux.SS_DISABLE == 0 && t.AltStack[2] != 0 && !onAlt {
		sp = t.AltStack[0] + t.AltStack[2]
	} else {
		sp -= 128 // the red zone of the interrupted function
	}
	fpSize := fpstateSize()
	sp = (sp - fpSize) &^ 63
	fp := sp
	sp = ((sp - sfSize) &^ 15) - 8 // as if the handler had just been called
	frame, ok := userBytes(sp, fp+fpSize-sp, true)
	if !ok {
		return false
	}
	clear(frame[:fp-sp])
	saveFPState(frame[fp-sp:], tf)

	put64(frame[sfPretcode:], restorer)
	uc := frame[sfUcontext:]
	put64(uc[ucFlags:], sigFlags())
	put64(uc[ucStack:], t.AltStack[0])
	altFlags := uint32(t.AltStack[1])
	if onAlt || flags&linux.SA_ONSTACK != 0 {
		altFlags |= linux.SS_ONSTACK
	}
	put32(uc[ucStack+8:], altFlags)
	put64(uc[ucStack+16:], t.AltStack[2])
	sc := uc[ucMcontext:]
	regs := [...]struct {
		off int
		v   uint64
	}{
		{scR8, tf.R8}, {scR9, tf.R9}, {scR10, tf.R10}, {scR11, tf.R11},
		{scR12, tf.R12}, {scR13, tf.R13}, {scR14, tf.R14}, {scR15, tf.R15},
		{scRDI, tf.RDI}, {scRSI, tf.RSI}, {scRBP, tf.RBP}, {scRBX, tf.RBX},
		{scRDX, tf.RDX}, {scRAX, tf.RAX}, {scRCX, tf.RCX}, {scRSP, tf.RSP},
		{scRIP, tf.RIP}, {scEflags, tf.RFLAGS}, {scCS, tf.CS&0xFFFF | (tf.SS&0xFFFF)<<48}, // cs, gs, fs, ss
		{scErr, tf.ErrCode}, {scTrapno, tf.Vector}, {scOldmask, t.SigMask},
		{scCR2, addr}, {scFpstate, fp},
	}
	for _, r := range regs {
		put64(sc[r.off:], r.v)
	}
	put64(uc[ucSigmask:], t.SigMask)
	info := frame[sfSiginfo:]
	put32(info[0:], uint32(sig))
	put32(info[siCode:], uint32(code))
	switch {
	case code == siTkill:
		put32(info[siAddr:], 1) // si_pid
	case src > 0:
		timerSiginfo(info, src) // a POSIX timer's
	case src < 0:
		// an interval timer's: nothing more
	default:
		put64(info[siAddr:], addr)
	}

	// The handler runs with sa_mask and the signal itself blocked.
	t.SigMask |= mask
	if flags&linux.SA_NODEFER == 0 {
		t.SigMask |= 1 << (sig - 1)
	}
	if flags&linux.SA_RESETHAND != 0 {
		act[0] = linux.SIG_DFL
	}
	tf.RSP = sp
	tf.RIP = handler
	tf.RDI = sig
	tf.RSI = sp + sfSiginfo
	tf.RDX = sp + sfUcontext
	tf.RAX = 0
	tf.RFLAGS &^= amd64.RFLAGS_TF | amd64.RFLAGS_DF
	stats.signals++
	return true
}

// sigcontextRegs are the registers rt_sigreturn restores as they are: where
// each is in the sigcontext and in the trap frame. (A table, not 17
// assignments: each would inline its own copy of le64.)
var sigcontextRegs = [...]struct{ sc, frame uintptr }{
	{scR8, unsafe.Offsetof(amd64.TrapFrame{}.R8)}, {scR9, unsafe.Offsetof(amd64.TrapFrame{}.R9)},
	{scR10, unsafe.Offsetof(amd64.TrapFrame{}.R10)}, {scR11, unsafe.Offsetof(amd64.TrapFrame{}.R11)},
	{scR12, unsafe.Offsetof(amd64.TrapFrame{}.R12)}, {scR13, unsafe.Offsetof(amd64.TrapFrame{}.R13)},
	{scR14, unsafe.Offsetof(amd64.TrapFrame{}.R14)}, {scR15, unsafe.Offsetof(amd64.TrapFrame{}.R15)},
	{scRDI, unsafe.Offsetof(amd64.TrapFrame{}.RDI)}, {scRSI, unsafe.Offsetof(amd64.TrapFrame{}.RSI)},
	{scRBP, unsafe.Offsetof(amd64.TrapFrame{}.RBP)}, {scRBX, unsafe.Offsetof(amd64.TrapFrame{}.RBX)},
	{scRDX, unsafe.Offsetof(amd64.TrapFrame{}.RDX)}, {scRAX, unsafe.Offsetof(amd64.TrapFrame{}.RAX)},
	{scRCX, unsafe.Offsetof(amd64.TrapFrame{}.RCX)}, {scRSP, unsafe.Offsetof(amd64.TrapFrame{}.RSP)},
	{scRIP, unsafe.Offsetof(amd64.TrapFrame{}.RIP)},
}

// sysRtSigreturn restores the thread from the ucontext the restorer's RSP
// points just past pretcode of: signal mask, registers and FPU state, in
// Linux's order. A frame it cannot take (unreadable, or an FPU state Linux
// refuses) is Linux's "bad frame": SIGSEGV, forced (forceSignal).
func sysRtSigreturn(tf *amd64.TrapFrame) int64 {
	ucAddr := tf.RSP // the handler's RET popped pretcode
	uc, ok := userBytes(ucAddr, sfSize-sfUcontext, false)
	if !ok {
		forceSignal(tf, linux.SIGSEGV)
		return keepRAX
	}
	const unblockable = 1<<(linux.SIGKILL-1) | 1<<(linux.SIGSTOP-1)
	sched.Cur().SigMask = le64(uc[ucSigmask:]) &^ unblockable
	sc := uc[ucMcontext:]
	for _, m := range sigcontextRegs {
		*(*uint64)(unsafe.Add(unsafe.Pointer(tf), m.frame)) = le64(sc[m.sc:])
	}
	// Only the arithmetic and direction flags come from the context: a
	// handler may not turn interrupts off or change privilege.
	const userFlags = 0xCD5 // CF PF AF ZF SF TF DF OF
	tf.RFLAGS = tf.RFLAGS&^userFlags | le64(sc[scEflags:])&userFlags
	if !restoreFPState(tf, le64(sc[scFpstate:])) {
		tf.ResetFX() // Linux's fpu__clear_user_states
		forceSignal(tf, linux.SIGSEGV)
	}
	return keepRAX
}

// forceSignal delivers sig (a fault the kernel found: SI_KERNEL) to the
// running thread now, as Linux's force_sig: a handler gets it if the
// signal is neither blocked nor ignored; otherwise its action goes back to
// the default, which kills the program — as does a stack it cannot be
// delivered on.
func forceSignal(tf *amd64.TrapFrame, sig uint64) {
	t := sched.Cur()
	h := sigactions[sig][0]
	if h == linux.SIG_DFL || h == linux.SIG_IGN || t.SigMask&(1<<(sig-1)) != 0 {
		killedBy(sig)
	}
	if !deliver(tf, sig, linux.SI_KERNEL, 0, 0) {
		killedBy(sig)
	}
}
