// panics: CPU faults become Go panics, recoverable as on Linux, and an
// unrecovered one ends the program with status 2.
package main

import (
	"fmt"
	"os"
)

type T struct{ x int }

func nilDeref(p *T) (err any) {
	defer func() { err = recover() }()
	return p.x
}

func divide(a, b int) (err any) {
	defer func() { err = recover() }()
	return a / b
}

func main() {
	fmt.Println("nil:", nilDeref(nil))
	fmt.Println("div:", divide(1, 0))
	var m map[string]int
	func() {
		defer func() { fmt.Println("map:", recover()) }()
		m["x"] = 1
	}()
	if len(os.Args) > 1 && os.Args[1] == "crash" {
		var p *T
		fmt.Println(p.x)
	}
}
