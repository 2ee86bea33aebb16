// gc: binary trees (allocation-heavy), explicit collections, finalizers and
// a heap that grows and shrinks. Printed checks do not depend on timing.
package main

import (
	"fmt"
	"runtime"
	"time"
)

type node struct{ left, right *node }

func tree(depth int) *node {
	if depth == 0 {
		return &node{}
	}
	return &node{tree(depth - 1), tree(depth - 1)}
}

func (n *node) check() int {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

func main() {
	long := tree(16)
	for d := 4; d <= 16; d += 4 {
		iters := 1 << (16 - d + 4)
		c := 0
		for i := 0; i < iters; i++ {
			c += tree(d).check()
		}
		fmt.Println("trees of depth", d, "x", iters, "check", c)
	}
	fmt.Println("long-lived tree check", long.check())

	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	runtime.GC()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	fmt.Println("collections happened:", after.NumGC > before.NumGC, "forced:", after.NumForcedGC >= 2)

	// Finalizers run after the objects die (eventually: wait for all).
	done := make(chan int, 100)
	for i := 0; i < 100; i++ {
		p := new([64]byte)
		runtime.SetFinalizer(p, func(*[64]byte) { done <- 1 })
	}
	got := 0
	deadline := time.Now().Add(20 * time.Second)
	for got < 100 && time.Now().Before(deadline) {
		runtime.GC()
		for len(done) > 0 {
			got += <-done
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Println("finalizers run:", got)

	// The heap grows to tens of MB and comes back down.
	var keep [][]byte
	for i := 0; i < 64; i++ {
		keep = append(keep, make([]byte, 1<<20))
	}
	var big runtime.MemStats
	runtime.ReadMemStats(&big)
	keep = nil
	runtime.GC()
	var small runtime.MemStats
	runtime.ReadMemStats(&small)
	fmt.Println("heap >= 64MB:", big.HeapAlloc >= 64<<20, "then < 32MB:", small.HeapAlloc < 32<<20, len(keep))
	runtime.KeepAlive(long)
}
