// ansi writes text with the escape sequences that programs use for colour
// and simple screen control, then waits for a line on stdin so that the
// screen test can read the screen (cmd/rt0's TestScreenEscapes).
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	fmt.Print("junk to be erased\n\x1b[2J\x1b[H")                        // erase all, home
	fmt.Print("plain \x1b[31mred\x1b[0m \x1b[1;32mbright green\x1b[m\n") // SGR
	fmt.Print("\x1b[7mreverse\x1b[27m \x1b[44;93myellow on blue\x1b[0m\n")
	fmt.Print("erase me\r\x1b[Kkept\n")        // erase to the end of the line
	fmt.Print("\x1b[6;5Hat row 6 col 5")       // cursor position
	fmt.Print("\x1b[3;1H\x1b[5Cmoved\x1b[99B") // right 5 on row 3, then down to the last row
	fmt.Print("\x1b[?25l\x1b[1;1H")            // a private mode (ignored), home
	bufio.NewReader(os.Stdin).ReadString('\n')
}
