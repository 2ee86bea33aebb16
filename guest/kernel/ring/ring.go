// Package ring is the byte ring that pipes, FIFOs and sockets are made of:
// a buffer at a kernel address and two free-running counters, so that
// Tail-Head bytes are held and neither counter ever wraps back. It
// allocates nothing and reads no global: the kernel gives it the buffer,
// and the host tests it on a buffer of its own (ring_test.go).
package ring

import "rt0/guest/arch/amd64"

// Ring is one ring. The zero Ring holds nothing and has no buffer.
type Ring struct {
	Buf        uint64 // address of Size bytes; 0 until the owner allocates it
	Size       uint64 // capacity, a power of two
	Head, Tail uint64 // read and write counters
}

// Len returns how many bytes the ring holds.
func (r *Ring) Len() uint64 { return r.Tail - r.Head }

// Room returns how many more bytes fit.
func (r *Ring) Room() uint64 { return r.Size - r.Len() }

// Put copies b into the ring; the caller checked Room and gave it a buffer.
func (r *Ring) Put(b []byte) {
	for len(b) > 0 {
		off := r.Tail % r.Size
		n := copy(amd64.Bytes(uintptr(r.Buf+off), int(r.Size-off)), b)
		r.Tail += uint64(n)
		b = b[n:]
	}
}

// PeekAt copies len(b) bytes from off bytes past the head, without
// consuming them; the caller checked they are there.
func (r *Ring) PeekAt(off uint64, b []byte) {
	for n := 0; n < len(b); {
		o := (r.Head + off + uint64(n)) % r.Size
		n += copy(b[n:], amd64.Bytes(uintptr(r.Buf+o), int(r.Size-o)))
	}
}

// Take copies up to len(b) bytes out of the ring and returns how many.
func (r *Ring) Take(b []byte) int {
	n := 0
	for n < len(b) && r.Len() > 0 {
		off := r.Head % r.Size
		k := min(uint64(len(b)-n), r.Size-off, r.Len())
		copy(b[n:], amd64.Bytes(uintptr(r.Buf+off), int(k)))
		r.Head += k
		n += int(k)
	}
	return n
}
