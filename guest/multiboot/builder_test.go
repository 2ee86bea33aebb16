// Test-only builders: a simulated physical memory into which tests lay out
// multiboot v1 structures (the fixed part plus what it points at), and a
// multiboot2 blob builder that appends tags with the format's padding. Tests
// build their inputs with these rather than with hand-counted byte arrays.

package multiboot

import (
	"encoding/binary"
	"testing"
)

// phys is a stretch of simulated physical memory at base.
type phys struct {
	base uint64
	b    []byte
	next uint64 // offset of the next free byte for alloc
}

func newPhys(base uint64, size int) *phys {
	return &phys{base: base, b: make([]byte, size)}
}

// alloc reserves n bytes aligned to align and returns their address.
func (m *phys) alloc(n, align int) uint64 {
	a := uint64(align)
	m.next = (m.next + a - 1) / a * a
	addr := m.base + m.next
	m.next += uint64(n)
	if m.next > uint64(len(m.b)) {
		panic("phys: out of memory")
	}
	return addr
}

func (m *phys) put(addr uint64, data []byte) { copy(m.b[addr-m.base:], data) }
func (m *phys) put16(addr uint64, v uint16) {
	binary.LittleEndian.PutUint16(m.b[addr-m.base:], v)
}
func (m *phys) put32(addr uint64, v uint32) {
	binary.LittleEndian.PutUint32(m.b[addr-m.base:], v)
}
func (m *phys) put64(addr uint64, v uint64) {
	binary.LittleEndian.PutUint64(m.b[addr-m.base:], v)
}

// str stores s with a NUL and returns its address.
func (m *phys) str(s string) uint64 {
	a := m.alloc(len(s)+1, 1)
	m.put(a, []byte(s))
	m.b[a-m.base+uint64(len(s))] = 0
	return a
}

// mem returns the window over all of m.
func (m *phys) mem() *Memory { return &Memory{Base: m.base, Bytes: m.b} }

// v1Mod describes a module for v1Spec.
type v1Mod struct {
	start, end uint32
	str        string
}

// v1Spec describes a v1 information structure for build.
type v1Spec struct {
	size               int // of the fixed part: 88 (QEMU) or 116 (GRUB); 0 means 116
	memLower, memUpper uint32
	hasMem             bool
	cmdline            string
	hasCmdline         bool
	mods               []v1Mod
	hasMods            bool
	mmap               []Region
	mmapEntrySize      uint32 // the size field of each entry; 0 means 20
	hasMmap            bool
	loader             string
	hasLoader          bool
	fb                 *Framebuffer
}

// build lays out the structure in m: the fixed part first, then what it
// points at, and returns the fixed part's address.
func (s v1Spec) build(m *phys) uint64 {
	size := s.size
	if size == 0 {
		size = v1Size
	}
	info := m.alloc(size, 8)
	var flags uint32
	if s.hasMem {
		flags |= v1FlagMem
		m.put32(info+v1MemLower, s.memLower)
		m.put32(info+v1MemUpper, s.memUpper)
	}
	if s.hasCmdline {
		flags |= v1FlagCmdline
		m.put32(info+v1Cmdline, uint32(m.str(s.cmdline)))
	}
	if s.hasMods {
		flags |= v1FlagMods
		p := m.alloc(len(s.mods)*v1ModSize, 4)
		for i, md := range s.mods {
			e := p + uint64(i*v1ModSize)
			m.put32(e, md.start)
			m.put32(e+4, md.end)
			m.put32(e+8, uint32(m.str(md.str)))
		}
		m.put32(info+v1ModsCount, uint32(len(s.mods)))
		m.put32(info+v1ModsAddr, uint32(p))
	}
	if s.hasMmap {
		flags |= v1FlagMmap
		es := s.mmapEntrySize
		if es == 0 {
			es = v1MmapMinEntry
		}
		n := len(s.mmap) * int(4+es)
		p := m.alloc(n, 4)
		for i, r := range s.mmap {
			e := p + uint64(i)*uint64(4+es)
			m.put32(e, es)
			m.put64(e+4, r.Base)
			m.put64(e+12, r.Len)
			m.put32(e+20, uint32(r.Kind))
		}
		m.put32(info+v1MmapLength, uint32(n))
		m.put32(info+v1MmapAddr, uint32(p))
	}
	if s.hasLoader {
		flags |= v1FlagLoaderName
		m.put32(info+v1LoaderName, uint32(m.str(s.loader)))
	}
	if s.fb != nil {
		flags |= v1FlagFramebuffer
		fb := s.fb
		m.put64(info+v1FBAddr, fb.Addr)
		m.put32(info+v1FBPitch, fb.Pitch)
		m.put32(info+v1FBWidth, fb.Width)
		m.put32(info+v1FBHeight, fb.Height)
		m.put(info+v1FBBPP, []byte{fb.BPP, fb.Type})
		switch fb.Type {
		case FBIndexed:
			m.put32(info+v1FBColor, uint32(fb.PaletteAddr))
			m.put16(info+v1FBColor+4, fb.PaletteColors)
		case FBRGB:
			m.put(info+v1FBColor, []byte{fb.RedPos, fb.RedSize, fb.GreenPos, fb.GreenSize, fb.BluePos, fb.BlueSize})
		}
	}
	m.put32(info+v1Flags, flags)
	return info
}

// v2Blob builds a multiboot2 information blob.
type v2Blob struct{ b []byte }

func newV2() *v2Blob { return &v2Blob{b: make([]byte, v2HeaderSize)} }

// tag appends a tag and returns the offset of its payload in the blob.
func (v *v2Blob) tag(typ uint32, payload []byte) uint64 {
	return v.rawTag(typ, uint32(v2TagHeader+len(payload)), payload)
}

// rawTag appends a tag with an explicit size field (which may lie).
func (v *v2Blob) rawTag(typ, size uint32, payload []byte) uint64 {
	for len(v.b)%8 != 0 {
		v.b = append(v.b, 0)
	}
	v.b = binary.LittleEndian.AppendUint32(v.b, typ)
	v.b = binary.LittleEndian.AppendUint32(v.b, size)
	off := uint64(len(v.b))
	v.b = append(v.b, payload...)
	return off
}

// finish appends the end tag, sets total_size and returns the blob.
func (v *v2Blob) finish() []byte {
	v.tag(tagEnd, nil)
	binary.LittleEndian.PutUint32(v.b, uint32(len(v.b)))
	return v.b
}

// le is a little-endian payload builder.
type le []byte

func (p le) u8(v uint8) le   { return append(p, v) }
func (p le) u16(v uint16) le { return binary.LittleEndian.AppendUint16(p, v) }
func (p le) u32(v uint32) le { return binary.LittleEndian.AppendUint32(p, v) }
func (p le) u64(v uint64) le { return binary.LittleEndian.AppendUint64(p, v) }
func (p le) str(s string) le { return append(append(p, s...), 0) }

// v2Mmap builds a memory map tag payload with 24-byte entries.
func v2MmapPayload(regions ...Region) []byte {
	p := le(nil).u32(v2MmapMinEntry).u32(0)
	for _, r := range regions {
		p = p.u64(r.Base).u64(r.Len).u32(uint32(r.Kind)).u32(0)
	}
	return p
}

// checkConsistent checks the guarantees Parse makes about any Info it
// fills, whatever the input: counts in range, regions that do not wrap,
// strings inside mem and NUL-terminated at their length, and so on.
func checkConsistent(t testing.TB, mem *Memory, info *Info) {
	t.Helper()
	if info.Version < 0 || info.Version > 2 {
		t.Fatalf("Version = %d", info.Version)
	}
	if info.NRegions < 0 || info.NRegions > MaxRegions {
		t.Fatalf("NRegions = %d", info.NRegions)
	}
	if info.NModules < 0 || info.NModules > MaxModules {
		t.Fatalf("NModules = %d", info.NModules)
	}
	for i, r := range info.Regions[:info.NRegions] {
		if r.Len == 0 || r.Base+r.Len < r.Base {
			t.Fatalf("region %d = %+v", i, r)
		}
	}
	for _, r := range info.Regions[info.NRegions:] {
		if r != (Region{}) {
			t.Fatalf("region past NRegions set: %+v", r)
		}
	}
	checkStr := func(what string, has bool, addr, n uint64) {
		t.Helper()
		if !has {
			if addr != 0 || n != 0 {
				t.Fatalf("%s absent but addr %#x len %d", what, addr, n)
			}
			return
		}
		b, ok := mem.Slice(addr, n+1)
		if !ok {
			t.Fatalf("%s [%#x,+%d] outside memory", what, addr, n+1)
		}
		for i, c := range b {
			if (c == 0) != (uint64(i) == n) {
				t.Fatalf("%s: byte %d of %d is %#x", what, i, n, c)
			}
		}
	}
	checkStr("cmdline", info.HasCmdline, info.CmdlineAddr, info.CmdlineLen)
	checkStr("loader name", info.HasLoaderName, info.LoaderNameAddr, info.LoaderNameLen)
	for i, m := range info.Modules[:info.NModules] {
		if m.End < m.Start {
			t.Fatalf("module %d: %+v", i, m)
		}
		checkStr("module string", m.CmdlineAddr != 0, m.CmdlineAddr, m.CmdlineLen)
	}
	if !info.HasMemBasic && (info.MemLowerKB != 0 || info.MemUpperKB != 0) {
		t.Fatalf("basic memory absent but set")
	}
	if !info.HasFB && info.FB != (Framebuffer{}) {
		t.Fatalf("framebuffer absent but set: %+v", info.FB)
	}
	if info.RSDPLen != 0 {
		min := uint64(rsdpV1Size)
		if info.RSDPv2 {
			min = rsdpV2Size
		}
		if info.RSDPLen < min {
			t.Fatalf("RSDP length %d", info.RSDPLen)
		}
		if _, ok := mem.Slice(info.RSDPAddr, info.RSDPLen); !ok {
			t.Fatalf("RSDP outside memory")
		}
	} else if info.RSDPAddr != 0 || info.RSDPv2 {
		t.Fatalf("RSDP absent but set")
	}
	if info.Version == 2 && info.HasFB && info.FB.Type == FBIndexed {
		if _, ok := mem.Slice(info.FB.PaletteAddr, uint64(info.FB.PaletteColors)*3); !ok {
			t.Fatalf("palette outside memory")
		}
	}
	if info.Version != 2 && (info.RSDPLen != 0 || info.EFISystemTable != 0) {
		t.Fatalf("v2-only fields set for version %d", info.Version)
	}
}
