// Command smp checks that the machine's CPUs all run the program: it prints
// NumCPU and GOMAXPROCS, keeps GOMAXPROCS goroutines busy and records on
// which CPUs (getcpu) they ran, pins a locked thread to the last CPU with
// sched_setaffinity and checks that it then runs there only, and prints
// what /sys/devices/system/cpu/online says.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// sysGetcpu is getcpu(2) on linux/amd64 (the syscall package has no name for it).
const sysGetcpu = 309

func getcpu() int {
	var cpu, node uint32
	if _, _, e := syscall.RawSyscall(sysGetcpu, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0); e != 0 {
		panic(e)
	}
	return int(cpu)
}

func setaffinity(mask uint64) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, 8, uintptr(unsafe.Pointer(&mask)))
	if e != 0 {
		return e
	}
	return nil
}

func main() {
	n := runtime.GOMAXPROCS(0)
	fmt.Println("NumCPU", runtime.NumCPU(), "GOMAXPROCS", n)

	// n busy goroutines for up to 20 s, until every CPU has been seen.
	var mu sync.Mutex
	seen := map[int]bool{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for {
				for j := 0; j < 20000; j++ {
					x += j
				}
				c := getcpu()
				mu.Lock()
				seen[c] = true
				all := len(seen) == n
				mu.Unlock()
				if all || time.Now().After(deadline) {
					break
				}
				select {
				case <-done:
					return
				default:
				}
			}
			_ = x
		}()
	}
	wg.Wait()
	close(done)
	fmt.Println("CPUs seen", len(seen))

	// Pinning: a locked thread moved to the last CPU runs there.
	runtime.LockOSThread()
	last := runtime.NumCPU() - 1
	if err := setaffinity(1 << last); err != nil {
		fmt.Println("sched_setaffinity:", err)
		os.Exit(1)
	}
	ok := true
	for i := 0; i < 200; i++ {
		if getcpu() != last {
			ok = false
		}
		runtime.Gosched()
		time.Sleep(10 * time.Microsecond)
	}
	fmt.Println("pinned to the last CPU:", ok)
	if err := setaffinity(1 << 63); err == nil {
		fmt.Println("a mask of CPUs that do not exist was accepted")
	}
	runtime.UnlockOSThread()

	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	fmt.Printf("online %q %v\n", b, err)
	info, _ := os.ReadFile("/proc/cpuinfo")
	fmt.Println("cpuinfo processors", strings.Count(string(info), "processor\t:"))
}
