package kernel

import "rt0/arch/amd64"

// The screen console: what the program writes to stdout and stderr, and
// kernel panics, shown on the PC's screen as well as on COM1.
//
// Two kinds of screen. VGA text mode (what a BIOS, GRUB's multiboot and
// QEMU's -kernel leave): 80x25 cells of (character, attribute) at 0xB8000.
// A linear framebuffer (what multiboot2 hands over, always so under UEFI,
// where there is no text mode): pixels, on which the kernel draws the 7x13
// font that boot/image copied from golang.org/x/image/font/basicfont. Both
// scroll; both are written below the runtime, without allocation, so early
// panics show too.

const (
	scrNone = iota
	scrText
	scrPixels

	glyphW, glyphH = 7, 13 // a cell: 6 pixels of glyph, 1 of spacing
)

var screen struct {
	kind                 int
	base                 uintptr
	pitch, width, height uint32
	bpp                  uint32
	cols, rows           int
	cx, cy               int
	fg, bg               uint32
	rPos, gPos, bPos     uint8
	rBits, gBits, bBits  uint8
}

func fontGlyphsAddr() uintptr

// initScreen picks the screen from the boot information.
func initScreen() {
	fb := bootInfo.FB
	switch {
	case bootInfo.HasFB && fb.Type == 2: // EGA text
		screen.kind = scrText
		screen.base = uintptr(fb.Addr)
		screen.cols, screen.rows = int(fb.Width), int(fb.Height)
	case bootInfo.HasFB && fb.Type == 1 && (fb.BPP == 32 || fb.BPP == 24 || fb.BPP == 16):
		if !mapFramebuffer(fb.Addr, uint64(fb.Pitch)*uint64(fb.Height)) {
			return
		}
		screen.kind = scrPixels
		screen.base = uintptr(fb.Addr)
		screen.pitch, screen.width, screen.height, screen.bpp = fb.Pitch, fb.Width, fb.Height, uint32(fb.BPP)
		screen.rPos, screen.gPos, screen.bPos = fb.RedPos, fb.GreenPos, fb.BluePos
		screen.rBits, screen.gBits, screen.bBits = fb.RedSize, fb.GreenSize, fb.BlueSize
		screen.cols, screen.rows = int(fb.Width/glyphW), int(fb.Height/glyphH)
		screen.fg = pixel(0xAA, 0xAA, 0xAA)
		screen.bg = pixel(0, 0, 0)
	case !bootInfo.HasFB && bootInfo.Version == 1:
		// A multiboot v1 loader that set no video mode leaves the BIOS's
		// text mode (QEMU's -kernel, GRUB's multiboot under a BIOS).
		screen.kind = scrText
		screen.base = 0xB8000
		screen.cols, screen.rows = 80, 25
	default:
		return
	}
	if screen.cols <= 0 || screen.rows <= 0 || screen.cols > 1000 || screen.rows > 1000 {
		screen.kind = scrNone
		return
	}
	screenClear()
}

// mapFramebuffer makes sure the identity map covers the framebuffer (it
// may lie above 4 GiB, outside RAM).
func mapFramebuffer(addr, size uint64) bool {
	if addr+size <= 1<<32 {
		return true // the boot tables map the first 4 GiB
	}
	pdpt := uintptr(*amd64.U64(pml4) & pteAddr)
	for gb := addr >> 30; gb<<30 < addr+size; gb++ {
		if gb >= 512 {
			return false
		}
		e := amd64.U64(pdpt + uintptr(gb)*8)
		if *e&ptePresent != 0 {
			continue
		}
		pd, ok := allocZeroed()
		if !ok {
			return false
		}
		for i := uint64(0); i < 512; i++ {
			*amd64.U64(uintptr(pd) + uintptr(i)*8) = (gb<<30 + i<<21) | ptePresent | pteWrite | pteHuge
		}
		*e = pd | ptePresent | pteWrite
	}
	return true
}

// pixel builds a pixel value from 8-bit colour components.
func pixel(r, g, b uint32) uint32 {
	c := func(v uint32, pos, bits uint8) uint32 { return (v >> (8 - uint32(bits))) << pos }
	return c(r, screen.rPos, screen.rBits) | c(g, screen.gPos, screen.gBits) | c(b, screen.bPos, screen.bBits)
}

func screenClear() {
	switch screen.kind {
	case scrText:
		for i := 0; i < screen.cols*screen.rows; i++ {
			*(*uint16)(amd64.Ptr(screen.base + uintptr(i)*2)) = 0x0720
		}
	case scrPixels:
		for y := uint32(0); y < screen.height; y++ {
			fillRow(y, screen.bg)
		}
	}
	screen.cx, screen.cy = 0, 0
	cursor()
}

func fillRow(y uint32, v uint32) {
	row := screen.base + uintptr(y)*uintptr(screen.pitch)
	bytes := screen.bpp / 8
	for x := uint32(0); x < screen.width; x++ {
		putPixel(row+uintptr(x*bytes), v)
	}
}

func putPixel(a uintptr, v uint32) {
	switch screen.bpp {
	case 32:
		*amd64.U32(a) = v
	case 24:
		b := amd64.Bytes(a, 3)
		b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16)
	case 16:
		*(*uint16)(amd64.Ptr(a)) = uint16(v)
	}
}

// screenPut shows one byte of console output.
func screenPut(c byte) {
	if screen.kind == scrNone {
		return
	}
	switch c {
	case '\n':
		screen.cx = 0
		screen.cy++
	case '\r':
		screen.cx = 0
	case '\b':
		if screen.cx > 0 {
			screen.cx--
			drawCell(screen.cx, screen.cy, ' ')
		}
	case '\t':
		screen.cx = (screen.cx + 8) &^ 7
	default:
		if c < ' ' || c > '~' {
			c = '?'
		}
		if screen.cx >= screen.cols {
			screen.cx = 0
			screen.cy++
		}
		if screen.cy >= screen.rows {
			scroll()
		}
		drawCell(screen.cx, screen.cy, c)
		screen.cx++
	}
	if screen.cx > screen.cols {
		screen.cx = screen.cols
	}
	if screen.cy >= screen.rows {
		scroll()
	}
	cursor()
}

func drawCell(cx, cy int, c byte) {
	if screen.kind == scrText {
		*(*uint16)(amd64.Ptr(screen.base + uintptr(cy*screen.cols+cx)*2)) = 0x0700 | uint16(c)
		return
	}
	glyph := amd64.Bytes(fontGlyphsAddr()+uintptr(c-' ')*glyphH, glyphH)
	bytes := uintptr(screen.bpp / 8)
	x0 := uintptr(cx * glyphW)
	for y := 0; y < glyphH; y++ {
		row := screen.base + uintptr(cy*glyphH+y)*uintptr(screen.pitch) + x0*bytes
		bits := glyph[y]
		for x := uintptr(0); x < glyphW; x++ {
			v := screen.bg
			if x < 8 && bits&(0x80>>x) != 0 {
				v = screen.fg
			}
			putPixel(row+x*bytes, v)
		}
	}
}

// scroll moves everything up one line and clears the last.
func scroll() {
	switch screen.kind {
	case scrText:
		n := (screen.rows - 1) * screen.cols * 2
		copy(amd64.Bytes(screen.base, n), amd64.Bytes(screen.base+uintptr(screen.cols*2), n))
		for x := 0; x < screen.cols; x++ {
			*(*uint16)(amd64.Ptr(screen.base + uintptr((screen.rows-1)*screen.cols+x)*2)) = 0x0720
		}
	case scrPixels:
		line := int(screen.pitch) * glyphH
		n := (screen.rows - 1) * line
		copy(amd64.Bytes(screen.base, n), amd64.Bytes(screen.base+uintptr(line), n))
		for y := uint32((screen.rows - 1) * glyphH); y < uint32(screen.rows*glyphH); y++ {
			fillRow(y, screen.bg)
		}
	}
	screen.cy = screen.rows - 1
}

// cursor moves the VGA hardware cursor (text mode only).
func cursor() {
	if screen.kind != scrText || screen.base != 0xB8000 {
		return
	}
	pos := uint16(screen.cy*screen.cols + screen.cx)
	amd64.Outb(0x3D4, 0x0F)
	amd64.Outb(0x3D5, uint8(pos))
	amd64.Outb(0x3D4, 0x0E)
	amd64.Outb(0x3D5, uint8(pos>>8))
}
