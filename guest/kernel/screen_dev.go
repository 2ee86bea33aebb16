package kernel

import (
	"unsafe"

	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/mem"
	"rt0/guest/kernel/vt"
	"rt0/guest/linux"
)

// The screen's device files, with Linux's interfaces, so that a painter
// above the runtime (package rt0/guest/painter) is ordinary Linux code:
//
//	/dev/tty0, /dev/console  the console: read is stdin, write is stdout;
//	                         KDSETMODE (KD_TEXT, KD_GRAPHICS), KDGETMODE,
//	                         KDFONTOP (get the console font),
//	                         VT_GETCONSIZECSRPOS (size and cursor)
//	/dev/vcsa                the cell model: 4 bytes (rows, cols, x, y; each
//	                         capped at 255 as in Linux's header), then
//	                         rows*cols (character, attribute) pairs; epoll
//	                         reports EPOLLPRI when it changed since this
//	                         description last read it
//	/dev/fb0                 the framebuffer: FBIOGET_VSCREENINFO,
//	                         FBIOGET_FSCREENINFO, mmap (shared), read, write
//
// /dev/fb0 exists only on a framebuffer, /dev/vcsa on any screen.

const (
	devTTY = devRandom + 1 + iota
	devVcsa
	devFB
)

const (
	fontCharset = 256 // glyphs in KDFONTOP data, as Linux's consoles have
)

// makeScreenDevices adds the screen's nodes to /dev (at boot, from initFS).
func makeScreenDevices(dev int32) {
	screenNode(dev, []byte("tty0"), devTTY)
	screenNode(dev, []byte("console"), devTTY)
	if screen.kind != scrNone {
		screenNode(dev, []byte("vcsa"), devVcsa)
	}
	if screen.kind == scrPixels {
		screenNode(dev, []byte("fb0"), devFB)
	}
}

func screenNode(dir int32, name []byte, d uint8) {
	if n, e := mknod(dir, name, iDev, 0o620); e == 0 {
		ino(n).dev = d
	}
}

// devNumber is the Linux device number (major<<8 | minor) of a device.
func devNumber(d uint8) uint64 {
	switch d {
	case devTTY:
		return 4 << 8 // tty0
	case devVcsa:
		return 7<<8 | 128
	case devFB:
		return 29 << 8
	case devRandom:
		return 1<<8 | 9 // urandom
	case devZero:
		return 1<<8 | 5
	}
	return 1<<8 | 3 // null
}

func fbSize() uint64 { return uint64(screen.pitch) * uint64(screen.height) }

func vcsaSize() uint64 { return 4 + uint64(screen.Rows*screen.Cols)*2 }

// screenDevRead reads /dev/vcsa or /dev/fb0 at off into p.
func screenDevRead(f *ofd, d uint8, off uint64, p []byte) int64 {
	switch d {
	case devFB:
		if off >= fbSize() {
			return 0
		}
		return int64(copy(p, amd64.Bytes(screen.base+uintptr(off), int(fbSize()-off))))
	case devVcsa:
		if off >= vcsaSize() {
			return 0
		}
		n := 0
		if off < 4 {
			hdr := [4]byte{clamp255(screen.Rows), clamp255(screen.Cols), clamp255(screen.X), clamp255(screen.Y)}
			n = copy(p, hdr[off:])
			off = 4
		}
		n += copy(p[n:], amd64.Bytes(screen.Cells+uintptr(off-4), int(vcsaSize()-off)))
		f.count = screen.Gen // seen: readiness drops EPOLLPRI until the next change
		return int64(n)
	}
	return 0
}

func clamp255(v int) byte { return byte(min(v, 255)) }

// screenDevWrite writes p at off of /dev/fb0.
func screenDevWrite(d uint8, off uint64, p []byte) int64 {
	if d != devFB {
		return int64(len(p))
	}
	if off >= fbSize() {
		return -linux.ENOSPC
	}
	return int64(copy(amd64.Bytes(screen.base+uintptr(off), int(fbSize()-off)), p))
}

// screenReadiness adds EPOLLPRI for a /dev/vcsa whose model changed since
// the description's last read.
func screenReadiness(f *ofd) uint32 {
	if ino(f.ino).dev == devVcsa && f.count != screen.Gen {
		return vt.EPOLLPRI
	}
	return 0
}

// vcsaChanged wakes the epoll waits on /dev/vcsa descriptions.
func vcsaChanged() {
	if !fsys.ready {
		return
	}
	for i := range ofds[:ofdTop] {
		f := &ofds[i]
		if f.kind == fdFile && f.ino >= 0 && ino(f.ino).kind == iDev && ino(f.ino).dev == devVcsa && f.count != screen.Gen {
			fileChanged(f)
		}
	}
}

// screenIoctl serves the console's and the framebuffer's ioctls.
func screenIoctl(d uint8, req, arg uint64) int64 {
	if screen.kind == scrNone {
		return -linux.ENOTTY
	}
	switch {
	case d == devTTY && req == vt.KDSETMODE:
		if arg != vt.KD_TEXT && arg != vt.KD_GRAPHICS {
			return -linux.EINVAL
		}
		was := screen.graphics
		screen.graphics = arg == vt.KD_GRAPHICS && screen.kind == scrPixels
		if was && !screen.graphics {
			kprint("rt0: screen: the kernel paints the console again (KD_TEXT)\n")
			screen.Dirty(0, screen.Rows-1) // back to the kernel: repaint all
			screenShow()
		}
		if !was && screen.graphics {
			kprint("rt0: screen: a program paints the console (KD_GRAPHICS)\n")
		}
		return 0
	case d == devTTY && req == vt.KDGETMODE:
		v := uint32(vt.KD_TEXT)
		if screen.graphics {
			v = vt.KD_GRAPHICS
		}
		return putUser(arg, unsafe.Pointer(&v), 4)
	case d == devTTY && req == vt.KDFONTOP:
		return fontOp(arg)
	case d == devTTY && req == vt.VT_GETCONSIZECSRPOS:
		v := [4]uint16{uint16(screen.Rows), uint16(screen.Cols), uint16(screen.Y), uint16(screen.X)}
		return putUser(arg, unsafe.Pointer(&v), unsafe.Sizeof(v))
	case d == devFB && req == vt.FBIOGET_VSCREENINFO:
		v := vt.FbVarScreeninfo{
			XRes: screen.width, YRes: screen.height, XResVirtual: screen.width, YResVirtual: screen.height,
			BitsPerPixel: screen.bpp,
			Red:          screen.red, Green: screen.green, Blue: screen.blue,
			Height: ^uint32(0), Width: ^uint32(0), // size in mm: unknown
		}
		return putUser(arg, unsafe.Pointer(&v), unsafe.Sizeof(v))
	case d == devFB && req == vt.FBIOGET_FSCREENINFO:
		v := vt.FbFixScreeninfo{
			SmemStart: uint64(screen.base), SmemLen: uint32(fbSize()),
			Visual:     2, // FB_VISUAL_TRUECOLOR; Type 0: packed pixels
			LineLength: screen.pitch,
		}
		copy(v.ID[:], "rt0 multiboot fb")
		return putUser(arg, unsafe.Pointer(&v), unsafe.Sizeof(v))
	}
	return -linux.ENOTTY
}

// fontOp serves KDFONTOP's get: the console font, 32 bytes a glyph.
func fontOp(arg uint64) int64 {
	p, ok := userBytes(arg, uint64(unsafe.Sizeof(vt.ConsoleFontOp{})), true)
	if !ok {
		return -linux.EFAULT
	}
	op := (*vt.ConsoleFontOp)(unsafe.Pointer(&p[0]))
	if op.Op != vt.KD_FONT_OP_GET {
		return -linux.ENOSYS // the font cannot be changed
	}
	if op.Data != 0 {
		if op.Charcount < fontCharset || op.Width < glyphW || op.Height < glyphH {
			return -linux.ENOSPC
		}
		data, ok := userBytes(op.Data, fontCharset*vt.FontVPitch, true)
		if !ok {
			return -linux.EFAULT
		}
		clear(data)
		glyphs := amd64.Bytes(fontGlyphsAddr(), fontCount*glyphH)
		for g := 0; g < fontCount; g++ {
			copy(data[(fontFirst+g)*vt.FontVPitch:], glyphs[g*glyphH:(g+1)*glyphH])
		}
	}
	op.Width, op.Height, op.Charcount = glyphW, glyphH, fontCharset
	return 0
}

// putUser copies n bytes at v to user address a.
func putUser(a uint64, v unsafe.Pointer, n uintptr) int64 {
	p, ok := userBytes(a, uint64(n), true)
	if !ok {
		return -linux.EFAULT
	}
	copy(p, unsafe.Slice((*byte)(v), n))
	return 0
}

// screenMmap maps /dev/fb0: the framebuffer is already in the identity
// map (everything runs in ring 0, in one address space), so mmap hands out
// its address. munmap of it is a no-op (it is outside the user range).
func screenMmap(d uint8, length, flags, off uint64) int64 {
	if d != devFB || flags&linux.MAP_SHARED == 0 {
		return -linux.ENODEV
	}
	size := (fbSize() + mem.PageSize - 1) &^ (mem.PageSize - 1)
	if off%mem.PageSize != 0 || off >= size || length > size-off {
		return -linux.EINVAL
	}
	return int64(uint64(screen.base) + off)
}
