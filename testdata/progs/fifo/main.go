// fifo checks named pipes against Linux (TestBootFIFO compares with the
// host): mkfifo, opens that wait for the other end, data and EOF through
// it, a non-blocking write open without a reader (ENXIO), an O_RDWR open
// that does not wait.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

func main() {
	dir, err := os.MkdirTemp("", "fifo")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "f")
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		fmt.Println("mkfifo:", err)
		return
	}
	fi, err := os.Stat(name)
	fmt.Println("a named pipe:", err == nil && fi.Mode()&os.ModeNamedPipe != 0, fi.Mode().Perm())

	_, err = os.OpenFile(name, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	fmt.Println("non-blocking write open without a reader: ENXIO:", errors.Is(err, syscall.ENXIO))

	// Each open waits for the other.
	done := make(chan error)
	go func() {
		w, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		w.Write([]byte("through the fifo"))
		done <- w.Close()
	}()
	r, err := os.Open(name)
	if err != nil {
		fmt.Println("open for reading:", err)
		return
	}
	b, err := io.ReadAll(r)
	fmt.Printf("read %q then EOF: %v; writer: %v\n", b, err, <-done)
	r.Close()

	// O_RDWR: both ends, no waiting.
	rw, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		fmt.Println("O_RDWR:", err)
		return
	}
	rw.Write([]byte("loop"))
	buf := make([]byte, 8)
	n, err := rw.Read(buf)
	fmt.Printf("O_RDWR reads its own %q %v\n", buf[:n], err)
	rw.Close()
	fmt.Println("remove:", os.Remove(name))
}
