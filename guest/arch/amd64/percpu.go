package amd64

import "unsafe"

// MaxCPUs bounds the per-CPU tables. One CPU runs today; everything that is
// per CPU lives here so that SMP can come later.
const MaxCPUs = 8

// CPU is one processor's kernel data. Its GS base points here (Go code on
// linux/amd64 never uses GS), so the SYSCALL stub can find a stack before it
// has one. The first fields are read by assembly: frame_amd64.h holds their
// offsets and TestFrameOffsets checks them both ways.
type CPU struct {
	Self    uint64 // address of this struct
	KStack  uint64 // top of the SYSCALL stack
	Scratch uint64 // the thread's RSP while the SYSCALL stub switches stacks
	ID      uint64
	// Current is the index of the thread this CPU runs, and SliceEnd when
	// its time slice ends (monotonic ns); both owned by sched.
	Current  uint64
	SliceEnd int64

	gdt  [7]uint64 // null, code, data, TSS (2 slots), spare
	gdtr [5]uint16
	tss  [26]uint32 // 104-byte 64-bit TSS, built with 32-bit stores (its u64 fields are unaligned)

	// Stack tops, for the TSS's interrupt stack table and for reports.
	StackTops [NumStacks]uint64
}

var cpus [MaxCPUs]CPU

// This returns the CPU struct of the running processor.
func This() *CPU { return (*CPU)(Ptr(uintptr(Rdmsr(MSR_GS_BASE)))) }

// Kernel stacks of each CPU: the SYSCALL stack and one per IST slot.
const (
	StackSyscall   = 0
	StackException = 1 // IST1: CPU exceptions without their own stack
	StackPageFault = 2 // IST2: #PF — faults on the first touch of a page
	StackDouble    = 3 // IST3: #DF
	StackNMI       = 4 // IST4: NMI and #MC
	StackIRQ       = 5 // IST5: device interrupts (vectors 32-255)
	StackDebug     = 6 // IST6: #DB and #BP (the startup tracer)
	NumStacks      = 7

	// The SYSCALL stack runs the deepest kernel code (file system paths,
	// signal delivery); the IST stacks serve short handlers.
	SyscallStackSize = 32 << 10
	ISTStackSize     = 16 << 10
)

// cpu0Stacks is the boot CPU's stack memory.
var (
	cpu0SyscallStack [SyscallStackSize]byte
	cpu0ISTStacks    [NumStacks - 1][ISTStackSize]byte
)

// InitCPU prepares CPU id: its stacks (with their trap gs), GDT, TSS, GS
// base, and the SYSCALL MSRs. It must run on that CPU.
func InitCPU(id int) *CPU {
	c := &cpus[id]
	c.Self = uint64(uintptr(unsafe.Pointer(c)))
	c.ID = uint64(id)
	c.StackTops[StackSyscall] = uint64(setupStack(uintptr(unsafe.Pointer(&cpu0SyscallStack[0])), SyscallStackSize))
	for i := 1; i < NumStacks; i++ {
		base := uintptr(unsafe.Pointer(&cpu0ISTStacks[i-1][0]))
		c.StackTops[i] = uint64(setupStack(base, ISTStackSize))
	}
	c.KStack = c.StackTops[StackSyscall]
	loadGDT(c)
	Wrmsr(MSR_GS_BASE, c.Self)
	initSyscall()
	return c
}
