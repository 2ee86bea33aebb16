// Tests of Parse on well-formed v1 and v2 information (built with the test
// builders, plus a QEMU-style v1 and a GRUB-style v2 laid out by hand), on
// every truncation of them, and on hostile inputs; and of the Info helpers.

package multiboot

import (
	"encoding/binary"
	"testing"
)

// str reads a string Parse reported.
func str(t *testing.T, mem *Memory, has bool, addr, n uint64) string {
	t.Helper()
	if !has {
		t.Fatalf("string absent")
	}
	b, ok := mem.Slice(addr, n)
	if !ok {
		t.Fatalf("string at %#x+%d outside memory", addr, n)
	}
	return string(b)
}

func TestMemorySlice(t *testing.T) {
	m := &Memory{Base: 0x1000, Bytes: make([]byte, 16)}
	for _, c := range []struct {
		addr, n uint64
		ok      bool
	}{
		{0x1000, 16, true},
		{0x1000, 0, true},
		{0x1010, 0, true},
		{0x100f, 1, true},
		{0x100f, 2, false},
		{0x1010, 1, false},
		{0x0fff, 1, false},
		{0, 0, false},
		{0x1001, ^uint64(0), false},
		{^uint64(0), 1, false},
		{0x1008, ^uint64(0) - 0x1000, false},
	} {
		b, ok := m.Slice(c.addr, c.n)
		if ok != c.ok || (ok && uint64(len(b)) != c.n) || (!ok && b != nil) {
			t.Errorf("Slice(%#x, %d) = len %d, %v; want %v", c.addr, c.n, len(b), ok, c.ok)
		}
	}
	if b := m.upTo(0x100c, 100); len(b) != 4 {
		t.Errorf("upTo = %d bytes", len(b))
	}
	if b := m.upTo(0x1010, 100); b != nil {
		t.Errorf("upTo at end = %d bytes", len(b))
	}
}

func TestBadMagic(t *testing.T) {
	m := newPhys(0x1000, 256)
	info := Info{Version: 7, NRegions: 3}
	if err := Parse(0x1BADB002, 0x1000, m.mem(), &info); err != ErrMagic {
		t.Fatalf("err = %v", err)
	}
	if info.Version != 0 || info.NRegions != 0 {
		t.Fatalf("info not reset: %+v", info.Version)
	}
}

// grubV1 is a v1 structure as GRUB 2 fills it for `multiboot`, with a
// framebuffer, two modules and a memory map.
func grubV1() (*phys, uint64, v1Spec) {
	s := v1Spec{
		hasMem: true, memLower: 639, memUpper: 523136,
		hasCmdline: true, cmdline: "/boot/rt0 rt0.debug FOO=bar -- x",
		hasMods: true, mods: []v1Mod{
			{0x200000, 0x212345, "/boot/initrd.img"},
			{0x213000, 0x213000, ""},
		},
		hasMmap: true, mmap: []Region{
			{0, 0x9fc00, KindAvailable},
			{0x9fc00, 0x400, KindReserved},
			{0xf0000, 0x10000, KindReserved},
			{0x100000, 0x1ff00000, KindAvailable},
			{0x1fff0000, 0x10000, KindACPIReclaimable},
			{0xfffc0000, 0x40000, KindReserved},
			{0x100000000, 0x20000000, KindAvailable},
		},
		hasLoader: true, loader: "GRUB 2.06",
		fb: &Framebuffer{Addr: 0xfd000000, Pitch: 4096, Width: 1024, Height: 768, BPP: 32, Type: FBRGB,
			RedPos: 16, RedSize: 8, GreenPos: 8, GreenSize: 8, BluePos: 0, BlueSize: 8},
	}
	m := newPhys(0x10000, 4096)
	addr := s.build(m)
	// GRUB also sets boot_device (1), ELF symbols (5) and APM (10); Parse
	// must ignore them.
	m.put32(addr, binary.LittleEndian.Uint32(m.b[addr-m.base:])|1<<1|1<<5|1<<10)
	return m, addr, s
}

func TestV1GRUB(t *testing.T) {
	m, addr, s := grubV1()
	mem := m.mem()
	var info Info
	if err := Parse(MagicV1, addr, mem, &info); err != OK {
		t.Fatalf("err = %v", err)
	}
	checkConsistent(t, mem, &info)
	if info.Version != 1 || !info.HasMemBasic || info.MemLowerKB != 639 || info.MemUpperKB != 523136 {
		t.Errorf("basic: %+v", info)
	}
	if got := str(t, mem, info.HasCmdline, info.CmdlineAddr, info.CmdlineLen); got != s.cmdline {
		t.Errorf("cmdline %q", got)
	}
	if c, ok := info.Cmdline(mem); !ok || string(c) != s.cmdline {
		t.Errorf("Cmdline() = %q, %v", c, ok)
	}
	if got := str(t, mem, info.HasLoaderName, info.LoaderNameAddr, info.LoaderNameLen); got != "GRUB 2.06" {
		t.Errorf("loader %q", got)
	}
	if c, ok := info.LoaderName(mem); !ok || string(c) != "GRUB 2.06" {
		t.Errorf("LoaderName() = %q, %v", c, ok)
	}
	if info.NModules != 2 {
		t.Fatalf("NModules = %d", info.NModules)
	}
	for i, want := range s.mods {
		got := info.Modules[i]
		if got.Start != uint64(want.start) || got.End != uint64(want.end) {
			t.Errorf("module %d = %+v", i, got)
		}
		if s := str(t, mem, true, got.CmdlineAddr, got.CmdlineLen); s != want.str {
			t.Errorf("module %d string %q", i, s)
		}
	}
	if info.NRegions != len(s.mmap) {
		t.Fatalf("NRegions = %d", info.NRegions)
	}
	for i, r := range s.mmap {
		if info.Regions[i] != r {
			t.Errorf("region %d = %+v, want %+v", i, info.Regions[i], r)
		}
	}
	if !info.HasFB || info.FB != *s.fb {
		t.Errorf("fb = %+v", info.FB)
	}
	if info.RSDPLen != 0 || info.EFISystemTable != 0 || info.Truncated {
		t.Errorf("unexpected: %+v", info)
	}
	if got := info.TotalAvailable(); got != 0x9fc00+0x1ff00000+0x20000000 {
		t.Errorf("TotalAvailable = %#x", got)
	}
	if got := info.MaxAddr(); got != 0x120000000 {
		t.Errorf("MaxAddr = %#x", got)
	}
}

func TestV1IndexedFramebuffer(t *testing.T) {
	m := newPhys(0x10000, 1024)
	fb := Framebuffer{Addr: 0xa0000, Pitch: 320, Width: 320, Height: 200, BPP: 8, Type: FBIndexed,
		PaletteAddr: 0x12345, PaletteColors: 256}
	addr := v1Spec{fb: &fb}.build(m)
	var info Info
	if err := Parse(MagicV1, addr, m.mem(), &info); err != OK || !info.HasFB || info.FB != fb {
		t.Fatalf("err %v fb %+v", err, info.FB)
	}
	fb = Framebuffer{Addr: 0xb8000, Pitch: 160, Width: 80, Height: 25, BPP: 16, Type: FBText}
	m = newPhys(0x10000, 1024)
	addr = v1Spec{fb: &fb}.build(m)
	if err := Parse(MagicV1, addr, m.mem(), &info); err != OK || !info.HasFB || info.FB != fb {
		t.Fatalf("err %v fb %+v", err, info.FB)
	}
}

// TestV1QEMU decodes a v1 structure laid out by hand the way QEMU's
// -kernel loader does for a 128 MiB machine: an 88-byte structure (no
// framebuffer fields) at 0x9500, the E820 map the option ROM writes at
// 0x9000, and the strings and module list in the buffer QEMU puts after the
// kernel image.
func TestV1QEMU(t *testing.T) {
	m := newPhys(0x9000, 0x1a5000-0x9000)
	// E820 map, 24-byte stride (size field 20).
	e820 := []struct {
		base, n uint64
		typ     uint32
	}{
		{0, 0x9fc00, 1},
		{0x9fc00, 0x400, 2},
		{0xf0000, 0x10000, 2},
		{0x100000, 0x7ee0000, 1},
		{0x7fe0000, 0x20000, 2},
		{0xfeffc000, 0x4000, 2},
		{0xfffc0000, 0x40000, 2},
	}
	for i, e := range e820 {
		a := uint64(0x9000 + 24*i)
		m.put32(a, 20)
		m.put64(a+4, e.base)
		m.put64(a+12, e.n)
		m.put32(a+20, e.typ)
	}
	// Strings and modules in QEMU's buffer after the kernel.
	m.put(0x1a3000, []byte("initrd contents"))
	m.put(0x1a4000, []byte("/tmp/rt0.elf rt0.debug=1 FOO=bar -v\x00/tmp/initrd.img root=x\x00qemu\x00"))
	m.put32(0x1a4100, 0x1a3000) // mod_start
	m.put32(0x1a4104, 0x1a300f) // mod_end
	m.put32(0x1a4108, 0x1a4024) // string
	// The structure.
	mbi := uint64(0x9500)
	m.put32(mbi+0, 0x24f) // mem, boot_device, cmdline, mods, mmap, loader name
	m.put32(mbi+4, 640)
	m.put32(mbi+8, 0x8000000/1024-1024)
	m.put32(mbi+12, 0x8000ffff)
	m.put32(mbi+16, 0x1a4000)
	m.put32(mbi+20, 1)
	m.put32(mbi+24, 0x1a4100)
	m.put32(mbi+44, uint32(24*len(e820)))
	m.put32(mbi+48, 0x9000)
	m.put32(mbi+64, 0x1a403b)
	// The window covers the map, the structure and QEMU's buffer.
	mem := m.mem()
	var info Info
	if err := Parse(MagicV1, mbi, mem, &info); err != OK {
		t.Fatalf("err = %v", err)
	}
	checkConsistent(t, mem, &info)
	if !info.HasMemBasic || info.MemLowerKB != 640 || info.MemUpperKB != 130048 {
		t.Errorf("basic %d %d", info.MemLowerKB, info.MemUpperKB)
	}
	if got := str(t, mem, info.HasCmdline, info.CmdlineAddr, info.CmdlineLen); got != "/tmp/rt0.elf rt0.debug=1 FOO=bar -v" {
		t.Errorf("cmdline %q", got)
	}
	if got := str(t, mem, info.HasLoaderName, info.LoaderNameAddr, info.LoaderNameLen); got != "qemu" {
		t.Errorf("loader %q", got)
	}
	if info.NModules != 1 || info.Modules[0].Start != 0x1a3000 || info.Modules[0].End != 0x1a300f {
		t.Errorf("modules %d %+v", info.NModules, info.Modules[0])
	}
	if got := str(t, mem, true, info.Modules[0].CmdlineAddr, info.Modules[0].CmdlineLen); got != "/tmp/initrd.img root=x" {
		t.Errorf("module string %q", got)
	}
	if info.NRegions != len(e820) {
		t.Fatalf("NRegions = %d", info.NRegions)
	}
	for i, e := range e820 {
		if r := info.Regions[i]; r.Base != e.base || r.Len != e.n || uint32(r.Kind) != e.typ {
			t.Errorf("region %d = %+v", i, r)
		}
	}
	if info.HasFB || info.Truncated {
		t.Errorf("fb %v truncated %v", info.HasFB, info.Truncated)
	}
	if got := info.MaxAddr(); got != 0x7fe0000 {
		t.Errorf("MaxAddr = %#x", got)
	}
	if got := info.TotalAvailable(); got != 0x9fc00+0x7ee0000 {
		t.Errorf("TotalAvailable = %#x", got)
	}

	// QEMU's structure is 88 bytes: a window that ends there still parses.
	short := &Memory{Base: mem.Base, Bytes: mem.Bytes[:mbi+88-mem.Base]}
	var info2 Info
	err := Parse(MagicV1, mbi, short, &info2)
	// The strings and modules are outside this window, the mmap is inside.
	if err != ErrString || info2.NRegions != len(e820) || !info2.HasMemBasic {
		t.Errorf("short window: err %v regions %d", err, info2.NRegions)
	}
	checkConsistent(t, short, &info2)
}

// grubV2 is a multiboot2 blob as GRUB 2 builds it (tags in GRUB's order,
// including ones Parse skips), and the physical address it is loaded at.
func grubV2() ([]byte, uint64) {
	v := newV2()
	v.tag(21, le(nil).u32(0x200000))                            // load base address
	v.tag(tagCmdline, le(nil).str("/boot/rt0 rt0.debug=2 A=b")) // cmdline
	v.tag(tagLoaderName, le(nil).str("GRUB 2.12"))
	v.tag(tagModule, le(nil).u32(0x400000).u32(0x480000).str("/boot/initrd"))
	v.tag(tagModule, le(nil).u32(0x480000).u32(0x480000).str(""))
	v.tag(tagBasicMem, le(nil).u32(639).u32(2096000))
	v.tag(5, le(nil).u32(0x80).u32(0xffffffff).u32(0xffffffff)) // boot device
	v.tag(tagMmap, v2MmapPayload(
		Region{0, 0x9fc00, KindAvailable},
		Region{0x9fc00, 0x400, KindReserved},
		Region{0xf0000, 0x10000, KindReserved},
		Region{0x100000, 0x7fee0000, KindAvailable},
		Region{0x7ffe0000, 0x20000, KindNVS},
		Region{0xfeffc000, 0x4000, KindReserved},
		Region{0x100000000, 0x80000000, KindAvailable},
	))
	v.tag(tagFramebuffer, le(nil).u64(0xfd000000).u32(5120).u32(1280).u32(800).u8(32).u8(FBRGB).u16(0).
		u8(16).u8(8).u8(8).u8(8).u8(0).u8(8).u16(0))
	v.tag(9, le(nil).u32(0).u32(64).u32(0).u64(0)) // ELF sections (skipped)
	v.tag(tagEFI64, le(nil).u64(0x7f9e6018))
	rsdp := le(nil).str("RSD PTR").u8(0).str("BOCHS").u8(0).u32(0x7ffe1000)[:rsdpV1Size]
	v.tag(tagACPIOld, rsdp)
	xsdp := append(append(le(nil), rsdp...), le(nil).u32(36).u64(0x7ffe1100).u8(0).u8(0).u8(0).u8(0)...)
	v.tag(tagACPINew, xsdp)
	return v.finish(), 0x10000
}

func TestV2GRUB(t *testing.T) {
	blob, addr := grubV2()
	mem := &Memory{Base: addr, Bytes: blob}
	var info Info
	if err := Parse(MagicV2, addr, mem, &info); err != OK {
		t.Fatalf("err = %v", err)
	}
	checkConsistent(t, mem, &info)
	if info.Version != 2 || !info.HasMemBasic || info.MemLowerKB != 639 || info.MemUpperKB != 2096000 {
		t.Errorf("basic: %d %d", info.MemLowerKB, info.MemUpperKB)
	}
	if got := str(t, mem, info.HasCmdline, info.CmdlineAddr, info.CmdlineLen); got != "/boot/rt0 rt0.debug=2 A=b" {
		t.Errorf("cmdline %q", got)
	}
	if got := str(t, mem, info.HasLoaderName, info.LoaderNameAddr, info.LoaderNameLen); got != "GRUB 2.12" {
		t.Errorf("loader %q", got)
	}
	if info.NModules != 2 {
		t.Fatalf("NModules %d", info.NModules)
	}
	m0, m1 := info.Modules[0], info.Modules[1]
	if m0.Start != 0x400000 || m0.End != 0x480000 || str(t, mem, true, m0.CmdlineAddr, m0.CmdlineLen) != "/boot/initrd" {
		t.Errorf("module 0 %+v", m0)
	}
	if m1.Start != 0x480000 || m1.End != 0x480000 || m1.CmdlineLen != 0 || str(t, mem, true, m1.CmdlineAddr, 0) != "" {
		t.Errorf("module 1 %+v", m1)
	}
	want := []Region{
		{0, 0x9fc00, KindAvailable},
		{0x9fc00, 0x400, KindReserved},
		{0xf0000, 0x10000, KindReserved},
		{0x100000, 0x7fee0000, KindAvailable},
		{0x7ffe0000, 0x20000, KindNVS},
		{0xfeffc000, 0x4000, KindReserved},
		{0x100000000, 0x80000000, KindAvailable},
	}
	if info.NRegions != len(want) {
		t.Fatalf("NRegions %d", info.NRegions)
	}
	for i := range want {
		if info.Regions[i] != want[i] {
			t.Errorf("region %d = %+v", i, info.Regions[i])
		}
	}
	wantFB := Framebuffer{Addr: 0xfd000000, Pitch: 5120, Width: 1280, Height: 800, BPP: 32, Type: FBRGB,
		RedPos: 16, RedSize: 8, GreenPos: 8, GreenSize: 8, BluePos: 0, BlueSize: 8}
	if !info.HasFB || info.FB != wantFB {
		t.Errorf("fb %+v", info.FB)
	}
	if info.EFISystemTable != 0x7f9e6018 {
		t.Errorf("EFI %#x", info.EFISystemTable)
	}
	if !info.RSDPv2 || info.RSDPLen != 36 {
		t.Fatalf("RSDP v2 %v len %d", info.RSDPv2, info.RSDPLen)
	}
	r, _ := mem.Slice(info.RSDPAddr, info.RSDPLen)
	if string(r[:8]) != "RSD PTR\x00" || binary.LittleEndian.Uint32(r[20:]) != 36 {
		t.Errorf("RSDP bytes %q", r)
	}
	if info.Truncated {
		t.Errorf("truncated")
	}
	// Addresses are physical: the cmdline tag is the second, at offset 24
	// (8 header + 16 for the padded load-base tag), payload at 32.
	if info.CmdlineAddr != addr+32 {
		t.Errorf("CmdlineAddr = %#x", info.CmdlineAddr)
	}
}

// TestV2Hand decodes a minimal multiboot2 blob written out byte by byte.
func TestV2Hand(t *testing.T) {
	blob := []byte{
		0x48, 0, 0, 0, 0, 0, 0, 0, // total_size 72, reserved
		1, 0, 0, 0, 12, 0, 0, 0, 'a', ' ', 'b', 0, 0, 0, 0, 0, // cmdline "a b", padded
		4, 0, 0, 0, 16, 0, 0, 0, 0x7f, 2, 0, 0, 0, 0x7c, 0, 0, // basic meminfo 639, 31744
		14, 0, 0, 0, 28, 0, 0, 0, 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ', // ACPI old RSDP ...
		0, 'O', 'E', 'M', 'I', 'D', ' ', 0, 0, 0, 0, 0, 0, 0, 0, 0, // ... 20 bytes, padded
		0, 0, 0, 0, 8, 0, 0, 0, // end
	}
	blob[0] = byte(len(blob))
	mem := &Memory{Base: 0x8000, Bytes: blob}
	var info Info
	if err := Parse(MagicV2, 0x8000, mem, &info); err != OK {
		t.Fatalf("err %v", err)
	}
	checkConsistent(t, mem, &info)
	if info.CmdlineAddr != 0x8010 || info.CmdlineLen != 3 || info.MemLowerKB != 639 || info.MemUpperKB != 31744 {
		t.Errorf("%+v", info)
	}
	if info.RSDPAddr != 0x8030 || info.RSDPLen != 20 || info.RSDPv2 {
		t.Errorf("RSDP %#x %d %v", info.RSDPAddr, info.RSDPLen, info.RSDPv2)
	}
}

// sameOrAbsent checks that what Parse found in a truncated input agrees
// with the full parse: every present field equals the full one.
func sameOrAbsent(t *testing.T, full, part *Info) {
	t.Helper()
	if part.NRegions > full.NRegions || part.NModules > full.NModules {
		t.Fatalf("more in part: %d/%d regions, %d/%d modules", part.NRegions, full.NRegions, part.NModules, full.NModules)
	}
	for i := 0; i < part.NRegions; i++ {
		if part.Regions[i] != full.Regions[i] {
			t.Fatalf("region %d: %+v vs %+v", i, part.Regions[i], full.Regions[i])
		}
	}
	for i := 0; i < part.NModules; i++ {
		p, f := part.Modules[i], full.Modules[i]
		if p.Start != f.Start || p.End != f.End || (p.CmdlineAddr != 0 && (p.CmdlineAddr != f.CmdlineAddr || p.CmdlineLen != f.CmdlineLen)) {
			t.Fatalf("module %d: %+v vs %+v", i, p, f)
		}
	}
	if part.HasCmdline && (part.CmdlineAddr != full.CmdlineAddr || part.CmdlineLen != full.CmdlineLen) {
		t.Fatalf("cmdline differs")
	}
	if part.HasLoaderName && (part.LoaderNameAddr != full.LoaderNameAddr || part.LoaderNameLen != full.LoaderNameLen) {
		t.Fatalf("loader name differs")
	}
	if part.HasMemBasic && (part.MemLowerKB != full.MemLowerKB || part.MemUpperKB != full.MemUpperKB) {
		t.Fatalf("basic memory differs")
	}
	if part.HasFB && part.FB != full.FB {
		t.Fatalf("fb differs")
	}
	if part.RSDPLen != 0 && (part.RSDPAddr != full.RSDPAddr || part.RSDPLen != full.RSDPLen || part.RSDPv2 != full.RSDPv2) {
		// A truncated v2 blob may have the old RSDP without the new one.
		if part.RSDPv2 || part.RSDPLen != rsdpV1Size {
			t.Fatalf("RSDP differs")
		}
	}
	if part.EFISystemTable != 0 && part.EFISystemTable != full.EFISystemTable {
		t.Fatalf("EFI differs")
	}
}

func TestV2EveryTruncation(t *testing.T) {
	blob, addr := grubV2()
	var full Info
	Parse(MagicV2, addr, &Memory{Base: addr, Bytes: blob}, &full)
	for n := 0; n < len(blob); n++ {
		mem := &Memory{Base: addr, Bytes: blob[:n]}
		var info Info
		err := Parse(MagicV2, addr, mem, &info)
		if err == OK {
			t.Fatalf("len %d: no error", n)
		}
		if n < v2HeaderSize && err != ErrRange {
			t.Fatalf("len %d: err %v", n, err)
		}
		if n >= v2HeaderSize && err != ErrTruncated {
			t.Fatalf("len %d: err %v", n, err)
		}
		checkConsistent(t, mem, &info)
		sameOrAbsent(t, &full, &info)
	}
	// The same, with total_size shrunk to match (a blob that lies about its
	// own length rather than a short window).
	for n := v2HeaderSize; n < len(blob); n++ {
		b := append([]byte(nil), blob[:n]...)
		binary.LittleEndian.PutUint32(b, uint32(n))
		mem := &Memory{Base: addr, Bytes: b}
		var info Info
		err := Parse(MagicV2, addr, mem, &info)
		if err != ErrBadTag && err != ErrNoEnd {
			t.Fatalf("total %d: err %v", n, err)
		}
		checkConsistent(t, mem, &info)
		sameOrAbsent(t, &full, &info)
	}
}

func TestV1EveryTruncation(t *testing.T) {
	m, addr, _ := grubV1()
	var full Info
	if err := Parse(MagicV1, addr, m.mem(), &full); err != OK {
		t.Fatal(err)
	}
	used := int(m.next)
	for n := 0; n <= used; n++ {
		mem := &Memory{Base: m.base, Bytes: m.b[:n]}
		var info Info
		err := Parse(MagicV1, addr, mem, &info)
		if n < used && err == OK {
			t.Fatalf("len %d: no error", n)
		}
		if n == used && err != OK {
			t.Fatalf("full length: %v", err)
		}
		checkConsistent(t, mem, &info)
		sameOrAbsent(t, &full, &info)
	}
	// And a window that starts late (cuts off the front).
	for n := 0; n <= used; n++ {
		mem := &Memory{Base: m.base + uint64(n), Bytes: m.b[n:]}
		var info Info
		Parse(MagicV1, addr, mem, &info)
		checkConsistent(t, mem, &info)
		sameOrAbsent(t, &full, &info)
	}
}

// v1Hostile builds a v1 structure whose fields are overwritten by mutate.
func v1Hostile(mutate func(m *phys, info uint64)) (*Memory, uint64) {
	m := newPhys(0x10000, 2048)
	s := v1Spec{hasMem: true, hasCmdline: true, cmdline: "k", hasMods: true,
		mods: []v1Mod{{1, 2, "m"}}, hasMmap: true,
		mmap:      []Region{{0, 0x1000, KindAvailable}, {0x100000, 0x1000, KindAvailable}},
		hasLoader: true, loader: "l"}
	addr := s.build(m)
	mutate(m, addr)
	return m.mem(), addr
}

func TestV1Hostile(t *testing.T) {
	mmapAddr := func(m *phys, info uint64) uint64 {
		return uint64(binary.LittleEndian.Uint32(m.b[info+v1MmapAddr-m.base:]))
	}
	for _, c := range []struct {
		name     string
		mutate   func(m *phys, info uint64)
		err      Errno
		regions  int
		modules  int
		truncate bool
	}{
		{"ok", func(m *phys, info uint64) {}, OK, 2, 1, false},
		{"mmap entry size 0", func(m *phys, info uint64) { m.put32(mmapAddr(m, info), 0) }, ErrMmap, 0, 1, false},
		{"mmap entry size 19", func(m *phys, info uint64) { m.put32(mmapAddr(m, info), 19) }, ErrMmap, 0, 1, false},
		{"mmap second entry size huge", func(m *phys, info uint64) { m.put32(mmapAddr(m, info)+24, 0xffffffff) }, ErrMmap, 1, 1, false},
		{"mmap second entry too long", func(m *phys, info uint64) { m.put32(mmapAddr(m, info)+24, 21) }, ErrMmap, 1, 1, false},
		{"mmap length odd", func(m *phys, info uint64) { m.put32(info+v1MmapLength, 24+3) }, ErrMmap, 1, 1, false},
		{"mmap length 0", func(m *phys, info uint64) { m.put32(info+v1MmapLength, 0) }, OK, 0, 1, false},
		{"mmap length huge", func(m *phys, info uint64) { m.put32(info+v1MmapLength, 0xffffffff) }, ErrRange, 0, 1, false},
		{"mmap addr outside", func(m *phys, info uint64) { m.put32(info+v1MmapAddr, 0xfffffff0) }, ErrRange, 0, 1, false},
		{"mmap longer entries", func(m *phys, info uint64) {
			a := mmapAddr(m, info)
			m.put32(a, 24-4) // unchanged first
			// Rewrite as one 28-byte-size entry covering both (size 44).
			m.put32(a, 44)
		}, OK, 1, 1, false},
		{"mods count huge", func(m *phys, info uint64) {
			// One good module record at the very end of the window, then
			// nothing: the second record is outside.
			p := m.base + uint64(len(m.b)) - v1ModSize
			m.put32(p, 1)
			m.put32(p+4, 2)
			m.put32(p+8, binary.LittleEndian.Uint32(m.b[info+v1Cmdline-m.base:]))
			m.put32(info+v1ModsAddr, uint32(p))
			m.put32(info+v1ModsCount, 0xffffffff)
		}, ErrRange, 2, 1, true},
		{"mods addr outside", func(m *phys, info uint64) { m.put32(info+v1ModsAddr, 0x100) }, ErrRange, 2, 0, false},
		{"module end below start", func(m *phys, info uint64) {
			p := uint64(binary.LittleEndian.Uint32(m.b[info+v1ModsAddr-m.base:]))
			m.put32(p+4, 0)
		}, ErrModule, 2, 0, false},
		{"module string outside", func(m *phys, info uint64) {
			p := uint64(binary.LittleEndian.Uint32(m.b[info+v1ModsAddr-m.base:]))
			m.put32(p+8, 0xffffffff)
		}, ErrString, 2, 1, false},
		{"cmdline outside", func(m *phys, info uint64) { m.put32(info+v1Cmdline, 0) }, ErrString, 2, 1, false},
		{"cmdline unterminated", func(m *phys, info uint64) {
			m.put32(info+v1Cmdline, uint32(m.base)+uint32(len(m.b))-4)
			m.put(m.base+uint64(len(m.b))-4, []byte("abcd"))
		}, ErrString, 2, 1, false},
		{"loader name outside", func(m *phys, info uint64) { m.put32(info+v1LoaderName, 0x7fffffff) }, ErrString, 2, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem, addr := v1Hostile(c.mutate)
			var info Info
			err := Parse(MagicV1, addr, mem, &info)
			if err != c.err || info.NRegions != c.regions || info.NModules != c.modules || info.Truncated != c.truncate {
				t.Errorf("err %v regions %d modules %d truncated %v; want %v %d %d %v",
					err, info.NRegions, info.NModules, info.Truncated, c.err, c.regions, c.modules, c.truncate)
			}
			checkConsistent(t, mem, &info)
		})
	}
}

func TestV1Fixed(t *testing.T) {
	// Info outside the window, and fixed parts too short for their flags.
	var info Info
	if err := Parse(MagicV1, 0x100, &Memory{Base: 0x1000, Bytes: make([]byte, 200)}, &info); err != ErrRange {
		t.Errorf("outside: %v", err)
	}
	if err := Parse(MagicV1, 0x1000, &Memory{Base: 0x1000, Bytes: make([]byte, 3)}, &info); err != ErrRange {
		t.Errorf("3 bytes: %v", err)
	}
	for _, c := range []struct {
		flag uint32
		need int
	}{
		{v1FlagMem, 12}, {v1FlagCmdline, 20}, {v1FlagMods, 28}, {v1FlagMmap, 52},
		{v1FlagLoaderName, 68}, {v1FlagFramebuffer, 116},
	} {
		b := make([]byte, c.need)
		binary.LittleEndian.PutUint32(b, c.flag)
		// cmdline/loader pointers (0) point nowhere valid: use the
		// structure itself, whose bytes contain a NUL.
		mem := &Memory{Base: 0, Bytes: b}
		if err := Parse(MagicV1, 0, mem, &info); err == ErrTruncated {
			t.Errorf("flag %#x with %d bytes: %v", c.flag, c.need, err)
		}
		mem.Bytes = b[:c.need-1]
		if err := Parse(MagicV1, 0, mem, &info); err != ErrTruncated {
			t.Errorf("flag %#x with %d bytes: %v", c.flag, c.need-1, err)
		}
		checkConsistent(t, mem, &info)
	}
}

func TestV2Hostile(t *testing.T) {
	rsdp := make([]byte, 20)
	xsdp := make([]byte, 36)
	for _, c := range []struct {
		name    string
		build   func(v *v2Blob)
		finish  bool // append the end tag and fix total_size
		err     Errno
		regions int
		check   func(t *testing.T, info *Info)
	}{
		{"empty", func(v *v2Blob) {}, true, OK, 0, nil},
		{"no end tag", func(v *v2Blob) {
			v.tag(tagBasicMem, le(nil).u32(1).u32(2))
			binary.LittleEndian.PutUint32(v.b, uint32(len(v.b)))
		}, false, ErrNoEnd, 0, func(t *testing.T, info *Info) {
			if !info.HasMemBasic {
				t.Error("lost basic memory before the missing end")
			}
		}},
		{"tag size 0", func(v *v2Blob) { v.rawTag(77, 0, make([]byte, 8)) }, true, ErrBadTag, 0, nil},
		{"tag size 7", func(v *v2Blob) { v.rawTag(77, 7, make([]byte, 8)) }, true, ErrBadTag, 0, nil},
		{"tag size past total", func(v *v2Blob) { v.rawTag(77, 0x7fffffff, make([]byte, 8)) }, true, ErrBadTag, 0, nil},
		{"tag size max", func(v *v2Blob) { v.rawTag(77, 0xffffffff, make([]byte, 8)) }, true, ErrBadTag, 0, nil},
		{"unaligned sizes", func(v *v2Blob) {
			v.tag(77, []byte{1})
			v.tag(tagMmap, v2MmapPayload(Region{0, 1, 1}))
		}, true, OK, 1, nil},
		{"cmdline unterminated", func(v *v2Blob) { v.tag(tagCmdline, []byte("abc")) }, true, ErrString, 0, nil},
		{"cmdline empty tag", func(v *v2Blob) { v.tag(tagCmdline, nil) }, true, ErrString, 0, nil},
		{"loader unterminated", func(v *v2Blob) { v.tag(tagLoaderName, []byte("x")) }, true, ErrString, 0, nil},
		{"module short", func(v *v2Blob) { v.tag(tagModule, le(nil).u32(1)) }, true, ErrBadTag, 0, nil},
		{"module no string", func(v *v2Blob) { v.tag(tagModule, le(nil).u32(1).u32(2)) }, true, ErrString, 0,
			func(t *testing.T, info *Info) {
				if info.NModules != 1 || info.Modules[0].CmdlineAddr != 0 {
					t.Errorf("module %+v", info.Modules[0])
				}
			}},
		{"module backwards", func(v *v2Blob) { v.tag(tagModule, le(nil).u32(3).u32(2).str("")) }, true, ErrModule, 0, nil},
		{"too many modules", func(v *v2Blob) {
			for i := 0; i < MaxModules+3; i++ {
				v.tag(tagModule, le(nil).u32(uint32(i)).u32(uint32(i)).str(""))
			}
		}, true, OK, 0, func(t *testing.T, info *Info) {
			if info.NModules != MaxModules || !info.Truncated || info.Modules[MaxModules-1].Start != MaxModules-1 {
				t.Errorf("modules %d truncated %v", info.NModules, info.Truncated)
			}
		}},
		{"basic mem short", func(v *v2Blob) { v.tag(tagBasicMem, le(nil).u32(1)) }, true, ErrBadTag, 0, nil},
		{"mmap short", func(v *v2Blob) { v.tag(tagMmap, le(nil).u32(24)) }, true, ErrBadTag, 0, nil},
		{"mmap entry size 0", func(v *v2Blob) { v.tag(tagMmap, le(nil).u32(0).u32(0).u64(0).u64(1).u64(1)) }, true, ErrMmap, 0, nil},
		{"mmap entry size 23", func(v *v2Blob) { v.tag(tagMmap, le(nil).u32(23).u32(0).u64(0).u64(1).u64(1)) }, true, ErrMmap, 0, nil},
		{"mmap entry size huge", func(v *v2Blob) { v.tag(tagMmap, le(nil).u32(0xffffffff).u32(0).u64(0).u64(1).u64(1)) }, true, ErrMmap, 0, nil},
		{"mmap leftover", func(v *v2Blob) {
			p := v2MmapPayload(Region{0, 1, 1}, Region{5, 1, 1})
			v.tag(tagMmap, p[:len(p)-4])
		}, true, ErrMmap, 1, nil},
		{"mmap entry size 32", func(v *v2Blob) {
			v.tag(tagMmap, le(nil).u32(32).u32(0).u64(7).u64(9).u32(3).u32(0).u64(0xdead).u64(1).u64(2).u32(1).u32(0).u64(0))
		}, true, OK, 2, func(t *testing.T, info *Info) {
			if info.Regions[0] != (Region{7, 9, KindACPIReclaimable}) || info.Regions[1] != (Region{1, 2, KindAvailable}) {
				t.Errorf("regions %+v", info.Regions[:2])
			}
		}},
		{"mmap zero and wrapping entries", func(v *v2Blob) {
			v.tag(tagMmap, v2MmapPayload(Region{5, 0, 1}, Region{^uint64(0) - 10, 100, 1}, Region{^uint64(0), 5, 1}, Region{9, 1, 42}))
		}, true, OK, 2, func(t *testing.T, info *Info) {
			if info.Regions[0] != (Region{^uint64(0) - 10, 10, KindAvailable}) || info.Regions[1] != (Region{9, 1, 42}) {
				t.Errorf("regions %+v", info.Regions[:2])
			}
			if info.MaxAddr() != ^uint64(0) {
				t.Errorf("MaxAddr %#x", info.MaxAddr())
			}
		}},
		{"too many regions over two tags", func(v *v2Blob) {
			var rs []Region
			for i := 0; i < 100; i++ {
				rs = append(rs, Region{uint64(i) << 12, 1 << 12, KindAvailable})
			}
			v.tag(tagMmap, v2MmapPayload(rs...))
			v.tag(tagMmap, v2MmapPayload(rs...))
		}, true, OK, MaxRegions, func(t *testing.T, info *Info) {
			if !info.Truncated || info.Regions[MaxRegions-1].Base != 27<<12 {
				t.Errorf("truncated %v last %+v", info.Truncated, info.Regions[MaxRegions-1])
			}
		}},
		{"fb short", func(v *v2Blob) { v.tag(tagFramebuffer, make([]byte, 23)) }, true, ErrBadTag, 0, nil},
		{"fb rgb short", func(v *v2Blob) {
			v.tag(tagFramebuffer, le(nil).u64(1).u32(2).u32(3).u32(4).u8(32).u8(FBRGB).u16(0).u8(1))
		}, true, ErrBadTag, 0, nil},
		{"fb text", func(v *v2Blob) {
			v.tag(tagFramebuffer, le(nil).u64(0xb8000).u32(160).u32(80).u32(25).u8(16).u8(FBText).u16(0))
		}, true, OK, 0, func(t *testing.T, info *Info) {
			want := Framebuffer{Addr: 0xb8000, Pitch: 160, Width: 80, Height: 25, BPP: 16, Type: FBText}
			if !info.HasFB || info.FB != want {
				t.Errorf("fb %+v", info.FB)
			}
		}},
		{"fb indexed", func(v *v2Blob) {
			v.tag(tagFramebuffer, le(nil).u64(0xa0000).u32(320).u32(320).u32(200).u8(8).u8(FBIndexed).u16(0).
				u16(2).u8(1).u8(2).u8(3).u8(4).u8(5).u8(6))
		}, true, OK, 0, func(t *testing.T, info *Info) {
			if !info.HasFB || info.FB.PaletteColors != 2 || info.FB.PaletteAddr != 0x1000+8+8+26 {
				t.Errorf("fb %+v", info.FB)
			}
		}},
		{"fb indexed palette past tag", func(v *v2Blob) {
			v.tag(tagFramebuffer, le(nil).u64(0xa0000).u32(320).u32(320).u32(200).u8(8).u8(FBIndexed).u16(0).
				u16(0xffff).u8(1).u8(2).u8(3))
		}, true, ErrBadTag, 0, nil},
		{"fb indexed no count", func(v *v2Blob) {
			v.tag(tagFramebuffer, le(nil).u64(0xa0000).u32(320).u32(320).u32(200).u8(8).u8(FBIndexed).u16(0))
		}, true, ErrBadTag, 0, nil},
		{"efi32 then 64", func(v *v2Blob) {
			v.tag(tagEFI32, le(nil).u32(0x1234))
			v.tag(tagEFI64, le(nil).u64(0x123456789))
			v.tag(tagEFI32, le(nil).u32(0x5678))
		}, true, OK, 0, func(t *testing.T, info *Info) {
			if info.EFISystemTable != 0x123456789 {
				t.Errorf("EFI %#x", info.EFISystemTable)
			}
		}},
		{"efi short", func(v *v2Blob) { v.tag(tagEFI64, le(nil).u32(1)); v.tag(tagEFI32, nil) }, true, ErrBadTag, 0, nil},
		{"acpi new then old", func(v *v2Blob) {
			v.tag(tagACPINew, xsdp)
			v.tag(tagACPIOld, rsdp)
		}, true, OK, 0, func(t *testing.T, info *Info) {
			if !info.RSDPv2 || info.RSDPLen != 36 || info.RSDPAddr != 0x1000+16 {
				t.Errorf("RSDP %#x %d %v", info.RSDPAddr, info.RSDPLen, info.RSDPv2)
			}
		}},
		{"acpi short", func(v *v2Blob) {
			v.tag(tagACPIOld, rsdp[:19])
			v.tag(tagACPINew, xsdp[:35])
		}, true, ErrBadTag, 0, func(t *testing.T, info *Info) {
			if info.RSDPLen != 0 {
				t.Errorf("RSDP len %d", info.RSDPLen)
			}
		}},
		{"total size 7", func(v *v2Blob) {
			v.tag(tagEnd, nil)
			binary.LittleEndian.PutUint32(v.b, 7)
		}, false, ErrHeader, 0, nil},
		{"total size 8", func(v *v2Blob) {
			v.tag(tagEnd, nil)
			binary.LittleEndian.PutUint32(v.b, 8)
		}, false, ErrNoEnd, 0, nil},
		{"data after end tag ignored", func(v *v2Blob) {
			v.tag(tagEnd, nil)
			v.rawTag(0xbad, 1, nil)
			binary.LittleEndian.PutUint32(v.b, uint32(len(v.b)))
		}, false, OK, 0, nil},
		{"later tag replaces", func(v *v2Blob) {
			v.tag(tagCmdline, le(nil).str("first"))
			v.tag(tagCmdline, le(nil).str("second"))
		}, true, OK, 0, func(t *testing.T, info *Info) {
			if info.CmdlineLen != 6 {
				t.Errorf("cmdline len %d", info.CmdlineLen)
			}
		}},
		{"error keeps walking", func(v *v2Blob) {
			v.tag(tagCmdline, []byte("x"))
			v.tag(tagMmap, v2MmapPayload(Region{0, 1, 1}))
			v.tag(tagBasicMem, le(nil))
		}, true, ErrString, 1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := newV2()
			c.build(v)
			b := v.b
			if c.finish {
				b = v.finish()
			}
			mem := &Memory{Base: 0x1000, Bytes: b}
			var info Info
			err := Parse(MagicV2, 0x1000, mem, &info)
			if err != c.err || info.NRegions != c.regions {
				t.Errorf("err %v regions %d; want %v %d", err, info.NRegions, c.err, c.regions)
			}
			checkConsistent(t, mem, &info)
			if c.check != nil {
				c.check(t, &info)
			}
		})
	}
}

func TestV2Outside(t *testing.T) {
	var info Info
	mem := &Memory{Base: 0x1000, Bytes: make([]byte, 64)}
	for _, addr := range []uint64{0, 0xfff, 0x1039, 0x1040, ^uint64(0)} {
		if err := Parse(MagicV2, addr, mem, &info); err != ErrRange {
			t.Errorf("addr %#x: %v", addr, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	var info Info
	in := []Region{{50, 1, 1}, {10, 5, 2}, {30, 1, 1}, {10, 2, 1}, {0, 100, 2}, {10, 1, 3}}
	for _, r := range in {
		info.addRegion(r.Base, r.Len, uint32(r.Kind))
	}
	info.Normalize()
	want := []Region{{0, 100, 2}, {10, 5, 2}, {10, 2, 1}, {10, 1, 3}, {30, 1, 1}, {50, 1, 1}}
	for i, w := range want {
		if info.Regions[i] != w {
			t.Errorf("%d: %+v want %+v", i, info.Regions[i], w)
		}
	}
	if info.TotalAvailable() != 4 || info.MaxAddr() != 51 {
		t.Errorf("total %d max %d", info.TotalAvailable(), info.MaxAddr())
	}
	// A corrupted count is clamped, not trusted.
	info.NRegions = 1 << 20
	info.Normalize()
	info.NRegions = -5
	info.Normalize()
	if info.TotalAvailable() != 0 || info.MaxAddr() != 0 {
		t.Error("negative count")
	}
}

func TestTotalAvailableSaturates(t *testing.T) {
	var info Info
	info.addRegion(0, 1<<63, 1)
	info.addRegion(1<<63, 1<<63-1, 1)
	info.addRegion(0, 1<<63, 1)
	if got := info.TotalAvailable(); got != ^uint64(0) {
		t.Errorf("TotalAvailable = %#x", got)
	}
}

func TestStrings(t *testing.T) {
	for e := OK; e <= ErrModule; e++ {
		if s := e.String(); s == "" || s == "unknown error" {
			t.Errorf("Errno(%d) = %q", e, s)
		}
	}
	if Errno(99).String() != "unknown error" || MemKind(1).String() != "available" || MemKind(9).String() != "unknown" {
		t.Error("String")
	}
}

func TestNoAllocs(t *testing.T) {
	blob, addr := grubV2()
	mem2 := &Memory{Base: addr, Bytes: blob}
	m, addr1, _ := grubV1()
	mem1 := m.mem()
	var info Info
	n := testing.AllocsPerRun(100, func() {
		Parse(MagicV2, addr, mem2, &info)
		Parse(MagicV1, addr1, mem1, &info)
		info.Normalize()
		info.TotalAvailable()
		info.MaxAddr()
		info.Cmdline(mem1)
	})
	if n != 0 {
		t.Errorf("%v allocations", n)
	}
}
