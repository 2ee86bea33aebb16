package amd64

import "testing"

// XCR0For keeps what rt0 saves of what a CPU offers, in combinations
// XSETBV accepts.
func TestXCR0For(t *testing.T) {
	const pkru, amx = 1 << 9, 3 << 17
	for _, c := range []struct{ offered, want uint64 }{
		{0x1, 0x1},                // x87 only (no SSE: nothing built on it)
		{0x3, 0x3},                // SSE
		{0x7, 0x7},                // AVX
		{0x7 | pkru, 0x7},         // PKRU left off (no CR4.PKE)
		{0x1f | pkru, 0x1f},       // QEMU TCG's -cpu max: MPX kept, as Linux does
		{0x7 | 1<<3, 0x7},         // half of MPX: none
		{0xe7 | pkru | amx, 0xe7}, // AVX-512 kept, AMX and PKRU left off
		{0x67, 0x7},               // two of AVX-512's three: none
		{0xe3, 0x3},               // AVX-512 without AVX: none
		{0x5, 0x1},                // AVX without SSE: x87 alone
		{0xff | pkru | amx, 0xff}, // everything rt0 knows
		{1<<62 | 0x7, 0x7},        // an unknown future component
	} {
		if got := XCR0For(c.offered); got != c.want {
			t.Errorf("XCR0For(%#x) = %#x, want %#x", c.offered, got, c.want)
		}
	}
}
