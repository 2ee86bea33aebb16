package image

import (
	"debug/elf"
	"fmt"
	stdimage "image"

	"golang.org/x/image/font/basicfont"

	"rt0/contract"
)

// The kernel's screen console draws text with the 7x13 bitmap font of
// golang.org/x/image/font/basicfont. The kernel cannot import that package
// (it would drag the image packages into every program, and kernel code
// below the runtime reads only plain data), so the post-link step renders
// the font's printable ASCII glyphs into a table the kernel reserves
// (kernel.fontGlyphs): 96 glyphs from ' ', 13 rows each, one byte a row,
// bit 7 the leftmost of its 6 pixels.

const (
	fontTableSym = contract.SymFontGlyphs
	FontGlyphs   = 96
	FontRows     = 13
)

func writeFontTable(syms []elf.Symbol, out []byte, base uint64) error {
	s, ok := findSym(syms, fontTableSym)
	if !ok {
		return fmt.Errorf("symbol %s not found", fontTableSym)
	}
	t, err := FontTable()
	if err != nil {
		return err
	}
	copy(out[s.Value-base:s.Value-base+uint64(len(t))], t)
	return nil
}

// FontTable renders the table from basicfont.Face7x13.
func FontTable() ([]byte, error) {
	face := basicfont.Face7x13
	mask, ok := face.Mask.(*stdimage.Alpha)
	if !ok || face.Height != FontRows || face.Width > 8 {
		return nil, fmt.Errorf("basicfont.Face7x13 is not the 6x13 alpha mask rt0 expects")
	}
	t := make([]byte, FontGlyphs*FontRows)
	for g := 0; g < FontGlyphs; g++ {
		r := rune(' ' + g)
		idx := -1
		for _, rg := range face.Ranges {
			if r >= rg.Low && r < rg.High {
				idx = int(r-rg.Low) + rg.Offset
			}
		}
		if idx < 0 {
			continue
		}
		for y := 0; y < FontRows; y++ {
			var row byte
			for x := 0; x < face.Width; x++ {
				if mask.AlphaAt(x, idx*FontRows+y).A >= 0x80 {
					row |= 0x80 >> x
				}
			}
			t[g*FontRows+y] = row
		}
	}
	return t, nil
}
