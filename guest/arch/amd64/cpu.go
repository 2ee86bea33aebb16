// Package amd64 is rt0's view of the x86-64 CPU: control registers, MSRs,
// I/O ports, the GDT/TSS, the IDT and the entry paths for traps and SYSCALL.
//
// Everything here runs "below the runtime" (see guest/kernel/doc.go): before the Go
// runtime has started, or inside a trap on a kernel stack. The assembly
// helpers are NOSPLIT leaf functions; the Go code allocates nothing and
// stores no Go pointers.
package amd64

// Model-specific registers (Intel SDM vol. 4).
const (
	MSR_EFER         = 0xC0000080
	MSR_STAR         = 0xC0000081
	MSR_LSTAR        = 0xC0000082
	MSR_FMASK        = 0xC0000084
	MSR_FS_BASE      = 0xC0000100
	MSR_GS_BASE      = 0xC0000101
	MSR_APIC_BASE    = 0x1B
	EFER_SCE         = 1 << 0
	EFER_NXE         = 1 << 11 // no-execute pages (the NX bit, 63, of an entry)
	CR0_MP           = 1 << 1
	CR0_EM           = 1 << 2
	CR0_WP           = 1 << 16
	CR0_NW           = 1 << 29
	CR0_CD           = 1 << 30
	CR4_OSFXSR       = 1 << 9
	CR4_OSXMMEXCPT   = 1 << 10
	CR4_FSGSBASE     = 1 << 16
	RFLAGS_IF        = 1 << 9
	RFLAGS_TF        = 1 << 8
	RFLAGS_DF        = 1 << 10
	RFLAGS_AC        = 1 << 18
	RFLAGS_RESERVED1 = 1 << 1
)

// Inb reads a byte from an I/O port. Defined in cpu_amd64.s.
func Inb(port uint16) uint8

// Outb writes a byte to an I/O port.
func Outb(port uint16, v uint8)

// Inw reads 16 bits from an I/O port.
func Inw(port uint16) uint16

// Outw writes 16 bits to an I/O port.
func Outw(port uint16, v uint16)

// Inl reads 32 bits from an I/O port.
func Inl(port uint16) uint32

// Outl writes 32 bits to an I/O port.
func Outl(port uint16, v uint32)

// Rdmsr reads a model-specific register.
func Rdmsr(msr uint32) uint64

// Wrmsr writes a model-specific register.
func Wrmsr(msr uint32, v uint64)

// ReadCR0 and friends read and write control registers.
func ReadCR0() uint64
func WriteCR0(v uint64)
func ReadCR2() uint64
func ReadCR3() uint64
func WriteCR3(v uint64)
func ReadCR4() uint64
func WriteCR4(v uint64)

// Cpuid executes CPUID with EAX=leaf, ECX=sub.
func Cpuid(leaf, sub uint32) (a, b, c, d uint32)

// Rdtsc reads the time-stamp counter.
func Rdtsc() uint64

// Rdrand returns a hardware random number; ok is false if the DRNG had none
// ready (callers retry a few times) — only call it if CPUID says RDRAND.
func Rdrand() (v uint64, ok bool)

// Lgdt, Lidt load the descriptor table registers from a 10-byte pseudo
// descriptor at p; Ltr loads the task register.
func Lgdt(p uintptr)
func Lidt(p uintptr)
func Ltr(sel uint16)

// ReloadSegments makes CS=code and DS/ES/SS=data after a new GDT, and FS/GS
// selectors 0 (their bases live in MSRs).
func ReloadSegments(code, data uint16)

// Invlpg drops the TLB entry of the page containing addr.
func Invlpg(addr uintptr)

// Hlt halts until the next interrupt; Sti/Cli set and clear IF.
func Hlt()
func Sti()
func Cli()

// Halt stops the CPU for good: interrupts off, HLT forever.
func Halt()

// Debug registers: DR0-DR3 hold breakpoint addresses, DR7 enables them,
// DR6 says which one fired.
func WriteDR0(v uint64)
func WriteDR1(v uint64)
func WriteDR2(v uint64)
func WriteDR3(v uint64)
func WriteDR7(v uint64)
func ReadDR6() uint64
func WriteDR6(v uint64)

// WriteDR sets breakpoint address register DRn (n = 0..3).
func WriteDR(n int, v uint64) {
	switch n {
	case 0:
		WriteDR0(v)
	case 1:
		WriteDR1(v)
	case 2:
		WriteDR2(v)
	case 3:
		WriteDR3(v)
	}
}

// INITNeedsDelay reports whether APs of this kind of CPU need the MP
// specification's 10 ms between INIT and the startup IPIs. Linux's answer
// (smp_quirk_init_udelay): not Intel family 6, AMD from family 0xF or
// Hygon from 0x18 — every x86-64 CPU of those makers, and what QEMU and
// other hypervisors present; only older or other CPUs get the wait.
// vendor is CPUID.0's EBX, EDX, ECX; sig is CPUID.1's EAX.
func INITNeedsDelay(vendor [3]uint32, sig uint32) bool {
	family := sig >> 8 & 0xF
	if family == 0xF {
		family += sig >> 20 & 0xFF
	}
	switch vendor {
	case [3]uint32{0x756e6547, 0x49656e69, 0x6c65746e}: // "GenuineIntel"
		return family != 6
	case [3]uint32{0x68747541, 0x69746e65, 0x444d4163}: // "AuthenticAMD"
		return family < 0xF
	case [3]uint32{0x6f677948, 0x6e65476e, 0x656e6975}: // "HygonGenuine"
		return family < 0x18
	}
	return true
}

// HasRDRAND reports CPUID.1:ECX.RDRAND.
func HasRDRAND() bool {
	_, _, c, _ := Cpuid(1, 0)
	return c&(1<<30) != 0
}

// Pause tells the CPU it is in a spin loop (and a hypervisor that the vCPU
// could yield).
func Pause()
