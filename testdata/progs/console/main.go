// console is the program of the screen and keyboard tests: it prints a
// few lines, asks for a line on standard input, answers, and keeps the
// answer on the screen for a moment before it exits with status 7.
package main

import (
	"bufio"
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Println("rt0 screen console")
	fmt.Println("0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz")
	fmt.Println("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
	fmt.Println("\x1b[31mred\x1b[0m \x1b[1;34mbright blue\x1b[0m") // colours: escape sequences
	fmt.Print("name? ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Printf("hello, %q (%v)\n", line, err)
	time.Sleep(3 * time.Second)
	os.Exit(7)
}
