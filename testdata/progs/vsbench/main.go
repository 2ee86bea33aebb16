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
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
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
	{"alloc-64B", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sink = make([]byte, 64)
		}
	}},
	{"file-4KiB", func(b *testing.B) {
		// A 4 KiB write and read back at offset 0 of a file in /tmp.
		os.MkdirAll("/tmp", 0o777)
		f, err := os.CreateTemp("/tmp", "vsbench")
		if err != nil {
			b.Fatal(err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		buf := make([]byte, 4096)
		for i := 0; i < b.N; i++ {
			f.WriteAt(buf, 0)
			f.ReadAt(buf, 0)
		}
	}},
	{"tcp-rtt", func(b *testing.B) {
		c, s := tcpPair(b)
		defer c.Close()
		defer s.Close()
		go func() {
			var one [1]byte
			for {
				if _, err := s.Read(one[:]); err != nil {
					return
				}
				s.Write(one[:])
			}
		}()
		var one [1]byte
		for i := 0; i < b.N; i++ {
			c.Write(one[:])
			c.Read(one[:])
		}
	}},
	{"tcp-64KiB", func(b *testing.B) {
		c, s := tcpPair(b)
		defer c.Close()
		defer s.Close()
		done := make(chan struct{})
		go func() {
			io.Copy(io.Discard, s)
			close(done)
		}()
		buf := make([]byte, 64<<10)
		b.SetBytes(int64(len(buf)))
		for i := 0; i < b.N; i++ {
			c.Write(buf)
		}
		c.Close()
		<-done
	}},
	{"sha256-1KiB", func(b *testing.B) {
		buf := make([]byte, 1024)
		for i := 0; i < b.N; i++ {
			sha256.Sum256(buf)
		}
	}},
}

var sink []byte

// tcpPair returns the two ends of a TCP connection on the loopback.
func tcpPair(b *testing.B) (client, server net.Conn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	if server, err = l.Accept(); err != nil {
		b.Fatal(err)
	}
	return client, server
}

// loopbackUp brings up lo, which a Linux kernel leaves down for its init
// (rt0's loopback is always up).
func loopbackUp() {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return
	}
	defer syscall.Close(fd)
	var ifr [40]byte // struct ifreq: the name, then the flags
	copy(ifr[:], "lo")
	*(*uint16)(unsafe.Pointer(&ifr[16])) = syscall.IFF_UP | syscall.IFF_LOOPBACK | syscall.IFF_RUNNING
	syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0])))
}

func main() {
	only := flag.String("only", "", "comma-separated benchmark names (default all)")
	benchtime := flag.Duration("benchtime", 300*time.Millisecond, "time per benchmark")
	flag.Parse()
	if os.Getpid() == 1 {
		loopbackUp()
	}
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
