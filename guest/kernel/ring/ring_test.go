package ring

import (
	"bytes"
	"runtime"
	"testing"
	"unsafe"
)

// newRing gives a ring a buffer of size bytes of Go memory (kept alive by
// the returned slice).
func newRing(size uint64) (*Ring, []byte) {
	mem := make([]byte, size)
	return &Ring{Buf: uint64(uintptr(unsafe.Pointer(&mem[0]))), Size: size}, mem
}

func TestPutTakeWrap(t *testing.T) {
	r, mem := newRing(8)
	defer runtime.KeepAlive(mem)
	if r.Len() != 0 || r.Room() != 8 {
		t.Fatalf("empty: len %d room %d", r.Len(), r.Room())
	}
	r.Put([]byte("abcdef"))
	got := make([]byte, 4)
	if n := r.Take(got); n != 4 || string(got) != "abcd" || r.Len() != 2 || r.Room() != 6 {
		t.Fatalf("take 4: %d %q len %d room %d", n, got, r.Len(), r.Room())
	}
	// Across the end of the buffer: "ef" at 4-5, "ghijkl" at 6-7 then 0-3.
	r.Put([]byte("ghijkl"))
	if r.Len() != 8 || r.Room() != 0 {
		t.Fatalf("full: len %d room %d", r.Len(), r.Room())
	}
	if string(mem) != "ijklefgh" {
		t.Errorf("buffer %q; want ijklefgh (the write wrapped to the start)", mem)
	}
	peek := make([]byte, 5)
	r.PeekAt(1, peek)
	if string(peek) != "fghij" || r.Len() != 8 {
		t.Errorf("peek at 1: %q, len %d; want fghij, 8", peek, r.Len())
	}
	all := make([]byte, 20)
	if n := r.Take(all); n != 8 || string(all[:n]) != "efghijkl" {
		t.Errorf("take all: %d %q; want 8 efghijkl", n, all[:n])
	}
	if n := r.Take(all); n != 0 {
		t.Errorf("take from empty: %d", n)
	}
	// The counters run on; only their difference and the offset modulo the
	// size matter.
	if r.Head != 12 || r.Tail != 12 {
		t.Errorf("counters %d %d; want 12 12", r.Head, r.Tail)
	}
}

// Many rounds of odd sizes against a plain queue.
func TestAgainstQueue(t *testing.T) {
	r, mem := newRing(64)
	defer runtime.KeepAlive(mem)
	var q []byte
	next := byte(0)
	for round := 0; round < 2000; round++ {
		w := (round*7 + 3) % 50
		if uint64(w) > r.Room() {
			w = int(r.Room())
		}
		b := make([]byte, w)
		for i := range b {
			b[i] = next
			next++
		}
		r.Put(b)
		q = append(q, b...)
		out := make([]byte, (round*5+1)%40)
		n := r.Take(out)
		if n != min(len(out), len(q)) || !bytes.Equal(out[:n], q[:n]) {
			t.Fatalf("round %d: took %d %v; want %v", round, n, out[:n], q[:min(len(out), len(q))])
		}
		q = q[n:]
		if r.Len() != uint64(len(q)) {
			t.Fatalf("round %d: len %d; want %d", round, r.Len(), len(q))
		}
	}
}

func TestNoAllocs(t *testing.T) {
	r, mem := newRing(32)
	defer runtime.KeepAlive(mem)
	in, out := make([]byte, 20), make([]byte, 20)
	if n := testing.AllocsPerRun(100, func() {
		r.Put(in)
		r.PeekAt(3, out[:5])
		r.Take(out)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
