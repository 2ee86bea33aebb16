package main

import (
	"fmt"
	"time"
)

func main() {
	i, j := 69, 100
	go func(arg1, arg2 int) {
		fmt.Println(arg1 + arg2)
	}(i, j)
	time.Sleep(1 * time.Second)
}
