// deadlock: main blocks forever with no other goroutine: the runtime
// reports "all goroutines are asleep" and exits 2.
package main

import "fmt"

func main() {
	fmt.Println("waiting for nothing")
	<-make(chan int)
}
