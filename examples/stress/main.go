// stress exercises the runtime under rt0: many goroutines, channels,
// select, timers, maps, explicit GC and steady allocation. It prints a few
// checked lines; every number it prints is computed, and a wrong one means
// the kernel lost a wake-up, a page or a timer.
package main

// On several CPUs the three AfterFunc callbacks, each in a goroutine of its
// own, may report out of order (one whose P is busy starts after the next
// one, 10 ms later), on Linux as on rt0:
//
//rt0diff:smp-varies ^timers: (10|20|30) (10|20|30) (10|20|30) true$

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

func main() {
	// 10,000 goroutines, each sending its index over a channel.
	const n = 10000
	ch := make(chan int, 100)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ch <- i
		}(i)
	}
	go func() { wg.Wait(); close(ch) }()
	sum := 0
	for v := range ch {
		sum += v
	}
	fmt.Println("goroutines:", n, "sum:", sum, "want:", n*(n-1)/2)

	// select over channels and timers.
	a, b := make(chan int), make(chan int)
	go func() {
		for i := 0; i < 100; i++ {
			a <- i
		}
		close(a)
	}()
	go func() {
		for i := 0; i < 100; i++ {
			b <- i
		}
		close(b)
	}()
	got, timeouts := 0, 0
	tick := time.NewTicker(time.Millisecond)
	for a != nil || b != nil {
		select {
		case _, ok := <-a:
			if !ok {
				a = nil
				continue
			}
			got++
		case _, ok := <-b:
			if !ok {
				b = nil
				continue
			}
			got++
		case <-tick.C:
			timeouts++
		}
	}
	tick.Stop()
	fmt.Println("select:", got)

	// Timers fire in order.
	start := time.Now()
	done := make(chan int, 3)
	for _, d := range []int{30, 10, 20} {
		time.AfterFunc(time.Duration(d)*time.Millisecond, func() { done <- d })
	}
	fmt.Println("timers:", <-done, <-done, <-done, time.Since(start) >= 30*time.Millisecond)

	// Maps.
	m := map[int]string{}
	for i := 0; i < 100000; i++ {
		m[i] = fmt.Sprint(i)
	}
	for i := 0; i < 100000; i += 2 {
		delete(m, i)
	}
	fmt.Println("map:", len(m), m[99999])

	// 200 MB allocated over time, 1 MB at a time, with only a few MB live.
	var keep [][]byte
	total := 0
	for i := 0; i < 200; i++ {
		buf := make([]byte, 1<<20)
		buf[0], buf[len(buf)-1] = byte(i), byte(i)
		keep = append(keep, buf)
		if len(keep) > 4 {
			keep = keep[1:]
		}
		total += len(buf)
		if i%50 == 49 {
			runtime.GC()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Println("allocated MB:", total>>20, "GCs >= 4:", ms.NumGC >= 4, "last:", keep[3][0])

	if sum != n*(n-1)/2 || got != 200 || len(m) != 50000 {
		os.Exit(1)
	}
}
