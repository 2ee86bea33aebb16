// panics: runtime errors recovered as Go panics (nil map write, index out
// of range, integer division by zero, nil dereference, failed type
// assertion, closed channel), a re-panic, then an unrecovered panic: exit 2
// with the runtime's report.
package main

import (
	"errors"
	"fmt"
	"os"
)

type myErr struct{ code int }

func (e *myErr) Error() string { return fmt.Sprint("my error ", e.code) }

func try(name string, f func()) {
	defer func() {
		r := recover()
		err, isErr := r.(error)
		fmt.Printf("%s: %v (error: %v)\n", name, r, isErr && err != nil)
	}()
	f()
}

var (
	zero   int
	nilMap map[string]int
	nilPtr *struct{ x int }
	slice      = []int{1, 2, 3}
	idx        = 5
	iface  any = "a string"
)

func main() {
	try("nil map", func() { nilMap["x"] = 1 })
	try("index", func() { _ = slice[idx] })
	try("divide", func() { _ = 10 / zero })
	try("nil deref", func() { _ = nilPtr.x })
	try("assertion", func() { _ = iface.(int) })
	try("closed channel", func() { c := make(chan int); close(c); close(c) })
	try("custom", func() { panic(&myErr{7}) })
	try("re-panic", func() {
		defer func() {
			r := recover()
			panic(fmt.Sprint("again after ", r))
		}()
		panic("first")
	})
	var e *myErr
	err := fmt.Errorf("wrapped: %w", &myErr{9})
	fmt.Println("errors.As:", errors.As(err, &e), e.code)
	os.Stdout.Sync()
	panic(errors.New("the end"))
}
