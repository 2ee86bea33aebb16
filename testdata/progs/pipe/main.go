// pipe sends data through os.Pipe between goroutines (the runtime polls
// both ends through epoll), checks it arrives whole, then sees EOF, and
// EPIPE once the read end is gone. Then many pipes at once, each read by a
// goroutine, with fewer threads allowed than pipes (the reads must wait in
// the netpoller, not in threads); and an epoll registration that must go
// with the descriptor's close.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
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

	manyPipes(200)
	epollAfterClose()
}

// manyPipes is os's TestPipeThreads: n pipes, a reader goroutine on each,
// at most n/2 threads.
func manyPipes(n int) {
	r := make([]*os.File, n)
	w := make([]*os.File, n)
	for i := range r {
		var err error
		if r[i], w[i], err = os.Pipe(); err != nil {
			fmt.Println("pipe", i, err)
			return
		}
	}
	defer debug.SetMaxThreads(debug.SetMaxThreads(n / 2))
	done := make(chan error, n)
	for i := range r {
		go func() {
			var b [1]byte
			_, err := r[i].Read(b[:])
			r[i].Close()
			done <- err
		}()
	}
	for i := range w {
		w[i].Write([]byte("x"))
		w[i].Close()
	}
	bad := 0
	for range r {
		if err := <-done; err != nil {
			bad++
		}
	}
	fmt.Println(n, "pipes read by as many goroutines; errors:", bad)
}

// epollAfterClose registers a pipe's read end with an epoll instance,
// closes it without EPOLL_CTL_DEL, and registers another pipe under the
// same descriptor number: Linux dropped the first registration with the
// close.
func epollAfterClose() {
	ep, err := syscall.EpollCreate1(0)
	if err != nil {
		fmt.Println("epoll_create1:", err)
		return
	}
	var p [2]int
	syscall.Pipe(p[:])
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p[0])}
	fmt.Println("add:", syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, p[0], &ev))
	syscall.Close(p[0])
	syscall.Close(p[1])
	// Another pipe's read end, put at the closed descriptor's number.
	var q [2]int
	syscall.Pipe(q[:])
	fmt.Println("dup3 onto the old number:", syscall.Dup3(q[0], p[0], 0))
	fmt.Println("add after close:", syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, p[0], &ev))
}
