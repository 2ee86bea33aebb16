package tscfreq

import "testing"

func TestStated(t *testing.T) {
	for _, c := range []struct {
		name string
		l    Leaves
		hz   uint64
		leaf uint32
	}{
		// Ice Lake and later: a 38.4 MHz crystal, ratio 88/1.
		{"crystal", Leaves{Max: 0x1b, Denom: 1, Numer: 88, Crystal: 38_400_000}, 3_379_200_000, 0x15},
		// A 19.2 MHz crystal (Atom Goldmont) and a fractional ratio 62/3.
		{"crystal ratio", Leaves{Max: 0x15, Denom: 3, Numer: 62, Crystal: 19_200_000}, 396_800_000, 0x15},
		// Skylake client: ratio 2/216, no crystal, base 2.7 GHz in leaf 0x16.
		{"base", Leaves{Max: 0x16, Denom: 2, Numer: 216, BaseMHz: 2700}, 2_700_000_000, 0x16},
		{"no crystal, no 0x16", Leaves{Max: 0x15, Denom: 2, Numer: 216, BaseMHz: 2700}, 0, 0},
		{"no ratio", Leaves{Max: 0x16, Crystal: 24_000_000, BaseMHz: 2700}, 0, 0},
		{"no leaf 0x15", Leaves{Max: 0x0d, Denom: 2, Numer: 216, Crystal: 24_000_000}, 0, 0},
	} {
		hz, leaf := Stated(c.l)
		if hz != c.hz || leaf != c.leaf {
			t.Errorf("%s: Stated = %d %#x, want %d %#x", c.name, hz, leaf, c.hz, c.leaf)
		}
	}
}

func TestAgrees(t *testing.T) {
	for _, c := range []struct {
		stated, measured uint64
		want             bool
	}{
		{2_600_000_000, 2_595_000_000, true},
		{2_595_000_000, 2_600_000_000, true},
		{2_000_000_000, 1_960_000_000, false}, // 2.04% above: out
		{1_000_000_000, 1_020_000_000, true},  // 2% below the measurement: in
		{1_000_000_000, 1_030_000_000, false},
		{1_000_000_000, 2_595_000_000, false},
		{0, 2_595_000_000, false},
		{2_595_000_000, 0, false},
	} {
		if got := Agrees(c.stated, c.measured); got != c.want {
			t.Errorf("Agrees(%d, %d) = %v, want %v", c.stated, c.measured, got, c.want)
		}
	}
}
