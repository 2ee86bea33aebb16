// interrupt prints "ready", then reads a line of standard input. The boot
// test types ^C (or ^\) in the middle of that line on the console, as on a
// terminal: with "notify" the program catches SIGINT and prints the line,
// which must not contain the ^C; with "default" SIGINT ends it (status
// 130); with "quit" SIGQUIT makes the runtime dump its goroutines and exit
// with status 2.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	mode := "default"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	var got chan os.Signal
	if mode == "notify" {
		got = make(chan os.Signal, 1)
		signal.Notify(got, syscall.SIGINT)
	}
	fmt.Println("ready")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if got != nil {
		fmt.Println("signal:", <-got)
	}
	fmt.Printf("line %q %v\n", line, err)
}
