// preempt: a goroutine spinning without function calls can only be stopped
// by asynchronous preemption (SIGURG from sysmon). With GOMAXPROCS=1, main
// gets the CPU back only if that works.
package main

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

var spin atomic.Uint64 // an intrinsic: no call, so no cooperative preemption point

func main() {
	runtime.GOMAXPROCS(1)
	go func() {
		for {
			spin.Add(1)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	fmt.Println("main ran again; the spinner ran too:", spin.Load() > 0)
}
