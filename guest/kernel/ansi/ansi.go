// Package ansi parses the escape sequences of the screen console: the
// subset of ECMA-48 that Linux's console and xterm share and that programs
// use for colour and simple screen control. The parser is a state machine
// fed one byte at a time; it says what each byte is, and for a finished
// control sequence its final byte and parameters. What a sequence does to
// the screen is the kernel's (screen_escape.go); the colours of SGR are
// computed here. It allocates nothing and reads no global, so the host
// tests it (ansi_test.go).
package ansi

// Parser is the escape parser. The zero Parser is ready.
type Parser struct {
	state   uint8 // none, start (after ESC), csi (after ESC [)
	private bool  // a CSI with '?', '>' or '=': a private mode, ignored
	n       int   // parameters seen
	params  [8]int
	final   byte
}

const (
	stateNone = iota
	stateStart
	stateCSI
)

// Kind says what a byte fed to the parser was.
type Kind uint8

const (
	Text     Kind = iota // not part of a sequence: show it
	Swallow              // part of a sequence (or a whole ignored one)
	Execute              // a control character inside a sequence: carry it out, the sequence goes on
	Sequence             // the final byte of a control sequence: Final and Param describe it
)

// Feed gives the parser the next byte.
func (p *Parser) Feed(c byte) Kind {
	switch p.state {
	case stateNone:
		if c != 0x1B {
			return Text
		}
		p.state = stateStart
	case stateStart:
		if c == '[' {
			p.state, p.private, p.n = stateCSI, false, 0
			p.params = [8]int{}
		} else {
			p.state = stateNone // a two-byte sequence (ESC c, ESC 7, ...): ignored
		}
	case stateCSI:
		switch {
		case c >= '0' && c <= '9':
			if p.n == 0 {
				p.n = 1
			}
			if i := p.n - 1; i < len(p.params) && p.params[i] < 10000 {
				p.params[i] = p.params[i]*10 + int(c-'0')
			}
		case c == ';':
			if p.n == 0 {
				p.n = 1
			}
			p.n++
		case c == '?' || c == '>' || c == '=':
			p.private = true
		case c >= 0x40 && c <= 0x7E:
			p.state = stateNone
			if !p.private {
				p.final = c
				return Sequence
			}
		case c < 0x20:
			return Execute
		}
	}
	return Swallow
}

// Final is the final byte of the sequence Feed last reported.
func (p *Parser) Final() byte { return p.final }

// Param returns parameter i of that sequence, or def if it is absent or 0.
func (p *Parser) Param(i, def int) int {
	if i >= p.n || i >= len(p.params) || p.params[i] == 0 {
		return def
	}
	return p.params[i]
}

// Attr is the SGR state a VGA attribute byte is made of.
type Attr struct {
	fg, bg        uint8
	bold, reverse bool
	set           bool // fg and bg hold something (else: normal)
}

// vgaFromANSI maps ANSI colour numbers (0 black, 1 red, 2 green, 3
// yellow, 4 blue, 5 magenta, 6 cyan, 7 white) to VGA's, which order red
// and blue the other way round.
var vgaFromANSI = [8]uint8{0, 4, 2, 6, 1, 5, 3, 7}

// SGR applies Select Graphic Rendition, the parameters of p's last
// sequence in turn, and returns the VGA attribute (background << 4 |
// foreground) to write with; normal is the default foreground on black:
// 0 reset, 1 bold (bright), 22 normal, 7 reverse, 27 not reversed,
// 30-37/90-97 foreground, 39 default, 40-47/100-107 background, 49 default.
func (a *Attr) SGR(p *Parser, normal uint8) uint8 {
	if !a.set {
		a.fg, a.bg, a.set = normal, 0, true
	}
	n := max(p.n, 1) // ESC [ m is ESC [ 0 m
	for i := 0; i < n && i < len(p.params); i++ {
		switch v := p.params[i]; {
		case v == 0:
			a.fg, a.bg, a.bold, a.reverse = normal, 0, false, false
		case v == 1:
			a.bold = true
		case v == 22:
			a.bold = false
		case v == 7:
			a.reverse = true
		case v == 27:
			a.reverse = false
		case v >= 30 && v <= 37:
			a.fg = vgaFromANSI[v-30]
		case v == 39:
			a.fg = normal
		case v >= 40 && v <= 47:
			a.bg = vgaFromANSI[v-40]
		case v == 49:
			a.bg = 0
		case v >= 90 && v <= 97:
			a.fg = vgaFromANSI[v-90] | 8
		case v >= 100 && v <= 107:
			a.bg = vgaFromANSI[v-100] // VGA backgrounds have no bright half
		}
	}
	fg, bg := a.fg, a.bg
	if a.bold {
		fg |= 8
	}
	if a.reverse {
		fg, bg = bg, fg&7
	}
	return bg<<4 | fg
}
