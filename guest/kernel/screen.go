package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/cells"
	"rt0/guest/kernel/vt"
)

// The screen console: what the program writes to stdout and stderr, and
// kernel panics, shown on the PC's screen as well as on COM1.
//
// Two kinds of screen. VGA text mode (what a BIOS, GRUB's multiboot and
// QEMU's -kernel leave): 80x25 cells of (character, attribute) at 0xB8000,
// which the video card draws itself. A linear framebuffer (what multiboot2
// hands over, always so under UEFI, where there is no text mode): pixels,
// on which somebody must draw the 7x13 font that host/image copied from
// golang.org/x/image/font/basicfont.
//
// So the console is split in two, model and view. The model is a grid of
// cells in VGA's own format (character in the low byte, attribute in the
// high one): in text mode it is the video memory itself; on a framebuffer
// it is ordinary RAM. The kernel keeps the model, below the runtime and
// without allocation: writing a byte, a newline, scrolling are a few stores
// into RAM. The view, pixels from cells, is drawn by one of two painters:
//
//   - the kernel (paintDirty), at the end of each write, for the rows that
//     changed: before the runtime exists, when no program paints, and always
//     when the machine stops (a panic, an exit), so the last words show;
//   - a goroutine (package rt0/guest/painter, linked into every rt0 program): it
//     switches the console to KD_GRAPHICS through /dev/tty0, waits on
//     /dev/vcsa for changes, reads the cells and paints /dev/fb0, which it
//     mapped. The program's write returns as soon as the model is updated;
//     a burst of output costs one repaint, not one per line.
//
// Painting never reads the framebuffer (on a PC it is uncached or
// write-combining memory, where reads are very slow): scrolling moves the
// cells and repaints, it does not copy pixels.

const (
	scrNone = iota
	scrText
	scrPixels

	glyphW, glyphH = 7, 13 // a cell: 6 pixels of glyph, 1 of spacing
	fontFirst      = ' '   // the font table starts at the space
	fontCount      = 96    // ' ' to 0x7F

	attrNormal = cells.Normal // light grey on black, as a PC's BIOS console
	attrKernel = 0x0E         // yellow: the kernel's own messages (warnings, panics, the exit status)

	cursorLines = 2 // the framebuffer cursor: an underline this many scan lines high
)

var screen struct {
	kind int
	base uintptr // the framebuffer, or VGA text memory
	// the model: the cells, the cursor, the attribute of now, the rows
	// changed (package cells)
	cells.Grid
	pitch, width, height uint32
	bpp                  uint32
	red, green, blue     vt.FbBitfield // the pixel format
	palette              [16]uint32    // VGA's 16 colours as pixel values
	// graphics: a program paints the framebuffer (KD_GRAPHICS on
	// /dev/tty0); the kernel only keeps the model, until the machine stops.
	graphics bool
	// shownX, shownY: where the cursor was at the last screenShow (a
	// move is a change of the model: the rows it left and entered).
	shownX, shownY int
	// esc is the escape parser's state (screen_escape.go); it changes
	// the grid's attribute.
	esc escState
}

func fontGlyphsAddr() uintptr

// initScreen picks the screen from the boot information.
func initScreen() {
	fb := bootInfo.FB
	switch {
	case bootInfo.HasFB && fb.Type == 2: // EGA text
		screen.kind = scrText
		screen.base = uintptr(fb.Addr)
		screen.Cols, screen.Rows = int(fb.Width), int(fb.Height)
	case bootInfo.HasFB && fb.Type == 1 && (fb.BPP == 32 || fb.BPP == 24 || fb.BPP == 16):
		if !mapFramebuffer(fb.Addr, uint64(fb.Pitch)*uint64(fb.Height)) {
			return
		}
		screen.kind = scrPixels
		screen.base = uintptr(fb.Addr)
		screen.pitch, screen.width, screen.height, screen.bpp = fb.Pitch, fb.Width, fb.Height, uint32(fb.BPP)
		screen.red = vt.FbBitfield{Offset: uint32(fb.RedPos), Length: uint32(fb.RedSize)}
		screen.green = vt.FbBitfield{Offset: uint32(fb.GreenPos), Length: uint32(fb.GreenSize)}
		screen.blue = vt.FbBitfield{Offset: uint32(fb.BluePos), Length: uint32(fb.BlueSize)}
		screen.Cols, screen.Rows = int(fb.Width/glyphW), int(fb.Height/glyphH)
	case !bootInfo.HasFB && bootInfo.Version == 1:
		// A multiboot v1 loader that set no video mode leaves the BIOS's
		// text mode (QEMU's -kernel, GRUB's multiboot under a BIOS).
		screen.kind = scrText
		screen.base = 0xB8000
		screen.Cols, screen.Rows = 80, 25
	default:
		return
	}
	if screen.Cols <= 0 || screen.Rows <= 0 || screen.Cols > 1000 || screen.Rows > 1000 {
		screen.kind = scrNone
		return
	}
	screen.Attr = attrNormal
	if screen.kind == scrText {
		screen.Cells = screen.base // the card draws its own cells
	} else {
		a, ok := kalloc(uint64(screen.Cols * screen.Rows * 2))
		if !ok {
			screen.kind = scrNone
			return
		}
		screen.Cells = uintptr(a)
		for i, c := range vt.Colours {
			screen.palette[i] = vt.Pixel(c>>16, screen.red) | vt.Pixel(c>>8&0xFF, screen.green) | vt.Pixel(c&0xFF, screen.blue)
		}
		for y := uint32(0); y < screen.height; y++ {
			fillRow(y, screen.palette[0])
		}
	}
	screenClear()
}

// mapFramebuffer makes sure the identity map covers the framebuffer (it
// may lie above 4 GiB, outside RAM).
func mapFramebuffer(addr, size uint64) bool {
	// Cached: the kernel and the painter write whole rows; the firmware's
	// MTRRs make the framebuffer write-combining where it cares.
	return mapIdentity(addr, addr+size, 0)
}

func screenClear() {
	screen.Clear()
	cursor()
}

// screenPut puts one byte of console output into the model, through the
// escape sequence parser. The pixels follow at the next screenShow.
func screenPut(c byte) {
	if screen.kind == scrNone {
		return
	}
	if escape(c) {
		return
	}
	screen.Put(c)
}

// screenLog puts one byte of a kernel message on the screen: in its own
// colour, past the escape parser (a program may have left it inside a
// sequence), painted by the kernel at the end of each line.
func screenLog(c byte) {
	if screen.kind == scrNone {
		return
	}
	a := screen.Attr
	screen.Attr = attrKernel
	screen.Put(c)
	screen.Attr = a
	if c == '\n' {
		cursor()
		paintDirty()
	}
}

// screenShow brings the view up to date after a batch of screenPut: the
// kernel paints unless a program does; a program that paints is told
// (through /dev/vcsa's readiness) that the model changed.
func screenShow() {
	if screen.kind == scrNone {
		return
	}
	cursor()
	if screen.X != screen.shownX || screen.Y != screen.shownY {
		if screen.shownY < screen.Rows {
			screen.Dirty(screen.shownY, screen.shownY)
		}
		screen.Dirty(screen.Y, screen.Y)
		screen.shownX, screen.shownY = screen.X, screen.Y
	}
	if screen.graphics {
		if screen.DirtyLo <= screen.DirtyHi {
			screen.DirtyLo, screen.DirtyHi = 1, 0 // the painter diffs for itself
			vcsaChanged()
		}
		return
	}
	paintDirty()
	vcsaChanged()
}

// screenTakeOver gives the screen back to the kernel: the machine stops
// (or panics), the painter goroutine will not run again, and the last
// words must show. Everything is repainted from the model.
func screenTakeOver() {
	if screen.kind == scrNone || !screen.graphics {
		return
	}
	screen.graphics = false
	screen.Dirty(0, screen.Rows-1)
	paintDirty()
}

// paintDirty draws the stale rows of the model on the framebuffer.
func paintDirty() {
	if screen.kind == scrPixels {
		for y := screen.DirtyLo; y <= screen.DirtyHi; y++ {
			paintRow(y)
		}
	}
	screen.DirtyLo, screen.DirtyHi = 1, 0
}

// paintRow draws row cy of the model, scan line by scan line, writing
// each pixel once and reading none. The cursor is an underline: the
// cell's last two scan lines in its foreground colour.
func paintRow(cy int) {
	glyphs := amd64.Bytes(fontGlyphsAddr(), fontCount*glyphH)
	bytes := uintptr(screen.bpp / 8)
	for y := 0; y < glyphH; y++ {
		a := screen.base + uintptr(cy*glyphH+y)*uintptr(screen.pitch)
		for cx := 0; cx < screen.Cols; cx++ {
			v := *screen.Cell(cx, cy)
			c := byte(v)
			if c < fontFirst || c >= fontFirst+fontCount {
				c = '?'
			}
			bits := glyphs[int(c-fontFirst)*glyphH+y]
			if cy == screen.Y && cx == screen.X && y >= glyphH-cursorLines {
				bits = 0xFF
			}
			fg, bg := screen.palette[v>>8&0xF], screen.palette[v>>12&0x7]
			for x := 0; x < glyphW; x++ {
				p := bg
				if bits&(0x80>>x) != 0 {
					p = fg
				}
				putPixel(a, p)
				a += bytes
			}
		}
	}
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

// cursor moves the VGA hardware cursor (text mode only).
func cursor() {
	if screen.kind != scrText || screen.base != 0xB8000 {
		return
	}
	pos := uint16(screen.Y*screen.Cols + screen.X)
	amd64.Outb(0x3D4, 0x0F)
	amd64.Outb(0x3D5, uint8(pos))
	amd64.Outb(0x3D4, 0x0E)
	amd64.Outb(0x3D5, uint8(pos>>8))
}
