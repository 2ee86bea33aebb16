// Package bin reads a built rt0 image (the ELF that rt0 build writes, with
// full symbols) for the study tools (tour, trace, debug): symbols from the
// ELF symbol table, file and line from the Go pclntab, struct offsets from
// DWARF, instructions decoded with golang.org/x/arch/x86/x86asm in Go
// syntax, the 32-bit stub found through the multiboot header as a loader
// finds it. No address is assumed. It runs on the host.
package bin

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// Sym is an ELF symbol.
type Sym struct {
	Name       string
	Addr, Size uint64
	Text       bool // in an executable section
}

// Binary is an opened image.
type Binary struct {
	Path   string
	Entry  uint64 // ELF e_entry
	elf    *elf.File
	syms   []Sym // sorted by address, then size
	byName map[string]Sym
	data   []byte // the whole file
	loads  []*elf.Prog
	lines  *gosym.Table

	dwarf    *dwarf.Data
	dwarfErr error
	structs  map[string]dwarf.Offset
	offsets  map[string]uint64
}

// Open reads the ELF at path.
func Open(path string) (*Binary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, err := Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	b.Path = path
	return b, nil
}

// Load reads an ELF image from memory.
func Load(data []byte) (*Binary, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return nil, errors.New("not an x86-64 ELF64 file")
	}
	esyms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("no symbol table (rt0 images keep their symbols; was it stripped?): %v", err)
	}
	b := &Binary{Entry: f.Entry, elf: f, data: data, byName: make(map[string]Sym, len(esyms))}
	for _, s := range esyms {
		switch s.Name {
		case "runtime.text", "text", "_text", "runtime.etext", "etext", "_etext":
			// Section markers, dropped as go tool objdump drops them:
			// they would shadow the first and last functions.
			continue
		}
		if s.Section == elf.SHN_UNDEF || s.Value == 0 {
			continue
		}
		sym := Sym{Name: s.Name, Addr: s.Value, Size: s.Size}
		if int(s.Section) < len(f.Sections) {
			sym.Text = f.Sections[s.Section].Flags&elf.SHF_EXECINSTR != 0
		}
		b.syms = append(b.syms, sym)
		if _, dup := b.byName[s.Name]; !dup {
			b.byName[s.Name] = sym
		}
	}
	// By address; at one address the largest last, so that Lookup (which
	// looks at the last symbol starting at or below an address) sees the
	// one that covers most.
	sort.SliceStable(b.syms, func(i, j int) bool {
		if b.syms[i].Addr != b.syms[j].Addr {
			return b.syms[i].Addr < b.syms[j].Addr
		}
		return b.syms[i].Size < b.syms[j].Size
	})
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			b.loads = append(b.loads, p)
		}
	}
	if pcln := f.Section(".gopclntab"); pcln != nil {
		if text := f.Section(".text"); text != nil {
			if tab, err := pcln.Data(); err == nil {
				if t, err := gosym.NewTable(nil, gosym.NewLineTable(tab, text.Addr)); err == nil {
					b.lines = t
				}
			}
		}
	}
	return b, nil
}

// Lookup returns the symbol containing addr and its start, or "", 0. It is
// the lookup go tool objdump gives x86asm.GoSyntax: the last symbol starting
// at or below addr, if addr is inside its size.
func (b *Binary) Lookup(addr uint64) (string, uint64) {
	i := sort.Search(len(b.syms), func(i int) bool { return addr < b.syms[i].Addr })
	if i > 0 {
		s := b.syms[i-1]
		if s.Addr <= addr && addr < s.Addr+s.Size {
			return s.Name, s.Addr
		}
	}
	return "", 0
}

// SymsAt returns the symbols starting at addr, in Lookup's order (the one
// Lookup considers last).
func (b *Binary) SymsAt(addr uint64) []Sym {
	i := sort.Search(len(b.syms), func(i int) bool { return b.syms[i].Addr >= addr })
	var out []Sym
	for ; i < len(b.syms) && b.syms[i].Addr == addr; i++ {
		out = append(out, b.syms[i])
	}
	return out
}

// Sym returns the symbol called name.
func (b *Binary) Sym(name string) (Sym, bool) {
	s, ok := b.byName[name]
	return s, ok
}

// Func returns the first of names that is a function of the binary. Go
// assembly functions appear under their ABI0 name (runtime.rt0_go.abi0), a
// file-local assembly function gogo<> as plain "gogo": callers pass the
// candidates.
func (b *Binary) Func(names ...string) (Sym, bool) {
	for _, n := range names {
		if s, ok := b.byName[n]; ok && s.Text {
			return s, true
		}
	}
	return Sym{}, false
}

// FuncAt returns the name of the function starting exactly at addr.
func (b *Binary) FuncAt(addr uint64) string {
	if n, base := b.Lookup(addr); n != "" && base == addr {
		return n
	}
	return ""
}

// Read returns n bytes of the loaded image at virtual address addr, from
// the file-backed part of a PT_LOAD segment.
func (b *Binary) Read(addr uint64, n int) ([]byte, bool) {
	for _, p := range b.loads {
		if addr >= p.Vaddr && addr+uint64(n) <= p.Vaddr+p.Filesz {
			off := p.Off + (addr - p.Vaddr)
			if off+uint64(n) <= uint64(len(b.data)) {
				return b.data[off : off+uint64(n)], true
			}
		}
	}
	return nil, false
}

// Word reads the 8-byte little-endian word at addr.
func (b *Binary) Word(addr uint64) (uint64, bool) {
	d, ok := b.Read(addr, 8)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint64(d), true
}

// Line returns the source file (base name) and line of pc, as objdump
// prints them.
func (b *Binary) Line(pc uint64) (string, int) {
	if b.lines == nil {
		return "", 0
	}
	file, line, _ := b.lines.PCToLine(pc)
	if i := strings.LastIndexAny(file, `/\`); i >= 0 {
		file = file[i+1:]
	}
	return file, line
}

// Inst is one decoded instruction.
type Inst struct {
	Addr  uint64
	Bytes []byte
	Inst  x86asm.Inst
	Text  string // x86asm.GoSyntax with Lookup: what go tool objdump prints
	File  string
	Line  int
	// Target is the destination of a direct CALL/JMP/Jcc, or the address a
	// RIP-relative operand names; 0 if none.
	Target uint64
	// Resolved says, for what Text leaves as a number, what it is: a
	// symbol (+offset), the function a loaded word points to.
	Resolved string
}

// Op is the instruction's mnemonic as Text spells it (MOVQ, CALL, ...).
func (in *Inst) Op() string {
	op, _, _ := strings.Cut(in.Text, " ")
	return op
}

// Call reports whether the instruction is a CALL to the function name
// (direct), returning true also for name's ABI wrappers.
func (in *Inst) CallsTo(b *Binary, names ...string) bool {
	if in.Inst.Op != x86asm.CALL || in.Target == 0 {
		return false
	}
	return matchName(b.FuncAt(in.Target), names)
}

// JumpsTo is CallsTo for JMP.
func (in *Inst) JumpsTo(b *Binary, names ...string) bool {
	if in.Inst.Op != x86asm.JMP || in.Target == 0 {
		return false
	}
	return matchName(b.FuncAt(in.Target), names)
}

func matchName(got string, names []string) bool {
	if got == "" {
		return false
	}
	for _, n := range names {
		if got == n || got == n+".abi0" {
			return true
		}
	}
	return false
}

// Disasm decodes the function s in 64-bit mode.
func (b *Binary) Disasm(s Sym) ([]Inst, error) {
	if s.Size == 0 {
		return nil, fmt.Errorf("%s has no size", s.Name)
	}
	code, ok := b.Read(s.Addr, int(s.Size))
	if !ok {
		return nil, fmt.Errorf("%s [%#x, %#x) is not in the file", s.Name, s.Addr, s.Addr+s.Size)
	}
	return b.Decode(code, s.Addr, 64, nil), nil
}

// Decode decodes code, loaded at addr, in mode 16, 32 or 64. If stop is not
// nil, decoding ends after the first instruction for which it is true.
// Undecodable bytes become one-byte "?" instructions, as in objdump.
func (b *Binary) Decode(code []byte, addr uint64, mode int, stop func(*Inst) bool) []Inst {
	var out []Inst
	for pc := 0; pc < len(code); {
		inst, err := x86asm.Decode(code[pc:], mode)
		in := Inst{Addr: addr + uint64(pc)}
		size := inst.Len
		if err != nil || size == 0 || inst.Op == 0 {
			size = 1
			in.Text = "?"
		} else {
			in.Inst = inst
			in.Text = x86asm.GoSyntax(inst, in.Addr, b.Lookup)
			b.resolve(&in)
		}
		in.Bytes = code[pc : pc+size]
		if mode == 64 {
			in.File, in.Line = b.Line(in.Addr)
		}
		out = append(out, in)
		pc += size
		if stop != nil && stop(&out[len(out)-1]) {
			break
		}
	}
	return out
}

// resolve fills Target and Resolved.
func (b *Binary) resolve(in *Inst) {
	next := in.Addr + uint64(in.Inst.Len)
	for i, a := range in.Inst.Args {
		switch a := a.(type) {
		case nil:
			return
		case x86asm.Rel:
			in.Target = uint64(int64(next) + int64(a))
		case x86asm.Mem:
			if a.Base != x86asm.RIP || a.Index != 0 {
				continue
			}
			addr := uint64(int64(next) + a.Disp)
			in.Target = addr
			if strings.Contains(in.Text, "(SB)") {
				continue // GoSyntax named it
			}
			var notes []string
			if name, base := b.Lookup(addr); name != "" {
				notes = append(notes, SymOff(name, addr-base))
			} else {
				notes = append(notes, fmt.Sprintf("%#x", addr))
			}
			// A loaded word that points at a function: a funcval
			// (closure) or a function pointer table.
			if in.Inst.Op == x86asm.MOV && i == 1 && in.Inst.MemBytes == 8 {
				if w, ok := b.Word(addr); ok {
					if fn := b.FuncAt(w); fn != "" {
						notes = append(notes, "holds &"+fn)
					}
				}
			}
			if in.Inst.Op == x86asm.LEA {
				if fn := b.FuncAt(addr); fn != "" {
					notes = []string{"&" + fn}
				} else if w, ok := b.Word(addr); ok {
					if fn := b.FuncAt(w); fn != "" {
						notes = append(notes, "a funcval: its first word is &"+fn)
					} else if str, ok := b.stringAt(addr); ok {
						notes = append(notes, "a string header: "+str)
					}
				}
			}
			in.Resolved = strings.Join(notes, ", ")
		case x86asm.Imm:
			if in.Inst.Op == x86asm.MOV && in.Inst.Args[0] == x86asm.ECX {
				if name, ok := msrNames[uint32(a)]; ok {
					in.Resolved = fmt.Sprintf("%#x = %s", uint32(a), name)
					continue
				}
			}
			// 32-bit code names addresses as immediates (the stub).
			if in.Inst.Mode == 32 && uint64(a) >= 0x100000 && !strings.Contains(in.Text, "(SB)") {
				if name, base := b.Lookup(uint64(a)); name != "" {
					in.Resolved = SymOff(name, uint64(a)-base)
				}
			}
		}
	}
}

// stringAt reads a Go string header {ptr, len} at addr and returns the
// quoted string if it is short printable text.
func (b *Binary) stringAt(addr uint64) (string, bool) {
	p, ok1 := b.Word(addr)
	n, ok2 := b.Word(addr + 8)
	if !ok1 || !ok2 || n == 0 || n > 80 {
		return "", false
	}
	d, ok := b.Read(p, int(n))
	if !ok {
		return "", false
	}
	for _, c := range d {
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	return strconv.Quote(string(d)), true
}

// msrNames are the model-specific registers the boot path writes.
var msrNames = map[uint32]string{
	0xC0000080: "IA32_EFER",
	0xC0000100: "IA32_FS_BASE",
	0xC0000101: "IA32_GS_BASE",
	0xC0000102: "IA32_KERNEL_GS_BASE",
}

// SymOff writes a symbol and an offset as objdump does: "name+0x10".
func SymOff(name string, off uint64) string {
	if off == 0 {
		return name
	}
	return fmt.Sprintf("%s+%#x", name, off)
}

// Multiboot is what the multiboot v1 header of an image says.
type Multiboot struct {
	HeaderAddr, LoadAddr, LoadEnd, BSSEnd, Entry uint64
	Offset                                       uint64 // file offset of the header
}

// Multiboot finds the multiboot v1 header as a loader does: 4-byte aligned
// in the first 8 KiB, magic 0x1BADB002, magic+flags+checksum == 0, and
// with flag 16 the address fields.
func (b *Binary) Multiboot() (*Multiboot, error) {
	le := binary.LittleEndian
	for off := 0; off+32 <= len(b.data) && off < 8192; off += 4 {
		h := b.data[off:]
		if le.Uint32(h) != 0x1BADB002 {
			continue
		}
		flags := le.Uint32(h[4:])
		if le.Uint32(h)+flags+le.Uint32(h[8:]) != 0 {
			continue
		}
		if flags&(1<<16) == 0 {
			return nil, errors.New("multiboot header without address fields")
		}
		return &Multiboot{
			Offset:     uint64(off),
			HeaderAddr: uint64(le.Uint32(h[12:])),
			LoadAddr:   uint64(le.Uint32(h[16:])),
			LoadEnd:    uint64(le.Uint32(h[20:])),
			BSSEnd:     uint64(le.Uint32(h[24:])),
			Entry:      uint64(le.Uint32(h[28:])),
		}, nil
	}
	return nil, errors.New("no multiboot header in the first 8 KiB (not an rt0 boot image? build it with rt0 build, without -nopatch)")
}

// Stub32 decodes the 32-bit code at the multiboot entry address, up to and
// including its far jump into 64-bit code.
func (b *Binary) Stub32() (*Multiboot, []Inst, error) {
	mb, err := b.Multiboot()
	if err != nil {
		return nil, nil, err
	}
	off := mb.Offset + (mb.Entry - mb.HeaderAddr)
	if mb.Entry < mb.HeaderAddr || off >= uint64(len(b.data)) {
		return nil, nil, fmt.Errorf("multiboot entry %#x is outside the file", mb.Entry)
	}
	end := min(off+256, uint64(len(b.data)))
	insts := b.Decode(b.data[off:end], mb.Entry, 32, func(in *Inst) bool {
		return in.Inst.Op == x86asm.LJMP || in.Text == "?"
	})
	if len(insts) == 0 || insts[len(insts)-1].Inst.Op != x86asm.LJMP {
		return mb, insts, errors.New("the 32-bit stub does not end in a far jump")
	}
	return mb, insts, nil
}

// FarTarget returns the selector and offset of a far JMP.
func FarTarget(in *Inst) (sel, off uint64, ok bool) {
	if in.Inst.Op != x86asm.LJMP {
		return 0, 0, false
	}
	if len(in.Bytes) == 7 && in.Bytes[0] == 0xEA {
		le := binary.LittleEndian
		return uint64(le.Uint16(in.Bytes[5:])), uint64(le.Uint32(in.Bytes[1:])), true
	}
	return 0, 0, false
}

// InstsAt decodes up to n instructions of 64-bit code at addr, from the
// image's bytes (fewer if the code ends or is not in the file). The trace
// uses it to show what a milestone's breakpoint stopped in front of.
func (b *Binary) InstsAt(addr uint64, n int) []Inst {
	size := 16 * n // x86 instructions are at most 15 bytes
	for size > 0 {
		if code, ok := b.Read(addr, size); ok {
			count := 0
			return b.Decode(code, addr, 64, func(*Inst) bool { count++; return count >= n })
		}
		size--
	}
	return nil
}
