// The raw SIGUSR2 handler and its restorer, and raise (main.go).

#include "textflag.h"

// handler(sig DI, info SI, uc DX), called by the kernel on the signal
// frame, returns to the restorer. uc_mcontext is at uc+40; its fpstate
// pointer 184 bytes in.
TEXT ·handler(SB),NOSPLIT|NOFRAME,$0
	MOVQ	0(DX), AX
	MOVQ	AX, ·ucFlags(SB)
	MOVQ	224(DX), SI
	MOVQ	SI, ·fpAddr(SB)
	// The image's length: extended_size if magic1 says so (at most
	// 4096), else 512.
	MOVQ	$512, CX
	CMPL	464(SI), $0x46505853
	JNE	copy
	MOVL	468(SI), CX
	CMPQ	CX, $4096
	JBE	copy
	MOVQ	$4096, CX
copy:
	MOVQ	CX, ·imgLen(SB)
	LEAQ	·image(SB), DI
	CLD
	REP; MOVSB
	// Change XMM3 in the image (both quadwords) and, with XSAVE, YMM3's
	// upper half (the AVX component at 576: 16 bytes a register).
	MOVQ	·fpAddr(SB), SI
	MOVQ	$0x1111222233334444, AX
	MOVQ	AX, (160+48)(SI)
	MOVQ	$0x5555666677778888, AX
	MOVQ	AX, (160+56)(SI)
	CMPL	464(SI), $0x46505853
	JNE	done
	MOVQ	$0x99990000aaaa0000, AX
	MOVQ	AX, (576+48)(SI)
	MOVQ	$0xbbbb0000cccc0000, AX
	MOVQ	AX, (576+56)(SI)
	// The AVX component must be marked as present for XRSTOR to take it.
	ORQ	$4, 512(SI)
	// mode 1: a compacted-format bit in XCOMP_BV, which Linux refuses
	// (and which would make XRSTOR fault).
	CMPQ	·mode(SB), $1
	JNE	done
	MOVQ	$0x8000000000000000, AX
	MOVQ	AX, 520(SI)
done:
	// mode 2: every bit of MXCSR set, reserved ones included (FXRSTOR
	// and XRSTOR fault on those).
	CMPQ	·mode(SB), $2
	JNE	ret
	MOVL	$0xFFFFFFFF, 24(SI)
ret:
	RET

TEXT ·restorer(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$15, AX // rt_sigreturn
	SYSCALL
	INT	$3

TEXT ·handlerAddr(SB),NOSPLIT,$0-8
	MOVQ	$·handler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·restorerAddr(SB),NOSPLIT,$0-8
	MOVQ	$·restorer(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func raise(pid, tid, ymm uint64)
TEXT ·raise(SB),NOSPLIT,$32-24
	MOVQ	$0x0123456789abcdef, AX
	MOVQ	AX, 0(SP)
	MOVQ	$0x0fedcba987654321, AX
	MOVQ	AX, 8(SP)
	MOVUPS	0(SP), X3
	CMPQ	ymm+16(FP), $0
	JEQ	send
	MOVQ	$0x7777777777777777, AX
	MOVQ	AX, 16(SP)
	MOVQ	$0x6666666666666666, AX
	MOVQ	AX, 24(SP)
	VINSERTF128	$1, 16(SP), Y3, Y3
send:
	MOVQ	pid+0(FP), DI
	MOVQ	tid+8(FP), SI
	MOVQ	$12, DX	// SIGUSR2
	MOVQ	$234, AX // tgkill
	SYSCALL
	MOVUPS	X3, 0(SP)
	MOVQ	0(SP), AX
	MOVQ	AX, ·after+0(SB)
	MOVQ	8(SP), AX
	MOVQ	AX, ·after+8(SB)
	CMPQ	ymm+16(FP), $0
	JEQ	out
	VEXTRACTF128	$1, Y3, 16(SP)
	MOVQ	16(SP), AX
	MOVQ	AX, ·after+16(SB)
	MOVQ	24(SP), AX
	MOVQ	AX, ·after+24(SB)
	VZEROUPPER
out:
	XORPS	X15, X15
	RET

// func cpuid(leaf, sub uint32) (a, b uint32)
TEXT ·cpuid(SB),NOSPLIT,$0-16
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, a+8(FP)
	MOVL	BX, b+12(FP)
	RET

// func mxcsr() uint32: MXCSR, then back to Go's 0x1F80.
TEXT ·mxcsr(SB),NOSPLIT,$8-4
	STMXCSR	0(SP)
	MOVL	0(SP), AX
	MOVL	AX, ret+0(FP)
	MOVL	$0x1F80, 0(SP)
	LDMXCSR	0(SP)
	RET
