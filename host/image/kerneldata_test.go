package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"reflect"
	"testing"

	"rt0/contract"
)

func TestKernelPackage(t *testing.T) {
	for sym, want := range map[string]bool{
		"rt0/guest/kernel.vmas":          true,
		"rt0/guest/kernel..stmp_3":       true,
		"rt0/guest/arch/amd64.cpus":      true,
		"rt0/guest/kernel/mem.x":         true,
		"rt0/guest/painter.state":        false,
		"rt0/guest/painterish.x":         true,
		"runtime.m0":                     false,
		"main.buf":                       false,
		"rt0/host/qemu.x":                false,
		"type:rt0/guest/kernel.inode":    false,
		"example.com/rt0/guest/kernel.x": false,
	} {
		if got := KernelPackage(sym); got != want {
			t.Errorf("KernelPackage(%q) = %v, want %v", sym, got, want)
		}
	}
}

func TestJoinSpans(t *testing.T) {
	vars := []Var{
		{0x100, 0x108, true}, {0x110, 0x120, true}, // padding between: one run
		{0x120, 0x130, false},
		{0x130, 0x140, true},
		{0x200, 0x210, false},
		{0x400, 0x500, true}, {0x480, 0x490, true}, // overlapping
		{0x1000, 0x1008, false}, {0x1010, 0x1020, true},
	}
	got := joinSpans(append([]Var(nil), vars...), 10)
	want := []Span{{0x100, 0x120}, {0x130, 0x140}, {0x400, 0x500}, {0x1010, 0x1020}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("joinSpans = %x, want %x", got, want)
	}
	// Two slots: the closest runs are joined, covering more, never less.
	got = joinSpans(append([]Var(nil), vars...), 2)
	want = []Span{{0x100, 0x500}, {0x1010, 0x1020}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("joinSpans max 2 = %x, want %x", got, want)
	}
}

// In a real image every kernel variable is inside a run of the table and
// no other variable is.
func TestKernelDataTable(t *testing.T) {
	in := buildELF(t, true)
	out, lay, err := PatchLayout(in)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := elf.NewFile(bytes.NewReader(in))
	syms, _ := f.Symbols()
	kd, _ := findSym(syms, contract.SymKernelData)
	b := out[kd.Value-lay.Base:]
	le := binary.LittleEndian
	n := int(le.Uint64(b))
	if n == 0 || n >= contract.KernelDataEntries {
		t.Fatalf("%d runs (capacity %d)", n, contract.KernelDataEntries)
	}
	t.Logf("%d runs of kernel variables", n)
	inRun := func(a uint64) bool {
		for i := 0; i < n; i++ {
			if uint64(le.Uint32(b[8+8*i:])) <= a && a < uint64(le.Uint32(b[12+8*i:])) {
				return true
			}
		}
		return false
	}
	var kernel, other int
	for _, s := range syms {
		if s.Size == 0 || elf.ST_TYPE(s.Info) != elf.STT_OBJECT || int(s.Section) >= len(f.Sections) {
			continue
		}
		switch f.Sections[s.Section].Name {
		case ".data", ".bss", ".noptrdata", ".noptrbss":
		default:
			continue
		}
		k := KernelPackage(s.Name)
		if k {
			kernel++
		} else {
			other++
		}
		if inRun(s.Value) != k || inRun(s.Value+s.Size-1) != k {
			t.Errorf("%s [%#x, %#x): kernel %v, but the table says otherwise", s.Name, s.Value, s.Value+s.Size, k)
		}
	}
	if kernel < 20 || other < 20 {
		t.Errorf("%d kernel and %d other variables: the check saw too few", kernel, other)
	}
}
