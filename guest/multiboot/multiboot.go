// Package multiboot reads the boot information that a multiboot loader hands
// the kernel, for both versions of the protocol.
//
// The story. A loader enters the kernel with a magic number in EAX that says
// which protocol it speaks (MagicV1 for QEMU -kernel and GRUB's "multiboot",
// MagicV2 for GRUB's "multiboot2") and the physical address of its boot
// information in EBX. The two versions describe the same things (memory map,
// command line, modules, framebuffer, ...) in different shapes: v1 is a fixed
// structure whose flags say which fields are valid and whose fields point at
// further structures elsewhere in memory; v2 is a single self-contained blob
// of tagged records. Parse turns either into one Info value.
//
// This code runs before the Go runtime has started and must never allocate,
// panic or loop without bound, whatever the loader (or a fuzzer) hands it. So
// it works only on byte slices: the kernel describes the physical memory it
// may read as a Memory (a base address and a []byte window over its identity
// map; tests use a plain []byte), every access goes through a bounds-checked
// accessor, every loop advances by a validated non-zero step, and the result
// is a fixed-size value with no pointers. Problems are reported as an Errno;
// Parse keeps going past problems that leave the rest of the information
// readable, so Info always holds whatever could be validated.
package multiboot

// Magic numbers a loader leaves in EAX.
const (
	// MagicV1 is in EAX when a multiboot (v1) loader entered the kernel.
	MagicV1 = 0x2BADB002
	// MagicV2 is in EAX when a multiboot2 loader entered the kernel.
	MagicV2 = 0x36d76289
)

// Capacities of the fixed-size tables in Info.
const (
	// MaxRegions is the number of memory map entries Info holds; further
	// entries are dropped and Info.Truncated is set.
	MaxRegions = 128
	// MaxModules is the number of boot modules Info holds; further modules
	// are dropped and Info.Truncated is set.
	MaxModules = 16
	// MaxString bounds the search for the NUL that ends a v1 string (command
	// line, loader name, module string), so that a hostile pointer cannot make
	// Parse scan gigabytes of memory.
	MaxString = 1 << 16
)

// Errno is the result of Parse: OK, or the first problem Parse met.
type Errno int

// The values of Errno.
const (
	// OK means the boot information was read without a problem.
	OK Errno = iota
	// ErrMagic means the magic number is neither MagicV1 nor MagicV2.
	ErrMagic
	// ErrRange means a structure (the info itself for v1, or something a v1
	// field points at) does not lie inside the Memory window.
	ErrRange
	// ErrTruncated means a structure starts inside the Memory window but runs
	// past its end: for v2, the window is shorter than total_size; for v1,
	// the fixed part is too short for a field its flags declare valid.
	ErrTruncated
	// ErrHeader means the v2 fixed header is malformed (total_size < 8).
	ErrHeader
	// ErrBadTag means a v2 tag has a size below 8, runs past total_size, or
	// is too short for the fields its type requires.
	ErrBadTag
	// ErrNoEnd means the v2 tags ran up to total_size without an end tag.
	ErrNoEnd
	// ErrMmap means a memory map is malformed: an entry size below the
	// minimum, or an entry or trailing bytes that run past the map's length.
	ErrMmap
	// ErrString means a string has no NUL terminator inside its bounds (the
	// v2 tag, or MaxString bytes / the Memory window for v1).
	ErrString
	// ErrModule means a module's end lies below its start; it is dropped.
	ErrModule
)

// String names the error; it returns constant strings and never allocates.
func (e Errno) String() string {
	switch e {
	case OK:
		return "ok"
	case ErrMagic:
		return "bad magic"
	case ErrRange:
		return "address outside memory window"
	case ErrTruncated:
		return "structure truncated"
	case ErrHeader:
		return "bad header"
	case ErrBadTag:
		return "bad tag"
	case ErrNoEnd:
		return "no end tag"
	case ErrMmap:
		return "bad memory map"
	case ErrString:
		return "unterminated string"
	case ErrModule:
		return "bad module bounds"
	}
	return "unknown error"
}

// MemKind is the type of a memory region, with the multiboot (and E820)
// numbering. Values other than the named ones are kept as the loader gave
// them; the specifications say to treat them as reserved.
type MemKind uint32

// The kinds of memory region multiboot defines.
const (
	// KindAvailable is RAM free for the kernel to use.
	KindAvailable MemKind = 1
	// KindReserved is memory the kernel must not use.
	KindReserved MemKind = 2
	// KindACPIReclaimable holds ACPI tables; usable once they are read.
	KindACPIReclaimable MemKind = 3
	// KindNVS is ACPI non-volatile storage, to be preserved across sleep.
	KindNVS MemKind = 4
	// KindBad is defective RAM.
	KindBad MemKind = 5
)

// String names the kind; it returns constant strings and never allocates.
func (k MemKind) String() string {
	switch k {
	case KindAvailable:
		return "available"
	case KindReserved:
		return "reserved"
	case KindACPIReclaimable:
		return "ACPI reclaimable"
	case KindNVS:
		return "ACPI NVS"
	case KindBad:
		return "bad"
	}
	return "unknown"
}

// Region is one entry of the memory map: Len bytes of physical memory from
// Base. Parse guarantees Base+Len does not overflow (it clamps Len).
type Region struct {
	Base, Len uint64
	Kind      MemKind
}

// Module is a boot module the loader put in memory at [Start, End), with its
// string (NUL-terminated, CmdlineLen bytes without the NUL, at physical
// address CmdlineAddr). CmdlineAddr and CmdlineLen are 0 if the string was
// unusable (Parse then reports ErrString).
type Module struct {
	Start, End              uint64
	CmdlineAddr, CmdlineLen uint64
}

// Framebuffer types (Framebuffer.Type).
const (
	// FBIndexed is an indexed-colour framebuffer with a palette.
	FBIndexed = 0
	// FBRGB is a direct-colour framebuffer described by the RGB fields.
	FBRGB = 1
	// FBText is an EGA text-mode buffer (Width and Height in characters).
	FBText = 2
)

// Framebuffer describes the video framebuffer the loader set up. The colour
// fields are valid for Type FBRGB; PaletteAddr (the physical address of
// PaletteColors entries of three bytes red, green, blue) for Type FBIndexed.
type Framebuffer struct {
	Addr                 uint64
	Pitch, Width, Height uint32
	BPP                  uint8
	Type                 uint8
	RedPos, RedSize      uint8
	GreenPos, GreenSize  uint8
	BluePos, BlueSize    uint8
	PaletteColors        uint16
	PaletteAddr          uint64
}

// Info is what Parse learned from the boot information. It holds no
// pointers; strings and tables are given as physical addresses and lengths,
// which the kernel reads through the same Memory it gave Parse (for example
// with Memory.Slice(info.CmdlineAddr, info.CmdlineLen)). A field whose Has
// flag is false, or whose count or length is zero, is absent.
type Info struct {
	// Version is 1 or 2, the protocol the loader spoke (0 if the magic was bad).
	Version int

	// MemLowerKB and MemUpperKB are the basic memory sizes: KiB of memory
	// from 0 and from 1 MiB. They are valid if HasMemBasic.
	MemLowerKB, MemUpperKB uint32
	HasMemBasic            bool

	// Regions[:NRegions] is the memory map, in the loader's order (see
	// Normalize). Zero-length entries are left out.
	Regions  [MaxRegions]Region
	NRegions int

	// The command line is at physical address CmdlineAddr, CmdlineLen bytes
	// without its terminating NUL, which follows. Valid if HasCmdline.
	CmdlineAddr, CmdlineLen uint64
	HasCmdline              bool

	// The boot loader's name, as the command line. Valid if HasLoaderName.
	LoaderNameAddr, LoaderNameLen uint64
	HasLoaderName                 bool

	// Modules[:NModules] are the boot modules, in the loader's order.
	Modules  [MaxModules]Module
	NModules int

	// FB is the framebuffer, valid if HasFB.
	FB    Framebuffer
	HasFB bool

	// RSDPAddr is the physical address of the copy of the ACPI RSDP inside
	// the v2 information (RSDPLen bytes; 0 if there is none). RSDPv2 says it
	// came from the "new" (ACPI 2.0+) tag, which Parse prefers when both are
	// present.
	RSDPAddr, RSDPLen uint64
	RSDPv2            bool

	// EFISystemTable is the physical address of the EFI system table, from
	// the v2 EFI 64-bit (or, failing that, 32-bit) tag; 0 if absent.
	EFISystemTable uint64

	// Truncated says there were more regions or modules than Info holds.
	Truncated bool
}

// Memory is the physical memory Parse may read: Bytes is a window over
// physical addresses [Base, Base+len(Bytes)). The kernel builds Bytes over its
// identity map (for v1, a window covering everything the fields may point
// at, e.g. all of low memory; for v2, [EBX, EBX+total_size) suffices); tests
// use an ordinary slice. Parse never writes to it.
type Memory struct {
	Base  uint64
	Bytes []byte
}

// Slice returns the n bytes at physical address addr, and false (with a nil
// slice) if they do not all lie inside the window. It never panics.
func (m *Memory) Slice(addr, n uint64) ([]byte, bool) {
	if addr < m.Base {
		return nil, false
	}
	off := addr - m.Base
	size := uint64(len(m.Bytes))
	if off > size || n > size-off {
		return nil, false
	}
	return m.Bytes[off : off+n : off+n], true
}

// upTo returns the bytes from addr to the end of the window, at most max of
// them; nil if addr is outside the window.
func (m *Memory) upTo(addr, max uint64) []byte {
	if addr < m.Base {
		return nil
	}
	off := addr - m.Base
	size := uint64(len(m.Bytes))
	if off >= size {
		return nil
	}
	n := size - off
	if n > max {
		n = max
	}
	return m.Bytes[off : off+n : off+n]
}

// Parse fills info from the boot information at physical address addr (EBX)
// for the loader magic (EAX), reading through mem. It first zeroes info. It
// returns OK, or the first problem it met: with ErrMagic, ErrRange (v1 info
// or v2 header outside mem) or ErrHeader nothing was read; with any other
// error, info holds everything that could be validated, and every field it
// reports as present is consistent (in particular every string it reports
// lies inside mem and is followed by a NUL).
func Parse(magic uint32, addr uint64, mem *Memory, info *Info) Errno {
	*info = Info{}
	switch magic {
	case MagicV1:
		return parseV1(addr, mem, info)
	case MagicV2:
		return parseV2(addr, mem, info)
	}
	return ErrMagic
}

// Cmdline returns the command line's bytes (without the NUL) from mem, and
// false if there is none or it is not inside mem.
func (in *Info) Cmdline(mem *Memory) ([]byte, bool) {
	if !in.HasCmdline {
		return nil, false
	}
	return mem.Slice(in.CmdlineAddr, in.CmdlineLen)
}

// LoaderName returns the boot loader's name (without the NUL) from mem, and
// false if there is none or it is not inside mem.
func (in *Info) LoaderName(mem *Memory) ([]byte, bool) {
	if !in.HasLoaderName {
		return nil, false
	}
	return mem.Slice(in.LoaderNameAddr, in.LoaderNameLen)
}

// nregions is NRegions clamped to the table, in case info was altered.
func (in *Info) nregions() int {
	n := in.NRegions
	if n < 0 {
		return 0
	}
	if n > MaxRegions {
		return MaxRegions
	}
	return n
}

// TotalAvailable returns the sum of the lengths of the available regions
// (saturating at 2^64-1). Overlapping regions are counted twice.
func (in *Info) TotalAvailable() uint64 {
	var sum uint64
	for i := 0; i < in.nregions(); i++ {
		r := &in.Regions[i]
		if r.Kind != KindAvailable {
			continue
		}
		if sum+r.Len < sum {
			return ^uint64(0)
		}
		sum += r.Len
	}
	return sum
}

// MaxAddr returns the end (exclusive) of the highest available region, 0 if
// there is none.
func (in *Info) MaxAddr() uint64 {
	var max uint64
	for i := 0; i < in.nregions(); i++ {
		r := &in.Regions[i]
		if r.Kind != KindAvailable {
			continue
		}
		end := r.Base + r.Len
		if end < r.Base { // only if Regions were altered after Parse
			end = ^uint64(0)
		}
		if end > max {
			max = end
		}
	}
	return max
}

// Normalize sorts Regions[:NRegions] by base address, in place and stably
// (insertion sort). It does not merge, split or drop regions, whatever their
// kinds or overlaps.
func (in *Info) Normalize() {
	n := in.nregions()
	for i := 1; i < n; i++ {
		r := in.Regions[i]
		j := i
		for j > 0 && in.Regions[j-1].Base > r.Base {
			in.Regions[j] = in.Regions[j-1]
			j--
		}
		in.Regions[j] = r
	}
}

// addRegion appends a memory map entry, dropping empty ones, clamping one
// that would wrap past 2^64, and setting Truncated when the table is full.
func (in *Info) addRegion(base, n uint64, kind uint32) {
	if n == 0 {
		return
	}
	if base+n < base {
		n = ^uint64(0) - base
		if n == 0 {
			return
		}
	}
	if in.NRegions >= MaxRegions {
		in.Truncated = true
		return
	}
	in.Regions[in.NRegions] = Region{Base: base, Len: n, Kind: MemKind(kind)}
	in.NRegions++
}

// addModule appends a module, setting Truncated when the table is full.
func (in *Info) addModule(m Module) {
	if in.NModules >= MaxModules {
		in.Truncated = true
		return
	}
	in.Modules[in.NModules] = m
	in.NModules++
}

// note records e as the result unless an earlier problem was recorded.
func note(err *Errno, e Errno) {
	if *err == OK {
		*err = e
	}
}

// le16 reads a little-endian uint16 at b[off:]; the caller checked bounds.
func le16(b []byte, off int) uint16 {
	b = b[off : off+2]
	return uint16(b[0]) | uint16(b[1])<<8
}

// le32 reads a little-endian uint32 at b[off:]; the caller checked bounds.
func le32(b []byte, off int) uint32 {
	b = b[off : off+4]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// le64 reads a little-endian uint64 at b[off:]; the caller checked bounds.
func le64(b []byte, off int) uint64 {
	return uint64(le32(b, off)) | uint64(le32(b, off+4))<<32
}

// strlen returns the index of the first NUL in b, and false if there is none.
func strlen(b []byte) (uint64, bool) {
	for i := 0; i < len(b); i++ {
		if b[i] == 0 {
			return uint64(i), true
		}
	}
	return 0, false
}
