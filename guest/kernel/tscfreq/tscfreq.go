// Package tscfreq computes the TSC frequency that a CPU states in CPUID,
// the way Linux's native_calibrate_tsc reads it, and decides whether a
// stated frequency can be believed over a measured one. It is pure
// arithmetic (the kernel executes CPUID and passes the registers in), so
// that it can be tested on the host: TCG, where rt0's boot tests run,
// states no TSC frequency at all.
package tscfreq

// Leaves are the CPUID registers the computation needs: the highest basic
// leaf (leaf 0's EAX), leaf 0x15's EAX (denominator), EBX (numerator) and
// ECX (core crystal clock in Hz, 0 if not enumerated), and leaf 0x16's EAX
// (processor base frequency in MHz).
type Leaves struct {
	Max                   uint32
	Denom, Numer, Crystal uint32
	BaseMHz               uint32
}

// Stated returns the TSC frequency in Hz and the leaf it came from (0x15
// or 0x16), or 0, 0 if the CPU does not say. Leaf 0x15: TSC = crystal * numerator /
// denominator. When the crystal is not enumerated (Skylake-era client
// parts), the TSC runs at the base frequency of leaf 0x16, which is what
// Linux's fallback computes (crystal = base * denominator / numerator).
// Without the ratio (AMD, older Intel, most hypervisors) nothing is stated.
func Stated(l Leaves) (hz uint64, leaf uint32) {
	if l.Max < 0x15 || l.Denom == 0 || l.Numer == 0 {
		return 0, 0
	}
	if l.Crystal != 0 {
		return uint64(l.Crystal) * uint64(l.Numer) / uint64(l.Denom), 0x15
	}
	if l.Max >= 0x16 && l.BaseMHz != 0 {
		return uint64(l.BaseMHz) * 1_000_000, 0x16
	}
	return 0, 0
}

// Agrees reports whether a stated frequency is within 2% of a measured
// one. A 2 ms calibration is good to a fraction of a percent; a stated
// frequency far from it is a hypervisor's or firmware's fiction, and the
// measurement wins.
func Agrees(stated, measured uint64) bool {
	if stated == 0 || measured == 0 {
		return false
	}
	d := stated - measured
	if stated < measured {
		d = measured - stated
	}
	return d*50 <= measured
}
