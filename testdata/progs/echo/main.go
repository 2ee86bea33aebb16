// echo copies standard input to standard output, counting lines: stdin
// must deliver exactly what was sent and then end.
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	s := bufio.NewScanner(os.Stdin)
	n := 0
	for s.Scan() {
		n++
		fmt.Printf("%d: %s\n", n, s.Text())
	}
	fmt.Println("lines:", n, "err:", s.Err())
}
