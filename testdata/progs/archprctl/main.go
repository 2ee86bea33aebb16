// archprctl: the runtime never calls arch_prctl under rt0 (its _cgo_init
// hook sets FS), but a program may: ARCH_GET_FS must report the thread's FS
// base, and ARCH_SET_FS must set it (here to the same value, since the
// runtime keeps g at FS:-8).
package main

import (
	"fmt"
	"syscall"
	"unsafe"
)

const (
	archSetFS = 0x1002
	archGetFS = 0x1003
)

func main() {
	var fs uint64
	_, _, e := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archGetFS, uintptr(unsafe.Pointer(&fs)), 0)
	fmt.Println("get:", e == 0, fs != 0 && fs%8 == 0)
	_, _, e = syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archSetFS, uintptr(fs), 0)
	var again uint64
	syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archGetFS, uintptr(unsafe.Pointer(&again)), 0)
	fmt.Println("set:", e == 0, again == fs)
	_, _, e = syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, 0x9999, 0, 0)
	fmt.Println("bad code:", e)
}
