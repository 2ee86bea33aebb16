package pci

// Sizing the BARs. A base address register answers a write of all ones
// with the bits its window's size leaves free cleared: size = ~(read &
// mask) + 1 (the PCI Local Bus Specification, "Address Maps"). A 64-bit
// memory BAR takes the next register as its high half. The decoding is
// turned off while the registers hold all ones, so that the device does
// not answer at the address that would mean, and every register is put
// back as it was.

// Write sets the 32-bit configuration register at byte offset off.
type Write func(bus, dev, fn, off uint8, v uint32)

// Window is what one BAR decodes.
type Window struct {
	Base, Size uint64
	IO         bool // I/O ports; else memory
	Bits64     bool // a 64-bit memory BAR (the next register is its high half)
	Prefetch   bool
}

const (
	cmdReg    = 0x04
	cmdDecode = 0x3 // I/O space and memory space
)

// SizeBARs fills d.Win from d's BARs.
func SizeBARs(read Read, write Write, d *Device) {
	nbar := d.bars()
	cmd := read(d.Bus, d.Dev, d.Fn, cmdReg)
	write(d.Bus, d.Dev, d.Fn, cmdReg, cmd&0xFFFF&^cmdDecode)
	for i := 0; i < nbar; i++ {
		off := uint8(0x10 + 4*i)
		lo := read(d.Bus, d.Dev, d.Fn, off)
		write(d.Bus, d.Dev, d.Fn, off, 0xFFFFFFFF)
		mlo := read(d.Bus, d.Dev, d.Fn, off)
		write(d.Bus, d.Dev, d.Fn, off, lo)
		w := &d.Win[i]
		if lo&1 != 0 {
			w.IO = true
			if m := mlo &^ 3 & 0xFFFF; m != 0 {
				w.Base, w.Size = uint64(lo&^3), uint64(^m&0xFFFF)+1
			}
			continue
		}
		w.Prefetch = lo&8 != 0
		base, mask := uint64(lo&^0xF), uint64(mlo&^0xF)|0xFFFFFFFF00000000
		if lo>>1&3 == 2 && i+1 < nbar { // 64-bit
			w.Bits64 = true
			hoff := off + 4
			hi := read(d.Bus, d.Dev, d.Fn, hoff)
			write(d.Bus, d.Dev, d.Fn, hoff, 0xFFFFFFFF)
			mhi := read(d.Bus, d.Dev, d.Fn, hoff)
			write(d.Bus, d.Dev, d.Fn, hoff, hi)
			base |= uint64(hi) << 32
			mask = uint64(mhi)<<32 | uint64(mlo&^0xF)
			i++ // the high half is no BAR of its own
		}
		if mask != 0xFFFFFFFF00000000 && mask != 0 { // else unimplemented
			w.Base, w.Size = base, ^mask+1
		}
	}
	write(d.Bus, d.Dev, d.Fn, cmdReg, cmd&0xFFFF)
}
