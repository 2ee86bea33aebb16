package pci

import "testing"

// bus is a fake configuration space: registers by (bus, dev, fn, off).
type bus map[[4]uint8]uint32

func (b bus) read(bu, d, f, off uint8) uint32 {
	if v, ok := b[[4]uint8{bu, d, f, off}]; ok {
		return v
	}
	if _, ok := b[[4]uint8{bu, d, f, 0}]; ok {
		return 0
	}
	return 0xFFFFFFFF
}

func (b bus) add(bu, d, f uint8, vendor, device uint16, class uint32, header uint8) {
	b[[4]uint8{bu, d, f, 0}] = uint32(device)<<16 | uint32(vendor)
	b[[4]uint8{bu, d, f, 0x08}] = class << 8
	b[[4]uint8{bu, d, f, 0x0C}] = uint32(header) << 16
}

func TestScan(t *testing.T) {
	b := bus{}
	b.add(0, 0, 0, 0x8086, 0x29c0, 0x060000, 0)     // host bridge
	b.add(0, 2, 0, 0x8086, 0x100e, 0x020000, 0)     // e1000
	b[[4]uint8{0, 2, 0, 0x10}] = 0xfeb80000         // BAR0: memory
	b[[4]uint8{0, 2, 0, 0x14}] = 0xc001             // BAR1: I/O
	b[[4]uint8{0, 2, 0, 0x3C}] = 0x010b             // INTA, line 11
	b.add(0, 31, 0, 0x8086, 0x2918, 0x060100, 0x80) // multi-function: ISA bridge
	b.add(0, 31, 3, 0x8086, 0x2930, 0x0c0500, 0)    // its function 3: SMBus
	b.add(0, 30, 0, 0x1b36, 0x0001, 0x060400, 1)    // a PCI bridge to bus 1
	b[[4]uint8{0, 30, 0, 0x18}] = 0x000100
	b.add(1, 0, 0, 0x1af4, 0x1041, 0x020000, 0)  // virtio-net behind it
	b.add(0, 29, 0, 0x1b36, 0x0001, 0x060400, 1) // a bridge whose secondary bus is 0: not re-walked
	b[[4]uint8{0, 29, 0, 0x18}] = 0x000000
	var tb Table
	Scan(b.read, &tb)
	type dev struct {
		bus, d, f uint8
		id        uint16
	}
	want := []dev{{0, 0, 0, 0x29c0}, {0, 2, 0, 0x100e}, {0, 29, 0, 1}, {0, 30, 0, 1}, {1, 0, 0, 0x1041}, {0, 31, 0, 0x2918}, {0, 31, 3, 0x2930}}
	if tb.N != len(want) {
		t.Fatalf("%d devices, want %d: %+v", tb.N, len(want), tb.Dev[:tb.N])
	}
	for i, w := range want {
		d := tb.Dev[i]
		if (dev{d.Bus, d.Dev, d.Fn, d.DeviceID}) != w {
			t.Errorf("device %d: %02x:%02x.%d %04x, want %+v", i, d.Bus, d.Dev, d.Fn, d.DeviceID, w)
		}
	}
	e := tb.Dev[1]
	if e.Class != 2 || e.Sub != 0 || e.BAR[0] != 0xfeb80000 || e.BAR[1] != 0xc001 || e.IRQLine != 11 || e.IRQPin != 1 || ClassName(e.Class, e.Sub) != "Ethernet controller" {
		t.Errorf("e1000: %+v", e)
	}
	if n := testing.AllocsPerRun(10, func() { Scan(b.read, &tb) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// More functions than the table holds are counted, not written.
func TestScanFull(t *testing.T) {
	b := bus{}
	for d := uint8(0); d < 32; d++ {
		b.add(0, d, 0, 0x1234, uint16(d), 0x020000, 0x80)
		for f := uint8(1); f < 8; f++ {
			b.add(0, d, f, 0x1234, uint16(d)<<8|uint16(f), 0x020000, 0)
		}
	}
	var tb Table
	Scan(b.read, &tb)
	if tb.N != MaxDevices || tb.Dropped != 32*8-MaxDevices {
		t.Errorf("N %d dropped %d", tb.N, tb.Dropped)
	}
}

// Whatever a configuration space says — devices everywhere, bridges whose
// secondary buses point back at buses already seen or at themselves,
// multi-function bits on every device — the scan ends, and the table
// holds at most its capacity.
func FuzzScan(f *testing.F) {
	f.Add([]byte{0x86, 0x80, 0x00, 0x10, 0, 0, 0x04, 0x06, 0, 0, 0x81, 0}, uint8(1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, uint8(0))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x81, 0x01, 0x01, 0x00}, uint8(7))
	f.Fuzz(func(t *testing.T, space []byte, salt uint8) {
		if len(space) == 0 {
			return
		}
		calls := 0
		read := func(bus, dev, fn, off uint8) uint32 {
			calls++
			k := (int(bus)*31 + int(dev)*7 + int(fn)*3 + int(off) + int(salt)) % len(space)
			var v uint32
			for i := 0; i < 4; i++ {
				v |= uint32(space[(k+i)%len(space)]) << (8 * i)
			}
			return v
		}
		var tb Table
		Scan(read, &tb)
		if tb.N > len(tb.Dev) {
			t.Fatalf("%d devices in a table of %d", tb.N, len(tb.Dev))
		}
		if calls > 256*32*8*8 {
			t.Fatalf("%d configuration reads: the scan revisits buses", calls)
		}
	})
}

// barDev is a fake function whose BARs behave as registers do: a write
// stores the value masked by the window's size, the type bits fixed.
type barDev struct {
	reg  [6]uint32
	mask [6]uint32 // the bits a write can set
	cmd  uint32
}

func (b *barDev) read(_, _, _, off uint8) uint32 {
	switch {
	case off == 0x04:
		return b.cmd
	case off == 0x0C:
		return 0
	case off >= 0x10 && off < 0x28:
		return b.reg[(off-0x10)/4]
	}
	return 0
}

func (b *barDev) write(_, _, _, off uint8, v uint32) {
	switch {
	case off == 0x04:
		b.cmd = v
	case off >= 0x10 && off < 0x28:
		i := (off - 0x10) / 4
		b.reg[i] = v&b.mask[i] | b.reg[i]&^b.mask[i]
	}
}

func TestSizeBARs(t *testing.T) {
	b := &barDev{cmd: 0x0107}
	// BAR0: 128 KiB of 32-bit memory at 0xfeb80000.
	b.reg[0], b.mask[0] = 0xfeb80000, 0xFFFE0000
	// BAR1: 64 I/O ports at 0xc040.
	b.reg[1], b.mask[1] = 0xc041, 0xFFC0
	// BAR2: unimplemented.
	// BAR4/5: 16 KiB of 64-bit prefetchable memory at 0x8_0000_4000.
	b.reg[4], b.mask[4] = 0x4000|0xC, 0xFFFFC000
	b.reg[5], b.mask[5] = 0x8, 0xFFFFFFFF
	d := Device{Header: 0}
	for i := range 6 {
		d.BAR[i] = b.reg[i]
	}
	SizeBARs(b.read, b.write, &d)
	want := [6]Window{
		{Base: 0xfeb80000, Size: 128 << 10},
		{Base: 0xc040, Size: 64, IO: true},
		{},
		{},
		{Base: 0x8_0000_4000, Size: 16 << 10, Bits64: true, Prefetch: true},
		{},
	}
	if d.Win != want {
		t.Errorf("windows\n%+v\nwant\n%+v", d.Win, want)
	}
	if b.cmd != 0x0107 || b.reg[0] != 0xfeb80000 || b.reg[1] != 0xc041 || b.reg[4] != 0x400C || b.reg[5] != 8 {
		t.Errorf("registers not restored: cmd %#x regs %#x", b.cmd, b.reg)
	}
}
