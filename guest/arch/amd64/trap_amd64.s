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
// registers, its FS base (its Go TLS), its x87/SSE/AVX state — as a TrapFrame
// (frame.go) below them, points FS at the trap g that lives at the top of
// this kernel stack (stacks.go: so Go code here checks its stack against
// this stack's bounds, not the interrupted goroutine's), and calls the
// kernel's handler (trap.go) with tf.
// On return it restores whatever the frame then holds — possibly another
// thread's state, if the scheduler swapped it — and IRETQs.
//
// The x87/SSE/AVX state goes to the frame's FX area with XSAVE in XCR0's
// components where the CPU has XSAVE (fpu.go), else with FXSAVE.
// A system call saves less than an interrupt, and marks the frame
// FXPartial: the vector registers only — XMM0-15 with MOVUPS, or with AVX
// YMM0-15 with VMOVDQU to a scratch part of the area (syscallFP, fpu.go,
// says which; where XCR0 has more, AVX-512, an XSAVE
// of every component but x87) — since the kernel's
// Go code overwrites vector registers (X15 is its zero register, copies go
// through X0..., the runtime's memmove uses YMM once it sees AVX) but never
// the x87 unit or MXCSR, so those stay in the CPU until the way out,
// unless the thread's frame is copied away first (TrapFrame.CompleteFX).
// Under TCG, FXSAVE and FXRSTOR are emulated helpers that cost 670 ns a
// round trip, a third of a getpid then; the 32 MOVUPS cost 140 ns. (Linux
// saves no FPU state on a system call: its kernel does not use the FPU.) The FS base moves with RDFSBASE/WRFSBASE
// where the CPU has them (CPUID.7.0:EBX.FSGSBASE; fsgsbase, syscall.go),
// else through the MSR.
//
// Kernel code runs with interrupts off (IF=0) from entry to IRETQ, so
// nothing nests except a fault in the kernel itself, which has its own IST
// stack and stops the machine.

#include "textflag.h"
#include "frame_amd64.h"

// XMM_TO and XMM_FROM move XMM0-15 to and from the FX area of the frame at
// base (FXSAVE's layout: XMM n at TF_XMM+16n).
#define XMM_TO(base) \
	MOVUPS	X0, (TF_XMM+0*16)(base) \
	MOVUPS	X1, (TF_XMM+1*16)(base) \
	MOVUPS	X2, (TF_XMM+2*16)(base) \
	MOVUPS	X3, (TF_XMM+3*16)(base) \
	MOVUPS	X4, (TF_XMM+4*16)(base) \
	MOVUPS	X5, (TF_XMM+5*16)(base) \
	MOVUPS	X6, (TF_XMM+6*16)(base) \
	MOVUPS	X7, (TF_XMM+7*16)(base) \
	MOVUPS	X8, (TF_XMM+8*16)(base) \
	MOVUPS	X9, (TF_XMM+9*16)(base) \
	MOVUPS	X10, (TF_XMM+10*16)(base) \
	MOVUPS	X11, (TF_XMM+11*16)(base) \
	MOVUPS	X12, (TF_XMM+12*16)(base) \
	MOVUPS	X13, (TF_XMM+13*16)(base) \
	MOVUPS	X14, (TF_XMM+14*16)(base) \
	MOVUPS	X15, (TF_XMM+15*16)(base)
#define XMM_FROM(base) \
	MOVUPS	(TF_XMM+0*16)(base), X0 \
	MOVUPS	(TF_XMM+1*16)(base), X1 \
	MOVUPS	(TF_XMM+2*16)(base), X2 \
	MOVUPS	(TF_XMM+3*16)(base), X3 \
	MOVUPS	(TF_XMM+4*16)(base), X4 \
	MOVUPS	(TF_XMM+5*16)(base), X5 \
	MOVUPS	(TF_XMM+6*16)(base), X6 \
	MOVUPS	(TF_XMM+7*16)(base), X7 \
	MOVUPS	(TF_XMM+8*16)(base), X8 \
	MOVUPS	(TF_XMM+9*16)(base), X9 \
	MOVUPS	(TF_XMM+10*16)(base), X10 \
	MOVUPS	(TF_XMM+11*16)(base), X11 \
	MOVUPS	(TF_XMM+12*16)(base), X12 \
	MOVUPS	(TF_XMM+13*16)(base), X13 \
	MOVUPS	(TF_XMM+14*16)(base), X14 \
	MOVUPS	(TF_XMM+15*16)(base), X15

// YMM_TO and YMM_FROM move YMM0-15, whole, to and from a scratch part of
// the frame's FX area, beyond what the XSAVE image of x87|SSE|AVX uses
// (TF_YMM: 16 registers of 32 bytes). Where only those components are on,
// a system call saves and restores the vector registers with these 16
// moves each way (fxComplete turns them into the XSAVE image).
#define YMM_TO(base) \
	VMOVDQU	Y0, (TF_YMM+0*32)(base) \
	VMOVDQU	Y1, (TF_YMM+1*32)(base) \
	VMOVDQU	Y2, (TF_YMM+2*32)(base) \
	VMOVDQU	Y3, (TF_YMM+3*32)(base) \
	VMOVDQU	Y4, (TF_YMM+4*32)(base) \
	VMOVDQU	Y5, (TF_YMM+5*32)(base) \
	VMOVDQU	Y6, (TF_YMM+6*32)(base) \
	VMOVDQU	Y7, (TF_YMM+7*32)(base) \
	VMOVDQU	Y8, (TF_YMM+8*32)(base) \
	VMOVDQU	Y9, (TF_YMM+9*32)(base) \
	VMOVDQU	Y10, (TF_YMM+10*32)(base) \
	VMOVDQU	Y11, (TF_YMM+11*32)(base) \
	VMOVDQU	Y12, (TF_YMM+12*32)(base) \
	VMOVDQU	Y13, (TF_YMM+13*32)(base) \
	VMOVDQU	Y14, (TF_YMM+14*32)(base) \
	VMOVDQU	Y15, (TF_YMM+15*32)(base)
#define YMM_FROM(base) \
	VMOVDQU	(TF_YMM+0*32)(base), Y0 \
	VMOVDQU	(TF_YMM+1*32)(base), Y1 \
	VMOVDQU	(TF_YMM+2*32)(base), Y2 \
	VMOVDQU	(TF_YMM+3*32)(base), Y3 \
	VMOVDQU	(TF_YMM+4*32)(base), Y4 \
	VMOVDQU	(TF_YMM+5*32)(base), Y5 \
	VMOVDQU	(TF_YMM+6*32)(base), Y6 \
	VMOVDQU	(TF_YMM+7*32)(base), Y7 \
	VMOVDQU	(TF_YMM+8*32)(base), Y8 \
	VMOVDQU	(TF_YMM+9*32)(base), Y9 \
	VMOVDQU	(TF_YMM+10*32)(base), Y10 \
	VMOVDQU	(TF_YMM+11*32)(base), Y11 \
	VMOVDQU	(TF_YMM+12*32)(base), Y12 \
	VMOVDQU	(TF_YMM+13*32)(base), Y13 \
	VMOVDQU	(TF_YMM+14*32)(base), Y14 \
	VMOVDQU	(TF_YMM+15*32)(base), Y15

// POP_GPRS restores the 15 general registers from the frame at SP.
#define POP_GPRS \
	POPQ	R15 \
	POPQ	R14 \
	POPQ	R13 \
	POPQ	R12 \
	POPQ	R11 \
	POPQ	R10 \
	POPQ	R9 \
	POPQ	R8 \
	POPQ	BP \
	POPQ	DI \
	POPQ	SI \
	POPQ	DX \
	POPQ	CX \
	POPQ	BX \
	POPQ	AX

// RFBM(mask) puts the XSAVE/XRSTOR component mask in EDX:EAX.
#define RFBM(mask) \
	MOVQ	mask, AX \
	MOVQ	AX, DX \
	SHRQ	$32, DX

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
	CMPB	·fsgsbase(SB), $0
	JEQ	rdmsr
	RDFSBASEQ	AX
	JMP	push
rdmsr:
	MOVL	$MSR_FS_BASE, CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
push:
	PUSHQ	AX
	SUBQ	$(TF_FSBASE), SP
	CMPQ	TF_VECTOR(SP), $VECTOR_SYSCALL
	JNE	whole
	CMPB	·syscallFP(SB), $SYSCALL_FP_YMM
	JB	xmm
	JA	xpartial
	YMM_TO(SP)
	JMP	partial
xmm:
	XMM_TO(SP)
	JMP	partial
xpartial:
	RFBM(·xcr0vec(SB))
	XSAVE64	(SP)
partial:
	MOVQ	$1, TF_FXPARTIAL(SP)
	JMP	saved
whole:
	CMPB	·xsave(SB), $0
	JNE	xwhole
	FXSAVE64	(SP)
	JMP	wholesaved
xwhole:
	RFBM(·xcr0(SB))
	XSAVE64	(SP)
wholesaved:
	MOVQ	$0, TF_FXPARTIAL(SP)
saved:
	CLD

	// FS := top of this stack + 8, so that FS:-8 is the slot holding &trap g.
	LEAQ	(TF_TOP_OFFSET+8)(SP), AX
	CMPB	·fsgsbase(SB), $0
	JEQ	wrmsr
	WRFSBASEQ	AX
	JMP	call
wrmsr:
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR
call:

	MOVQ	SP, AX
	SUBQ	$16, SP
	MOVQ	AX, 0(SP)
	MOVQ	·handler(SB), AX
	CALL	AX
	ADDQ	$16, SP
	JMP	·trapReturn(SB)

// trapReturn restores the CPU from the TrapFrame at SP and IRETQs.
TEXT ·trapReturn(SB),NOSPLIT|NOFRAME,$0
	CMPQ	TF_FXPARTIAL(SP), $0
	JEQ	whole
	CMPB	·syscallFP(SB), $SYSCALL_FP_YMM
	JB	xmm
	JA	xpartial
	YMM_FROM(SP)
	JMP	restored
xmm:
	XMM_FROM(SP)
	JMP	restored
xpartial:
	RFBM(·xcr0vec(SB))	// the x87 part is still in the CPU
	XRSTOR64	(SP)
	JMP	restored
whole:
	CMPB	·xsave(SB), $0
	JNE	xwhole
	FXRSTOR64	(SP)
	JMP	restored
xwhole:
	RFBM(·xcr0(SB))
	XRSTOR64	(SP)
restored:
	ADDQ	$(TF_FSBASE), SP
	POPQ	AX
	CMPB	·fsgsbase(SB), $0
	JEQ	wrmsr
	WRFSBASEQ	AX
	JMP	gprs
wrmsr:
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR
gprs:
	// A system call whose frame holds what SYSRET would give back — RCX
	// the return address, R11 the flags, the kernel's selectors, IF on,
	// and in the flags nothing but the arithmetic ones and DF — returns
	// without IRETQ (whose segment checks cost more under emulation, and
	// more than SYSRET on hardware), and without POPFQ: under TCG a POPFQ
	// ends the translated block and goes back to the emulator's loop, a
	// third of a getpid (the NMI profiler saw it). The flags are set by
	// what does not leave the block: CLD or STD for DF, an ADDB that
	// overflows or not for OF, SAHF for SF, ZF, AF, PF and CF. Then the
	// registers, the thread's stack, and STI, whose one-instruction shadow
	// makes the JMP the last step before interrupts are taken. SP is at
	// the R15 slot: the frame's words are TF_x-TF_R15 above it.
	CMPQ	(TF_VECTOR-TF_R15)(SP), $VECTOR_SYSCALL
	JNE	slow
	MOVQ	(TF_RCX-TF_R15)(SP), AX
	CMPQ	AX, (TF_RIP-TF_R15)(SP)
	JNE	slow
	MOVQ	(TF_R11-TF_R15)(SP), AX
	CMPQ	AX, (TF_RFLAGS-TF_R15)(SP)
	JNE	slow
	CMPQ	(TF_CS-TF_R15)(SP), $SEL_CODE
	JNE	slow
	CMPQ	(TF_SS-TF_R15)(SP), $SEL_DATA
	JNE	slow
	MOVQ	AX, DX
	ANDQ	$~RFLAGS_FAST, DX
	JNE	slow
	TESTQ	$RFLAGS_IF, AX
	JEQ	slow
	CLD
	TESTQ	$RFLAGS_DF, AX
	JEQ	2(PC)
	STD
	MOVQ	AX, BX
	SHLQ	$8, BX	// BH: the flags' low byte, for SAHF
	MOVQ	AX, DX
	SHRQ	$11, DX	// OF
	ANDL	$1, DX
	IMUL3L	$0x7F, DX, DX
	ADDB	$1, DL	// 0x7F+1 overflows, 0+1 does not
	MOVQ	BX, AX
	SAHF
	POP_GPRS
	MOVQ	(TF_RSP-TF_VECTOR)(SP), SP
	STI
	JMP	CX
slow:
	POP_GPRS
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

// fxComplete(tf) (frame.go's CompleteFX), by what the SYSCALL entry saved
// (syscallFP). XMM (without XSAVE): the thread's XMM registers from tf
// into the CPU, then one FXSAVE of everything into tf. YMM: the YMM
// registers back, one XSAVE of everything. XSAVE: one XSAVE of just
// the x87 component, which the entry left out; the rest is there already. The kernel's own XMM values
// are lost, which its Go code allows: an assembly (ABI0) function may
// overwrite every XMM register, and X15, the register ABI's zero, is
// zeroed again here before returning.
TEXT ·fxComplete(SB),NOSPLIT,$0-8
	MOVQ	tf+0(FP), DI
	CMPB	·syscallFP(SB), $SYSCALL_FP_YMM
	JB	xmm
	JA	x87
	YMM_FROM(DI)
	RFBM(·xcr0(SB))
	XSAVE64	(DI)
	VZEROUPPER	// the kernel's SSE code runs on, without the thread's upper halves
	JMP	done
xmm:
	XMM_FROM(DI)
	FXSAVE64	(DI)
	JMP	done
x87:
	MOVL	$XFEATURE_X87, AX
	XORL	DX, DX
	XSAVE64	(DI)
	MOVQ	$0, TF_FXPARTIAL(DI)
	RET
done:
	MOVQ	$0, TF_FXPARTIAL(DI)
	XORPS	X15, X15
	RET

// vectorTableAddr returns the address of the table of the 256 vector stubs.
TEXT ·vectorTableAddr(SB),NOSPLIT,$0-8
	MOVQ	$·vectorTable(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
