package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/pci"
)

// The PCI bus, as far as the kernel looks today: the devices found at boot
// (package pci walks the buses), named in the kernel log, kept in pciDevs
// for the drivers to come (issue 14). Configuration space is read through
// configuration mechanism #1, the ports every PC chipset and QEMU's pc
// and q35 machines have: 0xCF8 takes the address of a register, 0xCFC
// gives its value.

var pciDevs pci.Table

const (
	pciAddrPort = 0xCF8
	pciDataPort = 0xCFC
)

// pciRead reads a configuration register through ports 0xCF8/0xCFC.
func pciRead(bus, dev, fn, off uint8) uint32 {
	amd64.Outl(pciAddrPort, pciAddr(bus, dev, fn, off))
	return amd64.Inl(pciDataPort)
}

// pciWrite sets a 32-bit configuration register.
func pciWrite(bus, dev, fn, off uint8, v uint32) {
	amd64.Outl(pciAddrPort, pciAddr(bus, dev, fn, off))
	amd64.Outl(pciDataPort, v)
}

func pciAddr(bus, dev, fn, off uint8) uint32 {
	return 1<<31 | uint32(bus)<<16 | uint32(dev&31)<<11 | uint32(fn&7)<<8 | uint32(off&0xFC)
}

// pciConfigRead copies configuration space from offset off of d into p,
// a register at a time (a read has no side effect on the registers
// around the bytes asked for).
func pciConfigRead(d *pci.Device, off int, p []byte) {
	for i := range p {
		o := off + i
		p[i] = byte(pciRead(d.Bus, d.Dev, d.Fn, uint8(o)) >> (8 * (o & 3)))
	}
}

// pciConfigWrite writes p at offset off of d's configuration space with
// accesses of p's own width, through the data port's byte lanes
// (0xCFC+off&3): rewriting a whole register to change half of it would
// write back status bits that a write of one clears.
func pciConfigWrite(d *pci.Device, off int, p []byte) {
	amd64.Outl(pciAddrPort, pciAddr(d.Bus, d.Dev, d.Fn, uint8(off)))
	port := uint16(pciDataPort + off&3)
	switch len(p) {
	case 1:
		amd64.Outb(port, p[0])
	case 2:
		amd64.Outw(port, uint16(p[0])|uint16(p[1])<<8)
	case 4:
		amd64.Outl(port, u32(p))
	}
}

// initPCI finds the devices, if the machine has configuration mechanism #1
// (its address port reads back what was written, as Linux checks).
func initPCI() {
	saved := amd64.Inl(pciAddrPort)
	amd64.Outl(pciAddrPort, 1<<31)
	ok := amd64.Inl(pciAddrPort) == 1<<31
	amd64.Outl(pciAddrPort, saved)
	if !ok {
		kprint("rt0: no PCI configuration ports: no PCI devices\n")
		return
	}
	pci.Scan(pciRead, &pciDevs)
	for i := 0; i < pciDevs.N; i++ {
		d := &pciDevs.Dev[i]
		pci.SizeBARs(pciRead, pciWrite, d)
		kprint("rt0: PCI ")
		hexByte(d.Bus)
		kprint(":")
		hexByte(d.Dev)
		kprint(".")
		logByte('0' + d.Fn)
		kprint(" ")
		hex16(d.Vendor)
		kprint(":")
		hex16(d.DeviceID)
		kprint(" class ")
		hexByte(d.Class)
		kprint(".")
		hexByte(d.Sub)
		if n := pci.ClassName(d.Class, d.Sub); n != "" {
			kprint(" (")
			kprint(n)
			kprint(")")
		}
		kprint("\n")
	}
	if pciDevs.Dropped > 0 {
		kprint("rt0: PCI: ")
		kprintDec(int64(pciDevs.Dropped))
		kprint(" more functions not kept\n")
	}
}

func hex16(v uint16) {
	hexByte(byte(v >> 8))
	hexByte(byte(v))
}
