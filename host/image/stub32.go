package image

import "encoding/binary"

// Stub32 returns the machine code that multiboot loaders jump to.
//
// A multiboot loader (v1 or v2) enters in 32-bit protected mode with flat
// segments, paging off, interrupts off, EAX = the loader's magic and EBX =
// the physical address of its boot information. Go's assembler cannot emit
// 32-bit code, so these ~150 bytes are encoded by hand here and checked
// instruction by instruction with x86asm in image_test.go. They:
//
//	cli                          ; loaders promise IF=0, be sure
//	mov   edi, eax               ; magic -> EDI, info -> ESI: both survive
//	mov   esi, ebx               ;   the mode switch into entry64
//	rdtsc                        ; the time of rt0's first instruction:
//	mov   ebp, eax               ;   EBX:EBP, for the boot timeline
//	mov   ebx, edx
//	cmp   edi, 0x2BADB002        ; a multiboot v1 loader (QEMU) gives the
//	jne   ramok                  ;   size of RAM above 1 MiB (mem_upper,
//	test  byte [esi], 1          ;   flag 0): if the tables, which are in
//	jz    ramok                  ;   the bss, would lie beyond it, nothing
//	mov   eax, [esi+8]           ;   can work: print msg on COM1 and the
//	shl   eax, 10                ;   debugcon, and stop with status 125
//	add   eax, 0x100000
//	cmp   eax, ramNeeded
//	jae   ramok
//	mov   ecx, msg
//	print: mov al, [ecx]
//	test  al, al
//	jz    stop
//	mov   dx, 0x3F8
//	out   dx, al
//	mov   dx, 0xE9
//	out   dx, al
//	inc   ecx
//	jmp   print
//	stop: mov eax, 125
//	mov   dx, 0xF4               ; isa-debug-exit
//	out   dx, eax
//	halt: cli
//	hlt
//	jmp   halt
//	ramok:
//	mov   esp, edi               ; park the magic (no stack is used)
//	mov   edi, pt                ; six pages at pt (in the kernel's bss,
//	xor   eax, eax               ;   which a loader need not have zeroed):
//	mov   ecx, 6*1024            ;   zero them
//	rep stosd
//	mov   [pt], pt+0x1003        ; PML4[0] -> PDPT
//	mov   [pt+0x1000], pt+0x2003 ; PDPT[0..3] -> four page directories
//	mov   [pt+0x1008], pt+0x3003
//	mov   [pt+0x1010], pt+0x4003
//	mov   [pt+0x1018], pt+0x5003
//	mov   edi, pt+0x2000         ; 2048 2 MiB pages: 0-4 GiB, identity
//	mov   eax, 0x83              ;   (present, writable, large)
//	mov   ecx, 2048
//	fill: mov [edi], eax
//	add   eax, 0x200000
//	add   edi, 8
//	loop  fill
//	mov   edi, esp               ; the magic back in EDI
//	mov   eax, cr4
//	or    eax, 0x20              ; CR4.PAE: long mode needs PAE paging
//	mov   cr4, eax
//	mov   eax, pt                ; the tables just built
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
// The tables, GDT and entry64 all lie below 4 GiB (Patch checks), so
// 32-bit addresses suffice.
func Stub32(pt, gdtr, entry64, ramNeeded, msg uint32) []byte {
	le := binary.LittleEndian
	u32 := func(v uint32) []byte { b := make([]byte, 4); le.PutUint32(b, v); return b }
	var b []byte
	emit := func(parts ...[]byte) {
		for _, p := range parts {
			b = append(b, p...)
		}
	}
	movMem := func(addr, v uint32) { emit([]byte{0xC7, 0x05}, u32(addr), u32(v)) } // mov dword [addr], imm32
	emit([]byte{0xFA})                                                             // cli
	emit([]byte{0x89, 0xC7})                                                       // mov edi, eax
	emit([]byte{0x89, 0xDE})                                                       // mov esi, ebx
	emit([]byte{0x0F, 0x31})                                                       // rdtsc
	emit([]byte{0x89, 0xC5})                                                       // mov ebp, eax
	emit([]byte{0x89, 0xD3})                                                       // mov ebx, edx
	// The RAM check (v1 loaders). Branch offsets are patched below.
	emit([]byte{0x81, 0xFF}, u32(0x2BADB002)) // cmp edi, imm32
	jne := len(b)
	emit([]byte{0x75, 0})          // jne ramok
	emit([]byte{0xF6, 0x06, 0x01}) // test byte [esi], 1
	jz := len(b)
	emit([]byte{0x74, 0})              // jz ramok
	emit([]byte{0x8B, 0x46, 0x08})     // mov eax, [esi+8]
	emit([]byte{0xC1, 0xE0, 0x0A})     // shl eax, 10
	emit([]byte{0x05}, u32(0x100000))  // add eax, 1 MiB
	emit([]byte{0x3D}, u32(ramNeeded)) // cmp eax, imm32
	jae := len(b)
	emit([]byte{0x73, 0})        // jae ramok
	emit([]byte{0xB9}, u32(msg)) // mov ecx, msg
	print := len(b)
	emit([]byte{0x8A, 0x01}) // print: mov al, [ecx]
	emit([]byte{0x84, 0xC0}) // test al, al
	jzStop := len(b)
	emit([]byte{0x74, 0})                          // jz stop
	emit([]byte{0x66, 0xBA, 0xF8, 0x03})           // mov dx, 0x3f8
	emit([]byte{0xEE})                             // out dx, al
	emit([]byte{0x66, 0xBA, 0xE9, 0x00})           // mov dx, 0xe9
	emit([]byte{0xEE})                             // out dx, al
	emit([]byte{0x41})                             // inc ecx
	emit([]byte{0xEB, byte(print - (len(b) + 2))}) // jmp print
	stop := len(b)
	emit([]byte{0xB8}, u32(125))         // stop: mov eax, 125
	emit([]byte{0x66, 0xBA, 0xF4, 0x00}) // mov dx, 0xf4
	emit([]byte{0xEF})                   // out dx, eax
	emit([]byte{0xFA, 0xF4, 0xEB, 0xFC}) // halt: cli; hlt; jmp halt
	ramok := len(b)
	for _, j := range []int{jne, jz, jae} {
		b[j+1] = byte(ramok - (j + 2))
	}
	b[jzStop+1] = byte(stop - (jzStop + 2))
	emit([]byte{0x89, 0xFC})        // ramok: mov esp, edi
	emit([]byte{0xBF}, u32(pt))     // mov edi, pt
	emit([]byte{0x31, 0xC0})        // xor eax, eax
	emit([]byte{0xB9}, u32(6*1024)) // mov ecx, 6144
	emit([]byte{0xF3, 0xAB})        // rep stosd
	movMem(pt, pt+0x1003)
	for i := uint32(0); i < 4; i++ {
		movMem(pt+0x1000+8*i, pt+0x2000+0x1000*i+3)
	}
	emit([]byte{0xBF}, u32(pt+0x2000))                   // mov edi, pt+0x2000
	emit([]byte{0xB8}, u32(0x83))                        // mov eax, 0x83
	emit([]byte{0xB9}, u32(2048))                        // mov ecx, 2048
	emit([]byte{0x89, 0x07})                             // fill: mov [edi], eax
	emit([]byte{0x05}, u32(0x200000))                    // add eax, 0x200000
	emit([]byte{0x83, 0xC7, 0x08})                       // add edi, 8
	emit([]byte{0xE2, 0xF4})                             // loop fill (-12)
	emit([]byte{0x89, 0xE7})                             // mov edi, esp
	emit([]byte{0x0F, 0x20, 0xE0})                       // mov eax, cr4
	emit([]byte{0x83, 0xC8, 0x20})                       // or eax, 0x20
	emit([]byte{0x0F, 0x22, 0xE0})                       // mov cr4, eax
	emit([]byte{0xB8}, u32(pt))                          // mov eax, pt
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
