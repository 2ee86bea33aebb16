// The vDSO's clock (see host/image/vdso.go): __vdso_clock_gettime for the
// Go runtime, called with the C calling convention (DI = clock id, SI =
// struct timespec *), on whatever stack the runtime is on, with no system
// call: monotonic time is base + (TSC - tsc0) * mult >> 32 nanoseconds
// with the clock's current parameters, as kernel.nanotime computes it, and
// real time adds wall0. Other clocks take the system call. R9 and R10 are
// free: the C convention lets a callee clobber them.

#include "textflag.h"
#include "clock_amd64.h"

// The image the runtime parses: written by host/image.Patch.
DATA ·vdsoImage+0(SB)/8, $·vdsoClockGettime(SB)	// keeps the function linked; Patch overwrites it
GLOBL ·vdsoImage(SB), NOPTR, $1024

TEXT ·vdsoClockGettime(SB),NOSPLIT|NOFRAME,$0
	XORQ	R8, R8
	CMPL	DI, $1	// CLOCK_MONOTONIC
	JEQ	calc
	CMPL	DI, $4	// CLOCK_MONOTONIC_RAW
	JEQ	calc
	CMPL	DI, $6	// CLOCK_MONOTONIC_COARSE
	JEQ	calc
	CMPL	DI, $7	// CLOCK_BOOTTIME
	JEQ	calc
	MOVQ	·wall0(SB), R8
	CMPL	DI, $0	// CLOCK_REALTIME
	JEQ	calc
	CMPL	DI, $5	// CLOCK_REALTIME_COARSE
	JEQ	calc
	MOVL	$228, AX	// SYS_clock_gettime
	SYSCALL
	RET
calc:
	// The clock's parameters: clocks[clockSel&1] (clock.go).
	MOVQ	·clockSel(SB), R9
	ANDQ	$1, R9
	SHLQ	$CLOCK_SHIFT, R9
	LEAQ	·clocks(SB), R10
	ADDQ	R10, R9
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	SUBQ	CLOCK_TSC0(R9), AX
	MULQ	CLOCK_MULT(R9)	// DX:AX = ticks * mult
	SHRQ	$32, AX
	SHLQ	$32, DX
	ORQ	DX, AX	// ns = DX:AX >> 32
	ADDQ	CLOCK_BASE(R9), AX
	ADDQ	R8, AX
	XORQ	DX, DX
	MOVQ	$1000000000, CX
	DIVQ	CX	// AX = seconds, DX = nanoseconds
	MOVQ	AX, 0(SI)
	MOVQ	DX, 8(SI)
	XORL	AX, AX
	RET

// vdsoImageAddr returns &vdsoImage.
TEXT ·vdsoImageAddr(SB),NOSPLIT,$0-8
	MOVQ	$·vdsoImage(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
