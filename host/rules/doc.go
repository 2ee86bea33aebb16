// Package rules checks, on a built kernel, the rules of code below the
// runtime (guest/kernel/doc.go) that the Go toolchain cannot check itself.
//
// The tests live here rather than in package kernel because a host test
// binary that links rt0/guest/kernel cannot start: the kernel's _cgo_init hook
// writes an MSR, which faults in user mode. So these tests build a kernel
// ELF with the stock toolchain and read its machine code instead.
package rules
