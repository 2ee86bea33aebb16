// selects: select over ready, nil and closed channels, defaults, timeouts
// and context cancellation. Only scheduling-independent facts are printed.
package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

func main() {
	// Two producers into one select loop: every value arrives once.
	a, b := make(chan int), make(chan int)
	for _, c := range []chan int{a, b} {
		go func(c chan int) {
			for i := 1; i <= 500; i++ {
				c <- i
			}
			close(c)
		}(c)
	}
	sum, n := 0, 0
	for a != nil || b != nil {
		select {
		case v, ok := <-a:
			if !ok {
				a = nil
				continue
			}
			sum += v
			n++
		case v, ok := <-b:
			if !ok {
				b = nil
				continue
			}
			sum += v
			n++
		}
	}
	fmt.Println("merged:", n, "values, sum", sum)

	// default when nothing is ready; a nil channel is never ready.
	var never chan int
	select {
	case <-never:
		fmt.Println("nil channel ready?!")
	default:
		fmt.Println("default taken")
	}

	// A timeout beats a channel nobody writes.
	start := time.Now()
	select {
	case <-make(chan int):
		fmt.Println("impossible")
	case <-time.After(20 * time.Millisecond):
		fmt.Println("timeout after >= 20ms:", time.Since(start) >= 20*time.Millisecond)
	}

	// A ready channel beats a long timeout.
	ready := make(chan string, 1)
	ready <- "value"
	select {
	case v := <-ready:
		fmt.Println("ready:", v)
	case <-time.After(time.Hour):
		fmt.Println("hour passed?!")
	}

	// Context cancellation and deadlines.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	fmt.Println("deadline:", errors.Is(ctx.Err(), context.DeadlineExceeded))
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(5 * time.Millisecond); cancel2() }()
	select {
	case <-ctx2.Done():
		fmt.Println("canceled:", ctx2.Err())
	case <-time.After(10 * time.Second):
		fmt.Println("cancel lost")
	}

	// Sends and receives in one select, in a loop until both are done.
	out, in := make(chan int, 3), make(chan int, 3)
	in <- 1
	in <- 2
	in <- 3
	sent, got := 0, 0
	for sent < 3 || got < 3 {
		var o chan int
		if sent < 3 {
			o = out
		}
		var i chan int
		if got < 3 {
			i = in
		}
		select {
		case o <- sent:
			sent++
		case <-i:
			got++
		}
	}
	fmt.Println("sent", sent, "received", got, "buffered", len(out))
}
