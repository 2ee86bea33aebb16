// Multiboot2: one self-contained blob. An 8-byte header (total_size u32,
// reserved u32) is followed by tags, each starting on an 8-byte boundary with
// type u32 and size u32 (size counts the 8-byte tag header but not the
// padding after it), up to an end tag of type 0. Everything, strings and the
// ACPI RSDP copies included, lies inside the blob, so parseV2 only ever reads
// [addr, addr+total_size) and reports addresses inside it.
//
// The walk is bounded: every tag advances the offset by at least 8 bytes and
// the offset never passes the end of the blob. A tag whose size is below 8 or
// that runs past the end stops the walk (nothing after it can be located);
// a known tag too short for its fields is skipped and reported, and the walk
// goes on. A later tag of a single-valued kind replaces an earlier one;
// module and memory map tags accumulate.

package multiboot

// Multiboot2 tag types that Parse reads.
const (
	tagEnd         = 0
	tagCmdline     = 1
	tagLoaderName  = 2
	tagModule      = 3
	tagBasicMem    = 4
	tagMmap        = 6
	tagFramebuffer = 8
	tagEFI32       = 11
	tagEFI64       = 12
	tagACPIOld     = 14
	tagACPINew     = 15
)

// Sizes in the multiboot2 format.
const (
	v2HeaderSize    = 8  // total_size, reserved
	v2TagHeader     = 8  // type, size
	v2MmapMinEntry  = 24 // base u64, length u64, type u32, reserved u32
	v2FBCommon      = 24 // framebuffer payload before color_info
	rsdpV1Size      = 20 // ACPI 1.0 RSDP
	rsdpV2Size      = 36 // ACPI 2.0+ RSDP (XSDP)
	paletteEntrySz  = 3  // red, green, blue
	v2FBRGBPayload  = v2FBCommon + 6
	v2FBPalettePay  = v2FBCommon + 2
	v2ModulePayload = 8 // mod_start, mod_end before the string
)

// parseV2 reads the multiboot2 information at addr.
func parseV2(addr uint64, mem *Memory, info *Info) Errno {
	hdr, ok := mem.Slice(addr, v2HeaderSize)
	if !ok {
		return ErrRange
	}
	info.Version = 2
	total := uint64(le32(hdr, 0))
	if total < v2HeaderSize {
		return ErrHeader
	}
	b := mem.upTo(addr, total)
	short := uint64(len(b)) < total // the window ends before total_size
	end := uint64(len(b))

	var err Errno
	off := uint64(v2HeaderSize)
	for {
		if off > end || end-off < v2TagHeader {
			if short {
				note(&err, ErrTruncated)
			} else {
				note(&err, ErrNoEnd)
			}
			return err
		}
		typ := le32(b, int(off))
		size := uint64(le32(b, int(off)+4))
		if size < v2TagHeader {
			note(&err, ErrBadTag)
			return err
		}
		if size > end-off {
			if size > total-off {
				note(&err, ErrBadTag)
			} else {
				note(&err, ErrTruncated)
			}
			return err
		}
		if typ == tagEnd {
			return err
		}
		p := b[off+v2TagHeader : off+size]
		v2Tag(typ, addr+off+v2TagHeader, p, info, &err)
		off += (size + 7) &^ 7
	}
}

// v2Tag records one tag; p is its payload (after the tag header), which lies
// at physical address pa.
func v2Tag(typ uint32, pa uint64, p []byte, info *Info, err *Errno) {
	n := len(p)
	switch typ {
	case tagCmdline:
		if l, ok := strlen(p); ok {
			info.CmdlineAddr, info.CmdlineLen, info.HasCmdline = pa, l, true
		} else {
			note(err, ErrString)
		}
	case tagLoaderName:
		if l, ok := strlen(p); ok {
			info.LoaderNameAddr, info.LoaderNameLen, info.HasLoaderName = pa, l, true
		} else {
			note(err, ErrString)
		}
	case tagModule:
		if n < v2ModulePayload {
			note(err, ErrBadTag)
			return
		}
		m := Module{Start: uint64(le32(p, 0)), End: uint64(le32(p, 4))}
		if m.End < m.Start {
			note(err, ErrModule)
			return
		}
		if l, ok := strlen(p[v2ModulePayload:]); ok {
			m.CmdlineAddr, m.CmdlineLen = pa+v2ModulePayload, l
		} else {
			note(err, ErrString)
		}
		info.addModule(m)
	case tagBasicMem:
		if n < 8 {
			note(err, ErrBadTag)
			return
		}
		info.MemLowerKB = le32(p, 0)
		info.MemUpperKB = le32(p, 4)
		info.HasMemBasic = true
	case tagMmap:
		v2Mmap(p, info, err)
	case tagFramebuffer:
		v2Framebuffer(pa, p, info, err)
	case tagEFI32:
		if n < 4 {
			note(err, ErrBadTag)
			return
		}
		if info.EFISystemTable == 0 {
			info.EFISystemTable = uint64(le32(p, 0))
		}
	case tagEFI64:
		if n < 8 {
			note(err, ErrBadTag)
			return
		}
		info.EFISystemTable = le64(p, 0)
	case tagACPIOld:
		if n < rsdpV1Size {
			note(err, ErrBadTag)
			return
		}
		if !info.RSDPv2 {
			info.RSDPAddr, info.RSDPLen = pa, uint64(n)
		}
	case tagACPINew:
		if n < rsdpV2Size {
			note(err, ErrBadTag)
			return
		}
		info.RSDPAddr, info.RSDPLen, info.RSDPv2 = pa, uint64(n), true
	}
}

// v2Mmap reads a memory map tag's payload: entry_size u32, entry_version
// u32, then entries of entry_size bytes, each starting base u64, length u64,
// type u32. entry_size is at least 24, so the loop ends.
func v2Mmap(p []byte, info *Info, err *Errno) {
	if len(p) < 8 {
		note(err, ErrBadTag)
		return
	}
	esize := uint64(le32(p, 0))
	if esize < v2MmapMinEntry {
		note(err, ErrMmap)
		return
	}
	e := p[8:]
	end := uint64(len(e))
	off := uint64(0)
	for end-off >= esize {
		i := int(off)
		info.addRegion(le64(e, i), le64(e, i+8), le32(e, i+16))
		off += esize
	}
	if off != end {
		note(err, ErrMmap)
	}
}

// v2Framebuffer reads a framebuffer tag's payload at physical address pa.
// The framebuffer is recorded only if the payload holds every field its type
// needs (for an indexed one, the whole palette).
func v2Framebuffer(pa uint64, p []byte, info *Info, err *Errno) {
	n := len(p)
	if n < v2FBCommon {
		note(err, ErrBadTag)
		return
	}
	var fb Framebuffer
	fb.Addr = le64(p, 0)
	fb.Pitch = le32(p, 8)
	fb.Width = le32(p, 12)
	fb.Height = le32(p, 16)
	fb.BPP = p[20]
	fb.Type = p[21]
	// p[22:24] is reserved (a u16 in GRUB's multiboot2.h).
	switch fb.Type {
	case FBIndexed:
		if n < v2FBPalettePay {
			note(err, ErrBadTag)
			return
		}
		fb.PaletteColors = le16(p, v2FBCommon)
		if uint64(n-v2FBPalettePay) < uint64(fb.PaletteColors)*paletteEntrySz {
			note(err, ErrBadTag)
			return
		}
		fb.PaletteAddr = pa + v2FBPalettePay
	case FBRGB:
		if n < v2FBRGBPayload {
			note(err, ErrBadTag)
			return
		}
		c := p[v2FBCommon:v2FBRGBPayload]
		fb.RedPos, fb.RedSize = c[0], c[1]
		fb.GreenPos, fb.GreenSize = c[2], c[3]
		fb.BluePos, fb.BlueSize = c[4], c[5]
	}
	info.FB, info.HasFB = fb, true
}
