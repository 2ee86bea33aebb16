package amd64

import "unsafe"

// Segment selectors. Long mode ignores segment bases and limits (except FS
// and GS, whose bases live in MSRs), but still wants a 64-bit code segment,
// a data segment for SS, and a TSS whose interrupt stack table gives every
// vector a known-good stack.
const (
	SelCode = 0x08
	SelData = 0x10
	SelTSS  = 0x18
)

func loadGDT(c *CPU) {
	c.gdt[0] = 0
	c.gdt[1] = 0x00AF9A000000FFFF // code: present, DPL0, executable, L=1
	c.gdt[2] = 0x00CF92000000FFFF // data: present, DPL0, writable

	// TSS: only the IST slots matter (no ring changes ever happen).
	for i := range c.tss {
		c.tss[i] = 0
	}
	for ist := 1; ist < NumStacks; ist++ {
		top := c.StackTops[ist]
		c.tss[9+2*(ist-1)] = uint32(top) // IST n at byte 36+8(n-1)
		c.tss[9+2*(ist-1)+1] = uint32(top >> 32)
	}
	c.tss[25] = 104 << 16 // I/O map base beyond the limit: no I/O bitmap
	base := uint64(uintptr(unsafe.Pointer(&c.tss[0])))
	limit := uint64(104 - 1)
	c.gdt[3] = limit&0xFFFF | (base&0xFFFFFF)<<16 | 0x89<<40 | (base>>24&0xFF)<<56
	c.gdt[4] = base >> 32

	c.gdtr[0] = uint16(len(c.gdt)*8 - 1)
	g := uint64(uintptr(unsafe.Pointer(&c.gdt[0])))
	c.gdtr[1] = uint16(g)
	c.gdtr[2] = uint16(g >> 16)
	c.gdtr[3] = uint16(g >> 32)
	c.gdtr[4] = uint16(g >> 48)
	Lgdt(uintptr(unsafe.Pointer(&c.gdtr[0])))
	ReloadSegments(SelCode, SelData)
	Ltr(SelTSS)
}
