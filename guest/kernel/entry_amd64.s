// The first instructions of rt0 in 64-bit mode, and the two tables that the
// post-link step (host/image) and the runtime reach into.
//
// Boot order: loader (32-bit) -> stub32 (host/image/stub32.go: PAE, LME,
// paging, GDT) -> entry64 (here) -> boot (boot.go, Go) -> the runtime's
// _rt0_amd64_linux, entered like a Linux process.

#include "textflag.h"

#define BOOT_STACK_SIZE 32768
#define STACK_HEADER 512
#include "../arch/amd64/frame_amd64.h"  // MSR_FS_BASE

// linkinfo: what the kernel needs from the link. The linker fills the
// addresses of kernel symbols; host/image.Patch fills the rest (offsets are
// the li* constants in host/image/image.go and the fields of linkInfo in
// linkinfo.go; TestLinkinfoLayout checks all three agree).
DATA ·linkinfo+0(SB)/8, $0x696b6e696c307472	// magic: "rt0linki"
DATA ·linkinfo+8(SB)/8, $·entry64(SB)
DATA ·linkinfo+16(SB)/8, $·bootPageTables(SB)
DATA ·linkinfo+24(SB)/8, $0	// goEntry: ELF e_entry = _rt0_amd64_linux
DATA ·linkinfo+32(SB)/8, $0	// m0TLS: &runtime.m0.tls[0]
DATA ·linkinfo+40(SB)/8, $0	// imageStart
DATA ·linkinfo+48(SB)/8, $0	// imageEnd (end of bss)
DATA ·linkinfo+56(SB)/8, $0	// loadEnd (end of file-backed data)
DATA ·linkinfo+64(SB)/8, $0	// patched
DATA ·linkinfo+72(SB)/8, $0	// mainMain: &main.main, for timing and tracing
DATA ·linkinfo+80(SB)/8, $0	// roEnd: end of the read-only segments
DATA ·linkinfo+88(SB)/8, $0	// textEnd: end of the executable segment
GLOBL ·linkinfo(SB), NOPTR, $96

// traceTable: the startup tracer's milestones (guest/kernel/trace.go), written by
// host/image.Patch: a count, then 30 (address, snapshot register) pairs.
DATA ·traceTable+0(SB)/8, $0
GLOBL ·traceTable(SB), NOPTR, $(8+30*16)

// kernelData: where the kernel's own variables are (usermem.go), written by
// host/image.Patch: a count, then 256 [start, end) pairs of 32-bit addresses
// (contract.KernelDataEntries).
DATA ·kernelData+0(SB)/8, $0
GLOBL ·kernelData(SB), NOPTR, $(8+256*8)


// Seven pages for the boot page tables (PML4, PDPT, 4 PDs + alignment
// slack), in the bss: stub32 builds them there before long mode, and
// entry64's zeroing of the bss leaves them alone.
GLOBL ·bootPageTables(SB), NOPTR, $(7*4096)

GLOBL ·bootStack(SB), NOPTR, $BOOT_STACK_SIZE

// fontGlyphs: the screen console's 7x13 font (96 glyphs x 13 rows),
// written by host/image.Patch from golang.org/x/image/font/basicfont.
DATA ·fontGlyphs+0(SB)/8, $0
GLOBL ·fontGlyphs(SB), NOPTR, $(96*13)

DATA ·mxcsrDefault+0(SB)/4, $0x1F80
GLOBL ·mxcsrDefault(SB), NOPTR|RODATA, $4

// entry64: stub32 far-jumped here with CS=0x08 (64-bit), the boot page
// tables in CR3, EDI = loader magic, ESI = boot info address, EBX:EBP = the
// TSC at the stub's first instruction.
TEXT ·entry64(SB),NOSPLIT|NOFRAME,$0
	MOVQ	AX, R10	// keep EAX (nothing in it: the magic is in EDI)
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, R11	// the TSC at 64-bit entry
	MOVL	BP, R9	// (zero-extends)
	SHLQ	$32, BX
	ORQ	BX, R9
	MOVL	$SEL_DATA, AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	MOVL	DI, DI
	MOVL	SI, SI


	// Zero the bss ourselves: a loader should have, but one that did not
	// would leave garbage in every zero-initialized Go variable. Skip
	// the boot page tables, which are in use: [loadEnd, tables) and
	// [tables+7 pages, imageEnd).
	MOVQ	DI, R8
	CLD
	XORL	AX, AX
	MOVQ	·linkinfo+56(SB), DI	// loadEnd
	MOVQ	$·bootPageTables(SB), CX
	SUBQ	DI, CX
	SHRQ	$3, CX
	REP;	STOSQ
	MOVQ	$·bootPageTables(SB), DI
	ADDQ	$(7*4096), DI
	MOVQ	·linkinfo+48(SB), CX	// imageEnd
	SUBQ	DI, CX
	SHRQ	$3, CX
	REP;	STOSQ
	MOVQ	R8, DI
	MOVQ	R9, ·bootTSC(SB)	// after the bss is zeroed: they live there
	MOVQ	R11, ·entryTSC(SB)

	// The boot stack, with its trap g above the top (see
	// guest/arch/amd64/stacks.go): Go code checks SP against it.
	MOVQ	$·bootStack(SB), BX
	LEAQ	(BOOT_STACK_SIZE-STACK_HEADER)(BX), SP
	ANDQ	$~15, SP
	LEAQ	16(SP), AX
	MOVQ	AX, 0(SP)	// [top] = &g
	MOVQ	BX, 0(AX)	// g.stack.lo
	MOVQ	SP, 8(AX)	// g.stack.hi
	LEAQ	928(BX), CX
	MOVQ	CX, 16(AX)	// g.stackguard0
	MOVQ	CX, 24(AX)	// g.stackguard1

	// FS base = top+8: FS:-8 is the slot holding &g. Go's ABI wrappers
	// load g from there into R14.
	LEAQ	8(SP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$MSR_FS_BASE, CX
	WRMSR

	// SSE: Go uses it everywhere (X15 is the zero register of the
	// register ABI). CR0.EM=0, CR0.MP=1, CR4.OSFXSR|OSXMMEXCPT; MXCSR
	// to its reset value. AVX stays off (CR4.OSXSAVE=0): the runtime then
	// sees no AVX and FXSAVE covers all the state there is.
	MOVQ	CR0, AX
	ANDQ	$~CR0_EM, AX
	ORQ	$CR0_MP, AX
	MOVQ	AX, CR0
	MOVQ	CR4, AX
	ORQ	$(CR4_OSFXSR|CR4_OSXMMEXCPT), AX
	MOVQ	AX, CR4
	BYTE $0xDB; BYTE $0xE3	// FNINIT: the x87 unit to its reset state
	LDMXCSR	·mxcsrDefault(SB)

	SUBQ	$16, SP
	MOVQ	DI, 0(SP)
	MOVQ	SI, 8(SP)
	CALL	·boot(SB)
hang:
	CLI
	HLT
	JMP	hang

// linkinfoAddr returns &linkinfo (Go cannot declare a variable that assembly
// initializes, so Go reads it through this address).
TEXT ·linkinfoAddr(SB),NOSPLIT,$0-8
	MOVQ	$·linkinfo(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// fontGlyphsAddr returns &fontGlyphs.
TEXT ·fontGlyphsAddr(SB),NOSPLIT,$0-8
	MOVQ	$·fontGlyphs(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// kernelDataAddr returns &kernelData.
TEXT ·kernelDataAddr(SB),NOSPLIT,$0-8
	MOVQ	$·kernelData(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// traceTableAddr returns &traceTable.
TEXT ·traceTableAddr(SB),NOSPLIT,$0-8
	MOVQ	$·traceTable(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// bootStackBase returns the address of the boot stack.
TEXT ·bootStackBase(SB),NOSPLIT,$0-8
	MOVQ	$·bootStack(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// trapAddr returns the ABI0 address of trap, which the entry paths call
// (guest/arch/amd64.SetHandler).
TEXT ·trapAddr(SB),NOSPLIT,$0-8
	MOVQ	$·trap(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
