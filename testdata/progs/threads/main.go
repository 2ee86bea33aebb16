// threads asks for more OS threads than rt0's thread table holds: each
// goroutine locks itself to its thread and waits, so every one needs a new
// thread. The kernel's clone must fail with EAGAIN, and the runtime stop
// with its own "failed to create new OS thread", as on a Linux whose
// thread limit is reached — not the kernel.
package main

import (
	"fmt"
	"runtime"
)

func main() {
	block := make(chan bool)
	started := make(chan bool)
	for i := 0; i < 400; i++ {
		go func() {
			runtime.LockOSThread()
			started <- true
			<-block
		}()
		<-started
		if i%50 == 0 {
			fmt.Println("threads locked:", i+1)
		}
	}
	fmt.Println("all 400 threads: the limit was not reached")
}
