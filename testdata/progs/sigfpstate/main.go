// Command sigfpstate checks the floating-point part of a signal frame as
// Linux's x86-64 kernel writes it and takes it back: a raw handler (not
// the runtime's: frame_amd64.s) for SIGUSR2 copies what uc_mcontext.fpstate
// points at, and changes XMM3 and YMM3's upper half there; the thread
// signals itself with those registers holding patterns, and after
// rt_sigreturn reads them back. It prints uc_flags, the fpstate's
// alignment, Linux's _fpx_sw_bytes (magic1, extended_size, xfeatures,
// xstate_size) and FP_XSTATE_MAGIC2 after the image, where the image has
// the patterns, and what the registers hold after the handler's change.
// With the argument badheader or badmxcsr a last handler breaks the XSAVE
// header or sets every bit of MXCSR (see main). TestBootSignalFPState
// compares the output on rt0 with a Linux guest's on the same QEMU CPU.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Filled by the handler (frame_amd64.s).
var (
	ucFlags uint64
	fpAddr  uint64
	image   [4096]byte // the fpstate, up to its extended_size (or 512)
	imgLen  uint64
	// mode: what else the handler does (0 nothing; 1 it breaks the XSAVE
	// header; 2 it sets every bit of MXCSR).
	mode uint64
)

func mxcsr() uint32

// After the handler returned (raise, frame_amd64.s).
var after [4]uint64 // XMM3's quadwords, YMM3's upper ones

func handlerAddr() uintptr
func restorerAddr() uintptr

// raise loads XMM3 (and YMM3's upper half if ymm) with patterns, sends
// SIGUSR2 to this thread, and stores XMM3 and YMM3's upper half in after.
func raise(pid, tid, ymm uint64)

const (
	saSiginfo  = 0x4
	saRestorer = 0x04000000
)

// xstateEnd returns where the standard XSAVE layout of the components
// xf ends (CPUID.(EAX=0DH,ECX=i): EAX size, EBX offset), or 512.
func xstateEnd(xf uint64) uint32 {
	end := uint32(512)
	for i := uint32(2); i < 64; i++ {
		if xf&(1<<i) != 0 {
			size, off := cpuid(0xD, i)
			end = max(end, off+size)
		}
	}
	return end
}

// cpuid returns CPUID's EAX and EBX for leaf, sub (frame_amd64.s).
func cpuid(leaf, sub uint32) (a, b uint32)

func main() {
	runtime.LockOSThread()
	act := [4]uint64{uint64(handlerAddr()), saSiginfo | saRestorer, uint64(restorerAddr()), 0}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGUSR2), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
		panic(e)
	}
	ymm := uint64(0)
	if cpu.X86.HasAVX {
		ymm = 1
	}
	raise(uint64(syscall.Getpid()), uint64(syscall.Gettid()), ymm)

	le := binary.LittleEndian
	fmt.Printf("uc_flags %#x\n", ucFlags)
	fmt.Printf("fpstate 64-byte aligned: %v\n", fpAddr%64 == 0)
	fmt.Printf("image XMM3 %#x %#x\n", le.Uint64(image[160+48:]), le.Uint64(image[160+56:]))
	sw := image[464:]
	if le.Uint32(sw) == 0x46505853 {
		ext, xf, size := le.Uint32(sw[4:]), le.Uint64(sw[8:]), le.Uint32(sw[16:])
		// Linux turns protection keys on where the CPU has them, rt0
		// does not (guest/arch/amd64/fpu.go): PKRU (component 9, at the
		// end of the standard layout) is left out of what is compared.
		// The image's size covers the rest of xfeatures: the end of its
		// highest component, from CPUID.
		const pkru = 1 << 9
		fmt.Printf("magic1 yes: extended_size = xstate_size+4: %v, xfeatures but PKRU %#x, xstate_size covers them: %v\n",
			ext == size+4, xf&^pkru, size >= xstateEnd(xf&^pkru))
		fmt.Printf("magic2 after the image: %v\n", uint64(size)+4 <= imgLen && le.Uint32(image[size:]) == 0x46505845)
		if xf != 0 {
			fmt.Printf("XSTATE_BV has x87, SSE: %v\n", le.Uint64(image[512:])&3 == 3)
		}
		if ymm != 0 {
			fmt.Printf("image YMM3 upper %#x %#x\n", le.Uint64(image[576+48:]), le.Uint64(image[576+56:]))
		}
	} else {
		fmt.Println("magic1 no")
	}
	fmt.Printf("after: XMM3 %#x %#x\n", after[0], after[1])
	if ymm != 0 {
		fmt.Printf("after: YMM3 upper %#x %#x\n", after[2], after[3])
	}
	// On request (it ends the program): a handler that breaks the XSAVE
	// header, or sets every bit of MXCSR, reserved ones included. Linux's
	// rt_sigreturn finds a bad frame in both (with XSAVE; without, it
	// drops MXCSR's reserved bits) and forces SIGSEGV, which the
	// runtime's handler reports as a fault at raise.
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "badheader":
			mode = 1
		case "badmxcsr":
			mode = 2
		}
		raise(uint64(syscall.Getpid()), uint64(syscall.Gettid()), ymm)
		fmt.Printf("rt_sigreturn took it; MXCSR %#x\n", mxcsr())
	}
	fmt.Println("sigfpstate done")
	if os.Getpid() == 1 {
		syscall.Sync()
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	}
}
