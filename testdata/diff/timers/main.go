// timers: sleeps, timers, tickers and AfterFunc. Durations are only
// checked against lower bounds; orders are made unambiguous by wide gaps.
package main

import (
	"fmt"
	"sync"
	"time"
)

func main() {
	start := time.Now()
	time.Sleep(15 * time.Millisecond)
	fmt.Println("slept >= 15ms:", time.Since(start) >= 15*time.Millisecond)

	// AfterFunc in order of their durations, not of their creation.
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for _, d := range []int{60, 20, 100, 40} {
		wg.Add(1)
		time.AfterFunc(time.Duration(d)*time.Millisecond, func() {
			mu.Lock()
			order = append(order, d)
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	fmt.Println("AfterFunc order:", order)

	// A ticker delivers ticks; Stop stops it.
	tk := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	for range tk.C {
		ticks++
		if ticks == 5 {
			break
		}
	}
	tk.Stop()
	fmt.Println("ticks:", ticks)

	// Stop and Reset report whether the timer was active.
	t := time.NewTimer(time.Hour)
	fmt.Println("stop active timer:", t.Stop())
	fmt.Println("stop stopped timer:", t.Stop())
	t.Reset(10 * time.Millisecond)
	<-t.C
	fmt.Println("reset timer fired")
	fmt.Println("stop fired timer:", t.Stop())

	// Many timers at once.
	const n = 1000
	done := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		time.AfterFunc(time.Duration(i%50)*time.Millisecond, func() { done <- struct{}{} })
	}
	for i := 0; i < n; i++ {
		<-done
	}
	fmt.Println("fired:", n)

	// The monotonic clock never goes back; wall time is after 2020.
	prev := time.Now()
	back := false
	for i := 0; i < 10000; i++ {
		now := time.Now()
		if now.Before(prev) {
			back = true
		}
		prev = now
	}
	fmt.Println("monotonic:", !back, "year >= 2020:", time.Now().Year() >= 2020)
	fmt.Println("UTC zone name:", time.Now().UTC().Format("MST"))
}
