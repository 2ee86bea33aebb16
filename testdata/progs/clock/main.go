// clock checks the clocks a program sees: monotonic time never goes back,
// a 200 ms sleep lasts 200 ms (give or take the emulator), wall time is
// plausible, and time.Now is cheap enough to call in a loop. With the
// argument long it also reads the clock for 1.5 s on, past the kernel's
// refinement of the TSC's rate at one second, and counts readings that went
// back.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	prev := time.Now()
	back := 0
	for i := 0; i < 20000; i++ {
		now := time.Now()
		if now.Before(prev) {
			back++
		}
		prev = now
	}
	fmt.Println("monotonic went back:", back)
	t0 := time.Now()
	time.Sleep(200 * time.Millisecond)
	d := time.Since(t0)
	fmt.Println("sleep 200ms took 200-400ms:", d >= 200*time.Millisecond && d < 400*time.Millisecond)
	fmt.Println("wall clock after 2024:", time.Now().Year() >= 2024)
	if len(os.Args) > 1 && os.Args[1] == "long" {
		back = 0
		start := time.Now()
		prev = start
		for prev.Sub(start) < 1500*time.Millisecond {
			now := time.Now()
			if now.Before(prev) {
				back++
			}
			prev = now
		}
		fmt.Println("monotonic went back in 1.5 s:", back)
	}
}
