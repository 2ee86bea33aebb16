// The idle thread: what a CPU runs when no thread is runnable. It is a
// thread like the others (it has a frame and is entered by IRETQ), so the
// scheduler needs no special path for "nothing to do".

#include "textflag.h"

GLOBL ·idleStack(SB), NOPTR, $4096

TEXT ·idleLoop(SB),NOSPLIT|NOFRAME,$0
again:
	STI
	HLT
	JMP	again

TEXT ·idleLoopAddr(SB),NOSPLIT,$0-8
	MOVQ	$·idleLoop(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·idleStackTop(SB),NOSPLIT,$0-8
	MOVQ	$·idleStack(SB), AX
	ADDQ	$4096, AX
	ANDQ	$~15, AX
	MOVQ	AX, ret+0(FP)
	RET
