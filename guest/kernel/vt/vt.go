// Package vt is what the screen console's two sides share: the kernel,
// which keeps the console's cells and serves its devices, and package
// painter, which paints them on the framebuffer from above the runtime.
// Between them lies Linux's user-space interface for consoles and
// framebuffers (linux/fb.h, linux/kd.h, linux/vt.h): ioctl numbers and
// structures with Linux's layout, which host/rules checks. And the
// console's 16 colours, which both must map alike for the two painters
// to draw the same pixels.
//
// Types and constants only: the kernel imports it below the runtime.
package vt

// ioctl requests.
const (
	FBIOGET_VSCREENINFO = 0x4600 // /dev/fb0: *FbVarScreeninfo
	FBIOGET_FSCREENINFO = 0x4602 // /dev/fb0: *FbFixScreeninfo

	KDSETMODE = 0x4B3A // /dev/tty0: KD_TEXT or KD_GRAPHICS (by value)
	KDGETMODE = 0x4B3B // /dev/tty0: *uint32
	KDFONTOP  = 0x4B72 // /dev/tty0: *ConsoleFontOp

	// VT_GETCONSIZECSRPOS: /dev/tty0: *[4]uint16 = rows, columns, cursor
	// row, cursor column (from 0).
	VT_GETCONSIZECSRPOS = 0x5610
)

const (
	KD_TEXT     = 0 // the kernel draws the console
	KD_GRAPHICS = 1 // a program draws the screen; the kernel keeps the cells

	KD_FONT_OP_GET = 1  // ConsoleFontOp.Op: read the console's font
	FontVPitch     = 32 // bytes from one glyph to the next in KDFONTOP data (a byte a scan line)

	FB_VISUAL_TRUECOLOR = 2

	EPOLLPRI = 0x2 // /dev/vcsa's readiness when its cells changed
)

// FbVarScreeninfo is Linux's struct fb_var_screeninfo (160 bytes).
type FbVarScreeninfo struct {
	XRes, YRes, XResVirtual, YResVirtual uint32
	XOffset, YOffset                     uint32
	BitsPerPixel, Grayscale              uint32
	Red, Green, Blue, Transp             FbBitfield
	Nonstd, Activate, Height, Width      uint32
	AccelFlags, Pixclock                 uint32
	LeftMargin, RightMargin              uint32
	UpperMargin, LowerMargin             uint32
	HsyncLen, VsyncLen, Sync, Vmode      uint32
	Rotate, Colorspace                   uint32
	Reserved                             [4]uint32
}

// FbBitfield is Linux's struct fb_bitfield: where a colour component
// lies in a pixel.
type FbBitfield struct{ Offset, Length, MsbRight uint32 }

// FbFixScreeninfo is Linux's struct fb_fix_screeninfo (80 bytes).
type FbFixScreeninfo struct {
	ID                             [16]byte
	SmemStart                      uint64
	SmemLen, Type, TypeAux, Visual uint32
	XPanStep, YPanStep, YWrapStep  uint16
	_                              uint16
	LineLength                     uint32
	_                              uint32
	MmioStart                      uint64
	MmioLen, Accel                 uint32
	Capabilities                   uint16
	Reserved                       [2]uint16
	_                              uint16
}

// ConsoleFontOp is Linux's struct console_font_op (32 bytes); Data is the
// user address of Charcount*FontVPitch bytes.
type ConsoleFontOp struct {
	Op, Flags, Width, Height, Charcount uint32
	_                                   uint32
	Data                                uint64
}

// Colours are the console's 16 colours, as 0xRRGGBB, indexed by a VGA
// attribute's colour number (foreground: the low nibble; background: bits
// 4-6). They are VGA's own, so that text mode and the framebuffer agree.
var Colours = [16]uint32{
	0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
	0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF,
}

// Pixel places an 8-bit colour component in a pixel of the framebuffer's
// format.
func Pixel(v uint32, f FbBitfield) uint32 {
	return v >> (8 - f.Length) << f.Offset
}
