// Command coldstart is the init of a Linux guest that times how long the
// Go program at /prog takes from its start to its first output: it runs
// it three times and prints, for each, fork+exec -> the first byte on its
// standard output, and -> its exit. Under QEMU's TCG the first run
// translates every instruction the program's start runs for the first
// time; the later runs find the program's pages (the same page cache
// pages, so the same physical addresses) already translated, so cold minus
// warm is what translation costs. host/bench -only boot prints the runs
// beside rt0's boot: the Go runtime's own start under the same emulator,
// without rt0 in the way.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	for i := 0; i < 3; i++ {
		cmd := exec.Command("/prog")
		cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr // the console: a bare initramfs has no /dev/null
		out, err := cmd.StdoutPipe()
		if err != nil {
			fmt.Println("coldstart:", err)
			break
		}
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			fmt.Println("coldstart:", err)
			break
		}
		var b [1]byte
		_, err = out.Read(b[:])
		first := time.Since(t0)
		buf := make([]byte, 64<<10)
		for err == nil {
			_, err = out.Read(buf)
		}
		err = cmd.Wait()
		all := time.Since(t0)
		fmt.Printf("coldstart: run %d: first output %d us, exit %d us (%v)\n", i, first.Microseconds(), all.Microseconds(), err)
	}
	if os.Getpid() == 1 {
		syscall.Sync()
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	}
}
