package amd64

// Handler is what trap calls for every kernel entry. The kernel sets it once
// at boot (before the runtime runs, so the store needs no write barrier).
var Handler func(tf *TrapFrame)

// trap is called by trapCommon on a kernel stack with interrupts off.
func trap(tf *TrapFrame) {
	Handler(tf)
}

// enter copies tf to the frame position of the kernel stack whose top is
// top and takes the trap return path into it. Defined in trap_amd64.s.
func enter(tf *TrapFrame, top uint64)

// Enter leaves the kernel for the first time, into the thread in tf (which
// must not be on the stack: an AP calls it from its SYSCALL stack, whose
// top enter overwrites with the frame; that is safe because enter has read
// its arguments by then and nothing returns to the caller's frames).
func Enter(tf *TrapFrame) {
	enter(tf, This().StackTops[StackSyscall])
}
