package image

import "encoding/binary"

// Stub32 returns the machine code that multiboot loaders jump to.
//
// A multiboot loader (v1 or v2) enters in 32-bit protected mode with flat
// segments, paging off, interrupts off, EAX = the loader's magic and EBX =
// the physical address of its boot information. Go's assembler cannot emit
// 32-bit code, so these ~70 bytes are encoded by hand here and checked
// instruction by instruction with x86asm in stub32_test.go. They:
//
//	cli                          ; loaders promise IF=0, be sure
//	mov   edi, eax               ; magic -> EDI, info -> ESI: both survive
//	mov   esi, ebx               ;   the mode switch into entry64
//	rdtsc                        ; the time of rt0's first instruction:
//	mov   ebp, eax               ;   EBX:EBP, for the boot timeline
//	mov   ebx, edx
//	mov   eax, cr4
//	or    eax, 0x20              ; CR4.PAE: long mode needs PAE paging
//	mov   cr4, eax
//	mov   eax, pml4              ; boot page tables (identity map of 4 GiB)
//	mov   cr3, eax
//	mov   ecx, 0xC0000080        ; IA32_EFER
//	rdmsr
//	or    eax, 0x100             ; EFER.LME
//	wrmsr
//	mov   eax, cr0
//	or    eax, 0x80000001        ; CR0.PG|PE: now in compatibility mode
//	mov   cr0, eax
//	lgdt  [gdtr]                 ; GDT with a 64-bit code segment at 0x08
//	jmp   0x08:entry64           ; far jump: CS.L=1, 64-bit mode
//
// The page tables, GDT and entry64 all lie below 4 GiB (Patch checks), so
// 32-bit addresses suffice.
func Stub32(pml4, gdtr, entry64 uint32) []byte {
	le := binary.LittleEndian
	u32 := func(v uint32) []byte { b := make([]byte, 4); le.PutUint32(b, v); return b }
	var b []byte
	emit := func(parts ...[]byte) {
		for _, p := range parts {
			b = append(b, p...)
		}
	}
	emit([]byte{0xFA})                                   // cli
	emit([]byte{0x89, 0xC7})                             // mov edi, eax
	emit([]byte{0x89, 0xDE})                             // mov esi, ebx
	emit([]byte{0x0F, 0x31})                             // rdtsc
	emit([]byte{0x89, 0xC5})                             // mov ebp, eax
	emit([]byte{0x89, 0xD3})                             // mov ebx, edx
	emit([]byte{0x0F, 0x20, 0xE0})                       // mov eax, cr4
	emit([]byte{0x83, 0xC8, 0x20})                       // or eax, 0x20
	emit([]byte{0x0F, 0x22, 0xE0})                       // mov cr4, eax
	emit([]byte{0xB8}, u32(pml4))                        // mov eax, imm32
	emit([]byte{0x0F, 0x22, 0xD8})                       // mov cr3, eax
	emit([]byte{0xB9}, u32(0xC0000080))                  // mov ecx, imm32
	emit([]byte{0x0F, 0x32})                             // rdmsr
	emit([]byte{0x0D}, u32(0x100))                       // or eax, imm32
	emit([]byte{0x0F, 0x30})                             // wrmsr
	emit([]byte{0x0F, 0x20, 0xC0})                       // mov eax, cr0
	emit([]byte{0x0D}, u32(0x80000001))                  // or eax, imm32
	emit([]byte{0x0F, 0x22, 0xC0})                       // mov cr0, eax
	emit([]byte{0x0F, 0x01, 0x15}, u32(gdtr))            // lgdt [disp32]
	emit([]byte{0xEA}, u32(entry64), []byte{0x08, 0x00}) // jmp far 0x08:entry64
	return b
}
