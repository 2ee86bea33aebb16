// burn keeps one CPU busy in main.burn for a second (the -d flag), or with
// -syscalls in main.getpids making system calls: the program rt0 run
// -profile's test profiles.
package main

import (
	"flag"
	"fmt"
	"syscall"
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

//go:noinline
func getpids(d time.Duration) int {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 100; i++ {
			n += syscall.Getpid()
		}
	}
	return n
}

func main() {
	d := flag.Duration("d", time.Second, "how long to burn")
	sys := flag.Bool("syscalls", false, "make system calls instead")
	flag.Parse()
	if *sys {
		fmt.Println("burnt:", getpids(*d) != 0)
		return
	}
	fmt.Println("burnt:", burn(*d) != 0)
}
