// Command soak keeps the runtime and the kernel busy for a while (the
// duration is its argument, default 10s): GC churn, goroutines and
// channels, pipes, loopback TCP, timers and signals, all at once, each checking
// what it gets. It prints one line per minute and "soak ok" at the end, or
// the first wrong result and exit status 1. host/bench runs it for 10
// minutes on 4 CPUs (go run ./host/bench -only soak).
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var failed atomic.Bool

func fail(format string, args ...any) {
	if !failed.Swap(true) {
		fmt.Printf("soak FAILED: "+format+"\n", args...)
		os.Exit(1)
	}
}

func main() {
	d := 10 * time.Second
	if len(os.Args) > 1 {
		var err error
		if d, err = time.ParseDuration(os.Args[1]); err != nil {
			fmt.Println("soak: bad duration:", err)
			os.Exit(2)
		}
	}
	end := time.Now().Add(d)
	var counts [6]atomic.Int64
	var wg sync.WaitGroup
	run := func(i int, f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				f()
				counts[i].Add(1)
			}
		}()
	}

	// GC churn: allocate and drop, keep a little alive, collect now and then.
	var keep [][]byte
	var mu sync.Mutex
	run(0, func() {
		b := make([]byte, 64<<10)
		b[len(b)-1] = 1
		mu.Lock()
		keep = append(keep, b)
		if len(keep) > 64 {
			keep = keep[32:]
		}
		mu.Unlock()
		if counts[0].Load()%200 == 0 {
			runtime.GC()
		}
	})

	// Goroutines and channels: a fan-out whose sum is known.
	run(1, func() {
		const n = 100
		ch := make(chan int)
		for i := 0; i < n; i++ {
			go func(i int) { ch <- i }(i)
		}
		sum := 0
		for i := 0; i < n; i++ {
			sum += <-ch
		}
		if sum != n*(n-1)/2 {
			fail("channel sum %d", sum)
		}
	})

	// Pipes: a round trip through the kernel.
	r, w, err := os.Pipe()
	if err != nil {
		fail("pipe: %v", err)
	}
	run(2, func() {
		msg := []byte("ping through a pipe")
		go w.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, msg) {
			fail("pipe read %q, %v", got, err)
		}
	})

	// Loopback TCP: an echo server and a client.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen: %v", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	run(3, func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			fail("dial: %v", err)
		}
		msg := bytes.Repeat([]byte("tcp"), 1000)
		go c.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			fail("tcp echo: %v", err)
		}
		c.Close()
	})

	// Timers: they fire, and not early.
	run(4, func() {
		start := time.Now()
		t := time.NewTimer(2 * time.Millisecond)
		<-t.C
		if el := time.Since(start); el < 2*time.Millisecond {
			fail("a 2 ms timer fired after %v", el)
		}
	})

	// Signals: one sent to the process arrives, handled by the runtime
	// on some thread, while everything above runs.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	run(5, func() {
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		select {
		case <-sigs:
		case <-time.After(5 * time.Second):
			fail("SIGUSR1 did not arrive in 5 s")
		}
	})

	tick := time.NewTicker(time.Minute)
	go func() {
		for t := range tick.C {
			_ = t
			fmt.Printf("soak: gc %d, fan-outs %d, pipe trips %d, tcp trips %d, timers %d, signals %d\n",
				counts[0].Load(), counts[1].Load(), counts[2].Load(), counts[3].Load(), counts[4].Load(), counts[5].Load())
		}
	}()
	wg.Wait()
	tick.Stop()
	fmt.Printf("soak ok: %v on %d CPUs: gc %d, fan-outs %d, pipe trips %d, tcp trips %d, timers %d, signals %d\n", d, runtime.NumCPU(),
		counts[0].Load(), counts[1].Load(), counts[2].Load(), counts[3].Load(), counts[4].Load(), counts[5].Load())
}
