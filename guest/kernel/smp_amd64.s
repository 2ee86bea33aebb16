// apEntry: where an AP arrives from the trampoline (guest/arch/amd64/
// trampoline.go), in 64-bit mode on the boot CPU's page tables, with
// RSP = the top of its syscall stack (its trap g above, as the boot CPU's
// stacks have: guest/arch/amd64/stacks.go) and RDI = its CPU number.
// Interrupts are off. Like entry64 for the boot CPU, it makes Go code
// possible — FS at the trap g, the x87 and SSE units reset (CR0 and CR4
// already enable SSE: the trampoline loaded the boot CPU's values) — and
// calls apMain, which does not return.

#include "textflag.h"
#include "../arch/amd64/frame_amd64.h"

TEXT ·apEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	DI, BX
	MOVL	$SEL_DATA, AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	XORL	AX, AX
	MOVW	AX, FS
	MOVW	AX, GS
	// FS base = top+8: FS:-8 is the slot holding &trap g.
	LEAQ	8(SP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR
	BYTE $0xDB; BYTE $0xE3	// FNINIT
	LDMXCSR	·mxcsrDefault(SB)
	SUBQ	$16, SP
	MOVQ	BX, 0(SP)
	CALL	·apMain(SB)
hang:
	CLI
	HLT
	JMP	hang

TEXT ·apEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·apEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
