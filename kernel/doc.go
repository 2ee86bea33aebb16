// Package kernel is rt0's kernel: it boots the machine, then serves the Linux
// system calls that the Go runtime makes, from ring 0, under an unmodified
// runtime linked into the same executable.
//
// Boot order (one concept per file):
//
//	entry_amd64.s   64-bit entry from the loader stub; zero bss; boot stack; SSE
//	boot.go         the boot sequence, one call per subsystem
//	console.go      COM1 for the program, debugcon (port 0xe9) for kernel messages
//	physmem.go      the memory map -> the frame allocator
//	paging.go       page tables: identity map, demand-zero user pages
//	clock.go        TSC, PIT calibration, CMOS RTC, LAPIC timer
//	initstack.go    the Linux initial stack: argc, argv, envp, auxv
//	cgoinit_amd64.s the runtime's _cgo_init hook: m0's FS base by WRMSR
//	trap.go         every entry: exceptions, page faults, interrupts, syscalls
//	syscall.go      the syscall table, by Linux number
//	sys_*.go        the syscalls, grouped by what they manage
//	panic.go        fault reports and stopping the machine
//
// # Below the runtime
//
// Everything in this package runs either before the Go runtime exists or
// inside a trap, on a kernel stack, while some goroutine is frozen mid-
// instruction. So, everywhere in kernel/, arch/amd64 and sched/:
//
//   - no heap allocation (no new, make, append, closures that escape,
//     interfaces, maps, fmt): the allocator needs a P and may block;
//   - no Go pointer stores into globals or the heap: write barriers need a
//     P. Kernel tables hold integers (addresses, indices), never pointers;
//   - no package-level variable with a dynamic initializer: package init
//     has not run when the kernel starts;
//   - no locks shared with the runtime;
//   - no stack growth: kernel code runs on fixed kernel stacks whose trap g
//     (arch/amd64/stacks.go) makes the compiler's stack checks meaningful,
//     and overflowing one faults into a report instead of growing.
//
// TestBelowRuntime disassembles a built kernel and fails if any function of
// these packages calls the allocator or a write barrier.
package kernel
