package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"rt0/contract"
)

// TestStub32Decode decodes the 32-bit stub with x86asm and compares it with
// the listing in Stub32's comment, operand for operand.
func TestStub32Decode(t *testing.T) {
	code := Stub32(0x5a1000, 0x400870, 0x4ac5c0, 0x66b000, 0x400900)
	want := []string{
		"cli",
		"mov edi, eax",
		"mov esi, ebx",
		"rdtsc",
		"mov ebp, eax",
		"mov ebx, edx",
		"cmp edi, 0x2badb002",
		"jnz 0x50",
		"test byte ptr [esi], 0x1",
		"jz 0x50",
		"mov eax, dword ptr [esi+0x8]",
		"shl eax, 0xa",
		"add eax, 0x100000",
		"cmp eax, 0x66b000",
		"jnb 0x50",
		"mov ecx, 0x400900",
		"mov al, byte ptr [ecx]",
		"test al, al",
		"jz 0x42",
		"mov dx, 0x3f8",
		"out dx, al",
		"mov dx, 0xe9",
		"out dx, al",
		"inc ecx",
		"jmp 0x2f",
		"mov eax, 0x7d",
		"mov dx, 0xf4",
		"out dx, eax",
		"cli",
		"hlt",
		"jmp 0x4c",
		"mov esp, edi",
		"mov edi, 0x5a1000",
		"xor eax, eax",
		"mov ecx, 0x1800",
		"rep stosd dword ptr [edi]",
		"mov dword ptr [0x5a1000], 0x5a2003",
		"mov dword ptr [0x5a2000], 0x5a3003",
		"mov dword ptr [0x5a2008], 0x5a4003",
		"mov dword ptr [0x5a2010], 0x5a5003",
		"mov dword ptr [0x5a2018], 0x5a6003",
		"mov edi, 0x5a3000",
		"mov eax, 0x83",
		"mov ecx, 0x800",
		"mov dword ptr [edi], eax",
		"add eax, 0x200000",
		"add edi, 0x8",
		"loop 0xa1", // back to the mov [edi], eax (checked below)
		"mov edi, esp",
		"mov eax, cr4",
		"or eax, 0x20",
		"mov cr4, eax",
		"mov eax, 0x5a1000",
		"mov cr3, eax",
		"mov ecx, 0xc0000080",
		"rdmsr",
		"or eax, 0x100",
		"wrmsr",
		"mov eax, cr0",
		"or eax, 0x80000001",
		"mov cr0, eax",
		"lgdt ptr [0x400870]",
		"jmp far 0x4ac5c0, 0x8", // x86asm prints offset, then selector
	}
	var got []string
	at := map[string]int{}
	for pc := 0; pc < len(code); {
		inst, err := x86asm.Decode(code[pc:], 32)
		if err != nil {
			t.Fatalf("decode at %d: %v", pc, err)
		}
		s := x86asm.IntelSyntax(inst, uint64(pc), nil)
		got = append(got, s)
		at[s] = pc
		pc += inst.Len
	}
	// Branch targets land on the instructions they are meant for.
	for target, want := range map[string]int{"mov dword ptr [edi], eax": 0xa1, "mov esp, edi": 0x50, "mov eax, 0x7d": 0x42, "mov al, byte ptr [ecx]": 0x2f} {
		if at[target] != want {
			t.Errorf("%q at %#x, branches go to %#x", target, at[target], want)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stub decodes to\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// buildELF builds ./examples/hello of this module with extra go build
// arguments; with kernel set, rt0/guest/kernel is linked in as `rt0 build` does.
func buildELF(t *testing.T, kernel bool, args ...string) []byte {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "hello.elf")
	cmdArgs := []string{"build", "-o", out}
	if kernel {
		link := filepath.Join(dir, "zz.go")
		os.WriteFile(link, []byte("package main\n\nimport _ \"rt0/guest/kernel\"\n"), 0o644)
		ov := filepath.Join(dir, "overlay.json")
		os.WriteFile(ov, []byte(`{"Replace":{"`+filepath.Join(root, "examples/hello/zz_rt0_kernel.go")+`":"`+link+`"}}`), 0o644)
		cmdArgs = append(cmdArgs, "-overlay", ov)
	}
	cmdArgs = append(cmdArgs, args...)
	cmdArgs = append(cmdArgs, "./examples/hello")
	cmd := exec.Command("go", cmdArgs...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPatchHello(t *testing.T) {
	in := buildELF(t, true)
	out, lay, err := PatchLayout(in)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	syms, _ := f.Symbols()
	sym := func(name string) uint64 {
		for _, s := range syms {
			if s.Name == name {
				return s.Value
			}
		}
		t.Fatalf("no symbol %s", name)
		return 0
	}
	le := binary.LittleEndian
	at := func(addr uint64) []byte { return out[addr-lay.Base:] }

	// Multiboot v1: in the first 8 KiB, 4-aligned, fields sum to zero,
	// address fields describe the loaded image.
	if lay.MB1-lay.Base >= 8192-32 || lay.MB1%4 != 0 {
		t.Errorf("mb1 header at %#x", lay.MB1)
	}
	h := at(lay.MB1)
	if le.Uint32(h)+le.Uint32(h[4:])+le.Uint32(h[8:]) != 0 || le.Uint32(h) != 0x1BADB002 {
		t.Error("mb1 magic/checksum wrong")
	}
	if le.Uint32(h[4:])&(1<<16) == 0 {
		t.Error("mb1 lacks the address fields flag that QEMU needs for ELF64")
	}
	if uint64(le.Uint32(h[12:])) != lay.MB1 || uint64(le.Uint32(h[16:])) != lay.Base ||
		uint64(le.Uint32(h[20:])) != lay.LoadEnd || uint64(le.Uint32(h[24:])) != lay.BSSEnd ||
		uint64(le.Uint32(h[28:])) != lay.Stub {
		t.Errorf("mb1 address fields %x", h[12:32])
	}
	// The loader copies file bytes [header_offset - (header_addr - load_addr), ...):
	// with offset == vaddr - base, that is file offset 0.
	var lastLoad *elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			lastLoad = p
		}
	}
	if lay.LoadEnd != lastLoad.Vaddr+lastLoad.Filesz || lay.BSSEnd != lastLoad.Vaddr+lastLoad.Memsz {
		t.Errorf("load_end %#x bss_end %#x, last PT_LOAD %+v", lay.LoadEnd, lay.BSSEnd, lastLoad.ProgHeader)
	}

	// Multiboot2: 8-aligned in the first 32 KiB, checksum, tags.
	h = at(lay.MB2)
	if lay.MB2%8 != 0 || le.Uint32(h) != 0xE85250D6 || le.Uint32(h)+le.Uint32(h[4:])+le.Uint32(h[8:])+le.Uint32(h[12:]) != 0 {
		t.Error("mb2 header wrong")
	}
	tags := map[uint16]uint64{}
	for off := uint64(16); off < uint64(le.Uint32(h[8:])); {
		typ, size := le.Uint16(h[off:]), uint64(le.Uint32(h[off+4:]))
		tags[typ] = off
		if typ == 0 {
			break
		}
		off += (size + 7) &^ 7
	}
	if _, ok := tags[0]; !ok {
		t.Error("mb2 has no end tag")
	}
	if o, ok := tags[3]; !ok || uint64(le.Uint32(h[o+8:])) != lay.Stub {
		t.Error("mb2 entry address tag does not point at the stub")
	}

	// linkinfo: what the kernel reads.
	li := at(sym(linkinfoSym))
	if le.Uint64(li[liGoEntry:]) != f.Entry || le.Uint64(li[liEntry64:]) != sym("rt0/guest/kernel.entry64") {
		t.Errorf("linkinfo entries %#x %#x", le.Uint64(li[liGoEntry:]), le.Uint64(li[liEntry64:]))
	}
	// m0.tls: runtime.m's tls field, whose offset comes from DWARF (0x80
	// in go1.26.8); it must be inside m0 and word aligned.
	if got := le.Uint64(li[liM0TLS:]); got != lay.M0TLS || got%8 != 0 || got <= sym("runtime.m0") || got-sym("runtime.m0") > 0x400 {
		t.Errorf("m0.tls at %#x, runtime.m0 at %#x", got, sym("runtime.m0"))
	}
	if le.Uint64(li[liMainMain:]) != sym("main.main") {
		t.Error("linkinfo main.main")
	}
	if le.Uint64(li[liImageStart:]) != lay.Base || le.Uint64(li[liImageEnd:]) != lay.BSSEnd || le.Uint64(li[liPatched:]) != 1 {
		t.Error("linkinfo image fields")
	}

	// The page tables are built by the stub in the bss: the area must be
	// page aligned, in the image, above the file-backed part.
	if lay.PageTables%4096 != 0 || lay.PageTables < lay.LoadEnd || lay.PageTables+6*4096 > lay.BSSEnd {
		t.Errorf("page tables at %#x, load end %#x, bss end %#x", lay.PageTables, lay.LoadEnd, lay.BSSEnd)
	}

	// The stub's far jump lands on entry64.
	stub := at(lay.Stub)
	var last x86asm.Inst
	for pc := 0; pc < 300; {
		inst, err := x86asm.Decode(stub[pc:], 32)
		if err != nil {
			t.Fatal(err)
		}
		last = inst
		pc += inst.Len
		if inst.Op == x86asm.LJMP {
			break
		}
	}
	if last.Op != x86asm.LJMP || uint64(last.Args[1].(x86asm.Imm)) != sym("rt0/guest/kernel.entry64") {
		t.Errorf("stub ends with %v", last)
	}

	// Nothing but the padding, linkinfo and the page tables changed.
	for i := range in {
		if in[i] == out[i] {
			continue
		}
		a := lay.Base + uint64(i)
		switch {
		case i < 4096:
		case a >= sym(linkinfoSym) && a < sym(linkinfoSym)+liSize:
		case a >= sym(traceTableSym) && a < sym(traceTableSym)+8+16*TraceTableEntries:
		case a >= sym(fontTableSym) && a < sym(fontTableSym)+FontGlyphs*FontRows:
		case a >= sym(vdsoImageSym) && a < sym(vdsoImageSym)+vdsoSize:
		case a >= sym(contract.SymKernelData) && a < sym(contract.SymKernelData)+8+8*contract.KernelDataEntries:
		default:
			t.Fatalf("byte at %#x changed outside what Patch owns", a)
		}
	}
}

func TestPatchRefuses(t *testing.T) {
	cases := []struct {
		name   string
		kernel bool
		args   []string
		want   string
	}{
		{"no kernel", false, nil, "does not link rt0's kernel"},
		{"stripped", true, []string{"-ldflags=-s"}, "symbol"},
		{"no DWARF", true, []string{"-ldflags=-w"}, "DWARF"},
		{"PIE", true, []string{"-buildmode=pie"}, "ET_EXEC"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Patch(buildELF(t, c.kernel, c.args...))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Patch error %v, want one mentioning %q", err, c.want)
			}
		})
	}
	if _, err := Patch([]byte("#!/bin/sh\necho not an ELF\n")); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("non-ELF: %v", err)
	}
}

// TestLinkinfoLayout checks that the linkinfo DATA lines of the kernel's
// assembly put each field at the offset Patch writes.
func TestLinkinfoLayout(t *testing.T) {
	src, err := os.ReadFile("../../guest/kernel/entry_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	offs := map[int]string{}
	for _, m := range regexp.MustCompile(`DATA ·linkinfo\+(\d+)\(SB\)/8, \$([^\s]+)\s*(//\s*(\w+))?`).FindAllStringSubmatch(string(src), -1) {
		o, _ := strconv.Atoi(m[1])
		offs[o] = m[2] + " " + m[4]
	}
	want := map[int]string{
		liMagic:      "$0x696b6e696c307472",
		liEntry64:    "·entry64(SB)",
		liPageTables: "·bootPageTables(SB)",
		liGoEntry:    "goEntry",
		liM0TLS:      "m0TLS",
		liImageStart: "imageStart",
		liImageEnd:   "imageEnd",
		liLoadEnd:    "loadEnd",
		liPatched:    "patched",
		liMainMain:   "mainMain",
		liROEnd:      "roEnd",
		liTextEnd:    "textEnd",
	}
	for o, w := range want {
		if !strings.Contains("$"+offs[o], w) && !strings.Contains(offs[o], w) {
			t.Errorf("linkinfo+%d is %q, want %q", o, offs[o], w)
		}
	}
	if len(offs)*8 != liSize {
		t.Errorf("linkinfo has %d words, liSize %d", len(offs), liSize)
	}
	// The _cgo_init hook reads &m0.tls[0] from the table by offset.
	hook, err := os.ReadFile("../../guest/kernel/cgoinit_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`·linkinfo\+(\d+)\(SB\)`).FindAllStringSubmatch(string(hook), -1)
	if len(uses) == 0 {
		t.Error("cgoinit_amd64.s reads nothing from linkinfo")
	}
	for _, u := range uses {
		if o, _ := strconv.Atoi(u[1]); o != liM0TLS {
			t.Errorf("cgoinit_amd64.s reads linkinfo+%d; m0.tls is at %d", o, liM0TLS)
		}
	}
	if !strings.Contains(string(src), fmt.Sprintf("GLOBL ·linkinfo(SB), NOPTR, $%d\n", liSize)) {
		t.Errorf("linkinfo's GLOBL is not %d bytes", liSize)
	}
	if !strings.Contains(string(src), fmt.Sprintf("GLOBL ·kernelData(SB), NOPTR, $(8+%d*8)\n", contract.KernelDataEntries)) {
		t.Errorf("kernelData's GLOBL is not 8+%d*8 bytes", contract.KernelDataEntries)
	}
	if !strings.Contains(string(src), "$(7*4096)") || PageTableBytes != 7*4096 {
		t.Error("bootPageTables size mismatch")
	}
	if !strings.Contains(string(src), "GLOBL ·traceTable(SB), NOPTR, $(8+30*16)") || TraceTableEntries != 30 {
		t.Error("traceTable size mismatch")
	}
}

// Every milestone of the tracer resolves in a real build, and the kernel's
// table holds their addresses.
func TestTraceTable(t *testing.T) {
	in := buildELF(t, true)
	out, lay, err := PatchLayout(in)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := elf.NewFile(bytes.NewReader(in))
	addrs, err := MilestoneAddrs(f)
	if err != nil {
		t.Fatal(err)
	}
	syms, _ := f.Symbols()
	tt, _ := findSym(syms, traceTableSym)
	b := out[tt.Value-lay.Base:]
	le := binary.LittleEndian
	if n := le.Uint64(b); n != uint64(len(Milestones)) {
		t.Fatalf("table count %d, want %d", n, len(Milestones))
	}
	for i, m := range Milestones {
		if addrs[i] == 0 {
			t.Errorf("milestone %s: none of %v in the ELF", m.Name, m.Symbols)
		}
		w := uint64(m.Snap)
		if m.Again {
			w |= traceAgain
		}
		if got := le.Uint64(b[8+16*i:]); got != addrs[i] || le.Uint64(b[16+16*i:]) != w {
			t.Errorf("table entry %d = %#x, want %#x", i, got, addrs[i])
		}
	}
}

// The font table: 'A' has ink, ' ' has none, and it lands in the image.
func TestFontTable(t *testing.T) {
	tab, err := FontTable()
	if err != nil {
		t.Fatal(err)
	}
	ink := func(c byte) (n int) {
		for _, row := range tab[int(c-' ')*FontRows:][:FontRows] {
			for ; row != 0; row &= row - 1 {
				n++
			}
		}
		return
	}
	if ink(' ') != 0 || ink('A') < 10 || ink('|') < 8 || ink('.') == 0 {
		t.Errorf("glyph ink: space %d, A %d, | %d, . %d", ink(' '), ink('A'), ink('|'), ink('.'))
	}
	// 'H': two vertical strokes and a crossbar between them.
	h := tab[int('H'-' ')*FontRows:][:FontRows]
	if h[3] != h[9] || h[3]&0x80 == 0 || h[3] == 0x80 || h[6]&^h[3] == 0 {
		t.Errorf("H rows %08b", h)
	}
}

// The vDSO image parses as the ELF the runtime expects: a dynamic object
// whose symbol __vdso_clock_gettime, version LINUX_2.6, points at the
// kernel's function.
func TestVDSOImage(t *testing.T) {
	const base, fn = 0x5c0000, 0x4b0000
	img := VDSOImage(base, fn)
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != elf.ET_DYN || f.Machine != elf.EM_X86_64 || len(f.Progs) != 2 ||
		f.Progs[0].Type != elf.PT_LOAD || f.Progs[1].Type != elf.PT_DYNAMIC {
		t.Fatalf("header: %+v", f.FileHeader)
	}
	le := binary.LittleEndian
	dyn := img[f.Progs[1].Off:]
	tags := map[elf.DynTag]uint64{}
	for i := 0; ; i += 16 {
		tag := elf.DynTag(le.Uint64(dyn[i:]))
		if tag == elf.DT_NULL {
			break
		}
		tags[tag] = le.Uint64(dyn[i+8:])
	}
	for _, want := range []elf.DynTag{elf.DT_HASH, elf.DT_STRTAB, elf.DT_SYMTAB, elf.DT_VERSYM, elf.DT_VERDEF} {
		if _, ok := tags[want]; !ok {
			t.Errorf("no %v", want)
		}
	}
	sym := img[tags[elf.DT_SYMTAB]+24:]
	name := img[tags[elf.DT_STRTAB]+uint64(le.Uint32(sym)):]
	name = name[:bytes.IndexByte(name, 0)]
	if string(name) != "__vdso_clock_gettime" || base+le.Uint64(sym[8:]) != fn || sym[4] != 0x12 {
		t.Errorf("symbol %q value %#x info %#x", name, le.Uint64(sym[8:]), sym[4])
	}
	// The runtime's key for LINUX_2.6 (runtime/vdso_linux_amd64.go).
	if elfHash("LINUX_2.6") != 0x3ae75f6 {
		t.Errorf("elfHash(LINUX_2.6) = %#x", elfHash("LINUX_2.6"))
	}
	vd := img[tags[elf.DT_VERDEF]+28:]
	if le.Uint16(vd[4:]) != 2 || le.Uint32(vd[8:]) != 0x3ae75f6 {
		t.Errorf("second verdef: ndx %d hash %#x", le.Uint16(vd[4:]), le.Uint32(vd[8:]))
	}
	if le.Uint16(img[tags[elf.DT_VERSYM]+2:]) != 2 {
		t.Error("the symbol is not of version 2")
	}
}

// TestLinkinfoUses checks every use of linkinfo in the kernel's assembly
// (outside its DATA lines): each names its field in a comment, and the
// offset is that field's.
func TestLinkinfoUses(t *testing.T) {
	files, _ := filepath.Glob("../../guest/kernel/*.s")
	names := map[string]int{"loadEnd": liLoadEnd, "imageEnd": liImageEnd, "m0.tls": liM0TLS,
		"goEntry": liGoEntry, "imageStart": liImageStart, "mainMain": liMainMain, "roEnd": liROEnd}
	use := regexp.MustCompile(`·linkinfo\+(\d+)\(SB\)`)
	uses := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			m := use.FindStringSubmatch(line)
			if m == nil || strings.HasPrefix(strings.TrimSpace(line), "DATA") {
				continue
			}
			uses++
			off, _ := strconv.Atoi(m[1])
			found := false
			for name, want := range names {
				if strings.Contains(line, "// "+name) || strings.Contains(line, "// &"+name) {
					found = true
					if off != want {
						t.Errorf("%s:%d: linkinfo+%d is not %s (at %d)", f, i+1, off, name, want)
					}
				}
			}
			if !found {
				t.Errorf("%s:%d: a use of linkinfo+%d without a comment naming its field", f, i+1, off)
			}
		}
	}
	if uses < 3 {
		t.Errorf("found %d uses of linkinfo in the kernel's assembly, want at least 3", uses)
	}
}

// The kernel reads the table through its linkInfo struct
// (guest/kernel/linkinfo.go): every field sits at the offset Patch writes.
func TestLinkinfoStruct(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../../guest/kernel/linkinfo.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var st *ast.StructType
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == "linkInfo" {
			st, _ = ts.Type.(*ast.StructType)
		}
		return st == nil
	})
	if st == nil {
		t.Fatal("guest/kernel/linkinfo.go declares no linkInfo struct")
	}
	want := map[string]int64{
		"Magic": liMagic, "Entry64": liEntry64, "PageTables": liPageTables, "GoEntry": liGoEntry,
		"M0TLS": liM0TLS, "ImageStart": liImageStart, "ImageEnd": liImageEnd, "LoadEnd": liLoadEnd,
		"Patched": liPatched, "MainMain": liMainMain, "ROEnd": liROEnd, "TextEnd": liTextEnd,
	}
	var off int64
	seen := 0
	for _, fld := range st.Fields.List {
		if id, ok := fld.Type.(*ast.Ident); !ok || id.Name != "uint64" {
			t.Fatalf("linkInfo field %v is not a uint64: the offsets below assume 8-byte fields", fld.Names)
		}
		for _, n := range fld.Names {
			w, ok := want[n.Name]
			switch {
			case !ok:
				t.Errorf("linkInfo.%s at %d: Patch writes no such field", n.Name, off)
			case w != off:
				t.Errorf("linkInfo.%s is at %d; Patch writes it at %d", n.Name, off, w)
			default:
				seen++
			}
			off += 8
		}
	}
	if seen != len(want) || off != liSize {
		t.Errorf("linkInfo: %d of %d fields found, %d bytes; the table is %d", seen, len(want), off, liSize)
	}
}
