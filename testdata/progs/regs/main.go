// regs: what a system call, an interrupt, a thread switch and a signal
// leave of a thread's registers. Linux keeps every register but RAX (the
// result), RCX and R11 (SYSCALL's), including XMM0-15 (and YMM0-15 where
// the CPU and the OS have AVX: the upper halves are checked then), MXCSR,
// the x87 control word and the flags; keep (keep_amd64.s) loads all of
// them with patterns, makes a system call n times and checks them after
// each. Run on the host and on rt0, the output must be the same.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// keep loads the registers with patterns from seed, makes system call nr
// with arguments a0, a1, a2 n times (nr -1: only checks, in a loop that
// interrupts and preemption signals land in), and returns the set of
// registers that changed: bit n for XMM n, 16 a general register, 17
// MXCSR, 18 the x87 control word, 19 the flags (CF PF AF ZF SF OF DF), 20+n the upper
// half of YMM n (checked only if ymm is not 0).
func keep(nr, a0, a1, a2, seed uint64, n int, ymm uint64) uint64

// ymm is 1 where AVX is usable: the CPU has it and the OS saves its state
// (golang.org/x/sys/cpu checks CPUID's OSXSAVE and XCR0).
var ymm = func() uint64 {
	if cpu.X86.HasAVX {
		return 1
	}
	return 0
}()

// both runs f(0) and f(1) at once, each on its own thread.
func both(f func(i int) uint64) [2]uint64 {
	var r [2]uint64
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r[i] = f(i)
		}()
	}
	wg.Wait()
	return r
}

func main() {
	fmt.Printf("getpid: changed %#x\n", keep(syscall.SYS_GETPID, 0, 0, 0, 1, 2000, ymm))

	// A system call that copies 4 KiB (into a file): the kernel's copy is
	// the runtime's memmove, which uses the YMM registers where AVX is on.
	f, err := os.CreateTemp("", "regs")
	if err != nil {
		panic(err)
	}
	defer os.Remove(f.Name())
	buf := make([]byte, 4096)
	fmt.Printf("pwrite of 4 KiB: changed %#x\n", keep(syscall.SYS_PWRITE64, uint64(f.Fd()), uint64(uintptr(unsafe.Pointer(&buf[0]))), 4096, 9, 500, ymm))

	// Two threads yielding to each other: each system call's way out may
	// switch threads, with the other's MXCSR and control word in the CPU.
	r := both(func(i int) uint64 { return keep(syscall.SYS_SCHED_YIELD, 0, 0, 0, uint64(2+i), 3000, ymm) })
	fmt.Printf("sched_yield on two threads: changed %#x %#x\n", r[0], r[1])

	// A reader that blocks and a writer that wakes it, byte by byte (the
	// writer starts late, so the reader blocks at once: in its first
	// call, with the MXCSR it was switched in with changed).
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		panic(err)
	}
	var rb, wb [1]byte
	r = both(func(i int) uint64 {
		if i == 0 {
			return keep(syscall.SYS_READ, uint64(p[0]), uint64(uintptr(unsafe.Pointer(&rb[0]))), 1, 4, 300, ymm)
		}
		time.Sleep(20 * time.Millisecond)
		return keep(syscall.SYS_WRITE, uint64(p[1]), uint64(uintptr(unsafe.Pointer(&wb[0]))), 1, 5, 300, ymm)
	})
	fmt.Printf("blocking pipe read and write: changed %#x %#x\n", r[0], r[1])

	// No system calls: two threads spinning through the checks, switched
	// by the timer interrupt, with the runtime's preemption signals
	// (SIGURG) landing in the loop.
	r = both(func(i int) uint64 { return keep(^uint64(0), 0, 0, 0, uint64(6+i), 20_000_000, ymm) })
	fmt.Printf("spinning on two threads: changed %#x %#x\n", r[0], r[1])

	// A signal delivered on the way out of the system call that sent it:
	// the thread sends itself SIGURG (the runtime's, handled and
	// ignored) with tgkill, and its handler runs before the call returns.
	runtime.LockOSThread()
	c := keep(syscall.SYS_TGKILL, uint64(syscall.Getpid()), uint64(syscall.Gettid()), uint64(syscall.SIGURG), 8, 2000, ymm)
	fmt.Printf("tgkill to itself: changed %#x\n", c)
}
