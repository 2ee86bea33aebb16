package amd64

// TrapFrame is what every entry into the kernel saves: a trap, an interrupt
// or a SYSCALL. trap_amd64.s builds it on the kernel stack, lowest address
// first, and restores the CPU from it on the way out, so a handler changes
// what the interrupted code sees by changing the frame, and the scheduler
// switches threads by swapping one thread's saved frame for another's.
//
// The assembly uses the offsets in frame_amd64.h; TestFrameOffsets checks
// them against this struct.
type TrapFrame struct {
	// FX is the thread's x87/SSE/AVX state (fpu.go): an FXSAVE image, or
	// with XSAVE the standard XSAVE layout of XCR0's components, whose
	// first 512 bytes are FXSAVE's. Only its first FXSize() bytes are in
	// use. 64-byte aligned on a kernel stack, as XSAVE wants.
	FX [FXAreaSize]byte
	Regs
}

// Regs is the rest of a TrapFrame: the registers and how much of FX is
// saved.
type Regs struct {
	// FXPartial is 1 while FX holds only the vector registers: the
	// SYSCALL entry saves just what the kernel's Go code overwrites —
	// XMM0-15 (at FXXMM) without XSAVE; with it every component but x87
	// (XSAVE's SSE part, MXCSR included, and YMM's, ZMM's upper halves,
	// which the runtime's AVX memmove and VZEROUPPER overwrite) — and
	// the x87 registers, control and status words (and without XSAVE,
	// MXCSR) are still in the CPU. CompleteFX fills them in before the
	// frame is copied or read. 0: FX is a whole save.
	FXPartial uint64
	FSBase    uint64 // IA32_FS_BASE of the interrupted thread (its TLS)

	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64

	Vector  uint64 // 0-255 for IDT vectors, VectorSyscall for SYSCALL
	ErrCode uint64 // the CPU's error code, or 0

	// What the CPU pushes for an interrupt (and the SYSCALL stub imitates).
	RIP, CS, RFLAGS, RSP, SS uint64
}

// RFLAGSFast are the flags the system call's way out restores without
// IRETQ or POPFQ (trap_amd64.s): CF, the always-one bit 1, PF, AF, ZF,
// SF, IF, DF, OF. A thread with any other flag set (TF, AC, NT, IOPL,
// RF, ID...) returns through IRETQ.
const RFLAGSFast = 0x1 | 0x2 | 0x4 | 0x10 | 0x40 | 0x80 | RFLAGS_IF | RFLAGS_DF | 0x800

// VectorSyscall marks a frame built by the SYSCALL entry.
const VectorSyscall = 256

// FXXMM is where XMM0 starts in an FXSAVE area (16 bytes a register).
const FXXMM = 160

// CompleteFX makes tf's FX a whole save, if the SYSCALL entry saved only
// its vector registers. tf must be the frame of the kernel entry in
// progress on this CPU, from a thread: that thread's x87 state (and MXCSR)
// are then still in the CPU's registers (the kernel's Go code uses only
// the vector registers, and nothing restores another thread's state
// before the way out). Everything that copies a frame away or reads its FX calls it
// first: the thread table (sched.Block, sched.Switch), clone, signal
// delivery.
func (tf *TrapFrame) CompleteFX() {
	if tf.FXPartial != 0 {
		fxComplete(tf)
	}
}

// fxComplete saves the x87 part of the thread's state into tf: with XSAVE
// one XSAVE of the x87 component; without, it loads tf's XMM registers
// back and FXSAVEs all (trap_amd64.s).
func fxComplete(tf *TrapFrame)

// FrameSize is the size of a TrapFrame on the stack: a multiple of 64, so
// that the frame at the top of a 64-aligned kernel stack has its FX area
// 64-byte aligned.
const FrameSize = 2880

// CopyFrame copies the frame src to dst: the part of the FX area in use
// and the registers, not the unused rest of the area (most of it without
// AVX-512).
func CopyFrame(dst, src *TrapFrame) {
	copy(dst.FX[:fxSize], src.FX[:fxSize])
	dst.Regs = src.Regs
}

// Exception vectors (Intel SDM vol. 3, table 6-1).
const (
	VecDivide      = 0
	VecDebug       = 1
	VecNMI         = 2
	VecBreakpoint  = 3
	VecInvalidOp   = 6
	VecDoubleFault = 8
	VecGP          = 13
	VecPageFault   = 14
	VecX87         = 16
	VecMachine     = 18
	VecSIMD        = 19
	VecSpurious    = 255
)

// ExceptionName returns the mnemonic of a CPU exception vector.
func ExceptionName(v uint64) string {
	switch v {
	case 0:
		return "#DE divide error"
	case 1:
		return "#DB debug"
	case 2:
		return "NMI"
	case 3:
		return "#BP breakpoint"
	case 4:
		return "#OF overflow"
	case 5:
		return "#BR bound range"
	case 6:
		return "#UD invalid opcode"
	case 7:
		return "#NM device not available"
	case 8:
		return "#DF double fault"
	case 10:
		return "#TS invalid TSS"
	case 11:
		return "#NP segment not present"
	case 12:
		return "#SS stack fault"
	case 13:
		return "#GP general protection"
	case 14:
		return "#PF page fault"
	case 16:
		return "#MF x87 error"
	case 17:
		return "#AC alignment check"
	case 18:
		return "#MC machine check"
	case 19:
		return "#XM SIMD exception"
	case 20:
		return "#VE virtualization"
	case 21:
		return "#CP control protection"
	}
	if v < 32 {
		return "reserved exception"
	}
	return "interrupt"
}
