// The one path into and out of the kernel.
//
// Every IDT vector stub (vectors_amd64.s) and the SYSCALL entry (syscall_amd64.s)
// arrive at trapCommon with the same seven words on a kernel stack:
//
//	SS, RSP, RFLAGS, CS, RIP   pushed by the CPU (or imitated for SYSCALL)
//	error code                 pushed by the CPU, or 0 by the stub
//	vector                     pushed by the stub
//
// trapCommon saves the rest of the interrupted thread — 15 general
// registers, its FS base (its Go TLS), its x87/SSE state — as a TrapFrame
// (frame.go) below them, points FS at the trap g that lives at the top of
// this kernel stack (stacks.go: so Go code here checks its stack against
// this stack's bounds, not the interrupted goroutine's), and calls trap(tf).
// On return it restores whatever the frame then holds — possibly another
// thread's state, if the scheduler swapped it — and IRETQs.
//
// Kernel code runs with interrupts off (IF=0) from entry to IRETQ, so
// nothing nests except a fault in the kernel itself, which has its own IST
// stack and stops the machine.

#include "textflag.h"
#include "frame_amd64.h"

TEXT ·trapCommon(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	AX
	PUSHQ	BX
	PUSHQ	CX
	PUSHQ	DX
	PUSHQ	SI
	PUSHQ	DI
	PUSHQ	BP
	PUSHQ	R8
	PUSHQ	R9
	PUSHQ	R10
	PUSHQ	R11
	PUSHQ	R12
	PUSHQ	R13
	PUSHQ	R14
	PUSHQ	R15
	MOVL	$MSR_FS_BASE, CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	PUSHQ	AX
	SUBQ	$(TF_FSBASE), SP
	FXSAVE64	(SP)
	CLD

	// FS := top of this stack + 8, so that FS:-8 is the slot holding &trap g.
	LEAQ	(TF_TOP_OFFSET+8)(SP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR

	MOVQ	SP, AX
	SUBQ	$16, SP
	MOVQ	AX, 0(SP)
	CALL	·trap(SB)
	ADDQ	$16, SP
	JMP	·trapReturn(SB)

// trapReturn restores the CPU from the TrapFrame at SP and IRETQs.
TEXT ·trapReturn(SB),NOSPLIT|NOFRAME,$0
	FXRSTOR64	(SP)
	ADDQ	$(TF_FSBASE), SP
	POPQ	AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR
	POPQ	R15
	POPQ	R14
	POPQ	R13
	POPQ	R12
	POPQ	R11
	POPQ	R10
	POPQ	R9
	POPQ	R8
	POPQ	BP
	POPQ	DI
	POPQ	SI
	POPQ	DX
	POPQ	CX
	POPQ	BX
	POPQ	AX
	ADDQ	$16, SP	// vector, error code
	IRETQ

// Enter starts running the thread described by tf for the first time: it
// copies tf to the top of the given kernel stack and takes the trap return
// path. Used once per CPU at boot; it does not return.
TEXT ·enter(SB),NOSPLIT|NOFRAME,$0-16
	MOVQ	tf+0(FP), SI
	MOVQ	top+8(FP), DI
	SUBQ	$(TF_TOP_OFFSET), DI
	MOVQ	DI, SP
	MOVQ	$(TF_SIZE/8), CX
	REP; MOVSQ
	JMP	·trapReturn(SB)

// vectorTableAddr returns the address of the table of the 256 vector stubs.
TEXT ·vectorTableAddr(SB),NOSPLIT,$0-8
	MOVQ	$·vectorTable(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
