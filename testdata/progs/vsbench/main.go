// Command vsbench runs the same small benchmarks wherever it is started —
// on rt0, as the init of a Linux guest, on the host — and prints one line
// each: "bench NAME NS/OP". host/bench -only linux boots it on rt0 and on
// a Linux guest of the same QEMU and compares the two. As a Linux init
// (pid 1) it powers the machine off at the end, as rt0 does at exit.
//
// Usage: vsbench [-only NAME,...] [-benchtime D]
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var benchmarks = []struct {
	name string
	fn   func(b *testing.B)
}{
	{"getpid", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
		}
	}},
	{"pipe64", func(b *testing.B) {
		var p [2]int
		if err := syscall.Pipe(p[:]); err != nil {
			b.Fatal(err)
		}
		defer syscall.Close(p[0])
		defer syscall.Close(p[1])
		buf := make([]byte, 64)
		for i := 0; i < b.N; i++ {
			syscall.Write(p[1], buf)
			syscall.Read(p[0], buf)
		}
	}},
	{"chan-pingpong", func(b *testing.B) {
		ping, pong := make(chan int), make(chan int)
		go func() {
			for v := range ping {
				pong <- v
			}
		}()
		for i := 0; i < b.N; i++ {
			ping <- i
			<-pong
		}
		close(ping)
	}},
	{"goroutine-spawn", func(b *testing.B) {
		var wg sync.WaitGroup
		for i := 0; i < b.N; i++ {
			wg.Add(1)
			go wg.Done()
			wg.Wait()
		}
	}},
	{"mutex-contended", func(b *testing.B) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		n := 0
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < b.N/4; i++ {
					mu.Lock()
					n++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}},
	{"time-now", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			time.Now()
		}
	}},
	{"sleep-1ms", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			time.Sleep(time.Millisecond)
		}
	}},
	{"gc-16MB-live", func(b *testing.B) {
		live := make([][]byte, 16<<10)
		for i := range live {
			live[i] = make([]byte, 1<<10)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			runtime.GC()
		}
		runtime.KeepAlive(live)
	}},
	{"timer-select", func(b *testing.B) {
		c := make(chan int)
		for i := 0; i < b.N; i++ {
			t := time.NewTimer(time.Hour)
			select {
			case <-c:
			case <-t.C:
			default:
			}
			t.Stop()
		}
	}},
	{"touch-64MB", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			m, err := syscall.Mmap(-1, 0, 64<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
			if err != nil {
				b.Fatal(err)
			}
			for j := 0; j < len(m); j += 4096 {
				m[j] = 1
			}
			syscall.Munmap(m)
		}
	}},
	{"sha256-1KiB", func(b *testing.B) {
		buf := make([]byte, 1024)
		for i := 0; i < b.N; i++ {
			sha256.Sum256(buf)
		}
	}},
}

func main() {
	only := flag.String("only", "", "comma-separated benchmark names (default all)")
	benchtime := flag.Duration("benchtime", 300*time.Millisecond, "time per benchmark")
	flag.Parse()
	testing.Init()
	flag.Set("test.benchtime", benchtime.String())
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	for _, bm := range benchmarks {
		if len(want) > 0 && !want[bm.name] {
			continue
		}
		r := testing.Benchmark(bm.fn)
		fmt.Printf("bench %s %d\n", bm.name, r.NsPerOp())
	}
	fmt.Println("vsbench done")
	if os.Getpid() == 1 {
		// The init of a Linux guest: the machine stops with it.
		syscall.Sync()
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	}
}
