// oom allocates until memory runs out: it must end with the runtime's own
// "fatal error: runtime: out of memory" and exit status 2.
package main

import "fmt"

func main() {
	var keep [][]byte
	for i := 0; ; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
		if i%16 == 0 {
			fmt.Println("MB", i)
		}
	}
}
