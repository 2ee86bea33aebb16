package amd64

// initSyscall points SYSCALL at syscallEntry. STAR[47:32] gives the kernel
// CS (and SS = CS+8) that SYSCALL loads: our code and data selectors. FMASK
// clears IF (the stub must not be interrupted before it has a stack), TF, DF
// and AC on entry.
func initSyscall() {
	Wrmsr(MSR_EFER, Rdmsr(MSR_EFER)|EFER_SCE)
	Wrmsr(MSR_STAR, uint64(SelCode)<<32)
	Wrmsr(MSR_LSTAR, uint64(syscallEntryAddr()))
	Wrmsr(MSR_FMASK, RFLAGS_IF|RFLAGS_TF|RFLAGS_DF|RFLAGS_AC)
}

func syscallEntryAddr() uintptr
