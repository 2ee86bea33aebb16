// console is a small shell for a PC booted with rt0: type a command, get an
// answer, see the Go runtime alive on bare metal. Commands: help, mem,
// goroutines, gc, uptime, time, echo WORDS, exit [CODE].
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

var start = time.Now()

func main() {
	fmt.Printf("rt0 console: Go %s on %s/%s, %d CPU, GOMAXPROCS %d. Type help.\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	in := bufio.NewScanner(os.Stdin)
	for {
		fmt.Print("> ")
		if !in.Scan() {
			fmt.Println()
			return
		}
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "help":
			fmt.Println("help, mem, goroutines, gc, uptime, time, echo WORDS, exit [CODE]")
		case "mem":
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Printf("heap %d KiB in use, %d KiB from the system, %d GCs\n", m.HeapInuse>>10, m.Sys>>10, m.NumGC)
		case "goroutines":
			done := make(chan bool)
			for i := 0; i < 100; i++ {
				go func() { <-done }()
			}
			n := runtime.NumGoroutine()
			close(done)
			fmt.Printf("%d goroutines (100 started for the count)\n", n)
		case "gc":
			t := time.Now()
			runtime.GC()
			fmt.Printf("GC took %v\n", time.Since(t).Round(time.Microsecond))
		case "uptime":
			fmt.Printf("up %v\n", time.Since(start).Round(time.Millisecond))
		case "time":
			fmt.Println(time.Now().UTC().Format(time.RFC1123))
		case "echo":
			fmt.Println(strings.Join(f[1:], " "))
		case "exit":
			code := 0
			if len(f) > 1 {
				code, _ = strconv.Atoi(f[1])
			}
			os.Exit(code)
		default:
			fmt.Printf("%s: unknown command (try help)\n", f[0])
		}
	}
}
