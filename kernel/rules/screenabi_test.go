package rules

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"testing"
)

// TestScreenABI checks the screen devices' ioctl structures and numbers,
// which the kernel (kernel/screen_dev.go) and the painter goroutine
// (painter/painter.go) each declare, against each other and against
// Linux's layout (linux/fb.h, linux/kd.h): fb_var_screeninfo is 160
// bytes, fb_fix_screeninfo 80, console_font_op 32, with the fields the
// painter reads at Linux's offsets. A field out of place would paint
// garbage or nothing.
func TestScreenABI(t *testing.T) {
	sizes := types.SizesFor("gc", "amd64")
	kernel := typeCheck(t, "../screen_dev.go")
	painter := typeCheck(t, "../../painter/painter.go")
	linux := map[string]struct {
		size   int64
		fields map[string]int64
	}{
		"fbVarScreeninfo": {160, map[string]int64{"XRes": 0, "YRes": 4, "BitsPerPixel": 24, "Red": 32, "Green": 44, "Blue": 56, "Reserved": 144}},
		"fbFixScreeninfo": {80, map[string]int64{"SmemStart": 16, "SmemLen": 24, "Visual": 36, "LineLength": 48, "MmioStart": 56}},
		"consoleFontOp":   {32, map[string]int64{"Op": 0, "Width": 8, "Height": 12, "Charcount": 16, "Data": 24}},
		"fbBitfield":      {12, map[string]int64{"Offset": 0, "Length": 4}},
	}
	for name, want := range linux {
		for side, pkg := range map[string]*types.Package{"kernel": kernel, "painter": painter} {
			obj := pkg.Scope().Lookup(name)
			if obj == nil {
				t.Errorf("%s has no type %s", side, name)
				continue
			}
			if got := sizes.Sizeof(obj.Type()); got != want.size {
				t.Errorf("%s.%s is %d bytes, Linux's %d", side, name, got, want.size)
			}
			for field, off := range want.fields {
				if got, ok := fieldOffset(pkg, sizes, name, field); !ok || got != off {
					t.Errorf("%s.%s.%s at %d (found %v), Linux's at %d", side, name, field, got, ok, off)
				}
			}
		}
	}
	k, p := constInts(t, "../screen_dev.go", ""), constInts(t, "../../painter/painter.go", "")
	for _, c := range []struct {
		kernel, painter string
		linux           int64
	}{
		{"fbioGetVScreenInfo", "fbioGetVScreenInfo", 0x4600},
		{"fbioGetFScreenInfo", "fbioGetFScreenInfo", 0x4602},
		{"kdSetMode", "kdSetMode", 0x4B3A},
		{"kdFontOp", "kdFontOp", 0x4B72},
		{"kdGraphic", "kdGraphics", 1},
		{"fontOpGet", "fontOpGet", 1},
		{"fontVPitch", "fontVPitch", 32},
		{"epollPri", "epollPri", 0x2},
	} {
		if k[c.kernel] != c.linux || p[c.painter] != c.linux {
			t.Errorf("%s: kernel %#x, painter %#x, Linux %#x", c.kernel, k[c.kernel], p[c.painter], c.linux)
		}
	}
}

// typeCheck type-checks one file on its own; errors from its imports do
// not matter, the struct types it declares use only basic types.
func typeCheck(t *testing.T, path string) *types.Package {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.Default(), Error: func(error) {}}
	pkg, _ := conf.Check(f.Name.Name, fset, []*ast.File{f}, nil)
	return pkg
}
