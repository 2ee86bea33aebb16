package amd64

import (
	"encoding/binary"
	"testing"
)

// vendor returns a CPUID.0 vendor string as EBX, EDX, ECX.
func vendor(s string) [3]uint32 {
	b := []byte(s)
	return [3]uint32{binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])}
}

func TestINITNeedsDelay(t *testing.T) {
	for _, tc := range []struct {
		vendor string
		sig    uint32 // CPUID.1:EAX
		want   bool
	}{
		{"GenuineIntel", 0x000906EA, false}, // Coffee Lake: family 6
		{"GenuineIntel", 0x00000F29, true},  // Pentium 4: family 0xF
		{"AuthenticAMD", 0x00A20F10, false}, // Zen 3: family 0xF+0xA
		{"AuthenticAMD", 0x00000F51, false}, // K8, and QEMU's qemu64: family 0xF
		{"AuthenticAMD", 0x00000630, true},  // Athlon: family 6
		{"HygonGenuine", 0x00900F01, false}, // Dhyana: family 0x18
		{"VIA VIA VIA ", 0x000006F2, true},
	} {
		if got := INITNeedsDelay(vendor(tc.vendor), tc.sig); got != tc.want {
			t.Errorf("%s %#x: %v, want %v", tc.vendor, tc.sig, got, tc.want)
		}
	}
	// This machine's own CPU is one of the kinds above or not; either way
	// the answer comes from its CPUID.
	_, b, c, d := Cpuid(0, 0)
	a, _, _, _ := Cpuid(1, 0)
	t.Logf("this CPU (%q, %#x): delay %v", string(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, b), d), c)), a, INITNeedsDelay([3]uint32{b, d, c}, a))
}
