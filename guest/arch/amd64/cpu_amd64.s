// Leaf helpers for instructions Go cannot express. All NOSPLIT: they run in
// traps and before the runtime, where there is no goroutine stack to grow.

#include "textflag.h"
#include "frame_amd64.h"

TEXT ·Inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	INB
	MOVB	AX, ret+8(FP)
	RET

TEXT ·Outb(SB),NOSPLIT,$0-3
	MOVW	port+0(FP), DX
	MOVB	v+2(FP), AX
	OUTB
	RET

TEXT ·Inw(SB),NOSPLIT,$0-10
	MOVW	port+0(FP), DX
	INW
	MOVW	AX, ret+8(FP)
	RET

TEXT ·Outw(SB),NOSPLIT,$0-4
	MOVW	port+0(FP), DX
	MOVW	v+2(FP), AX
	OUTW
	RET

TEXT ·Inl(SB),NOSPLIT,$0-12
	MOVW	port+0(FP), DX
	INL
	MOVL	AX, ret+8(FP)
	RET

TEXT ·Outl(SB),NOSPLIT,$0-8
	MOVW	port+0(FP), DX
	MOVL	v+4(FP), AX
	OUTL
	RET

TEXT ·Rdmsr(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+8(FP)
	RET

TEXT ·Wrmsr(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	MOVQ	v+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	RET

TEXT ·ReadCR0(SB),NOSPLIT,$0-8
	MOVQ	CR0, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·WriteCR0(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR0
	RET

TEXT ·ReadCR2(SB),NOSPLIT,$0-8
	MOVQ	CR2, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·ReadCR3(SB),NOSPLIT,$0-8
	MOVQ	CR3, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·WriteCR3(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR3
	RET

TEXT ·ReadCR4(SB),NOSPLIT,$0-8
	MOVQ	CR4, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·WriteCR4(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR4
	RET

TEXT ·Cpuid(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, a+8(FP)
	MOVL	BX, b+12(FP)
	MOVL	CX, c+16(FP)
	MOVL	DX, d+20(FP)
	RET

TEXT ·Rdtsc(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·Rdrand(SB),NOSPLIT,$0-9
	RDRANDQ	AX
	SETCS	BL
	MOVQ	AX, v+0(FP)
	MOVB	BL, ok+8(FP)
	RET

TEXT ·Lgdt(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	LGDT	(AX)
	RET

TEXT ·Lidt(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	LIDT	(AX)
	RET

TEXT ·Ltr(SB),NOSPLIT,$0-2
	MOVW	sel+0(FP), AX
	LTR	AX
	RET

// ReloadSegments: a far return is the way to load CS in 64-bit mode.
TEXT ·ReloadSegments(SB),NOSPLIT,$0-4
	MOVWQZX	data+2(FP), AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	// FS and GS are left alone: loading a selector would clear the bases
	// that live in MSRs (FS: the thread's TLS, GS: this CPU's data).
	MOVWQZX	code+0(FP), AX
	POPQ	BX	// return address
	PUSHQ	AX
	PUSHQ	BX
	RETFQ

TEXT ·Invlpg(SB),NOSPLIT,$0-8
	MOVQ	addr+0(FP), AX
	INVLPG	(AX)
	RET

TEXT ·Hlt(SB),NOSPLIT,$0
	HLT
	RET

TEXT ·Sti(SB),NOSPLIT,$0
	STI
	RET

TEXT ·Cli(SB),NOSPLIT,$0
	CLI
	RET

TEXT ·Halt(SB),NOSPLIT|NOFRAME,$0
again:
	CLI
	HLT
	JMP	again

TEXT ·WriteDR0(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, DR0
	RET

TEXT ·WriteDR1(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	BYTE $0x0F; BYTE $0x23; BYTE $0xC8	// MOVQ AX, DR1 (the Go assembler takes only DR0, DR6, DR7)
	RET

TEXT ·WriteDR2(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	BYTE $0x0F; BYTE $0x23; BYTE $0xD0	// MOVQ AX, DR2
	RET

TEXT ·WriteDR3(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	BYTE $0x0F; BYTE $0x23; BYTE $0xD8	// MOVQ AX, DR3
	RET

TEXT ·WriteDR7(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, DR7
	RET

TEXT ·ReadDR6(SB),NOSPLIT,$0-8
	MOVQ	DR6, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·WriteDR6(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, DR6
	RET

TEXT ·Pause(SB),NOSPLIT,$0
	PAUSE
	RET

// This reads the CPU struct's address from its own first word through GS:
// one load, where RDMSR(GS_BASE) would be a serializing instruction (and a
// VM exit under some hypervisors).
TEXT ·This(SB),NOSPLIT,$0-8
	MOVQ	CPU_SELF(GS), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·Xsetbv(SB),NOSPLIT,$0-16
	MOVL	n+0(FP), CX
	MOVQ	v+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	XSETBV
	RET

