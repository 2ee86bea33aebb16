// pipe sends data through os.Pipe between goroutines (the runtime polls
// both ends through epoll), checks it arrives whole, then sees EOF, and
// EPIPE once the read end is gone.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

func main() {
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Println("pipe:", err)
		os.Exit(1)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, more than the pipe holds
	wrote := make(chan string)
	go func() {
		n, err := w.Write(data)
		w.Close()
		wrote <- fmt.Sprint("wrote ", n, " ", err)
	}()
	got, err := io.ReadAll(r)
	fmt.Println(<-wrote)
	fmt.Println("read", len(got), "same:", bytes.Equal(got, data), "err:", err)
	r.Close()

	r2, w2, _ := os.Pipe()
	r2.Close()
	_, err = w2.Write([]byte("x"))
	fmt.Println("write to a pipe without readers: EPIPE:", errors.Is(err, syscall.EPIPE))
}
