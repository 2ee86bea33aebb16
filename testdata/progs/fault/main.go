// fault takes a CPU fault with no handler: it gives SIGSEGV back its
// default action (as a C program that never installed one would have) and
// dereferences nil. The kernel must report the fault (vector, error code,
// registers, the code at RIP) and end the program as Linux would: killed
// by SIGSEGV, exit status 139.
package main

import (
	"fmt"
	"syscall"
	"unsafe"
)

func main() {
	var act [4]uint64 // struct sigaction: handler SIG_DFL, flags, restorer, mask
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGSEGV), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
		fmt.Println("rt_sigaction:", e)
	}
	fmt.Println("about to fault")
	var p *int
	fmt.Println(*p)
}
