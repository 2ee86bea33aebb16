// usermem passes system calls pointers a program may not use — into its
// read-only data and text, into the kernel's own variables, the kernel
// half, low physical memory, PROT_READ and PROT_NONE mappings — and
// pointers it may use, and prints what each call returned. On Linux and on
// rt0 the answers are the same: EFAULT for the first kind, and the program
// goes on.
//
// The first argument is the address of a kernel variable to aim at (the
// boot test takes it from the image's symbol table); on the host it
// defaults to an address in the kernel half.
package main

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"syscall"
	"unsafe"
)

const rodata = "a string constant lives in read-only data"

var global [64]byte

func result(r uintptr, e syscall.Errno) string {
	if e != 0 {
		if e == syscall.EFAULT {
			return "EFAULT"
		}
		return fmt.Sprintf("errno %d", int(e))
	}
	return fmt.Sprintf("ok %d", r)
}

// readInto writes 8 bytes into a fresh pipe and reads them into addr.
func readInto(addr uintptr) string {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return err.Error()
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	syscall.Write(p[1], []byte("12345678"))
	r, _, e := syscall.Syscall(syscall.SYS_READ, uintptr(p[0]), addr, 8)
	return result(r, e)
}

// writeFrom writes 8 bytes from addr into a fresh pipe.
func writeFrom(addr uintptr) string {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return err.Error()
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	r, _, e := syscall.Syscall(syscall.SYS_WRITE, uintptr(p[1]), addr, 8)
	return result(r, e)
}

func mmap(prot int) uintptr {
	b, err := syscall.Mmap(-1, 0, 4096, prot, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(err)
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

func main() {
	kernel := uintptr(0xffff888000100000)
	if len(os.Args) > 1 {
		a, err := strconv.ParseUint(os.Args[1], 0, 64)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		kernel = uintptr(a)
	}
	text := reflect.ValueOf(main).Pointer()
	ro := uintptr(unsafe.Pointer(unsafe.StringData(rodata)))
	rw := mmap(syscall.PROT_READ | syscall.PROT_WRITE)
	ronly := mmap(syscall.PROT_READ)
	none := mmap(syscall.PROT_NONE)
	gone := mmap(syscall.PROT_READ | syscall.PROT_WRITE)
	syscall.Munmap(unsafe.Slice((*byte)(unsafe.Pointer(gone)), 4096))

	for _, c := range []struct {
		name string
		res  string
	}{
		{"read into a string constant", readInto(ro)},
		{"read into the program's text", readInto(text)},
		{"read into the kernel's variables", readInto(kernel)},
		{"write from the kernel's variables", writeFrom(kernel)},
		{"read into the kernel half", readInto(0xffffffff81000000)},
		{"read into low memory", readInto(0x1000)},
		{"read into page 0", readInto(8)},
		{"read into a PROT_READ mapping", readInto(ronly)},
		{"write from a PROT_NONE mapping", writeFrom(none)},
		{"write from an unmapped page", writeFrom(gone)},
		{"read into a non-canonical address", readInto(0x0000800000000000)},
		{"read into the program's bss", readInto(uintptr(unsafe.Pointer(&global)))},
		{"read into a fresh mapping", readInto(rw)},
		{"write from a string constant", writeFrom(ro)},
		{"write from the program's text", writeFrom(text)},
	} {
		fmt.Printf("%-36s %s\n", c.name, c.res)
	}

	// Other calls that write through a pointer.
	var ts syscall.Timespec
	for _, c := range []struct {
		name string
		res  string
	}{
		{"clock_gettime into rodata", result(rawCall(syscall.SYS_CLOCK_GETTIME, 1, ro, 0))},
		{"clock_gettime into the kernel", result(rawCall(syscall.SYS_CLOCK_GETTIME, 1, kernel, 0))},
		{"clock_gettime into the stack", result(rawCall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0))},
		{"uname into text", result(rawCall(syscall.SYS_UNAME, text, 0, 0))},
		{"getrandom into rodata", result(rawCall(318, ro, 8, 0))},
		{"pipe2 into rodata", result(rawCall(syscall.SYS_PIPE2, ro, 0, 0))},
		{"nanosleep from the kernel", result(rawCall(syscall.SYS_NANOSLEEP, kernel, 0, 0))},
		{"fstat into rodata", result(rawCall(syscall.SYS_FSTAT, 1, ro, 0))},
		{"getcwd into the kernel", result(rawCall(syscall.SYS_GETCWD, kernel, 256, 0))},
		{"open a path in the kernel", result(rawCall(syscall.SYS_OPEN, kernel, 0, 0))},
	} {
		fmt.Printf("%-36s %s\n", c.name, c.res)
	}
	fmt.Println("the program goes on; its data is intact:", rodata[:8], global[:8])
}

func rawCall(n, a, b, c uintptr) (uintptr, syscall.Errno) {
	r, _, e := syscall.Syscall(n, a, b, c)
	return r, e
}
