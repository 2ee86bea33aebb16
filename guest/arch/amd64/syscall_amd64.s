// The SYSCALL entry. The runtime runs in ring 0 like the kernel, so SYSCALL
// does not switch stacks (and SYSRET would drop to ring 3, which is why we
// leave through IRETQ). FMASK has cleared IF. The stub parks the thread's RSP
// in this CPU's scratch slot (GS points at the CPU struct, percpu.go), moves
// to the CPU's kernel stack, and pushes the words an interrupt would have
// pushed: then the common path takes over. SYSCALL put the return RIP in RCX
// and RFLAGS in R11; Linux clobbers those two as well.

#include "textflag.h"
#include "frame_amd64.h"

TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, CPU_SCRATCH(GS)
	MOVQ	CPU_KSTACK(GS), SP
	PUSHQ	$SEL_DATA		// SS
	PUSHQ	CPU_SCRATCH(GS)		// RSP
	PUSHQ	R11			// RFLAGS
	PUSHQ	$SEL_CODE		// CS
	PUSHQ	CX			// RIP
	PUSHQ	$0			// error code
	PUSHQ	$VECTOR_SYSCALL
	JMP	·trapCommon(SB)

// syscallEntryAddr returns the address to put in IA32_LSTAR.
TEXT ·syscallEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·syscallEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
