// unknownsys calls a syscall rt0 does not serve, twice: each call must fail
// with ENOSYS, and the kernel must log its name once.
package main

import (
	"fmt"
	"syscall"
)

func main() {
	for i := 0; i < 2; i++ {
		_, _, e := syscall.Syscall(syscall.SYS_ACCT, 0, 0, 0)
		fmt.Println(e == syscall.ENOSYS, e)
	}
}
