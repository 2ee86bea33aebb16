// The runtime's _cgo_init hook, which rt0 uses to set m0's FS base.
//
// rt0_go (runtime/asm_amd64.s) calls *_cgo_init, if it is non-nil, right
// after carving the g0 stack, with DI = &g0, and then skips settls (the
// arch_prctl(ARCH_SET_FS) syscall) and its 0x123 store check. A cgo program
// points _cgo_init at C code; rt0 points it at cgoInitHook below, which is
// in ring 0 and writes IA32_FS_BASE itself: FS = &m0.tls[0] + 8, exactly
// what settls would have asked Linux for ("ELF wants to use -8(FS)"), so
// that rt0_go's next store puts &g0 in m0.tls[0]. iscgo stays false: the
// runtime still starts its other threads with clone(CLONE_SETTLS).
//
// &m0 cannot be named here (the linker refuses references to runtime.m0
// from other packages), so host/image.Patch stores &m0.tls in linkinfo.

#include "textflag.h"

#include "../arch/amd64/frame_amd64.h"  // MSR_FS_BASE

TEXT ·cgoInitHook(SB),NOSPLIT|NOFRAME,$0
	MOVQ	·linkinfo+32(SB), AX	// &m0.tls[0]
	ADDQ	$8, AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR
	RET

DATA _cgo_init+0(SB)/8, $·cgoInitHook(SB)
GLOBL _cgo_init(SB), NOPTR, $8
