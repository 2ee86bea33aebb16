package kernel

import "rt0/guest/arch/amd64"

// The I/O APIC routes device interrupts to the LAPIC. ISA devices (COM1 on
// IRQ 4, the keyboard on IRQ 1) arrive on the global system interrupt the
// MADT's overrides name (usually the same number), edge-triggered and
// active-high unless the override says otherwise. Each ISA IRQ n gets
// vector vecISA+n, delivered to the boot CPU.

const (
	vecISA     = 64
	ioRegSel   = 0x00
	ioWin      = 0x10
	defaultIOA = 0xFEC00000
)

var ioapic uintptr

func ioapicRead(reg uint32) uint32 {
	*amd64.U32(ioapic + ioRegSel) = reg
	return *amd64.U32(ioapic + ioWin)
}

func ioapicWrite(reg, v uint32) {
	*amd64.U32(ioapic + ioRegSel) = reg
	*amd64.U32(ioapic + ioWin) = v
}

// initIOAPIC masks every input of the I/O APIC.
func initIOAPIC() {
	a := acpi.ioapic
	if a == 0 {
		a = defaultIOA // every PC since the late 1990s
	}
	ioapic = uintptr(a)
	n := (ioapicRead(1)>>16)&0xFF + 1
	if n > 240 {
		ioapic = 0 // nothing answers there
		return
	}
	for i := uint32(0); i < n; i++ {
		ioapicWrite(0x10+2*i, 1<<16)
	}
}

// enableISA routes ISA IRQ irq to vector vecISA+irq on the boot CPU.
func enableISA(irq int) {
	if ioapic == 0 {
		return
	}
	gsi := acpi.isaGSI[irq] - acpi.ioapicGSI
	flags := acpi.isaFlags[irq]
	lo := uint32(vecISA + irq)
	if flags&3 == 3 { // active low
		lo |= 1 << 13
	}
	if flags>>2&3 == 3 { // level triggered
		lo |= 1 << 15
	}
	ioapicRoute(gsi, lo)
}

// enableLevel routes I/O APIC input pin, level-triggered and active-high
// (a PCI interrupt line as QEMU describes it: uio.go), to vector
// vecISA+pin on the boot CPU.
func enableLevel(pin uint32) { ioapicRoute(pin, vecISA+pin|1<<15) }

// ioapicRoute points input pin's redirection entry at the boot CPU with
// low word lo (vector, polarity, trigger; unmasked).
func ioapicRoute(pin, lo uint32) {
	ioapicWrite(0x10+2*pin+1, uint32(lapicRead(lapicID)>>24)<<24)
	ioapicWrite(0x10+2*pin, lo)
}
