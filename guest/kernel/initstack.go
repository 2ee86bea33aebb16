package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/cmdline"
	"rt0/guest/kernel/mem"
	"rt0/guest/linux"
)

// The initial stack: what Linux's execve leaves for _rt0_amd64_linux. From
// the stack pointer up:
//
//	argc
//	argv[0] ... argv[argc-1]  NULL
//	envp[0] ... envp[n-1]     NULL
//	auxv: (type, value) pairs ending with AT_NULL
//	... the strings they point at, 16 random bytes (AT_RANDOM) ...
//
// argv and envp come from the kernel command line (kernel/cmdline: Linux's
// rule, NAME=VALUE words are environment, rt0.* words are kernel options,
// everything after "--" is an argument). The stack is an ordinary
// demand-zero VMA of 8 MiB at the top of the user range, like Linux's; the
// runtime carves its 64 KiB g0 stack out of it.

const (
	stackTop  = userTop - mem.PageSize // leave the last page unmapped
	stackSize = 8 << 20
)

func vdsoImageAddr() uintptr

// vdso returns the address of the vDSO image to announce in AT_SYSINFO_EHDR,
// 0 if host/image did not write one or rt0.novdso asks for none.
func vdso() uint64 {
	a := vdsoImageAddr()
	if string(amd64.Bytes(a, 4)) != "\x7fELF" {
		return 0
	}
	if _, off := args.Option(argsBuf[:], "novdso"); off {
		return 0
	}
	return uint64(a)
}

var (
	args    cmdline.Result
	argsBuf [8192]byte
)

// buildInitialStack maps the main stack, writes argc/argv/envp/auxv and
// returns the initial RSP.
func buildInitialStack() uint64 {
	cmdline.Split(cmdlineBuf[:cmdlineLen], argsBuf[:], &args)
	if vmas.Map(stackTop-stackSize, stackTop, mem.PROT_READ|mem.PROT_WRITE, vmaStack) != 0 {
		panicMsg("cannot map the initial stack")
	}
	// Strings first, at the top. Writing them faults the pages in.
	sp := uint64(stackTop)
	sp -= uint64(args.Used)
	strings := sp
	copy(amd64.Bytes(uintptr(sp), args.Used), argsBuf[:args.Used])
	sp -= 16
	random := sp
	fillRandom(amd64.Bytes(uintptr(random), 16))
	sp -= 8
	platform := sp
	copy(amd64.Bytes(uintptr(platform), 7), "x86_64\x00")
	sp &^= 15

	argc := args.Argc
	_, _, _, edx := amd64.Cpuid(1, 0)
	auxv := [...]uint64{
		linux.AT_PAGESZ, mem.PageSize,
		linux.AT_CLKTCK, 100,
		linux.AT_HWCAP, uint64(edx),
		linux.AT_PLATFORM, platform,
		linux.AT_RANDOM, random,
		linux.AT_SECURE, 0,
		linux.AT_SYSINFO_EHDR, vdso(),
		linux.AT_NULL, 0,
	}
	words := 1 + uint64(argc) + 1 + uint64(args.Envc) + 1 + uint64(len(auxv))
	if words%2 != 0 {
		sp -= 8 // keep argc 16-byte aligned
	}
	sp -= words * 8
	w := sp
	put := func(v uint64) { *amd64.U64(uintptr(w)) = v; w += 8 }
	put(uint64(argc))
	for i := 0; i < argc; i++ {
		put(strings + uint64(args.Argv[i]))
	}
	put(0)
	for i := 0; i < args.Envc; i++ {
		put(strings + uint64(args.Envv[i]))
	}
	put(0)
	for _, v := range auxv {
		put(v)
	}
	return sp
}
