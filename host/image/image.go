// Package image turns the ELF that `go build` wrote into a kernel that
// multiboot loaders (QEMU -kernel, GRUB's multiboot and multiboot2) boot.
//
// The story. A go1.26 linux/amd64 executable is already laid out the way a
// flat loader wants it: every PT_LOAD segment sits in the file at offset
// vaddr-base, so copying the file's bytes [0, end of the last segment's
// data) to physical address base and zeroing up to the end of its memory
// image puts every byte where the program expects it. What the file lacks is
// what a multiboot loader looks for and the few instructions that take the CPU
// from the loader's 32-bit protected mode to 64-bit long mode. The first page
// of the file has a run of zero padding between the section header table and
// .note.go.buildid; Patch writes there:
//
//  1. a multiboot v1 header with the "a.out kludge" address fields (flag 16),
//     which QEMU needs before it loads an ELF64;
//  2. a multiboot2 header with the address, entry address and framebuffer
//     tags, for GRUB (the kernel draws its console on the framebuffer);
//  3. a three-entry GDT (null, 64-bit code, data) and its GDTR;
//  4. the 32-bit stub (stub32.go), the loaders' entry point.
//
// It also fills the kernel's link table (rt0/guest/kernel.linkinfo, found by symbol)
// with what the kernel cannot name itself: the runtime's entry point (ELF
// e_entry, _rt0_amd64_linux), &runtime.m0.tls (the linker refuses references
// to runtime.m0 from other packages; the offset of tls comes from DWARF),
// main.main and the image bounds; and the tables the kernel reserves for the
// tracer, the console font, the vDSO and where its own variables are
// (kerneldata.go). The boot page tables (an identity
// map of the first 4 GiB in 2 MiB pages) are built by the stub itself, in
// the kernel's bss, so they cost no bytes in the file.
package image

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"

	"rt0/contract"
)

// Names of the kernel symbols that Patch looks up.
const (
	linkinfoSym = contract.SymLinkinfo
	m0Sym       = "runtime.m0"
)

// linkinfo layout: the kernel declares the table in guest/kernel/entry_amd64.s
// and reads it through linkInfo (guest/kernel/linkinfo.go); TestLinkinfoLayout
// and TestLinkinfoStruct check both against these offsets.
const (
	liMagic      = contract.LinkMagic
	liEntry64    = contract.LinkEntry64
	liPageTables = contract.LinkPageTables
	liGoEntry    = contract.LinkGoEntry
	liM0TLS      = contract.LinkM0TLS
	liImageStart = contract.LinkImageStart
	liImageEnd   = contract.LinkImageEnd
	liLoadEnd    = contract.LinkLoadEnd
	liPatched    = contract.LinkPatched
	liMainMain   = contract.LinkMainMain
	liROEnd      = contract.LinkROEnd
	liTextEnd    = contract.LinkTextEnd
	liSize       = contract.LinkSize
)

const linkinfoMagic = 0x696b6e696c307472 // "rt0linki" little-endian

// PageTableBytes is the size the kernel reserves for boot page tables:
// PML4, PDPT and four page directories (6 pages) plus a page of slack so that
// a 4 KiB aligned run of 6 pages fits wherever the linker put the area.
const PageTableBytes = 7 * 4096

// Layout describes where Patch put things, for tests and the tracer.
type Layout struct {
	Base, LoadEnd, BSSEnd uint64 // physical = virtual addresses
	MB1, MB2, GDT, Stub   uint64 // addresses of what Patch wrote into the padding
	PageTables            uint64
	Entry64, GoEntry      uint64
	M0TLS                 uint64
	MainMain              uint64
}

// Patch returns a copy of elf made bootable, or an error saying why the
// layout of this binary cannot be made bootable.
func Patch(in []byte) ([]byte, error) {
	out, _, err := PatchLayout(in)
	return out, err
}

// PatchLayout is Patch that also reports where things went.
func PatchLayout(in []byte) ([]byte, *Layout, error) {
	f, err := elf.NewFile(bytes.NewReader(in))
	if err != nil {
		return nil, nil, fmt.Errorf("not an ELF file: %v", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Data != elf.ELFDATA2LSB {
		return nil, nil, errors.New("not a little-endian ELF64 x86-64 executable (build with GOOS=linux GOARCH=amd64)")
	}
	if f.Type != elf.ET_EXEC {
		return nil, nil, fmt.Errorf("ELF type %v: need a static, non-PIE executable (ET_EXEC); do not use -buildmode=pie or external linking", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return nil, nil, errors.New("dynamically linked executable: build with CGO_ENABLED=0 and the internal linker")
		}
	}
	lay := &Layout{}
	var loads []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads = append(loads, p)
		}
	}
	if len(loads) == 0 {
		return nil, nil, errors.New("no PT_LOAD segment")
	}
	if loads[0].Off != 0 {
		return nil, nil, fmt.Errorf("first PT_LOAD at file offset %#x, want 0", loads[0].Off)
	}
	lay.Base = loads[0].Vaddr
	for i, p := range loads {
		if p.Vaddr-lay.Base != p.Off {
			return nil, nil, fmt.Errorf("PT_LOAD %d: file offset %#x != vaddr %#x - base %#x: cannot load flat", i, p.Off, p.Vaddr, lay.Base)
		}
		if p.Paddr != p.Vaddr {
			return nil, nil, fmt.Errorf("PT_LOAD %d: paddr %#x != vaddr %#x", i, p.Paddr, p.Vaddr)
		}
		if i > 0 && p.Vaddr < loads[i-1].Vaddr+loads[i-1].Memsz {
			return nil, nil, fmt.Errorf("PT_LOAD %d overlaps the previous one", i)
		}
		if end := p.Vaddr + p.Memsz; end > lay.BSSEnd {
			lay.BSSEnd = end
		}
		if end := p.Vaddr + p.Filesz; end > lay.LoadEnd {
			lay.LoadEnd = end
		}
		if i < len(loads)-1 && p.Memsz != p.Filesz {
			// Only the last segment may have zero-fill beyond its file
			// data: the loaders zero just [load_end, bss_end).
			return nil, nil, fmt.Errorf("PT_LOAD %d has bss (memsz %#x > filesz %#x) but is not the last segment", i, p.Memsz, p.Filesz)
		}
	}
	if lay.Base%4096 != 0 || lay.BSSEnd > 1<<32 {
		return nil, nil, fmt.Errorf("image [%#x, %#x) must be page aligned and below 4 GiB", lay.Base, lay.BSSEnd)
	}
	if lay.LoadEnd-lay.Base > uint64(len(in)) {
		return nil, nil, errors.New("file shorter than its PT_LOAD segments")
	}

	syms, err := f.Symbols()
	if err != nil {
		return nil, nil, fmt.Errorf("no symbol table (was the binary built with -s?): %v", err)
	}
	li, ok := findSym(syms, linkinfoSym)
	if !ok {
		return nil, nil, fmt.Errorf("symbol %s not found: the program does not link rt0's kernel (build it with `rt0 build`)", linkinfoSym)
	}
	m0, ok := findSym(syms, m0Sym)
	if !ok {
		return nil, nil, fmt.Errorf("symbol %s not found", m0Sym)
	}
	tlsOff, err := checkRuntimeLayout(f)
	if err != nil {
		return nil, nil, err
	}

	out := append([]byte(nil), in...)
	off := func(vaddr uint64) uint64 { return vaddr - lay.Base }
	if li.Value < lay.Base || off(li.Value)+liSize > lay.LoadEnd-lay.Base {
		return nil, nil, fmt.Errorf("%s at %#x is not in the file-backed image", linkinfoSym, li.Value)
	}
	lib := out[off(li.Value) : off(li.Value)+liSize]
	le := binary.LittleEndian
	if le.Uint64(lib[liMagic:]) != linkinfoMagic {
		return nil, nil, fmt.Errorf("%s has a wrong magic: kernel and rt0 build tool disagree", linkinfoSym)
	}
	if le.Uint64(lib[liPatched:]) != 0 {
		return nil, nil, errors.New("already patched")
	}
	lay.Entry64 = le.Uint64(lib[liEntry64:])
	ptArea := le.Uint64(lib[liPageTables:])
	lay.PageTables = (ptArea + 4095) &^ 4095
	if lay.PageTables+6*4096 > ptArea+PageTableBytes || lay.PageTables < lay.Base || lay.PageTables+6*4096 > lay.BSSEnd {
		return nil, nil, errors.New("boot page-table area is not in the image")
	}
	lay.GoEntry = f.Entry
	lay.M0TLS = m0.Value + tlsOff
	le.PutUint64(lib[liGoEntry:], lay.GoEntry)
	le.PutUint64(lib[liM0TLS:], lay.M0TLS)
	le.PutUint64(lib[liImageStart:], lay.Base)
	le.PutUint64(lib[liImageEnd:], lay.BSSEnd)
	le.PutUint64(lib[liLoadEnd:], lay.LoadEnd)
	le.PutUint64(lib[liPatched:], 1)
	// The read-only segments come first; the kernel maps them read-only.
	var roEnd uint64
	for _, p := range loads {
		if p.Flags&elf.PF_W != 0 {
			break
		}
		roEnd = (p.Vaddr + p.Memsz + 4095) &^ 4095
	}
	le.PutUint64(lib[liROEnd:], roEnd)
	// The executable segment (text) is the first; the kernel maps the
	// rest of memory no-execute.
	var textEnd uint64
	for _, p := range loads {
		if p.Flags&elf.PF_X != 0 {
			textEnd = (p.Vaddr + p.Memsz + 4095) &^ 4095
		}
	}
	le.PutUint64(lib[liTextEnd:], textEnd)
	if mm, ok := findSym(syms, "main.main"); ok {
		lay.MainMain = mm.Value
		le.PutUint64(lib[liMainMain:], mm.Value)
	}

	if err := writeTraceTable(f, syms, out, lay.Base); err != nil {
		return nil, nil, err
	}
	if err := writeFontTable(syms, out, lay.Base); err != nil {
		return nil, nil, err
	}
	if err := writeVDSO(syms, out, lay.Base); err != nil {
		return nil, nil, err
	}
	if err := writeKernelData(f, syms, out, lay.Base); err != nil {
		return nil, nil, err
	}

	// Find the zero padding in the first page: after the ELF, program
	// and section headers, before the first section with data.
	padStart, padEnd, err := padding(f, in)
	if err != nil {
		return nil, nil, err
	}
	w := &writer{buf: out, base: lay.Base, pos: padStart, end: padEnd}
	if err := writeHeaders(w, lay); err != nil {
		return nil, nil, err
	}
	return out, lay, nil
}

func findSym(syms []elf.Symbol, name string) (elf.Symbol, bool) {
	for _, s := range syms {
		if s.Name == name {
			return s, true
		}
	}
	return elf.Symbol{}, false
}

// checkRuntimeLayout reads from DWARF the offset of m.tls and checks that the
// first fields of runtime.g are where the kernel's trap g mirrors them
// (stack.lo 0, stack.hi 8, stackguard0 16, stackguard1 24).
func checkRuntimeLayout(f *elf.File) (tlsOff uint64, err error) {
	d, err := f.DWARF()
	if err != nil {
		return 0, fmt.Errorf("no DWARF (was the binary built with -w?): %v", err)
	}
	mOff, err := structField(d, "runtime.m", "tls")
	if err != nil {
		return 0, err
	}
	want := map[string]int64{"stack": 0, "stackguard0": 16, "stackguard1": 24}
	for name, o := range want {
		got, err := structField(d, "runtime.g", name)
		if err != nil {
			return 0, err
		}
		if int64(got) != o {
			return 0, fmt.Errorf("runtime.g.%s at offset %d, rt0's trap g expects %d: unsupported Go version", name, got, o)
		}
	}
	return mOff, nil
}

// structField returns the byte offset of field in the DWARF struct type.
func structField(d *dwarf.Data, typ, field string) (uint64, error) {
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return 0, err
		}
		if e == nil {
			return 0, fmt.Errorf("DWARF: struct %s not found", typ)
		}
		if e.Tag != dwarf.TagStructType || e.Val(dwarf.AttrName) != typ {
			if e.Tag != dwarf.TagCompileUnit && e.Children {
				r.SkipChildren()
			}
			continue
		}
		if !e.Children {
			continue // a declaration
		}
		for {
			c, err := r.Next()
			if err != nil || c == nil || c.Tag == 0 {
				return 0, fmt.Errorf("DWARF: %s has no field %s", typ, field)
			}
			if c.Tag == dwarf.TagMember && c.Val(dwarf.AttrName) == field {
				if o, ok := c.Val(dwarf.AttrDataMemberLoc).(int64); ok {
					return uint64(o), nil
				}
				return 0, fmt.Errorf("DWARF: %s.%s has no constant offset", typ, field)
			}
			if c.Children {
				r.SkipChildren()
			}
		}
	}
}

// padding returns the file range [start, end) of zero bytes in the first
// page between the headers and the first section data.
func padding(f *elf.File, in []byte) (uint64, uint64, error) {
	hdrEnd := uint64(64)
	le := binary.LittleEndian
	phoff, phnum, phsz := le.Uint64(in[32:]), uint64(le.Uint16(in[56:])), uint64(le.Uint16(in[54:]))
	shoff, shnum, shsz := le.Uint64(in[40:]), uint64(le.Uint16(in[60:])), uint64(le.Uint16(in[58:]))
	if e := phoff + phnum*phsz; e > hdrEnd {
		hdrEnd = e
	}
	if shoff < 4096 {
		if e := shoff + shnum*shsz; e > hdrEnd {
			hdrEnd = e
		}
	}
	first := uint64(4096)
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOBITS && s.Size > 0 && s.Offset >= hdrEnd && s.Offset < first {
			first = s.Offset
		}
	}
	if first > uint64(len(in)) || hdrEnd >= first {
		return 0, 0, errors.New("no padding in the first page for the multiboot headers")
	}
	for _, b := range in[hdrEnd:first] {
		if b != 0 {
			return 0, 0, fmt.Errorf("first page [%#x, %#x) between headers and sections is not zero padding", hdrEnd, first)
		}
	}
	return hdrEnd, first, nil
}

// writer appends aligned records into the padding.
type writer struct {
	buf       []byte
	base      uint64
	pos, end  uint64
	overflown bool
}

// put writes b at the next address aligned to align and returns that address.
func (w *writer) put(align uint64, b []byte) uint64 {
	p := (w.pos + align - 1) &^ (align - 1)
	if p+uint64(len(b)) > w.end {
		w.overflown = true
		return 0
	}
	copy(w.buf[p:], b)
	w.pos = p + uint64(len(b))
	return w.base + p
}

// Multiboot header constants (multiboot v1 spec §3.1, multiboot2 spec §3.1).
const (
	mb1Magic = 0x1BADB002
	// page-align modules | memory info | address fields (a.out kludge)
	mb1Flags = 1<<0 | 1<<1 | 1<<16
	mb2Magic = 0xE85250D6
)

func writeHeaders(w *writer, lay *Layout) error {
	le := binary.LittleEndian
	// The multiboot v1 header first: it must be in the first 8 KiB.
	// Its address fields are filled after the stub's address is known,
	// so reserve it now.
	mb1 := make([]byte, 32)
	lay.MB1 = w.put(4, mb1)
	mb2 := make([]byte, 16+24+16+24+8)
	lay.MB2 = w.put(8, mb2)

	gdt := make([]byte, 24+8)
	le.PutUint64(gdt[8:], 0x00AF9A000000FFFF)  // 0x08: 64-bit code, DPL 0
	le.PutUint64(gdt[16:], 0x00CF92000000FFFF) // 0x10: data
	lay.GDT = w.put(16, gdt[:24])
	gdtr := make([]byte, 6)
	le.PutUint16(gdtr[0:], 23)
	le.PutUint32(gdtr[2:], uint32(lay.GDT))
	gdtrAddr := w.put(8, gdtr)

	msg := w.put(1, []byte(tooSmallMessage))
	stub := Stub32(uint32(lay.PageTables), uint32(gdtrAddr), uint32(lay.Entry64), uint32(lay.BSSEnd), uint32(msg))
	lay.Stub = w.put(16, stub)
	if w.overflown {
		return fmt.Errorf("headers and stub need more than the %d bytes of padding in the first page", w.end-w.pos)
	}
	if lay.MB1-lay.Base+32 > 8192 || lay.MB2-lay.Base+uint64(len(mb2)) > 32768 {
		return errors.New("multiboot headers would not be in the first 8 KiB")
	}

	// multiboot v1
	h := w.buf[lay.MB1-lay.Base:]
	le.PutUint32(h[0:], mb1Magic)
	le.PutUint32(h[4:], mb1Flags)
	le.PutUint32(h[8:], 0-mb1Sum())
	le.PutUint32(h[12:], uint32(lay.MB1))     // header_addr
	le.PutUint32(h[16:], uint32(lay.Base))    // load_addr
	le.PutUint32(h[20:], uint32(lay.LoadEnd)) // load_end_addr
	le.PutUint32(h[24:], uint32(lay.BSSEnd))  // bss_end_addr
	le.PutUint32(h[28:], uint32(lay.Stub))    // entry_addr

	// multiboot2: header, address tag, entry address tag, end tag.
	h = w.buf[lay.MB2-lay.Base:]
	n := uint32(len(mb2))
	le.PutUint32(h[0:], mb2Magic)
	le.PutUint32(h[4:], 0) // i386 protected mode
	le.PutUint32(h[8:], n)
	le.PutUint32(h[12:], -(uint32(mb2Magic) + n))
	t := h[16:]
	le.PutUint16(t[0:], 2) // address tag
	le.PutUint16(t[2:], 0)
	le.PutUint32(t[4:], 24)
	le.PutUint32(t[8:], uint32(lay.MB2))
	le.PutUint32(t[12:], uint32(lay.Base))
	le.PutUint32(t[16:], uint32(lay.LoadEnd))
	le.PutUint32(t[20:], uint32(lay.BSSEnd))
	t = h[40:]
	le.PutUint16(t[0:], 3) // entry address tag (12 bytes, padded to 16)
	le.PutUint32(t[4:], 12)
	le.PutUint32(t[8:], uint32(lay.Stub))
	t = h[56:]
	le.PutUint16(t[0:], 5) // framebuffer tag: a linear framebuffer, any mode
	le.PutUint16(t[2:], 1) // optional: text mode will do if there is none
	le.PutUint32(t[4:], 20)
	// width, height, depth 0: no preference (GRUB keeps the firmware's
	// mode, which under UEFI is the GOP framebuffer)
	t = h[80:]
	le.PutUint16(t[0:], 0) // end tag
	le.PutUint32(t[4:], 8)
	return nil
}

// tooSmallMessage is what the stub prints when the machine's RAM ends
// below the image (then the boot page tables, in the bss, cannot exist).
const tooSmallMessage = "rt0: panic: too little memory: the kernel image does not fit in this machine's RAM (give it more: rt0 run -m)\nrt0: exit 125\n\x00"

// mb1Sum is magic+flags; the checksum field makes the three fields sum to 0.
func mb1Sum() uint32 { return mb1Magic + mb1Flags }
