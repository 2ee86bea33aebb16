package amd64

import "unsafe"

// The AP trampoline: where a started application processor (AP) begins.
//
// A startup IPI (SIPI) starts an AP in 16-bit real mode at CS:IP =
// (vector<<8):0, that is at the 4 KiB page vector<<12 below 1 MiB, with
// nothing set up: no stack, no GDT, paging off. The trampoline takes it to
// long mode on the boot CPU's page tables and jumps to the kernel's 64-bit
// AP entry. Go's assembler emits only 64-bit code, so, as for the
// multiboot stub (host/image/stub32.go), the bytes are encoded here by hand
// and checked instruction by instruction with x86asm in
// trampoline_test.go. WriteTrampoline lays out one page:
//
//	0x000  16-bit code
//	0x040  32-bit code
//	0x080  64-bit code
//	0x100  a GDT: null, 64-bit code (0x08), data (0x10), 32-bit code (0x18)
//	0x120  its pseudo-descriptor
//	0x140  TrampolineParams, which the boot CPU fills for each AP
//
// The code:
//
//	; 16-bit, CS = page>>4
//	cli
//	mov   ax, cs
//	mov   ds, ax                 ; data relative to the page too
//	mov   word [Stage], 1        ; "I run": the boot CPU watches this
//	lgdt  [gdtr]                 ; o32: a 32-bit base
//	mov   eax, cr0
//	or    eax, 1                 ; CR0.PE: protected mode
//	mov   cr0, eax
//	jmp   dword 0x18:page+0x40   ; o32 far jump into the 32-bit code segment
//	; 32-bit, flat
//	mov   ax, 0x10
//	mov   ds, ax
//	mov   es, ax
//	mov   ss, ax
//	mov   eax, [CR4]             ; the boot CPU's CR4 (PAE, OSFXSR, ...)
//	mov   cr4, eax
//	mov   eax, [CR3]             ; its page tables (below 4 GiB)
//	mov   cr3, eax
//	mov   ecx, 0xC0000080        ; IA32_EFER: LME, SCE, NXE as on the boot CPU
//	mov   eax, [EFER]
//	xor   edx, edx
//	wrmsr
//	mov   eax, [CR0]             ; its CR0: PG turns long mode on
//	mov   cr0, eax
//	jmp   0x08:page+0x80         ; into 64-bit mode
//	; 64-bit
//	mov   dword [rip+Stage], 2   ; "in long mode"
//	mov   rsp, [rip+RSP]         ; this AP's stack, prepared by the boot CPU
//	mov   rdi, [rip+Arg]         ; its CPU index
//	jmp   [rip+Entry]            ; the kernel's AP entry (64-bit, any address)

// Offsets in the trampoline page.
const (
	trampCode32   = 0x40
	trampCode64   = 0x80
	trampGDT      = 0x100
	trampGDTR     = 0x120
	TrampParams   = 0x140
	TrampolineLen = TrampParams + int(unsafe.Sizeof(TrampolineParams{}))

	// Trampoline stages, in TrampolineParams.Stage.
	StageReal     = 1 // the AP runs the trampoline's first instructions
	StageLongMode = 2 // it reached 64-bit mode on the shared page tables
)

// TrampolineParams is what the boot CPU hands one AP, at TrampParams.
type TrampolineParams struct {
	CR3, CR4, EFER, CR0 uint32
	Stage               uint32 // written by the AP: StageReal, StageLongMode
	_                   uint32
	RSP                 uint64 // the AP's first stack
	Entry               uint64 // where it jumps in 64-bit mode
	Arg                 uint64 // its RDI there: the CPU index
}

// Trampoline returns the parameters of the trampoline page at addr.
func Trampoline(addr uintptr) *TrampolineParams {
	return (*TrampolineParams)(Ptr(addr + TrampParams))
}

// WriteTrampoline writes the trampoline for the page at physical address
// base (4 KiB aligned, below 1 MiB) into dst, with zeroed parameters. It
// allocates nothing: the kernel writes straight into low memory.
func WriteTrampoline(dst []byte, base uint32) {
	clear(dst[:TrampolineLen])
	w := writer{b: dst}
	stage := uint32(TrampParams + unsafe.Offsetof(TrampolineParams{}.Stage))
	off := func(f uintptr) uint32 { return base + TrampParams + uint32(f) }
	var p TrampolineParams

	// 16-bit real mode.
	w.bytes(0xFA)                                 // cli
	w.bytes(0x8C, 0xC8)                           // mov ax, cs
	w.bytes(0x8E, 0xD8)                           // mov ds, ax
	w.bytes(0xC7, 0x06).u16(uint16(stage)).u16(1) // mov word [stage], 1
	w.bytes(0x66, 0x0F, 0x01, 0x16).u16(trampGDTR)
	w.bytes(0x0F, 0x20, 0xC0)                             // mov eax, cr0
	w.bytes(0x66, 0x83, 0xC8, 0x01)                       // or eax, 1
	w.bytes(0x0F, 0x22, 0xC0)                             // mov cr0, eax
	w.bytes(0x66, 0xEA).u32(base + trampCode32).u16(0x18) // jmp dword 0x18:code32

	// 32-bit protected mode.
	w.at(trampCode32)
	w.bytes(0x66, 0xB8).u16(SelData)                   // mov ax, 0x10
	w.bytes(0x8E, 0xD8)                                // mov ds, ax
	w.bytes(0x8E, 0xC0)                                // mov es, ax
	w.bytes(0x8E, 0xD0)                                // mov ss, ax
	w.bytes(0xA1).u32(off(unsafe.Offsetof(p.CR4)))     // mov eax, [cr4]
	w.bytes(0x0F, 0x22, 0xE0)                          // mov cr4, eax
	w.bytes(0xA1).u32(off(unsafe.Offsetof(p.CR3)))     // mov eax, [cr3]
	w.bytes(0x0F, 0x22, 0xD8)                          // mov cr3, eax
	w.bytes(0xB9).u32(MSR_EFER)                        // mov ecx, IA32_EFER
	w.bytes(0xA1).u32(off(unsafe.Offsetof(p.EFER)))    // mov eax, [efer]
	w.bytes(0x31, 0xD2)                                // xor edx, edx
	w.bytes(0x0F, 0x30)                                // wrmsr
	w.bytes(0xA1).u32(off(unsafe.Offsetof(p.CR0)))     // mov eax, [cr0]
	w.bytes(0x0F, 0x22, 0xC0)                          // mov cr0, eax
	w.bytes(0xEA).u32(base + trampCode64).u16(SelCode) // jmp 0x08:code64

	// 64-bit mode. RIP-relative operands: disp = target - end of instruction.
	w.at(trampCode64)
	// rel is the displacement from the end of an insnLen-byte instruction
	// starting at w.n to a parameter field (computed before the
	// instruction's first byte is written).
	rel := func(field uintptr, insnLen int) uint32 {
		return uint32(TrampParams + int(field) - (w.n + insnLen))
	}
	d := rel(unsafe.Offsetof(p.Stage), 10)
	w.bytes(0xC7, 0x05).u32(d).u32(StageLongMode) // mov dword [rip+stage], 2
	d = rel(unsafe.Offsetof(p.RSP), 7)
	w.bytes(0x48, 0x8B, 0x25).u32(d) // mov rsp, [rip+rsp]
	d = rel(unsafe.Offsetof(p.Arg), 7)
	w.bytes(0x48, 0x8B, 0x3D).u32(d) // mov rdi, [rip+arg]
	d = rel(unsafe.Offsetof(p.Entry), 6)
	w.bytes(0xFF, 0x25).u32(d) // jmp [rip+entry]

	// The GDT and its pseudo-descriptor.
	w.at(trampGDT)
	w.u64(0)
	w.u64(0x00AF9A000000FFFF) // 0x08: 64-bit code (L=1)
	w.u64(0x00CF92000000FFFF) // 0x10: data, 4 GiB
	w.u64(0x00CF9A000000FFFF) // 0x18: 32-bit code (D=1), 4 GiB
	w.at(trampGDTR)
	w.u16(4*8 - 1).u32(base + trampGDT)
}

// writer appends little-endian values to a fixed buffer. Its methods are
// not inlined: inlined into the ~50 instructions above they cost 9 KiB of
// kernel text for a function that runs once.
type writer struct {
	b []byte
	n int
}

func (w *writer) at(off int) { w.n = off }

//go:noinline
func (w *writer) bytes(v ...byte) *writer {
	w.n += copy(w.b[w.n:], v)
	return w
}

//go:noinline
func (w *writer) u16(v uint16) *writer { return w.bytes(byte(v), byte(v>>8)) }

//go:noinline
func (w *writer) u32(v uint32) *writer { return w.u16(uint16(v)).u16(uint16(v >> 16)) }

//go:noinline
func (w *writer) u64(v uint64) *writer { return w.u32(uint32(v)).u32(uint32(v >> 32)) }
