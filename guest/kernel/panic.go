package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/sched"
)

// Stopping the machine, on purpose or not.
//
// The program's exit status leaves through QEMU's isa-debug-exit device
// (port 0xf4: QEMU exits with status<<1|1) after a line "rt0: exit N" on the
// kernel log, which `rt0 run` reads because eight bits of QEMU exit status
// cannot carry all 256 values. On a machine without that device the write
// does nothing, so the kernel says what happened on the console and halts.

const (
	exitDevice = 0xF4
	// exitKernelPanic is the status of a machine stopped by the kernel: a
	// CPU fault it cannot serve, or a fatal condition such as no memory.
	exitKernelPanic = 125
)

// stop ends the machine with the given exit status. The other CPUs halt
// first, so that the last words on the console are this CPU's.
func stop(code int) {
	profileStopNMI() // the profiler's NMIs, before the others' stop NMIs
	stopOthers()
	if showStats {
		printSyscallCounts()
		kprint("rt0: page faults ")
		kprintDec(int64(stats.pageFaults))
		kprint(", frames in use ")
		kprintDec(int64(frames.Total() - frames.FreeCount()))
		kprint(" of ")
		kprintDec(int64(frames.Total()))
		kprint(", ")
		kprintDec(nanotime() / 1000)
		kprint(" us since boot\n")
		printMilestones()
		printCPUStats()
		printSyscallPath()
	}
	if trace.on {
		dumpTrace(code)
	}
	if prof.hz != 0 {
		dumpProfile()
	}
	kprint("rt0: exit ")
	kprintDec(int64(code))
	kprint("\n")
	amd64.Outl(exitDevice, uint32(code))
	// Still here: no isa-debug-exit (a real PC). Say how it ended, then
	// power off through ACPI, or halt if that does not work.
	logToConsole = true
	kprint("rt0: program exited with status ")
	kprintDec(int64(code))
	kprint("; powering off\n")
	acpiPowerOff()
	kprint("rt0: ACPI power-off did not work; halted (it is safe to switch the machine off)\n")
	amd64.Halt()
}

// panicMsg reports a fatal kernel condition on the console and stops.
func panicMsg(s string) {
	logToConsole = true
	kprint("rt0: panic: ")
	kprint(s)
	kprint("\n")
	stop(exitKernelPanic)
}

// fault reports a CPU exception that nobody serves and stops the machine.
func fault(tf *amd64.TrapFrame, why string) {
	faultReport(tf, why)
	stop(exitKernelPanic)
}

// faultReport prints vector, error code, registers and the code at RIP on
// the console and the kernel log.
func faultReport(tf *amd64.TrapFrame, why string) {
	logToConsole = true
	kprint("\nrt0: fatal: ")
	kprint(amd64.ExceptionName(tf.Vector))
	kprint(" (vector ")
	kprintDec(int64(tf.Vector))
	kprint(", error code ")
	kprintHex(tf.ErrCode)
	kprint(")")
	if why != "" {
		kprint(": ")
		kprint(why)
	}
	if inKernel() {
		kprint(" in the kernel")
	} else {
		kprint(" in thread ")
		kprintDec(int64(sched.Cur().Tid))
	}
	if ncpu > 1 {
		_, me := thisCPU()
		kprint(" on CPU ")
		kprintDec(int64(me))
	}
	kprint("\n")
	reg("RIP", tf.RIP)
	reg("RSP", tf.RSP)
	reg("RFLAGS", tf.RFLAGS)
	reg("CR2", amd64.ReadCR2())
	kprint("\n")
	reg("RAX", tf.RAX)
	reg("RBX", tf.RBX)
	reg("RCX", tf.RCX)
	reg("RDX", tf.RDX)
	kprint("\n")
	reg("RSI", tf.RSI)
	reg("RDI", tf.RDI)
	reg("RBP", tf.RBP)
	reg("R8", tf.R8)
	kprint("\n")
	reg("R9", tf.R9)
	reg("R10", tf.R10)
	reg("R11", tf.R11)
	reg("R12", tf.R12)
	kprint("\n")
	reg("R13", tf.R13)
	reg("R14", tf.R14)
	reg("R15", tf.R15)
	reg("FS", tf.FSBase)
	kprint("\n  code at RIP:")
	if readable(tf.RIP, 16) {
		for _, b := range amd64.Bytes(uintptr(tf.RIP), 16) {
			kprint(" ")
			hexByte(b)
		}
	} else {
		kprint(" (not mapped)")
	}
	kprint("\n")
	logToConsole = false
}

func reg(name string, v uint64) {
	kprint("  ")
	kprint(name)
	kprint("=")
	kprintHex(v)
}

func hexByte(b byte) {
	const digits = "0123456789abcdef"
	logByte(digits[b>>4])
	logByte(digits[b&15])
}

// readable reports whether the kernel can read [addr, addr+n) without
// faulting: the image, or present user pages.
func readable(addr, n uint64) bool {
	li := links()
	if addr >= li.ImageStart && addr+n <= li.ImageEnd {
		return true
	}
	for p := addr &^ 4095; p < addr+n; p += 4096 {
		if p < userBase || p >= userTop {
			return false
		}
		e := pte(p, false)
		if e == nil || *e&ptePresent == 0 {
			return false
		}
	}
	return true
}
