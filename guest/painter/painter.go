// Package painter is the screen console's goroutine-driven path: above the
// runtime, it paints the console's text onto the framebuffer.
//
// rt0's kernel keeps the console as a grid of cells (guest/kernel/screen.go).
// Until the runtime is up, and whenever the machine stops, the kernel
// paints the grid itself, allocation-free. Once a program runs, this
// package (linked into every rt0 program by rt0 build, beside the kernel)
// takes over the painting on a framebuffer, with nothing but Linux's own
// interfaces:
//
//	/dev/fb0   FBIOGET_VSCREENINFO, FBIOGET_FSCREENINFO: the geometry and
//	           pixel format; mmap: the pixels
//	/dev/tty0  KDFONTOP: the console's font; VT_GETCONSIZECSRPOS: the
//	           cursor; KDSETMODE KD_GRAPHICS: the kernel stops painting (it
//	           still keeps the cells)
//	/dev/vcsa  the cells; epoll reports EPOLLPRI when they change
//
// A goroutine waits for a change, reads the cells, and repaints the rows
// that differ from what it painted last. A program's write returns once
// the kernel has stored the cells; a burst of output costs one repaint.
//
// In VGA text mode (no /dev/fb0) the video card draws the cells and this
// package does nothing; rt0.painter=off on the kernel command line leaves
// the painting to the kernel (for comparison, see host/bench/).
package painter

import (
	"syscall"
	"unsafe"

	"rt0/guest/kernel/vt"
)

func init() {
	if p := open(); p != nil {
		go p.run()
	} // else the kernel goes on painting
}

const (
	fontChars   = 256 // glyphs asked of KDFONTOP
	cursorLines = 2   // the cursor: an underline this many scan lines high
)

type painter struct {
	fb            []byte // the mapped framebuffer
	pitch, bpp    int    // bytes a scan line, bytes a pixel
	cols, rows    int
	fontW, fontH  int
	font          [fontChars * vt.FontVPitch]byte // vt.FontVPitch bytes a glyph
	palette       [16]uint32
	tty, vcsa, ep uintptr
	buf           []byte   // a read of /dev/vcsa
	painted       []uint16 // the cells as last painted
	line          []byte   // one scan line being built
	cx, cy        int      // the cursor as last painted (-1: none)
}

// The painter makes raw system calls: it needs a handful, and the syscall
// package's wrappers (error values, string conversions, mmap bookkeeping)
// would add to the size of every program for nothing.

// sys makes a system call; ok is false if it failed.
func sys(trap, a1, a2, a3 uintptr) (r uintptr, ok bool) {
	r, _, e := syscall.Syscall(trap, a1, a2, a3)
	return r, e == 0
}

// openDev opens a NUL-terminated path.
func openDev(path string, flags uintptr) (uintptr, bool) {
	return sys(syscall.SYS_OPEN, uintptr(unsafe.Pointer(unsafe.StringData(path))), flags|syscall.O_CLOEXEC, 0)
}

// ioctl with a pointer argument.
func ioctl(fd, req uintptr, arg unsafe.Pointer) bool {
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	return e == 0
}

func pread(fd uintptr, b []byte) int {
	n, _, e := syscall.Syscall6(syscall.SYS_PREAD64, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0, 0)
	if e != 0 {
		return -1
	}
	return int(n)
}

// turnedOff reports whether the kernel command line has the word
// rt0.painter=off.
func turnedOff() bool {
	var b [4096]byte
	fd, ok := openDev("/proc/cmdline\x00", syscall.O_RDONLY)
	if !ok {
		return false
	}
	n := pread(fd, b[:])
	syscall.Syscall(syscall.SYS_CLOSE, fd, 0, 0)
	const word = "rt0.painter=off"
	for i := 0; i+len(word) <= n; i++ {
		if string(b[i:i+len(word)]) == word && (i == 0 || b[i-1] == ' ') && (i+len(word) == n || b[i+len(word)] <= ' ') {
			return true
		}
	}
	return false
}

// open finds the framebuffer, the font and the cells, and takes the
// screen from the kernel. It returns nil, leaving the kernel painting, if
// there is no framebuffer or anything fails.
func open() *painter {
	fb, ok := openDev("/dev/fb0\x00", syscall.O_RDWR)
	if !ok {
		return nil
	}
	defer syscall.Syscall(syscall.SYS_CLOSE, fb, 0, 0) // the mapping outlives the descriptor
	var v vt.FbVarScreeninfo
	var f vt.FbFixScreeninfo
	if turnedOff() || !ioctl(fb, vt.FBIOGET_VSCREENINFO, unsafe.Pointer(&v)) || !ioctl(fb, vt.FBIOGET_FSCREENINFO, unsafe.Pointer(&f)) {
		return nil
	}
	p := &painter{pitch: int(f.LineLength), bpp: int(v.BitsPerPixel) / 8}
	size := p.pitch * int(v.YRes)
	if p.bpp < 2 || p.bpp > 4 || p.pitch < int(v.XRes)*p.bpp || uint64(size) > uint64(f.SmemLen) {
		return nil
	}
	a, _, e := syscall.Syscall6(syscall.SYS_MMAP, 0, uintptr(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED, fb, 0)
	if e != 0 {
		return nil
	}
	// a is device memory outside Go's heap: the GC never moves or frees
	// it, so holding it in a []byte is sound (read through a pointer, as
	// vet cannot know that).
	p.fb = unsafe.Slice(*(**byte)(unsafe.Pointer(&a)), size)
	for i, c := range vt.Colours {
		p.palette[i] = vt.Pixel(c>>16, v.Red) | vt.Pixel(c>>8&0xFF, v.Green) | vt.Pixel(c&0xFF, v.Blue)
	}

	if p.tty, ok = openDev("/dev/tty0\x00", syscall.O_RDWR); !ok {
		return nil
	}
	op := vt.ConsoleFontOp{Op: vt.KD_FONT_OP_GET, Width: 32, Height: 32, Charcount: fontChars, Data: uint64(uintptr(unsafe.Pointer(&p.font[0])))}
	if !ioctl(p.tty, vt.KDFONTOP, unsafe.Pointer(&op)) || op.Width > 8 || op.Height > vt.FontVPitch || op.Width == 0 || op.Height == 0 {
		return nil
	}
	p.fontW, p.fontH = int(op.Width), int(op.Height)
	p.cols, p.rows = int(v.XRes)/p.fontW, int(v.YRes)/p.fontH

	if p.vcsa, ok = openDev("/dev/vcsa\x00", syscall.O_RDONLY); !ok {
		return nil
	}
	p.buf = make([]byte, 4+p.cols*p.rows*2+1) // one more: a size check
	if pread(p.vcsa, p.buf) != len(p.buf)-1 {
		return nil // not the grid we computed
	}
	if p.ep, ok = sys(syscall.SYS_EPOLL_CREATE1, syscall.EPOLL_CLOEXEC, 0, 0); !ok {
		return nil
	}
	ev := syscall.EpollEvent{Events: vt.EPOLLPRI}
	if !ioctlLike(syscall.SYS_EPOLL_CTL, p.ep, syscall.EPOLL_CTL_ADD, p.vcsa, unsafe.Pointer(&ev)) {
		return nil
	}
	p.painted = make([]uint16, p.cols*p.rows)
	for i := range p.painted {
		p.painted[i] = 0xFFFF // nothing painted yet: the first paint does all
	}
	p.line = make([]byte, p.cols*p.fontW*p.bpp)
	p.cx, p.cy = -1, -1
	if _, ok := sys(syscall.SYS_IOCTL, p.tty, vt.KDSETMODE, vt.KD_GRAPHICS); !ok {
		return nil
	}
	return p
}

// ioctlLike makes a four-argument call whose last is a pointer.
func ioctlLike(trap, a1, a2, a3 uintptr, a4 unsafe.Pointer) bool {
	_, _, e := syscall.Syscall6(trap, a1, a2, a3, uintptr(a4), 0, 0)
	return e == 0
}

// run is the painter goroutine: paint, wait for a change, again.
func (p *painter) run() {
	var events [1]syscall.EpollEvent
	for p.paint() {
		// A blocking wait in the kernel: this goroutine's thread sleeps
		// until a write changes the cells.
		_, _, e := syscall.Syscall6(syscall.SYS_EPOLL_WAIT, p.ep, uintptr(unsafe.Pointer(&events[0])), 1, ^uintptr(0), 0, 0)
		if e != 0 && e != syscall.EINTR {
			break
		}
	}
	// Something failed: give the screen back to the kernel.
	sys(syscall.SYS_IOCTL, p.tty, vt.KDSETMODE, vt.KD_TEXT)
}

// paint reads the cells and repaints the rows that changed.
func (p *painter) paint() bool {
	n := pread(p.vcsa, p.buf)
	if n != len(p.buf)-1 {
		return false
	}
	cells := p.buf[4:n]
	// The cursor (0xFFFF where the console cannot say): a move repaints
	// the rows it left and entered.
	pos := [4]uint16{0, 0, 0xFFFF, 0xFFFF}
	ioctl(p.tty, vt.VT_GETCONSIZECSRPOS, unsafe.Pointer(&pos))
	cx, cy := int(pos[3]), int(pos[2])
	moved := cx != p.cx || cy != p.cy
	oldY := p.cy
	p.cx, p.cy = cx, cy
	for y := 0; y < p.rows; y++ {
		row := p.painted[y*p.cols : (y+1)*p.cols]
		same := !moved || y != oldY && y != cy
		for x := range row {
			c := uint16(cells[(y*p.cols+x)*2]) | uint16(cells[(y*p.cols+x)*2+1])<<8
			if row[x] != c {
				row[x] = c
				same = false
			}
		}
		if !same {
			p.paintRow(y, row)
		}
	}
	return true
}

// paintRow draws one row of cells, a scan line at a time: each line is
// built in memory and copied out whole, so the framebuffer (uncached or
// write-combining on a PC) only sees sequential writes and no reads.
func (p *painter) paintRow(y int, row []uint16) {
	for sy := 0; sy < p.fontH; sy++ {
		o := 0
		for cx, c := range row {
			bits := p.font[int(byte(c))*vt.FontVPitch+sy]
			if y == p.cy && cx == p.cx && sy >= p.fontH-cursorLines {
				bits = 0xFF
			}
			fg, bg := p.palette[c>>8&0xF], p.palette[c>>12&0x7]
			for x := 0; x < p.fontW; x++ {
				v := bg
				if bits&(0x80>>x) != 0 {
					v = fg
				}
				for b := 0; b < p.bpp; b++ {
					p.line[o+b] = byte(v >> (8 * b))
				}
				o += p.bpp
			}
		}
		copy(p.fb[(y*p.fontH+sy)*p.pitch:], p.line)
	}
}
