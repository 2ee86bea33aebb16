package kernel

import "rt0/guest/kernel/ansi"

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
// Anything else that starts with ESC is swallowed to its final byte. The
// parser and the colours are package ansi's; what a sequence does to the
// cells and the cursor is here.

// escState is the screen's escape parser and the SGR state of its
// attribute (package ansi).
type escState struct {
	parser ansi.Parser
	attr   ansi.Attr
}

// escape feeds c to the parser; it reports whether c was part of an
// escape sequence (and so not to be shown).
func escape(c byte) bool {
	e := &screen.esc
	switch e.parser.Feed(c) {
	case ansi.Text:
		return false
	case ansi.Execute:
		// A control character inside a sequence is executed, as a
		// terminal does; the sequence goes on.
		screen.Put(c)
	case ansi.Sequence:
		csi(e.parser.Final())
	}
	return true
}

// param returns parameter i of the sequence, or def if it is absent or 0.
func param(i, def int) int { return screen.esc.parser.Param(i, def) }

// csi carries out a control sequence whose final byte is c.
func csi(c byte) {
	switch c {
	case 'm':
		sgr()
	case 'H', 'f':
		screen.Y = min(param(0, 1), screen.Rows) - 1
		screen.X = min(param(1, 1), screen.Cols) - 1
	case 'A':
		screen.Y = max(screen.Y-param(0, 1), 0)
	case 'B':
		screen.Y = min(screen.Y+param(0, 1), screen.Rows-1)
	case 'C':
		screen.X = min(screen.X+param(0, 1), screen.Cols-1)
	case 'D':
		screen.X = max(min(screen.X, screen.Cols-1)-param(0, 1), 0)
	case 'G':
		screen.X = min(param(0, 1), screen.Cols) - 1
	case 'J':
		switch param(0, 0) {
		case 0:
			screen.ClearCells(min(screen.X, screen.Cols), screen.Cols, screen.Y)
			for y := screen.Y + 1; y < screen.Rows; y++ {
				screen.ClearLine(y)
			}
		case 1:
			for y := 0; y < screen.Y; y++ {
				screen.ClearLine(y)
			}
			screen.ClearCells(0, min(screen.X+1, screen.Cols), screen.Y)
		default:
			for y := 0; y < screen.Rows; y++ {
				screen.ClearLine(y)
			}
		}
	case 'K':
		switch param(0, 0) {
		case 0:
			screen.ClearCells(min(screen.X, screen.Cols), screen.Cols, screen.Y)
		case 1:
			screen.ClearCells(0, min(screen.X+1, screen.Cols), screen.Y)
		default:
			screen.ClearLine(screen.Y)
		}
	}
}

// sgr applies Select Graphic Rendition to the screen's attribute.
func sgr() {
	e := &screen.esc
	screen.Attr = e.attr.SGR(&e.parser, attrNormal)
}
