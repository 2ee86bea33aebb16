#include "textflag.h"

// Helpers of crashtest.go. NOSPLIT: they run on a kernel stack, whose trap
// g bounds would only make the Go stack check fault first (and for
// crashExhaustStack the point is to go past every bound).

// crashTextAddr returns the address of a kernel instruction.
TEXT ·crashTextAddr(SB),NOSPLIT,$0-8
	MOVQ	$·crashCall(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// crashCall(addr) calls addr.
TEXT ·crashCall(SB),NOSPLIT,$0-8
	MOVQ	addr+0(FP), AX
	CALL	AX
	RET

// crashExhaustStack pushes zeros until the stack's guard page stops it.
TEXT ·crashExhaustStack(SB),NOSPLIT,$0-0
loop:
	PUSHQ	$0
	JMP	loop
