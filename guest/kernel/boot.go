package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/sched"
)

// boot is the kernel's main: entry64 calls it on the boot stack with the
// loader's magic and boot information address. It sets the machine up in
// dependency order, one call per subsystem, then enters the first thread at
// the runtime's own entry point, _rt0_amd64_linux, as Linux's execve would.
// It never returns.
func boot(magic, info uint64) {
	amd64.InitCPU() // first: trap finds its per-CPU state through GS
	kcpus[0].depth = 1
	amd64.SetHandler(trapAddr()) // before anything can trap
	lockKernel(&kcpus[0])        // the APs wait for it until the runtime starts
	initSerial()
	kprint("rt0: 64-bit entry\n")
	amd64.InitIDT()
	amd64.InitFPU()
	// Caches on: a firmware may hand over with CR0.CD/NW set.
	amd64.WriteCR0(amd64.ReadCR0() &^ (amd64.CR0_CD | amd64.CR0_NW))
	stamp(kmCPU)
	parseBootInfo(magic, info)
	initPhysMem()
	initACPI() // before paging unmaps page 0, where the BIOS data area says where the EBDA is
	initPaging()
	guardStacks(0)
	initScreen()
	stamp(kmMemory)
	initClock()
	stamp(kmClock)
	initIOAPIC()
	initPCI()
	initKeyboard()
	enableSerialInput()
	initFiles()
	sched.InitIdle()
	startAPs()
	rsp := buildInitialStack()
	initFS()
	stamp(kmFiles)
	kernelOptions()
	main := sched.NewMain(links().GoEntry, rsp)
	report()
	logSMBIOS()
	armBreakpoints()
	amd64.This().Current = uint64(main)
	sched.T(main).State = sched.Running
	kcpus[0].depth = 0
	amd64.This().RunSince = nanotime()
	stamp(kmRuntime)
	unlockKernel()
	amd64.Enter(&sched.T(main).Frame)
}

// showStats (rt0.stats) prints syscall counts and memory use at exit.
var showStats bool

// kernelOptions applies the rt0.* words of the command line.
func kernelOptions() {
	if args.UnterminatedQuote || args.Truncated {
		logToConsole = true
		if args.UnterminatedQuote {
			kprint("rt0: warning: the command line ends inside a quote; the last word runs to its end\n")
		}
		if args.Truncated {
			kprint("rt0: warning: the command line has more words than rt0 keeps; the rest are dropped\n")
		}
		logToConsole = false
	}
	_, strace = args.Option(argsBuf[:], "strace")
	_, showStats = args.Option(argsBuf[:], "stats")
	if t, ok := args.Option(argsBuf[:], "crashtest"); ok {
		setCrashTest(t)
	}
	_, trace.on = args.Option(argsBuf[:], "trace")
	if hz, ok := args.Option(argsBuf[:], "profile"); ok {
		profileOption(hz)
	}
	if v, ok := args.Option(argsBuf[:], "syscallfp"); ok {
		// The SYSCALL entry's XSAVE path, which CPUs with AVX-512 take,
		// on any CPU with XSAVE (for the tests).
		if string(v) != "xsave" || !amd64.SyscallXSAVE() {
			logToConsole = true
			kprint("rt0: rt0.syscallfp= takes xsave, on a CPU with XSAVE; ignored\n")
			logToConsole = false
		}
	}
	if cwd, ok := args.Option(argsBuf[:], "cwd"); ok {
		_, _, node, e := walk(0, cwd, true, false)
		if e != 0 || ino(node).kind != iDir {
			logToConsole = true
			kprint("rt0: rt0.cwd=")
			kprintBytes(cwd)
			kprint(" is not a directory; staying in /\n")
			logToConsole = false
		} else {
			fsys.cwd = node
		}
	}
}

// report logs what boot found (shown by `rt0 run -v`).
func report() {
	kprint("rt0: loader ")
	kprintBytes(loaderNameBuf[:loaderNameLen])
	kprint(" (multiboot v")
	kprintDec(int64(bootInfo.Version))
	kprint("), cmdline \"")
	kprintBytes(cmdlineBuf[:cmdlineLen])
	kprint("\"\nrt0: memory ")
	kprintDec(int64(frames.Total() * 4 >> 10))
	kprint(" MiB usable, ")
	kprintDec(int64(frames.FreeCount() * 4 >> 10))
	kprint(" MiB free; image ")
	kprintHex(links().ImageStart)
	kprint("-")
	kprintHex(links().ImageEnd)
	kprint("\nrt0: TSC ")
	kprintDec(int64(tscHz / 1000000))
	kprint(" MHz (")
	kprint(tscSourceName())
	kprint("), LAPIC timer ")
	kprintDec(int64(lapicHz / 1000))
	kprint(" kHz, COM1 ")
	if hasCOM1 {
		kprint("yes")
	} else {
		kprint("no")
	}
	kprint("\nrt0: FPU state ")
	if amd64.XSave() {
		kprint("XSAVE, XCR0 ")
		kprintHex(amd64.XCR0())
	} else {
		kprint("FXSAVE")
	}
	kprint(", ")
	kprintDec(int64(amd64.FXSize()))
	kprint(" bytes; a system call saves ")
	switch amd64.SyscallFP() {
	case amd64.SyscallFPXMM:
		kprint("XMM")
	case amd64.SyscallFPYMM:
		kprint("YMM")
	default:
		kprint("all but x87 (XSAVE)")
	}
	kprint("\nrt0: ACPI ")
	if acpi.found {
		kprint("yes, I/O APIC ")
		kprintHex(acpi.ioapic)
		kprint(", ")
		kprintDec(int64(acpi.nLAPIC))
		kprint(" CPUs, S5 ")
		if acpi.hasS5 {
			kprint("yes")
		} else {
			kprint("no")
		}
		if acpi.no8042 {
			kprint(", no i8042")
		}
	} else {
		kprint("no")
	}
	kprint("\nrt0: entering _rt0_amd64_linux at ")
	kprintHex(links().GoEntry)
	kprint(" with ")
	kprintDec(int64(args.Argc))
	kprint(" args, ")
	kprintDec(int64(args.Envc))
	kprint(" env\n")
}
