// Package cells is the screen console's model: a grid of VGA text cells
// (character in the low byte, attribute in the high byte) at a kernel
// address — VGA text memory itself, or RAM that a painter turns into
// pixels — with a cursor, the attribute written now, and the range of rows
// changed since the view last caught up. Writing, erasing and scrolling are
// stores into the grid; no pixel is touched here. It allocates nothing and
// reads no global, so the host tests it on a grid of its own
// (cells_test.go).
package cells

import "rt0/guest/arch/amd64"

// Grid is the model. Cells holds Rows*Cols uint16 cells, row by row.
type Grid struct {
	Cells      uintptr
	Cols, Rows int
	X, Y       int   // the cursor (X == Cols: past the last column, wraps at the next character)
	Attr       uint8 // the attribute of the cells written now
	// DirtyLo..DirtyHi are the rows changed since the view caught up
	// (DirtyLo > DirtyHi: none); Gen counts changes.
	DirtyLo, DirtyHi int
	Gen              uint64
}

// Normal is the attribute of blank cells' foreground: light grey, as a
// PC's BIOS console.
const Normal = 0x07

// Cell returns the cell at (x, y).
func (g *Grid) Cell(x, y int) *uint16 {
	return (*uint16)(amd64.Ptr(g.Cells + uintptr(y*g.Cols+x)*2))
}

// Clear blanks the grid and homes the cursor.
func (g *Grid) Clear() {
	for y := 0; y < g.Rows; y++ {
		g.ClearLine(y)
	}
	g.X, g.Y = 0, 0
}

// ClearLine blanks row y.
func (g *Grid) ClearLine(y int) { g.ClearCells(0, g.Cols, y) }

// ClearCells blanks cells x0..x1-1 of row y, in the background colour of
// now (as a terminal erases).
func (g *Grid) ClearCells(x0, x1, y int) {
	blank := uint16(g.Attr&0x70|Normal)<<8 | ' '
	for x := x0; x < x1; x++ {
		*g.Cell(x, y) = blank
	}
	g.Dirty(y, y)
}

// Dirty records that rows lo..hi changed.
func (g *Grid) Dirty(lo, hi int) {
	if g.DirtyLo > g.DirtyHi {
		g.DirtyLo, g.DirtyHi = lo, hi
	} else {
		g.DirtyLo, g.DirtyHi = min(g.DirtyLo, lo), max(g.DirtyHi, hi)
	}
	g.Gen++
}

// Put puts one byte that is not part of an escape sequence: newline,
// carriage return, backspace and tab move the cursor; other bytes outside
// printable ASCII show as '?'; the grid scrolls at the bottom.
func (g *Grid) Put(c byte) {
	switch c {
	case '\n':
		g.X = 0
		g.Y++
	case '\r':
		g.X = 0
	case '\b':
		if g.X > 0 {
			g.X--
			g.Set(g.X, g.Y, ' ')
		}
	case '\t':
		g.X = (g.X + 8) &^ 7
	default:
		if c < ' ' || c > '~' {
			c = '?'
		}
		if g.X >= g.Cols {
			g.X = 0
			g.Y++
		}
		if g.Y >= g.Rows {
			g.Scroll()
		}
		g.Set(g.X, g.Y, c)
		g.X++
	}
	if g.X > g.Cols {
		g.X = g.Cols
	}
	if g.Y >= g.Rows {
		g.Scroll()
	}
}

// Set writes character c with the attribute of now at (x, y).
func (g *Grid) Set(x, y int, c byte) {
	*g.Cell(x, y) = uint16(g.Attr)<<8 | uint16(c)
	g.Dirty(y, y)
}

// Scroll moves the grid up one line, clears the last and puts the cursor
// on it.
func (g *Grid) Scroll() {
	n := (g.Rows - 1) * g.Cols * 2
	copy(amd64.Bytes(g.Cells, n), amd64.Bytes(g.Cells+uintptr(g.Cols*2), n))
	g.ClearLine(g.Rows - 1)
	g.Dirty(0, g.Rows-1)
	g.Y = g.Rows - 1
}
