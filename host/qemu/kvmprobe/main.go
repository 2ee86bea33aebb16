// Command kvmprobe is the program the KVM probe boots (rt0/host/qemu's
// accel.go): rt0's kernel with the smallest program that still does what
// every Go program does at start and soon after. The runtime's start uses
// SSE, paging changes, the SYSCALL path and new threads (clone for
// sysmon); a goroutine that wakes the main one after a sleep adds the timer
// interrupt, futex waits and wakes, and an idle CPU halting with
// interrupts on. If any of that cannot run under an accelerator, the probe
// does not print its line, or does not exit 7, and the accelerator is not
// used.
package main

import (
	"fmt"
	"os"
	"time"
)

// Line is what the probe prints on success; Status its exit status.
const (
	Line   = "rt0 kvm probe: ok\n"
	Status = 7
)

func main() {
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		time.Sleep(2 * time.Millisecond)
		done <- time.Since(start)
	}()
	if d := <-done; d < 2*time.Millisecond {
		fmt.Printf("rt0 kvm probe: slept %v, want at least 2ms\n", d)
		os.Exit(1)
	}
	fmt.Print(Line)
	os.Exit(Status)
}
