// Multiboot v1: a fixed structure of 32-bit fields whose flags word says which
// fields the loader filled in, and whose fields point (with 32-bit physical
// addresses) at the command line, module list, memory map and loader name
// elsewhere in memory. Loaders differ in how much of the structure they
// provide (QEMU's is 88 bytes and has no framebuffer fields; GRUB's is the
// full 116), so parseV1 reads a field only when its flag is set, and then
// requires just the bytes up to that field to be inside the window.

package multiboot

// Offsets in the v1 information structure.
const (
	v1Flags      = 0
	v1MemLower   = 4
	v1MemUpper   = 8
	v1Cmdline    = 16
	v1ModsCount  = 20
	v1ModsAddr   = 24
	v1MmapLength = 44
	v1MmapAddr   = 48
	v1LoaderName = 64
	v1FBAddr     = 88
	v1FBPitch    = 96
	v1FBWidth    = 100
	v1FBHeight   = 104
	v1FBBPP      = 108
	v1FBType     = 109
	v1FBColor    = 110
	v1Size       = 116 // the full structure, framebuffer fields included
)

// Flag bits in the v1 flags word.
const (
	v1FlagMem         = 1 << 0
	v1FlagCmdline     = 1 << 2
	v1FlagMods        = 1 << 3
	v1FlagMmap        = 1 << 6
	v1FlagLoaderName  = 1 << 9
	v1FlagFramebuffer = 1 << 12
)

// Sizes of v1 records.
const (
	v1ModSize      = 16 // mod_start, mod_end, string, reserved
	v1MmapMinEntry = 20 // base u64, length u64, type u32 (not counting size)
)

// v1String locates the NUL-terminated string at physical address addr,
// searching at most MaxString bytes inside mem.
func v1String(mem *Memory, addr uint64) (n uint64, ok bool) {
	return strlen(mem.upTo(addr, MaxString))
}

// parseV1 reads the v1 information structure at addr.
func parseV1(addr uint64, mem *Memory, info *Info) Errno {
	fixed := mem.upTo(addr, v1Size)
	if len(fixed) < 4 {
		return ErrRange
	}
	info.Version = 1
	var err Errno
	flags := le32(fixed, v1Flags)
	// n is how much of the fixed part is inside the window; a set flag whose
	// fields lie beyond it is ErrTruncated.
	n := len(fixed)

	if flags&v1FlagMem != 0 {
		if n < v1MemUpper+4 {
			note(&err, ErrTruncated)
		} else {
			info.MemLowerKB = le32(fixed, v1MemLower)
			info.MemUpperKB = le32(fixed, v1MemUpper)
			info.HasMemBasic = true
		}
	}

	if flags&v1FlagCmdline != 0 {
		if n < v1Cmdline+4 {
			note(&err, ErrTruncated)
		} else {
			p := uint64(le32(fixed, v1Cmdline))
			if l, ok := v1String(mem, p); ok {
				info.CmdlineAddr, info.CmdlineLen, info.HasCmdline = p, l, true
			} else {
				note(&err, ErrString)
			}
		}
	}

	if flags&v1FlagMods != 0 {
		if n < v1ModsAddr+4 {
			note(&err, ErrTruncated)
		} else {
			v1Modules(mem, uint64(le32(fixed, v1ModsCount)), uint64(le32(fixed, v1ModsAddr)), info, &err)
		}
	}

	if flags&v1FlagMmap != 0 {
		if n < v1MmapAddr+4 {
			note(&err, ErrTruncated)
		} else {
			l := uint64(le32(fixed, v1MmapLength))
			p := uint64(le32(fixed, v1MmapAddr))
			if b, ok := mem.Slice(p, l); ok {
				v1Mmap(b, info, &err)
			} else {
				note(&err, ErrRange)
			}
		}
	}

	if flags&v1FlagLoaderName != 0 {
		if n < v1LoaderName+4 {
			note(&err, ErrTruncated)
		} else {
			p := uint64(le32(fixed, v1LoaderName))
			if l, ok := v1String(mem, p); ok {
				info.LoaderNameAddr, info.LoaderNameLen, info.HasLoaderName = p, l, true
			} else {
				note(&err, ErrString)
			}
		}
	}

	if flags&v1FlagFramebuffer != 0 {
		if n < v1Size {
			note(&err, ErrTruncated)
		} else {
			v1Framebuffer(fixed, info)
		}
	}
	return err
}

// v1Modules reads count module records at physical address p. It reads at
// most MaxModules of them (setting Truncated if there are more), so a huge
// count costs nothing.
func v1Modules(mem *Memory, count, p uint64, info *Info, err *Errno) {
	if count > MaxModules {
		info.Truncated = true
		count = MaxModules
	}
	for i := uint64(0); i < count; i++ {
		rec, ok := mem.Slice(p+i*v1ModSize, v1ModSize)
		if !ok {
			note(err, ErrRange)
			return
		}
		m := Module{Start: uint64(le32(rec, 0)), End: uint64(le32(rec, 4))}
		if m.End < m.Start {
			note(err, ErrModule)
			continue
		}
		s := uint64(le32(rec, 8))
		if l, ok := v1String(mem, s); ok {
			m.CmdlineAddr, m.CmdlineLen = s, l
		} else {
			note(err, ErrString)
		}
		info.addModule(m)
	}
}

// v1Mmap reads a v1 memory map: entries of a u32 size that does not count
// itself, then base u64, length u64 and type u32 (and possibly more, which
// size covers). Each step is at least 24 bytes, so the loop ends.
func v1Mmap(b []byte, info *Info, err *Errno) {
	off := uint64(0)
	end := uint64(len(b))
	for off < end {
		if end-off < 4 {
			note(err, ErrMmap)
			return
		}
		size := uint64(le32(b, int(off)))
		if size < v1MmapMinEntry || size > end-off-4 {
			note(err, ErrMmap)
			return
		}
		e := int(off) + 4
		info.addRegion(le64(b, e), le64(b, e+8), le32(b, e+16))
		off += 4 + size
	}
}

// v1Framebuffer reads the framebuffer fields of the full-size fixed part.
func v1Framebuffer(fixed []byte, info *Info) {
	fb := &info.FB
	fb.Addr = le64(fixed, v1FBAddr)
	fb.Pitch = le32(fixed, v1FBPitch)
	fb.Width = le32(fixed, v1FBWidth)
	fb.Height = le32(fixed, v1FBHeight)
	fb.BPP = fixed[v1FBBPP]
	fb.Type = fixed[v1FBType]
	switch fb.Type {
	case FBIndexed:
		fb.PaletteAddr = uint64(le32(fixed, v1FBColor))
		fb.PaletteColors = le16(fixed, v1FBColor+4)
	case FBRGB:
		c := fixed[v1FBColor : v1FBColor+6]
		fb.RedPos, fb.RedSize = c[0], c[1]
		fb.GreenPos, fb.GreenSize = c[2], c[3]
		fb.BluePos, fb.BlueSize = c[4], c[5]
	}
	info.HasFB = true
}
