package kernel

import (
	"unsafe"

	"rt0/guest/arch/amd64"
)

// Crash tests: the kernel option rt0.crashtest=NAME makes the kernel
// commit one kind of kernel bug on purpose, in its first system call (on
// a CPU's system call stack, holding the kernel lock, as a real bug
// would), so that a boot test can check that the protection against it
// holds and the report says what happened. Linux's lkdtm does the same.
//
//	write-text     write to the kernel's own code      (text is read-only)
//	write-rodata   write to its read-only data         (read-only)
//	exec-data      jump into a variable of its bss     (no-execute)
//	exec-heap      jump into kernel heap memory        (no-execute)
//	null           read through a nil pointer          (page 0 unmapped)
//	stack          overflow the system call stack      (its guard page)
//
// Each must end in a kernel panic report (exit status 125), never in
// running on with corrupted memory.

// crashTests are the names rt0.crashtest takes; crashTest is the index of
// the one asked for plus one (0: none), not a slice: a pointer in a kernel
// variable would need a write barrier.
var crashTests = [...]string{"write-text", "write-rodata", "exec-data", "exec-heap", "null", "stack"}

var crashTest int

// setCrashTest takes the value of rt0.crashtest.
func setCrashTest(name []byte) {
	for i, n := range crashTests {
		if string(name) == n {
			crashTest = i + 1
			return
		}
	}
	logToConsole = true
	kprint("rt0: unknown crash test (write-text, write-rodata, exec-data, exec-heap, null, stack)\n")
	logToConsole = false
}

// crashRET is one RET instruction in the bss, for exec-data to jump to
// (written at run time, so that it is data, not code).
var crashRET [16]byte

// crashRODataVar points at a string constant, in read-only data.
var crashRODataVar = "rt0 crash test: read-only"

func runCrashTest() {
	t := crashTests[crashTest-1]
	crashTest = 0
	logToConsole = true
	kprint("rt0: crash test ")
	kprint(t)
	kprint("\n")
	logToConsole = false
	switch t {
	case "write-text":
		*(*byte)(amd64.Ptr(crashTextAddr())) = 0xCC
	case "write-rodata":
		*(*byte)(unsafe.Pointer(unsafe.StringData(crashRODataVar))) = 'X'
	case "exec-data":
		crashRET[0] = 0xC3
		crashCall(uintptr(unsafe.Pointer(&crashRET[0])))
	case "exec-heap":
		a, ok := kalloc(64)
		if !ok {
			return
		}
		*(*byte)(amd64.Ptr(uintptr(a))) = 0xC3
		crashCall(uintptr(a))
	case "null":
		kprintHex(*(*uint64)(amd64.Ptr(crashNull)))
	case "stack":
		crashExhaustStack()
	}
	logToConsole = true
	kprint("rt0: crash test ")
	kprint(t)
	kprint(": nothing stopped it\n")
}

// crashNull is 0, in a variable so the compiler does not see the nil.
var crashNull uintptr

func crashTextAddr() uintptr

// crashCall calls the code at addr.
func crashCall(addr uintptr)

// crashExhaustStack pushes until the stack runs out.
func crashExhaustStack()
