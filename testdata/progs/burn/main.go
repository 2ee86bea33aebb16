// burn keeps one CPU busy in main.burn for a second (the -d flag): the
// program rt0 run -profile's test profiles.
package main

import (
	"flag"
	"fmt"
	"time"
)

//go:noinline
func burn(d time.Duration) uint64 {
	var x uint64
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

func main() {
	d := flag.Duration("d", time.Second, "how long to burn")
	flag.Parse()
	fmt.Println("burnt:", burn(*d) != 0)
}
