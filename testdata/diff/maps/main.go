// maps: growth, deletion, clearing, iteration (summed or sorted: map order
// is random), maps of structs and of slices.
package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

type point struct{ x, y int }

func main() {
	m := map[string]int{}
	for i := 0; i < 200000; i++ {
		m["k"+strconv.Itoa(i)] = i
	}
	sum := 0
	for _, v := range m {
		sum += v
	}
	fmt.Println("len", len(m), "sum", sum)
	for i := 0; i < 200000; i += 3 {
		delete(m, "k"+strconv.Itoa(i))
	}
	keys := slices.Sorted(maps.Keys(m))
	fmt.Println("after delete:", len(m), "first keys", keys[:5], "last", keys[len(keys)-1])
	v, ok := m["k3"]
	w, ok2 := m["k4"]
	fmt.Println("lookup k3:", v, ok, "k4:", w, ok2)
	clear(m)
	fmt.Println("cleared:", len(m))

	grid := map[point][]int{}
	for x := 0; x < 100; x++ {
		for y := 0; y < 100; y++ {
			p := point{x % 10, y % 10}
			grid[p] = append(grid[p], x*y)
		}
	}
	total := 0
	for _, vs := range grid {
		for _, v := range vs {
			total += v
		}
	}
	fmt.Println("grid cells", len(grid), "total", total, "cell(3,4) len", len(grid[point{3, 4}]))

	// Maps of maps, and a map copy.
	nested := map[int]map[int]bool{}
	for i := 0; i < 1000; i++ {
		if nested[i%7] == nil {
			nested[i%7] = map[int]bool{}
		}
		nested[i%7][i] = true
	}
	c := maps.Clone(nested[3])
	delete(nested[3], 3)
	fmt.Println("nested", len(nested), len(nested[3]), "clone", len(c), c[3])

	// Integer keys with collisions in the low bits.
	im := map[uint64]uint64{}
	for i := uint64(0); i < 100000; i++ {
		im[i<<32] = i
	}
	var s uint64
	for k, v := range im {
		s += k>>32 + 3*v
	}
	fmt.Println("shifted keys", len(im), "sum", s)
}
