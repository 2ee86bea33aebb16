package amd64

import (
	"encoding/binary"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
)

// decode disassembles code[from:to) in the given mode, Intel syntax, with
// pc the address of code[0].
func decode(t *testing.T, code []byte, from, to, mode int, pc uint64) []string {
	t.Helper()
	var out []string
	for i := from; i < to; {
		if code[i] == 0 && i > from {
			break // the zero padding before the next part
		}
		inst, err := x86asm.Decode(code[i:to], mode)
		if err != nil {
			t.Fatalf("decode at %#x (%d-bit): %v", i, mode, err)
		}
		out = append(out, x86asm.IntelSyntax(inst, pc+uint64(i), nil))
		i += inst.Len
	}
	return out
}

// TestTrampolineDecode decodes each part of the AP trampoline in the mode
// the CPU runs it in and compares it with the listing in trampoline.go.
func TestTrampolineDecode(t *testing.T) {
	const base = 0x8000
	page := make([]byte, 4096)
	WriteTrampoline(page, base)
	check := func(name string, got, want []string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s decodes to\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// Real mode: addresses are offsets in the page (DS = CS = page>>4).
	check("16-bit part", decode(t, page, 0, trampCode32, 16, 0), []string{
		"cli",
		"mov ax, cs",
		"mov ds, ax",
		"mov word ptr [0x150], 0x1",
		"lgdt ptr [0x120]",
		"mov eax, cr0",
		"or eax, 0x1",
		"mov cr0, eax",
		"jmp far 0x8040, 0x18",
	})
	check("32-bit part", decode(t, page, trampCode32, trampCode64, 32, 0), []string{
		"mov ax, 0x10",
		"mov ds, ax",
		"mov es, ax",
		"mov ss, ax",
		"mov eax, dword ptr [0x8144]",
		"mov cr4, eax",
		"mov eax, dword ptr [0x8140]",
		"mov cr3, eax",
		"mov ecx, 0xc0000080",
		"mov eax, dword ptr [0x8148]",
		"xor edx, edx",
		"wrmsr",
		"mov eax, dword ptr [0x814c]",
		"mov cr0, eax",
		"jmp far 0x8080, 0x8",
	})
	// Long mode: RIP-relative operands, printed as offsets from the
	// next instruction; the check below resolves them.
	got64 := decode(t, page, trampCode64, trampGDT, 64, base)
	check("64-bit part", got64, []string{
		"mov dword ptr [rip+0xc6], 0x2",
		"mov rsp, qword ptr [rip+0xc7]",
		"mov rdi, qword ptr [rip+0xd0]",
		"jmp qword ptr [rip+0xc2]",
	})
	// Resolve each RIP-relative operand: it must land on its field.
	var p TrampolineParams
	want := []uintptr{unsafe.Offsetof(p.Stage), unsafe.Offsetof(p.RSP), unsafe.Offsetof(p.Arg), unsafe.Offsetof(p.Entry)}
	for i, pc := 0, trampCode64; i < len(want); i++ {
		inst, err := x86asm.Decode(page[pc:], 64)
		if err != nil {
			t.Fatal(err)
		}
		var disp int64
		for _, a := range inst.Args {
			if m, ok := a.(x86asm.Mem); ok && m.Base == x86asm.RIP {
				disp = m.Disp
			}
		}
		if target := pc + inst.Len + int(disp); target != TrampParams+int(want[i]) {
			t.Errorf("instruction %d of the 64-bit part reaches %#x, want %#x", i, target, TrampParams+int(want[i]))
		}
		pc += inst.Len
	}
	// The 16- and 32-bit operands were checked as text above; tie them to
	// the struct too, so a moved field cannot pass.
	if off := TrampParams + int(unsafe.Offsetof(p.Stage)); off != 0x150 {
		t.Errorf("Stage at %#x, the listing says 0x150", off)
	}
	for name, f := range map[string]uintptr{"CR3": unsafe.Offsetof(p.CR3), "CR4": unsafe.Offsetof(p.CR4), "EFER": unsafe.Offsetof(p.EFER), "CR0": unsafe.Offsetof(p.CR0)} {
		if got := base + TrampParams + int(f); !strings.Contains(strings.Join(decode(t, page, trampCode32, trampCode64, 32, 0), "\n"), "[0x"+strings.TrimLeft(hex(got), "0")+"]") {
			t.Errorf("%s (at %#x) is not what the 32-bit part reads", name, got)
		}
	}
	// The GDT: the selectors the code uses, with the attributes it needs.
	gdt := page[trampGDT:]
	desc := func(sel int) uint64 { return binary.LittleEndian.Uint64(gdt[sel:]) }
	if d := desc(SelCode); d>>53&1 != 1 || d>>47&1 != 1 {
		t.Errorf("selector 0x08 %#x is not a present 64-bit code segment", d)
	}
	if d := desc(0x18); d>>54&1 != 1 || d>>53&1 != 0 || d>>43&1 != 1 {
		t.Errorf("selector 0x18 %#x is not a 32-bit code segment", d)
	}
	if d := desc(SelData); d>>43&1 != 0 || d>>41&1 != 1 {
		t.Errorf("selector 0x10 %#x is not a writable data segment", d)
	}
	gdtr := page[trampGDTR:]
	if l, b := binary.LittleEndian.Uint16(gdtr), binary.LittleEndian.Uint32(gdtr[2:]); l != 31 || b != base+trampGDT {
		t.Errorf("GDTR limit %d base %#x, want 31 %#x", l, b, base+trampGDT)
	}
	if TrampolineLen > 4096 {
		t.Errorf("the trampoline (%d bytes) does not fit its page", TrampolineLen)
	}
}

func hex(v int) string {
	const d = "0123456789abcdef"
	s := ""
	for ; v > 0; v >>= 4 {
		s = string(d[v&15]) + s
	}
	return s
}
