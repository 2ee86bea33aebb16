// goroutines: worker pools, mutexes, atomics, unbuffered ping-pong and a
// pipeline. Every printed number is computed and independent of scheduling.
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
)

func collatz(n int) int {
	steps := 0
	for n != 1 {
		if n%2 == 0 {
			n /= 2
		} else {
			n = 3*n + 1
		}
		steps++
	}
	return steps
}

func main() {
	// A pool of 8 workers over 10,000 jobs; results by index.
	const jobs = 10000
	res := make([]int, jobs+1)
	in := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range in {
				res[n] = collatz(n)
			}
		}()
	}
	for n := 1; n <= jobs; n++ {
		in <- n
	}
	close(in)
	wg.Wait()
	sum, max, arg := 0, 0, 0
	for n, s := range res {
		sum += s
		if s > max {
			max, arg = s, n
		}
	}
	fmt.Println("collatz: sum", sum, "longest", arg, "with", max, "steps")

	// 100 goroutines x 1000 increments under a mutex, and atomically.
	var mu sync.Mutex
	var locked int
	var atomics atomic.Int64
	for g := 0; g < 100; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				mu.Lock()
				locked++
				mu.Unlock()
				atomics.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Println("mutex:", locked, "atomic:", atomics.Load())

	// Unbuffered ping-pong.
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	v := 0
	for i := 0; i < 20000; i++ {
		ping <- v
		v = <-pong
	}
	close(ping)
	_, open := <-pong
	fmt.Println("ping-pong:", v, "closed:", !open)

	// A three-stage pipeline.
	gen := func(n int) <-chan int {
		c := make(chan int, 16)
		go func() {
			for i := 1; i <= n; i++ {
				c <- i
			}
			close(c)
		}()
		return c
	}
	sq := func(in <-chan int) <-chan int {
		c := make(chan int)
		go func() {
			for v := range in {
				c <- v * v
			}
			close(c)
		}()
		return c
	}
	total := 0
	for v := range sq(sq(gen(100))) {
		total += v
	}
	fmt.Println("pipeline:", total)

	// sync.Once and sync.Map.
	var once sync.Once
	var m sync.Map
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			once.Do(func() { m.Store("once", true) })
			m.Store(i, i*i)
		}(i)
	}
	wg.Wait()
	n := 0
	m.Range(func(k, v any) bool { n++; return true })
	fmt.Println("sync.Map entries:", n)
}
