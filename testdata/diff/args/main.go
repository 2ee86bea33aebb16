// args: arguments, one environment variable, and standard input (empty:
// EOF at once).
//
//rt0diff:args one "two words" -dash ""
//rt0diff:env RT0_DIFF=hello=world
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	fmt.Printf("args: %q\n", os.Args[1:])
	fmt.Printf("RT0_DIFF=%q\n", os.Getenv("RT0_DIFF"))
	_, set := os.LookupEnv("RT0_DIFF_UNSET")
	fmt.Println("unset variable set:", set)
	in, err := io.ReadAll(os.Stdin)
	fmt.Println("stdin bytes:", len(in), "error:", err)
}
