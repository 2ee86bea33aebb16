// keep: see main.go. Registers while the loop runs:
//
//	BX, DX, SI, DI, BP, R8-R10, R12-R15  pattern words (seed*k); the
//	                                     system call's arguments too, so
//	                                     DI, SI, DX, R10 take a0, a1, a2, 0
//	X0-X15                               pattern words
//	YMM0-15's upper halves               other pattern words, if ymm != 0
//	MXCSR, x87 control word              the seed's rounding mode
//	AX                                   the call's number, each time
//	CX, R11                              clobbered by SYSCALL (Linux's ABI)
//
// After each call every one of them is compared with what was loaded;
// the result is a bit set of the ones that changed (bit 0-15: XMM n, bit
// 16: a general register, 17: MXCSR, 18: the x87 control word, 19: the
// flags — CF, PF, AF, ZF, SF, OF and DF, all set or all clear before each
// call; bit 20+n: the upper half of YMM n).

#include "textflag.h"

// func keep(nr, a0, a1, a2, seed uint64, n int, ymm uint64) uint64
TEXT ·keep(SB),NOSPLIT,$128-64
	// The registers Go wants back (BP and R14, R15 matter to the caller).
	MOVQ	BP, 0(SP)
	MOVQ	R12, 8(SP)
	MOVQ	R13, 16(SP)
	MOVQ	R14, 24(SP)
	MOVQ	R15, 32(SP)
	MOVQ	BX, 40(SP)
	STMXCSR	48(SP)
	FSTCW	52(SP)

	// The seed's MXCSR (rounding control, bits 13-14) and x87 control
	// word (precision control, bits 8-9; rounding, 10-11).
	MOVQ	seed+32(FP), AX
	ANDQ	$3, AX
	MOVQ	AX, BX
	SHLQ	$13, AX
	ORQ	$0x1F80, AX
	MOVL	AX, 56(SP)
	MOVL	AX, 80(SP)	// the expected MXCSR
	LDMXCSR	56(SP)
	MOVQ	BX, AX
	SHLQ	$10, AX
	ORQ	$0x007F, AX
	MOVW	AX, 60(SP)
	MOVW	AX, 84(SP)	// the expected control word
	FLDCW	60(SP)

	// Patterns (SSE2 only: qemu64 has no PINSRQ): seed*3+k for the k-th
	// general register; XMM n gets seed<<8|n in both halves.
	MOVQ	seed+32(FP), AX
	MOVQ	AX, R15
	IMULQ	$3, R15
	MOVQ	R15, 88(SP)	// the base pattern
	MOVQ	seed+32(FP), AX
	SHLQ	$8, AX
#define LOADX(x, n) \
	MOVQ	AX, R12; ORQ $n, R12; MOVQ R12, 96(SP); MOVQ R12, 104(SP); MOVUPS 96(SP), x
	LOADX(X0, 0)
	LOADX(X1, 1)
	LOADX(X2, 2)
	LOADX(X3, 3)
	LOADX(X4, 4)
	LOADX(X5, 5)
	LOADX(X6, 6)
	LOADX(X7, 7)
	LOADX(X8, 8)
	LOADX(X9, 9)
	LOADX(X10, 10)
	LOADX(X11, 11)
	LOADX(X12, 12)
	LOADX(X13, 13)
	LOADX(X14, 14)
	LOADX(X15, 15)

	// With AVX: YMM n's upper half gets ^(seed<<8)|n in both quadwords.
	MOVQ	$0, 112(SP)	// the YMM result
	CMPQ	ymm+48(FP), $0
	JEQ	noymm
	MOVQ	seed+32(FP), AX
	SHLQ	$8, AX
	NOTQ	AX
#define LOADY(y, n) \
	MOVQ	AX, R12; ORQ $n, R12; MOVQ R12, 96(SP); MOVQ R12, 104(SP); VINSERTF128 $1, 96(SP), y, y
	LOADY(Y0, 0)
	LOADY(Y1, 1)
	LOADY(Y2, 2)
	LOADY(Y3, 3)
	LOADY(Y4, 4)
	LOADY(Y5, 5)
	LOADY(Y6, 6)
	LOADY(Y7, 7)
	LOADY(Y8, 8)
	LOADY(Y9, 9)
	LOADY(Y10, 10)
	LOADY(Y11, 11)
	LOADY(Y12, 12)
	LOADY(Y13, 13)
	LOADY(Y14, 14)
	LOADY(Y15, 15)
noymm:

	MOVQ	n+40(FP), CX
	MOVQ	CX, 64(SP)	// the count
	MOVQ	$0, 72(SP)	// the result
	MOVQ	a0+8(FP), DI
	MOVQ	a1+16(FP), SI
	MOVQ	a2+24(FP), DX
	MOVQ	$0, R10
	MOVQ	88(SP), R15
	MOVQ	R15, BX
	ADDQ	$1, BX
	MOVQ	R15, BP
	ADDQ	$2, BP
	MOVQ	R15, R8
	ADDQ	$3, R8
	MOVQ	R15, R9
	ADDQ	$4, R9
	MOVQ	R15, R12
	ADDQ	$5, R12
	MOVQ	R15, R13
	ADDQ	$6, R13
	MOVQ	R15, R14
	ADDQ	$7, R14

loop:
	MOVQ	nr+0(FP), AX
	CMPQ	AX, $-1
	JEQ	nocall
	// The flags the call must keep (SYSRET's R11): every arithmetic
	// flag and DF set on odd rounds, all clear on even ones.
	TESTQ	$1, 64(SP)
	JEQ	clear
	PUSHQ	$0xED7	// CF PF AF ZF SF OF DF, IF, bit 1
	POPFQ
	JMP	call
clear:
	PUSHQ	$0x202	// IF, bit 1
	POPFQ
call:
	SYSCALL
	PUSHFQ
	POPQ	CX
	CLD
	ANDQ	$0xED7, CX
	MOVQ	$0x202, R11
	TESTQ	$1, 64(SP)
	JEQ	2(PC)
	MOVQ	$0xED7, R11
	CMPQ	CX, R11
	JEQ	nocall
	ORQ	$(1<<19), 72(SP)
nocall:
	// General registers.
	MOVQ	88(SP), AX
	CMPQ	R15, AX
	JNE	badgpr
	LEAQ	1(AX), CX
	CMPQ	BX, CX
	JNE	badgpr
	LEAQ	2(AX), CX
	CMPQ	BP, CX
	JNE	badgpr
	LEAQ	3(AX), CX
	CMPQ	R8, CX
	JNE	badgpr
	LEAQ	4(AX), CX
	CMPQ	R9, CX
	JNE	badgpr
	LEAQ	5(AX), CX
	CMPQ	R12, CX
	JNE	badgpr
	LEAQ	6(AX), CX
	CMPQ	R13, CX
	JNE	badgpr
	LEAQ	7(AX), CX
	CMPQ	R14, CX
	JNE	badgpr
	CMPQ	DI, a0+8(FP)
	JNE	badgpr
	CMPQ	SI, a1+16(FP)
	JNE	badgpr
	CMPQ	DX, a2+24(FP)
	JNE	badgpr
	CMPQ	R10, $0
	JNE	badgpr
	JMP	gprok
badgpr:
	ORQ	$(1<<16), 72(SP)
gprok:
	// XMM registers: each against its pattern, in both halves.
	MOVQ	seed+32(FP), AX
	SHLQ	$8, AX
#define CHECKX(x, n, bad, ok) \
	MOVQ	AX, CX; ORQ $n, CX; MOVUPS x, 96(SP); CMPQ 96(SP), CX; JNE bad; \
	CMPQ	104(SP), CX; JEQ ok; \
bad: ORQ $(1<<n), 72(SP); \
ok:
	CHECKX(X0, 0, bad0, ok0)
	CHECKX(X1, 1, bad1, ok1)
	CHECKX(X2, 2, bad2, ok2)
	CHECKX(X3, 3, bad3, ok3)
	CHECKX(X4, 4, bad4, ok4)
	CHECKX(X5, 5, bad5, ok5)
	CHECKX(X6, 6, bad6, ok6)
	CHECKX(X7, 7, bad7, ok7)
	CHECKX(X8, 8, bad8, ok8)
	CHECKX(X9, 9, bad9, ok9)
	CHECKX(X10, 10, bad10, ok10)
	CHECKX(X11, 11, bad11, ok11)
	CHECKX(X12, 12, bad12, ok12)
	CHECKX(X13, 13, bad13, ok13)
	CHECKX(X14, 14, bad14, ok14)
	CHECKX(X15, 15, bad15, ok15)
	CMPQ	ymm+48(FP), $0
	JEQ	ymmok
	MOVQ	seed+32(FP), AX
	SHLQ	$8, AX
	NOTQ	AX
#define CHECKY(y, n, bad, ok) \
	MOVQ	AX, CX; ORQ $n, CX; VEXTRACTF128 $1, y, 96(SP); CMPQ 96(SP), CX; JNE bad; \
	CMPQ	104(SP), CX; JEQ ok; \
bad: ORQ $(1<<n), 112(SP); \
ok:
	CHECKY(Y0, 0, ybad0, yok0)
	CHECKY(Y1, 1, ybad1, yok1)
	CHECKY(Y2, 2, ybad2, yok2)
	CHECKY(Y3, 3, ybad3, yok3)
	CHECKY(Y4, 4, ybad4, yok4)
	CHECKY(Y5, 5, ybad5, yok5)
	CHECKY(Y6, 6, ybad6, yok6)
	CHECKY(Y7, 7, ybad7, yok7)
	CHECKY(Y8, 8, ybad8, yok8)
	CHECKY(Y9, 9, ybad9, yok9)
	CHECKY(Y10, 10, ybad10, yok10)
	CHECKY(Y11, 11, ybad11, yok11)
	CHECKY(Y12, 12, ybad12, yok12)
	CHECKY(Y13, 13, ybad13, yok13)
	CHECKY(Y14, 14, ybad14, yok14)
	CHECKY(Y15, 15, ybad15, yok15)
ymmok:
	// MXCSR (without the sticky exception flags, bits 0-5) and the
	// x87 control word.
	STMXCSR	56(SP)
	MOVL	56(SP), CX
	ANDL	$~0x3F, CX
	CMPL	CX, 80(SP)
	JEQ	mxok
	ORQ	$(1<<17), 72(SP)
mxok:
	FSTCW	60(SP)
	MOVWLZX	60(SP), CX
	MOVWLZX	84(SP), R11
	CMPL	CX, R11
	JEQ	cwok
	ORQ	$(1<<18), 72(SP)
cwok:
	DECQ	64(SP)
	JNZ	loop

	MOVQ	112(SP), AX
	SHLQ	$20, AX
	ORQ	72(SP), AX
	MOVQ	AX, ret+56(FP)
	CMPQ	ymm+48(FP), $0
	JEQ	done
	VZEROUPPER	// as Go's own AVX code leaves the upper halves
done:
	LDMXCSR	48(SP)
	FLDCW	52(SP)
	MOVQ	0(SP), BP
	MOVQ	8(SP), R12
	MOVQ	16(SP), R13
	MOVQ	24(SP), R14
	MOVQ	32(SP), R15
	MOVQ	40(SP), BX
	XORPS	X15, X15
	RET
