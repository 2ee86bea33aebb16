package amd64

// handler is the address of the function trapCommon calls for every
// kernel entry, func(tf *TrapFrame) by its ABI0 entry: the kernel's trap.
// An address the assembly calls, not a func value behind a Go function:
// every system call would pay for the two calls and returns in between,
// dear under TCG (a return is a lookup of the translated block).
var handler uintptr

// SetHandler sets the entry paths' handler (the ABI0 address of a
// func(tf *TrapFrame), taken in assembly: $·name(SB)). Once, at boot,
// before anything can trap.
func SetHandler(pc uintptr) { handler = pc }

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
