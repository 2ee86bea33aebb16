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

// Refine recovers a frequency from a long interval of a wrapping 24-bit
// counter, with the estimate off by up to a percent, and refuses what it
// cannot tell.
func TestRefine(t *testing.T) {
	const pm = 3579545
	const wrap = 1 << 24
	for _, c := range []struct {
		name      string
		trueHz    uint64
		estHz     uint64
		seconds   float64
		wantOK    bool
		tolerance float64 // relative
	}{
		{"1 s, estimate 0.3% off", 2_599_000_000, 2_606_797_000, 1, true, 1e-6},
		{"4.9 s, one wrap", 2_599_000_000, 2_590_000_000, 4.9, true, 1e-6},
		{"60 s, a dozen wraps", 3_000_000_000, 3_012_000_000, 60, true, 1e-6},
		{"400 s, 85 wraps", 3_000_000_000, 2_990_000_000, 400, true, 1e-6},
		{"600 s: ambiguous", 3_000_000_000, 3_000_000_000, 600, false, 0},
		{"60 s, estimate 1% off", 3_000_000_000, 3_030_000_000, 60, false, 0},
		{"half a second: too short", 2_000_000_000, 2_000_000_000, 0.5, false, 0},
	} {
		ticks := uint64(c.seconds * float64(c.trueHz))
		count := uint64(c.seconds * pm)
		hz, ok := Refine(ticks, count%wrap, c.estHz, pm)
		if ok != c.wantOK {
			t.Errorf("%s: ok %v, want %v (hz %d)", c.name, ok, c.wantOK, hz)
			continue
		}
		if ok {
			if rel := float64(int64(hz-c.trueHz)) / float64(c.trueHz); rel > c.tolerance || rel < -c.tolerance {
				t.Errorf("%s: %d Hz, want %d (%.2g off)", c.name, hz, c.trueHz, rel)
			}
		}
	}
	// A counter that disagrees with the TSC by more than 2%: refused.
	if _, ok := Refine(2_000_000_000, pm*9/10, 2_000_000_000, pm); ok {
		t.Error("a PM count 10% short was taken")
	}
}
