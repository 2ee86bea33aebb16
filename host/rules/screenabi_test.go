package rules

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"testing"
)

// TestScreenABI checks the screen devices' ioctl structures and numbers
// (package kernel/vt, which the kernel serves and the painter goroutine
// uses) against Linux's layout (linux/fb.h, linux/kd.h, linux/vt.h):
// fb_var_screeninfo is 160 bytes, fb_fix_screeninfo 80, console_font_op
// 32, with the fields rt0 uses at Linux's offsets. A field out of place
// would paint garbage, or nothing, with any other Linux framebuffer code
// (u-root's pkg/fb, say).
func TestScreenABI(t *testing.T) {
	sizes := types.SizesFor("gc", "amd64")
	pkg := typeCheck(t, "../../guest/kernel/vt/vt.go")
	for name, want := range map[string]struct {
		size   int64
		fields map[string]int64
	}{
		"FbVarScreeninfo": {160, map[string]int64{"XRes": 0, "YRes": 4, "BitsPerPixel": 24, "Red": 32, "Green": 44, "Blue": 56, "Height": 88, "Reserved": 144}},
		"FbFixScreeninfo": {80, map[string]int64{"SmemStart": 16, "SmemLen": 24, "Visual": 36, "LineLength": 48, "MmioStart": 56}},
		"ConsoleFontOp":   {32, map[string]int64{"Op": 0, "Width": 8, "Height": 12, "Charcount": 16, "Data": 24}},
		"FbBitfield":      {12, map[string]int64{"Offset": 0, "Length": 4}},
	} {
		obj := pkg.Scope().Lookup(name)
		if obj == nil {
			t.Errorf("vt has no type %s", name)
			continue
		}
		if got := sizes.Sizeof(obj.Type()); got != want.size {
			t.Errorf("vt.%s is %d bytes, Linux's %d", name, got, want.size)
		}
		for field, off := range want.fields {
			if got, ok := fieldOffset(pkg, sizes, name, field); !ok || got != off {
				t.Errorf("vt.%s.%s at %d (found %v), Linux's at %d", name, field, got, ok, off)
			}
		}
	}
	consts := constInts(t, "../../guest/kernel/vt/vt.go", "")
	for name, linux := range map[string]int64{
		"FBIOGET_VSCREENINFO": 0x4600, "FBIOGET_FSCREENINFO": 0x4602,
		"KDSETMODE": 0x4B3A, "KDGETMODE": 0x4B3B, "KDFONTOP": 0x4B72, "VT_GETCONSIZECSRPOS": 0x5610,
		"KD_TEXT": 0, "KD_GRAPHICS": 1, "KD_FONT_OP_GET": 1, "FontVPitch": 32,
		"FB_VISUAL_TRUECOLOR": 2, "EPOLLPRI": 0x2,
	} {
		if v, ok := consts[name]; !ok || v != linux {
			t.Errorf("vt.%s = %#x (declared %v), Linux's %#x", name, v, ok, linux)
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
