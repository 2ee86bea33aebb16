package cells

import (
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// grid makes a cols x rows grid over Go memory (kept alive by the slice).
func grid(cols, rows int) (*Grid, []uint16) {
	mem := make([]uint16, cols*rows)
	g := &Grid{Cells: uintptr(unsafe.Pointer(&mem[0])), Cols: cols, Rows: rows, Attr: Normal, DirtyLo: 1, DirtyHi: 0}
	return g, mem
}

// text returns row y's characters.
func text(g *Grid, y int) string {
	var b strings.Builder
	for x := 0; x < g.Cols; x++ {
		b.WriteByte(byte(*g.Cell(x, y)))
	}
	return b.String()
}

func put(g *Grid, s string) {
	for i := 0; i < len(s); i++ {
		g.Put(s[i])
	}
}

func TestPutAndControls(t *testing.T) {
	g, mem := grid(16, 3)
	defer runtime.KeepAlive(mem)
	g.Clear()
	put(g, "ab\tc\rX\n\x01\x7f")
	if text(g, 0) != "Xb      c       " {
		t.Errorf("row 0 %q; want tab to column 8, CR back to 0", text(g, 0))
	}
	if text(g, 1) != "??              " || g.X != 2 || g.Y != 1 {
		t.Errorf("row 1 %q, cursor %d,%d; want \"??\", 2,1 (controls and DEL show as ?)", text(g, 1), g.X, g.Y)
	}
	put(g, "\b")
	if text(g, 1) != "?               " || g.X != 1 {
		t.Errorf("backspace: %q, x %d", text(g, 1), g.X)
	}
	if *g.Cell(0, 1)>>8 != Normal {
		t.Errorf("attribute %#x", *g.Cell(0, 1)>>8)
	}
	// A tab past the last column stops there; the next character wraps.
	g.Clear()
	put(g, "abcdefghijkl\tZ")
	if g.Y != 1 || text(g, 1)[0] != 'Z' {
		t.Errorf("tab at column 12 of 16, then Z: cursor %d,%d, row 1 %q", g.X, g.Y, text(g, 1))
	}
}

// A full line wraps at the next character; the last line scrolls.
func TestWrapAndScroll(t *testing.T) {
	g, mem := grid(4, 2)
	defer runtime.KeepAlive(mem)
	g.Clear()
	put(g, "abcd")
	if g.X != 4 || g.Y != 0 {
		t.Fatalf("after a full line: cursor %d,%d; want 4,0 (wraps at the next character)", g.X, g.Y)
	}
	put(g, "efgh")
	if text(g, 0) != "abcd" || text(g, 1) != "efgh" {
		t.Fatalf("rows %q %q", text(g, 0), text(g, 1))
	}
	g.DirtyLo, g.DirtyHi = 1, 0
	put(g, "i")
	if text(g, 0) != "efgh" || text(g, 1) != "i   " || g.Y != 1 || g.X != 1 {
		t.Errorf("after the scroll: %q %q cursor %d,%d", text(g, 0), text(g, 1), g.X, g.Y)
	}
	if g.DirtyLo != 0 || g.DirtyHi != 1 {
		t.Errorf("dirty rows %d..%d; want 0..1", g.DirtyLo, g.DirtyHi)
	}
	put(g, "\n")
	if text(g, 0) != "i   " || text(g, 1) != "    " || g.X != 0 || g.Y != 1 {
		t.Errorf("newline at the bottom: %q %q cursor %d,%d", text(g, 0), text(g, 1), g.X, g.Y)
	}
}

// Erasing keeps the background of now; dirty rows and the generation
// follow every change.
func TestClearCellsAndDirty(t *testing.T) {
	g, mem := grid(6, 3)
	defer runtime.KeepAlive(mem)
	g.Clear()
	gen := g.Gen
	g.DirtyLo, g.DirtyHi = 1, 0
	g.Attr = 0x1F // white on blue
	g.ClearCells(2, 4, 1)
	if *g.Cell(2, 1) != 0x17<<8|' ' || *g.Cell(4, 1) != Normal<<8|' ' {
		t.Errorf("erased cell %#x, untouched %#x; want blue background, normal foreground", *g.Cell(2, 1), *g.Cell(4, 1))
	}
	if g.DirtyLo != 1 || g.DirtyHi != 1 || g.Gen != gen+1 {
		t.Errorf("dirty %d..%d gen +%d", g.DirtyLo, g.DirtyHi, g.Gen-gen)
	}
	g.Set(0, 2, 'z')
	if g.DirtyLo != 1 || g.DirtyHi != 2 || *g.Cell(0, 2) != 0x1F<<8|'z' {
		t.Errorf("dirty %d..%d, cell %#x", g.DirtyLo, g.DirtyHi, *g.Cell(0, 2))
	}
}

func TestNoAllocs(t *testing.T) {
	g, mem := grid(80, 25)
	defer runtime.KeepAlive(mem)
	line := []byte("a line of text that wraps around the eighty columns of the screen, then more\n")
	if n := testing.AllocsPerRun(20, func() {
		for _, c := range line {
			g.Put(c)
		}
		g.ClearCells(0, 10, 3)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
