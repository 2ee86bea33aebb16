package kernel

import "rt0/arch/amd64"

// Milestones: moments of the startup measured with the TSC. The first is
// rt0's first instruction (stub32 reads the TSC before anything else); the
// last that boot can see is the program's main.main, which the kernel
// catches with a hardware execution breakpoint (DR0) on its address, found
// by boot/image in the ELF's symbols: the program is not modified and the
// breakpoint costs one #DB exception, once.

var (
	enterTSC uint64 // TSC when the kernel entered _rt0_amd64_linux
	mainTSC  uint64 // TSC when main.main was entered (0: not yet)
)

// armMainBreakpoint sets DR0 on main.main.
func armMainBreakpoint() {
	if mm := links().MainMain; mm != 0 {
		amd64.WriteDR0(mm)
		amd64.WriteDR6(0)
		amd64.WriteDR7(1) // L0: local enable, execution breakpoint, 1 byte
	}
}

// debugTrap serves #DB: the main.main breakpoint records its time and
// disarms itself. Anything else (single-step, other breakpoints) is not
// expected.
func debugTrap(tf *amd64.TrapFrame) {
	dr6 := amd64.ReadDR6()
	amd64.WriteDR6(0)
	if dr6&1 != 0 && tf.RIP == links().MainMain {
		mainTSC = amd64.Rdtsc()
		amd64.WriteDR7(0)
		return
	}
	fault(tf, "unexpected debug exception")
}

// printMilestones logs the startup timeline measured so far.
func printMilestones() {
	if mainTSC == 0 {
		return
	}
	us := func(c uint64) int64 { return int64(c * 1_000_000 / tscHz) }
	kprint("rt0: first instruction -> _rt0_amd64_linux: ")
	kprintDec(us(enterTSC - bootTSC))
	kprint(" us (TSC calibration ")
	kprintDec(us(calibrationTSC))
	kprint(" us); -> main.main: ")
	kprintDec(us(mainTSC - enterTSC))
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
