// scroll is the program of the screen console benchmark (host/bench/): it
// writes lines to standard output, one write each, so that the screen
// scrolls on every line once it is full, and reports how long the writes
// took.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 1000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	start := time.Now()
	for i := 1; i <= n; i++ {
		fmt.Printf("line %4d of %d: the quick brown fox jumps over the lazy dog\n", i, n)
	}
	d := time.Since(start)
	fmt.Printf("scroll: %d lines in %.1f ms\n", n, float64(d.Microseconds())/1000)
}
