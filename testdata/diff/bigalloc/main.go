// bigalloc: large allocations, touched everywhere and checksummed: a 64 MiB
// slice, a 16M-entry []uint32, and 100 x 1 MiB buffers with a few kept.
package main

import (
	"crypto/sha256"
	"fmt"
)

func main() {
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>12)
	}
	fmt.Printf("64MiB sha256 %x\n", sha256.Sum256(big))

	words := make([]uint32, 16<<20)
	x := uint32(2463534242)
	for i := range words {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		words[i] = x
	}
	var s uint64
	for _, w := range words {
		s += uint64(w)
	}
	fmt.Println("16M xorshift words, sum", s, "last", words[len(words)-1])
	big, words = nil, nil

	var keep [][]byte
	h := sha256.New()
	for i := 0; i < 100; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i + j>>12)
		}
		h.Write(b)
		if i%10 == 0 {
			keep = append(keep, b)
		}
	}
	fmt.Printf("100 x 1MiB sha256 %x, kept %d\n", h.Sum(nil), len(keep))
	fmt.Println(len(big), len(words))
}
