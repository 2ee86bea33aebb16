package kernel

// Escape sequences on the screen console: the subset of ECMA-48 that
// Linux's console and xterm share and that programs use for colour and
// simple screen control, so that a program that colours its output (a
// logger, a test runner, a progress line) looks on a PC's screen as it
// does in a terminal, instead of showing "?[31m". COM1 gets the bytes
// untouched: the terminal at the other end interprets them.
//
//	ESC [ n m        SGR: 0 reset, 1 bold (bright), 22 normal, 7 reverse,
//	                 27 not reversed, 30-37/90-97 foreground, 39 default,
//	                 40-47/100-107 background, 49 default
//	ESC [ r ; c H    cursor to row r, column c (from 1; also f)
//	ESC [ n A B C D  cursor up, down, right, left n (default 1)
//	ESC [ n G        cursor to column n
//	ESC [ n J        erase: 0 to the end of the screen, 1 from its start,
//	                 2 or 3 all (the cursor stays)
//	ESC [ n K        erase in the line: 0 to its end, 1 from its start, 2 all
//
// Anything else that starts with ESC is swallowed to its final byte.

type escState struct {
	state   uint8 // escNone, escStart (after ESC), escCSI (after ESC [)
	private bool  // a CSI with '?', '>' or '=': a private mode, ignored
	n       int   // parameters seen
	params  [8]int
	// SGR state the attribute is made of.
	fg, bg         uint8
	bold, reverse  bool
	haveAttributes bool
}

const (
	escNone = iota
	escStart
	escCSI
)

// vgaFromANSI maps ANSI colour numbers (0 black, 1 red, 2 green, 3
// yellow, 4 blue, 5 magenta, 6 cyan, 7 white) to VGA's, which order red
// and blue the other way round.
var vgaFromANSI = [8]uint8{0, 4, 2, 6, 1, 5, 3, 7}

// escape feeds c to the parser; it reports whether c was part of an
// escape sequence (and so not to be shown).
func escape(c byte) bool {
	e := &screen.esc
	switch e.state {
	case escNone:
		if c != 0x1B {
			return false
		}
		e.state = escStart
	case escStart:
		if c == '[' {
			e.state, e.private, e.n = escCSI, false, 0
			e.params = [8]int{}
		} else {
			e.state = escNone // a two-byte sequence (ESC c, ESC 7, ...): ignored
		}
	case escCSI:
		switch {
		case c >= '0' && c <= '9':
			if e.n == 0 {
				e.n = 1
			}
			if i := e.n - 1; i < len(e.params) && e.params[i] < 10000 {
				e.params[i] = e.params[i]*10 + int(c-'0')
			}
		case c == ';':
			if e.n == 0 {
				e.n = 1
			}
			e.n++
		case c == '?' || c == '>' || c == '=':
			e.private = true
		case c >= 0x40 && c <= 0x7E:
			e.state = escNone
			if !e.private {
				csi(c)
			}
		case c < 0x20:
			// A control character inside a sequence is executed, as a
			// terminal does; the sequence goes on.
			putChar(c)
		}
	}
	return true
}

// param returns parameter i, or def if it is absent or 0.
func param(i, def int) int {
	e := &screen.esc
	if i >= e.n || i >= len(e.params) || e.params[i] == 0 {
		return def
	}
	return e.params[i]
}

// csi carries out a control sequence whose final byte is c.
func csi(c byte) {
	switch c {
	case 'm':
		sgr()
	case 'H', 'f':
		screen.cy = min(param(0, 1), screen.rows) - 1
		screen.cx = min(param(1, 1), screen.cols) - 1
	case 'A':
		screen.cy = max(screen.cy-param(0, 1), 0)
	case 'B':
		screen.cy = min(screen.cy+param(0, 1), screen.rows-1)
	case 'C':
		screen.cx = min(screen.cx+param(0, 1), screen.cols-1)
	case 'D':
		screen.cx = max(min(screen.cx, screen.cols-1)-param(0, 1), 0)
	case 'G':
		screen.cx = min(param(0, 1), screen.cols) - 1
	case 'J':
		switch param(0, 0) {
		case 0:
			clearCells(min(screen.cx, screen.cols), screen.cols, screen.cy)
			for y := screen.cy + 1; y < screen.rows; y++ {
				clearLine(y)
			}
		case 1:
			for y := 0; y < screen.cy; y++ {
				clearLine(y)
			}
			clearCells(0, min(screen.cx+1, screen.cols), screen.cy)
		default:
			for y := 0; y < screen.rows; y++ {
				clearLine(y)
			}
		}
	case 'K':
		switch param(0, 0) {
		case 0:
			clearCells(min(screen.cx, screen.cols), screen.cols, screen.cy)
		case 1:
			clearCells(0, min(screen.cx+1, screen.cols), screen.cy)
		default:
			clearLine(screen.cy)
		}
	}
}

// sgr applies Select Graphic Rendition: each parameter in turn.
func sgr() {
	e := &screen.esc
	if !e.haveAttributes {
		e.fg, e.bg, e.haveAttributes = attrNormal, 0, true
	}
	n := max(e.n, 1) // ESC [ m is ESC [ 0 m
	for i := 0; i < n && i < len(e.params); i++ {
		switch p := e.params[i]; {
		case p == 0:
			e.fg, e.bg, e.bold, e.reverse = attrNormal, 0, false, false
		case p == 1:
			e.bold = true
		case p == 22:
			e.bold = false
		case p == 7:
			e.reverse = true
		case p == 27:
			e.reverse = false
		case p >= 30 && p <= 37:
			e.fg = vgaFromANSI[p-30]
		case p == 39:
			e.fg = attrNormal
		case p >= 40 && p <= 47:
			e.bg = vgaFromANSI[p-40]
		case p == 49:
			e.bg = 0
		case p >= 90 && p <= 97:
			e.fg = vgaFromANSI[p-90] | 8
		case p >= 100 && p <= 107:
			e.bg = vgaFromANSI[p-100] // VGA backgrounds have no bright half
		}
	}
	fg, bg := e.fg, e.bg
	if e.bold {
		fg |= 8
	}
	if e.reverse {
		fg, bg = bg, fg&7
	}
	screen.attr = bg<<4 | fg
}
