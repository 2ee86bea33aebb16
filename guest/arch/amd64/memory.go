package amd64

import "unsafe"

// Below the runtime, memory is addressed by number: physical memory is
// identity mapped, and user memory is reached through the same page tables.
// These helpers turn an address into a pointer without a uintptr ->
// unsafe.Pointer conversion in every caller (which `go vet` rightly
// distrusts in ordinary code): the address is never a Go heap object, so the
// garbage collector has nothing to track.

// Ptr returns addr as an unsafe.Pointer.
func Ptr(addr uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}

// U64 returns a pointer to the 8 bytes at addr.
func U64(addr uintptr) *uint64 { return (*uint64)(Ptr(addr)) }

// U32 returns a pointer to the 4 bytes at addr.
func U32(addr uintptr) *uint32 { return (*uint32)(Ptr(addr)) }

// U64s returns the n 8-byte words at addr as a slice.
func U64s(addr uintptr, n int) []uint64 { return unsafe.Slice((*uint64)(Ptr(addr)), n) }

// Bytes returns the n bytes at addr as a slice.
func Bytes(addr uintptr, n int) []byte { return unsafe.Slice((*byte)(Ptr(addr)), n) }
