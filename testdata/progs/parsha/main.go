// Command parsha is the parallel speed-up benchmark of host/bench: a fixed
// amount of CPU work (SHA-256 over 64 KiB blocks, 512 of them, each block's
// hash chained 8 times) split evenly among GOMAXPROCS goroutines, timed
// inside the machine. The work never changes with the CPU count, so the
// time on 1 CPU over the time on n CPUs is the speed-up.
package main

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"time"
)

const blocks, rounds = 512, 8

func main() {
	p := runtime.GOMAXPROCS(0)
	block := make([]byte, 64<<10)
	for i := range block {
		block[i] = byte(i * 7)
	}
	sums := make([][32]byte, blocks)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < p; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, len(block))
			for b := w; b < blocks; b += p {
				copy(buf, block)
				buf[0] = byte(b)
				s := sha256.Sum256(buf)
				for r := 1; r < rounds; r++ {
					copy(buf, s[:])
					s = sha256.Sum256(buf)
				}
				sums[b] = s
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(start)
	all := sha256.New()
	for _, s := range sums {
		all.Write(s[:])
	}
	fmt.Printf("parsha: %d workers, %.1f ms, digest %x\n", p, float64(el.Microseconds())/1000, all.Sum(nil)[:8])
}
