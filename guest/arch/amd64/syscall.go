package amd64

// initSyscall points SYSCALL at syscallEntry. STAR[47:32] gives the kernel
// CS (and SS = CS+8) that SYSCALL loads: our code and data selectors. FMASK
// clears IF (the stub must not be interrupted before it has a stack), TF, DF
// and AC on entry.
//
// It also turns on RDFSBASE/WRFSBASE where the CPU has them: every kernel
// entry moves the FS base twice (trap_amd64.s), and the instructions cost
// less than the MSR's RDMSR and WRMSR (a VM exit each under some
// hypervisors).
func initSyscall() {
	if HasFSGSBASE() {
		WriteCR4(ReadCR4() | CR4_FSGSBASE)
		fsgsbase = 1
	}
	Wrmsr(MSR_EFER, Rdmsr(MSR_EFER)|EFER_SCE)
	Wrmsr(MSR_STAR, uint64(SelCode)<<32)
	Wrmsr(MSR_LSTAR, uint64(syscallEntryAddr()))
	Wrmsr(MSR_FMASK, RFLAGS_IF|RFLAGS_TF|RFLAGS_DF|RFLAGS_AC)
}

// fsgsbase is 1 once CR4.FSGSBASE is on (the same on every CPU: the APs
// run the boot CPU's CPUID). A byte the entry paths test.
var fsgsbase uint8

// HasFSGSBASE reports CPUID.(EAX=7,ECX=0):EBX.FSGSBASE[bit 0].
func HasFSGSBASE() bool {
	if max, _, _, _ := Cpuid(0, 0); max < 7 {
		return false
	}
	_, b, _, _ := Cpuid(7, 0)
	return b&1 != 0
}

func syscallEntryAddr() uintptr
