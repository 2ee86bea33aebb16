package amd64

// A kernel stack carries, just above its top, the "trap g": a stand-in for
// the runtime's g that holds the bounds of this stack.
//
// Why: every Go function compiled without //go:nosplit starts by comparing
// SP with g.stackguard0, where g comes from R14, which the ABI0->ABIInternal
// wrapper loads from FS:-8. When a trap interrupts a goroutine, FS:-8 is that
// goroutine's g and its bounds say nothing about the kernel stack we are on.
// So trapCommon points FS at top+8: FS:-8 is then the word at top, which
// holds the address of the trap g below, whose stack.lo/hi and stackguard0/1
// (the first four words of runtime.g: checked against DWARF by the image
// step) bound this stack. Kernel Go code then runs with ordinary stack checks
// instead of being limited to nosplit chains. It must still never grow its
// stack: morestack would find g.m == nil and fault, which the fault handler
// reports.
//
// Layout at the top of the stack region:
//
//	top+0    &g (the FS:-8 slot)
//	top+8    unused
//	top+16   g: stack.lo, stack.hi, stackguard0, stackguard1, then zeros
const (
	trapGWords  = 32
	stackHeader = 16 + trapGWords*8
	// stackGuard mirrors the runtime's stackGuard on linux/amd64 (928):
	// the room a nosplit chain may use below the guard.
	stackGuard = 928
)

// setupStack writes the trap g into [base, base+size) and returns the
// 64-byte aligned top, where RSP starts (and the TSS points for IST
// stacks): the trap frame the entry builds just below it then has its FX
// area 64-byte aligned, as XSAVE wants (FrameSize is a multiple of 64).
func setupStack(base uintptr, size uintptr) uintptr {
	top := (base + size - stackHeader) &^ 63
	g := top + 16
	*U64(top) = uint64(g)
	*U64(top + 8) = 0
	for i := uintptr(0); i < trapGWords; i++ {
		*U64(g + 8*i) = 0
	}
	*U64(g + 0) = uint64(base)               // stack.lo
	*U64(g + 8) = uint64(top)                // stack.hi
	*U64(g + 16) = uint64(base + stackGuard) // stackguard0
	*U64(g + 24) = uint64(base + stackGuard) // stackguard1
	// The frame's place zeroed: XRSTOR faults on a header whose reserved
	// bytes are not 0, and only XSTATE_BV of it is ever written there.
	for p := top - FrameSize; p < top; p += 8 {
		*U64(p) = 0
	}
	return top
}
