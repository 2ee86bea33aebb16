// Package tscfreq computes the TSC frequency that a CPU states in CPUID,
// the way Linux's native_calibrate_tsc reads it, and decides whether a
// stated frequency can be believed over a measured one, and refines a
// boot measurement against a long count of the ACPI PM timer. It is pure
// arithmetic (the kernel executes CPUID and passes the registers in), so
// that it can be tested on the host: TCG, where rt0's boot tests run,
// states no TSC frequency at all.
package tscfreq

import "math/bits"

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

// Refine returns the TSC frequency that ticks TSC ticks over the same
// interval as a 24-bit counter of counterHz advancing by delta (modulo
// 2^24) give, where estHz is the frequency estimated before. The counter
// may have wrapped: estHz, trusted to 0.5%, says how many times, which it
// can while that 0.5% of the interval is under half a wrap (7.8 minutes
// of a 3.58 MHz counter). ok is false when it cannot, when no count is
// within 0.5% of the estimate's (a clock is wrong), or when the interval
// is under a second (too short to improve on a boot measurement).
func Refine(ticks, delta, estHz, counterHz uint64) (hz uint64, ok bool) {
	const wrap = 1 << 24
	if estHz == 0 || counterHz == 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(ticks, counterHz)
	if hi >= estHz {
		return 0, false // an interval of centuries
	}
	expect, _ := bits.Div64(hi, lo, estHz) // counter ticks the estimate says passed
	if expect < delta {
		expect = delta
	}
	// The estimate is trusted to 0.5% (a boot measurement is good to a
	// few hundredths): the count is the one within that of expect, if
	// there is just one.
	margin := expect / 200
	if margin >= wrap/2 {
		return 0, false // more than one count fits
	}
	wraps := (expect - delta + wrap/2) / wrap
	total := delta + wraps*wrap
	if diff := int64(total - expect); diff > int64(margin) || diff < -int64(margin) {
		return 0, false // none fits: the estimate, or a clock, is off
	}
	if total < counterHz {
		return 0, false
	}
	hi, lo = bits.Mul64(ticks, counterHz)
	if hi >= total {
		return 0, false
	}
	hz, _ = bits.Div64(hi, lo, total)
	if !Agrees(hz, estHz) {
		return 0, false
	}
	return hz, true
}
