// Package kernel is rt0's kernel: it boots the machine, then serves the Linux
// system calls that the Go runtime makes, from ring 0, under an unmodified
// runtime linked into the same executable.
//
// Boot order (one concept per file):
//
//	entry_amd64.s   64-bit entry from the loader stub; zero bss; boot stack; SSE
//	boot.go         the boot sequence, one call per subsystem
//	console.go      COM1 for the program, debugcon (port 0xe9) for kernel messages
//	screen.go       the screen console: VGA cells kept by the kernel (the grid:
//	                package cells), painted
//	                by the kernel or by the painter goroutine (rt0/guest/painter)
//	screen_escape.go escape sequences: colours, erasing, cursor movement
//	                (the parser and the colours: package ansi)
//	screen_dev.go   /dev/tty0, /dev/vcsa, /dev/fb0: the screen for the painter
//	                (their Linux ABI, shared with the painter: package vt)
//	physmem.go      the memory map -> the frame allocator
//	acpi.go         RSDP, MADT, FADT, \_S5 (power off); the parsing is
//	                package acpitab's
//	paging.go       page tables: identity map, read-only image, demand-zero user pages
//	kheap.go        the kernel heap (filesystem tables and contents)
//	clock.go        TSC and LAPIC calibration (PIT or ACPI PM timer; CPUID's
//	                stated TSC frequency, package tscfreq), CMOS RTC, LAPIC timer
//	ioapic.go       routing ISA interrupts (COM1, keyboard)
//	keyboard.go     PS/2 keyboard and its line discipline
//	input.go        the console input ring behind read(0)
//	initstack.go    the Linux initial stack: argc, argv, envp, auxv (with the vDSO)
//	fs.go           the in-memory filesystem and the cpio boot archive
//	fifo.go         named pipes
//	sysfs_firmware.go /sys/firmware: the SMBIOS and ACPI tables as Linux exports them
//	cgoinit_amd64.s the runtime's _cgo_init hook: m0's FS base by WRMSR
//	vdso_amd64.s    __vdso_clock_gettime: the clock without a system call
//	linkinfo.go     the table the post-link step fills (rt0/contract)
//	trap.go         every entry: exceptions, page faults, interrupts, syscalls
//	usermem.go      checking and backing user memory before the kernel touches it
//	signal.go       signal frames and rt_sigreturn
//	syscall.go      the syscall table, by Linux number (numbers, errno and
//	                flags from rt0/guest/linux)
//	sys_*.go        the syscalls, grouped by what they manage; pipe.go pipes
//	                (their ring, which sockets use too: package ring);
//	                sys_socket.go TCP and Unix streams, sys_socket_dgram.go
//	                UDP, Unix datagrams and seqpacket, sys_netlink.go the
//	                interfaces for net.Interfaces, sys_socket_net.go the
//	                sockets that leave the machine through the network
//	                service (/dev/rt0net; its messages: package netsvc):
//	                linked only into programs that import net (EnableSockets);
//	                sys_timer.go interval and POSIX timers on the wall and
//	                CPU-time clocks (runtime/pprof's SIGPROF)
//	pcibus.go       the PCI bus: the scan, BAR sizing, configuration space
//	sysfs_pci.go    /sys/bus/pci/devices: the files drivers above the
//	                runtime use (config, resource, resourceN), /proc/self/
//	                pagemap, /dev/kmsg
//	uio.go          /dev/uioN: a PCI function's INTx interrupt for its driver
//	trace.go        the startup tracer (debug-register breakpoints)
//	profile.go      the sampling profiler of rt0 run -profile (rt0.profile=HZ)
//	smbios.go       the SMBIOS tables: the machine's identity for the log
//	                (the structure walker: package smbiostab)
//	panic.go        fault reports and stopping the machine
//
// # Below the runtime
//
// Everything in this package runs either before the Go runtime exists or
// inside a trap, on a kernel stack, while some goroutine is frozen mid-
// instruction. So, everywhere in guest/ but guest/painter and guest/net
// (guest/kernel and its subpackages, guest/arch/amd64, guest/sched,
// guest/multiboot):
//
//   - no heap allocation (no new, make, append, closures that escape,
//     interfaces, maps, fmt): the allocator needs a P and may block;
//   - no Go pointer stores into globals or the heap: write barriers need a
//     P. Kernel tables hold integers (addresses, indices), never pointers;
//   - no package-level variable with a dynamic initializer: package init
//     has not run when the kernel starts;
//   - no locks shared with the runtime;
//   - no stack growth: kernel code runs on fixed kernel stacks whose trap g
//     (guest/arch/amd64/stacks.go) makes the compiler's stack checks meaningful,
//     and overflowing one faults into a report instead of growing.
//
// TestBelowRuntime disassembles a built kernel and fails if any function of
// these packages calls the allocator or a write barrier.
package kernel
