package amd64

import "unsafe"

// MaxCPUs bounds the per-CPU tables, and so the CPUs rt0 starts: one bit
// each in a 64-bit affinity mask (sched_getaffinity's answer).
const MaxCPUs = 64

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
	// RunSince is when the current thread got the CPU; BusyNS the time
	// this CPU ran threads other than idle (sched, for rt0.stats).
	RunSince int64
	BusyNS   uint64
	// Frame is the address of the trap frame of the kernel entry from a
	// thread in progress (0: none), for sched.Block. An address, not a
	// pointer: the kernel stores no Go pointers (write barriers).
	Frame uint64

	gdt  [7]uint64 // null, code, data, TSS (2 slots), spare
	gdtr [5]uint16
	tss  [26]uint32 // 104-byte 64-bit TSS, built with 32-bit stores (its u64 fields are unaligned)

	// Stack tops, for the TSS's interrupt stack table and for reports.
	StackTops [NumStacks]uint64
	Stacks    uint64 // where its stack memory starts (StackGuard)
}

var cpus [MaxCPUs]CPU

// This returns the CPU struct of the running processor (cpu_amd64.s: a load
// through GS).
func This() *CPU

// CPUs returns CPU struct id (its index, not its APIC ID).
func CPUs(id int) *CPU { return &cpus[id] }

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

// cpu0Stacks is the boot CPU's stack memory (the APs' comes from the
// kernel heap, for the CPUs there are); a page more than one CPU needs,
// so that its stacks start on a page.
var cpu0Stacks [CPUStackBytes + GuardBytes]byte

// Each stack has a guard page below it, which the kernel unmaps
// (StackGuard): a stack that overflows faults there, and the fault is
// reported as what it is, instead of writing over the stack below.
const GuardBytes = 4096

// CPUStackBytes is the memory PrepareCPU wants for one CPU's stacks: each
// stack and its guard page, from a page-aligned base.
const CPUStackBytes = NumStacks*GuardBytes + SyscallStackSize + (NumStacks-1)*ISTStackSize

// stackBase returns where stack i of the memory at stacks begins (above
// its guard page), and its size.
func stackBase(stacks uintptr, i int) (uintptr, uintptr) {
	if i == StackSyscall {
		return stacks + GuardBytes, SyscallStackSize
	}
	return stacks + GuardBytes + SyscallStackSize + uintptr(i-1)*(GuardBytes+ISTStackSize) + GuardBytes, ISTStackSize
}

// StackGuard returns the guard page below stack i of the memory at stacks.
func StackGuard(stacks uintptr, i int) uintptr {
	b, _ := stackBase(stacks, i)
	return b - GuardBytes
}

// PrepareCPU fills in CPU id's struct: its address, index and stacks (with
// their trap gs), carved from the CPUStackBytes at stacks (page aligned).
// Any CPU may run it; the boot CPU prepares each AP before starting it.
func PrepareCPU(id int, stacks uintptr) *CPU {
	c := &cpus[id]
	c.Self = uint64(uintptr(unsafe.Pointer(c)))
	c.ID = uint64(id)
	c.Stacks = uint64(stacks)
	for i := 0; i < NumStacks; i++ {
		base, size := stackBase(stacks, i)
		c.StackTops[i] = uint64(setupStack(base, size))
	}
	c.KStack = c.StackTops[StackSyscall]
	return c
}

// OnStack reports whether the n bytes at addr lie inside one of c's
// kernel stacks (not their guard pages): memory that is always mapped.
func (c *CPU) OnStack(addr, n uint64) bool {
	for i := 0; i < NumStacks; i++ {
		base, size := stackBase(uintptr(c.Stacks), i)
		if addr >= uint64(base) && addr+n <= uint64(base+size) && addr+n >= addr {
			return true
		}
	}
	return false
}

// CPU0Stacks returns the page-aligned start of the boot CPU's stacks.
func CPU0Stacks() uintptr {
	return (uintptr(unsafe.Pointer(&cpu0Stacks[0])) + GuardBytes - 1) &^ (GuardBytes - 1)
}

// LoadCPU makes the running processor CPU id (prepared): its GDT and TSS,
// its GS base, the shared IDT (InitIDT, once), the SYSCALL MSRs and, on an
// AP, the boot CPU's XSAVE state components (the boot CPU chooses them in
// InitFPU, once its IDT can report a fault).
func LoadCPU(id int) *CPU {
	c := &cpus[id]
	loadGDT(c)
	Wrmsr(MSR_GS_BASE, c.Self)
	Lidt(uintptr(unsafe.Pointer(&idtr[0])))
	initSyscall()
	if id != 0 {
		initFPU(false)
	}
	return c
}

// InitCPU sets up the boot CPU, CPU 0, on its static stacks.
func InitCPU() *CPU {
	PrepareCPU(0, CPU0Stacks())
	return LoadCPU(0)
}
