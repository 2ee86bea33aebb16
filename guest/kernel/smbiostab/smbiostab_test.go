package smbiostab

import "testing"

// A BIOS (type 0) and a system (type 1) structure, then end-of-table.
var table = []byte{
	0, 8, 0, 0, 1, 2, 0, 0, // type 0, length 8, handle 0; vendor 1, version 2
	'S', 'e', 'a', 0, 'v', '1', 0, 0,
	1, 8, 1, 0, 1, 0, 0, 0, // type 1: manufacturer 1, product 0 (none)
	'Q', 0, 0,
	127, 4, 2, 0, 0, 0, // end of table, no strings
}

func TestWalk(t *testing.T) {
	typ, f, strs, next := Struct(table, 0)
	if typ != 0 || len(f) != 8 || string(strs) != "Sea\x00v1" || next != 16 {
		t.Fatalf("first: type %d, %d bytes, strings %q, next %d", typ, len(f), strs, next)
	}
	if s := String(strs, f[4]); string(s) != "Sea" {
		t.Errorf("vendor %q", s)
	}
	if s := String(strs, f[5]); string(s) != "v1" {
		t.Errorf("version %q", s)
	}
	if s := String(strs, 3); s != nil {
		t.Errorf("string 3 of 2: %q", s)
	}
	typ, f, strs, next = Struct(table, next)
	if typ != 1 || string(String(strs, f[4])) != "Q" || String(strs, f[5]) != nil || next != 27 {
		t.Errorf("second: type %d, maker %q, product %q, next %d", typ, String(strs, f[4]), String(strs, f[5]), next)
	}
	if typ, f, strs, next = Struct(table, next); typ != 127 || len(f) != 4 || len(strs) != 0 || next != len(table) {
		t.Errorf("end: type %d, %d bytes, %q, next %d of %d", typ, len(f), strs, next, len(table))
	}
}

// A structure that runs off the table, or claims a length under 4, is not
// whole: f is nil and next is past the end.
func TestBroken(t *testing.T) {
	for _, b := range [][]byte{
		{0, 8, 0, 0, 1, 2, 0},      // formatted area cut
		{0, 4, 0, 0, 'a', 0},       // strings never end with a double NUL
		{0, 2, 0, 0, 0, 0},         // length 2
		{0, 255, 0, 0, 0, 0, 0, 0}, // length past the end
	} {
		if _, f, _, next := Struct(b, 0); f != nil || next <= len(b) {
			t.Errorf("%v: f %v, next %d", b, f, next)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		for off := 0; off+4 <= len(table); {
			_, f, strs, next := Struct(table, off)
			if f == nil {
				break
			}
			String(strs, 1)
			off = next
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// The kernel's walk (smbios.go) over any bytes ends without a panic.
func FuzzWalk(f *testing.F) {
	f.Add(table)
	f.Add([]byte{0, 4, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for off := 0; off+4 <= len(b); {
			_, fa, strs, next := Struct(b, off)
			if fa == nil {
				break
			}
			for k := byte(0); k < 4; k++ {
				String(strs, k)
			}
			off = next
		}
	})
}
