// Offsets into TrapFrame (frame.go) and CPU (percpu.go) for the assembly.
// TestFrameOffsets checks every line both ways: against unsafe.Offsetof and
// the Go constants, and that nothing here goes unchecked.

#define TF_FX		0
#define TF_XMM		160
#define TF_YMM		1152
#define TF_FXPARTIAL	2688
#define TF_FSBASE	2696
#define TF_R15		2704
#define TF_R11		2736
#define TF_RCX		2800
#define TF_RAX		2816
#define TF_VECTOR	2824
#define TF_ERRCODE	2832
#define TF_RIP		2840
#define TF_CS		2848
#define TF_RFLAGS	2856
#define TF_RSP		2864
#define TF_SS		2872
#define TF_SIZE		2880

// Bytes from the top of a kernel stack to the frame: the 7 words above
// TF_VECTOR are pushed first (by the CPU or the SYSCALL stub).
#define TF_TOP_OFFSET	2880

#define CPU_SELF	0
#define CPU_KSTACK	8
#define CPU_SCRATCH	16

// Constants of cpu.go, gdt.go and frame.go the entry paths use.
#define MSR_FS_BASE	0xC0000100
#define SEL_CODE	0x08
#define SEL_DATA	0x10
#define VECTOR_SYSCALL	256
#define CR0_MP		0x2
#define CR0_EM		0x4
#define CR4_OSFXSR	0x200
#define CR4_OSXMMEXCPT	0x400
#define XFEATURE_X87	0x1
#define SYSCALL_FP_YMM	1
#define RFLAGS_IF	0x200
#define RFLAGS_DF	0x400
#define RFLAGS_FAST	0xED7
