package amd64

import (
	"encoding/binary"
	"testing"
	"unsafe"
)

// CompleteFX on the host: FXSAVE and MOVUPS need no privilege, so the
// real instructions check FXXMM (where the SYSCALL entry puts XMM n, and
// FXSAVE writes it) and the words the CPU, not the entry, fills in.
func TestCompleteFX(t *testing.T) {
	// FXSAVE wants its area 16-byte aligned, as the kernel stacks keep it.
	buf := make([]uint64, FrameSize/8+2)
	p := unsafe.Pointer(&buf[0])
	tf := (*TrapFrame)(unsafe.Add(p, -uintptr(p)&15))
	for n := 0; n < 16; n++ {
		for b := 0; b < 16; b++ {
			tf.FX[FXXMM+16*n+b] = byte(n<<4 | b)
		}
	}
	tf.FX[0], tf.FX[24] = 0xAA, 0xAA // not saved by the entry: FXSAVE must overwrite them
	tf.FXPartial = 1
	tf.CompleteFX()
	if tf.FXPartial != 0 {
		t.Fatal("FXPartial still set")
	}
	for n := 0; n < 16; n++ {
		for b := 0; b < 16; b++ {
			if got, want := tf.FX[FXXMM+16*n+b], byte(n<<4|b); got != want {
				t.Fatalf("XMM%d byte %d: FXSAVE wrote %#x, the frame held %#x: XMM registers are not at FXXMM", n, b, got, want)
			}
		}
	}
	// A Go process on Linux runs with the x87 control word and MXCSR at
	// their defaults.
	if fcw := binary.LittleEndian.Uint16(tf.FX[0:]); fcw != 0x037F {
		t.Errorf("x87 control word %#x, want 0x37f", fcw)
	}
	if mxcsr := binary.LittleEndian.Uint32(tf.FX[24:]) &^ 0x3F; mxcsr != 0x1F80 {
		t.Errorf("MXCSR %#x, want 0x1f80", mxcsr)
	}

	// A whole frame is left alone.
	before := tf.FX
	tf.FX[FXXMM] ^= 0xFF
	want := tf.FX
	tf.CompleteFX()
	if tf.FX != want || tf.FX == before {
		t.Error("CompleteFX changed a frame that was not partial")
	}
}
