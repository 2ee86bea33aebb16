package kernel

import (
	"math/bits"

	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/tscfreq"
)

// Time. The TSC is the clock: monotonic time is TSC ticks since boot scaled
// to nanoseconds; wall-clock time is the CMOS RTC read once at boot plus
// monotonic time. The LAPIC timer, one-shot, wakes the CPU at the next
// deadline (a sleeping thread's timeout or the end of a time slice): no
// periodic tick. Both the TSC and the LAPIC timer are calibrated against the
// PIT, whose 1.193182 MHz input is the one frequency every PC agrees on, or
// the ACPI PM timer where there is no PIT; a CPU that states its TSC
// frequency (CPUID leaf 0x15, Intel since Skylake) is believed instead of
// the measurement, when the two agree.
//
// Where there is a PM timer, boot measures only 1 ms of it (the PIT's three
// 2 ms windows and its 1 ms check were 7 of the kernel's 22 ms of boot
// under TCG) and refineTSC measures again, as Linux's refined TSC
// calibration does, over the first second or more: 24 bits of a 3.58 MHz
// count read twice, a part per million. The clock then continues from
// where it is, at the new rate.

// clockParams turn a TSC reading into monotonic time: ns = base +
// (tsc - tsc0) * mult >> 32. Readers (nanotime, the vDSO, on any CPU)
// take clocks[clockSel]; refineTSC fills the other slot and then flips
// clockSel, so a reader sees one whole set (x86 keeps stores in order).
// The layout is read by vdso_amd64.s (clockTSC0, clockMult, clockBase).
type clockParams struct {
	tsc0 uint64 // the TSC at the params' start
	mult uint64 // ns per tick << 32
	base uint64 // monotonic ns at tsc0
	_    uint64 // to 32 bytes, a shift in the vDSO
}

var (
	clocks   [2]clockParams
	clockSel uint64

	tsc0    uint64 // TSC at boot
	tscHz   uint64
	lapicHz uint64 // LAPIC timer ticks per second (divide by 16)
	lapic   uintptr
	wall0   int64 // realtime ns at boot (from the RTC)
	// calibrationTSC is how long the calibration took, in TSC ticks.
	calibrationTSC uint64
	// tscSource is where tscHz came from, for the boot log.
	tscSource uint8
)

const (
	fromPIT = iota
	fromPMTimer
	fromCPUID15
	fromCPUID16
)

// tscSourceName names a tscSource. (An integer in the global, not the
// string: storing a string would be a pointer store, a write barrier.)
func tscSourceName() string {
	switch tscSource {
	case fromPMTimer:
		return "ACPI PM timer"
	case fromCPUID15:
		return "CPUID 0x15"
	case fromCPUID16:
		return "CPUID 0x16"
	}
	return "PIT"
}

// nanotime returns monotonic nanoseconds since boot.
// Not inlined: called from many places, a call is smaller than its
// multiply and shifts in each (the kernel's share of the image counts).
//
//go:noinline
func nanotime() int64 {
	p := &clocks[clockSel&1]
	hi, lo := bits.Mul64(amd64.Rdtsc()-p.tsc0, p.mult)
	return int64(p.base + (hi<<32 | lo>>32))
}

// walltime returns nanoseconds since the Unix epoch.
func walltime() int64 { return wall0 + nanotime() }

// LAPIC registers (byte offsets from the LAPIC base).
const (
	lapicID      = 0x20
	lapicEOI     = 0xB0
	lapicIRR     = 0x200 // 8 registers, 0x10 apart: the pending vectors, 32 each
	lapicSVR     = 0xF0
	lapicLVTTmr  = 0x320
	lapicLINT0   = 0x350
	lapicLINT1   = 0x360
	lapicInitCnt = 0x380
	lapicCurCnt  = 0x390
	lapicDivide  = 0x3E0

	vecTimer = 32
	picBase  = 48 // the 8259 PICs, remapped here and masked
)

// x2apic: the firmware left the LAPIC in x2APIC mode, where its
// registers are MSRs (0x800 + offset/16) and the MMIO page is dead.
var x2apic bool

func lapicRead(off uintptr) uint32 {
	if x2apic {
		v := uint32(amd64.Rdmsr(uint32(0x800 + off>>4)))
		if off == lapicID {
			v <<= 24 // x2APIC IDs are 32 bits wide at bit 0; keep xAPIC's layout
		}
		return v
	}
	return *amd64.U32(lapic + off)
}

func lapicWrite(off uintptr, v uint32) {
	if x2apic {
		amd64.Wrmsr(uint32(0x800+off>>4), uint64(v))
		return
	}
	*amd64.U32(lapic + off) = v
}

func initClock() {
	// The 8259 PICs: remap away from the exception vectors, then mask
	// everything. The LAPIC does our interrupts.
	amd64.Outb(0x20, 0x11)
	amd64.Outb(0xA0, 0x11)
	amd64.Outb(0x21, picBase)
	amd64.Outb(0xA1, picBase+8)
	amd64.Outb(0x21, 4)
	amd64.Outb(0xA1, 2)
	amd64.Outb(0x21, 1)
	amd64.Outb(0xA1, 1)
	amd64.Outb(0x21, 0xFF)
	amd64.Outb(0xA1, 0xFF)

	base := amd64.Rdmsr(amd64.MSR_APIC_BASE)
	lapic = uintptr(base &^ 0xFFF & (1<<52 - 1))
	x2apic = base&(1<<10) != 0
	initLAPIC()
	lapicWrite(lapicLVTTmr, 1<<16|vecTimer) // masked while calibrating

	calibrate()
	if hz, leaf := cpuidTSC(); hz != 0 {
		// A stated frequency is exact where a 2 ms measurement is within
		// a fraction of a percent; but a hypervisor may state nonsense, so
		// it must agree with the measurement to 2%.
		if tscfreq.Agrees(hz, tscHz) {
			tscHz = hz
			tscSource = fromCPUID15
			if leaf == 0x16 {
				tscSource = fromCPUID16
			}
		} else {
			kprint("rt0: CPUID states a TSC of ")
			kprintDec(int64(hz / 1000))
			kprint(" kHz, but it measures ")
			kprintDec(int64(tscHz / 1000))
			kprint(" kHz: the measurement is used\n")
		}
	}
	clocks[0] = clockParams{tsc0: tsc0, mult: (1_000_000_000 << 32) / tscHz}
	wall0 = readRTC() - nanotime()
	lapicWrite(lapicLVTTmr, vecTimer) // one-shot, unmasked
}

// initLAPIC enables the running CPU's local APIC in the mode the boot
// CPU's firmware left (xAPIC, or x2APIC), LINT0/1 masked, its timer
// one-shot on vecTimer, dividing by 16: every CPU's timer then runs at the
// boot CPU's calibrated lapicHz (they share the bus clock).
func initLAPIC() {
	base := amd64.Rdmsr(amd64.MSR_APIC_BASE) | 1<<11 // global enable
	if x2apic {
		base |= 1 << 10
	}
	amd64.Wrmsr(amd64.MSR_APIC_BASE, base)
	lapicWrite(lapicSVR, 0x100|0xFF) // software enable, spurious vector 255
	lapicWrite(lapicLINT0, 1<<16)
	lapicWrite(lapicLINT1, 1<<16)
	lapicWrite(lapicDivide, 0x3)
	lapicWrite(lapicLVTTmr, vecTimer) // one-shot, unmasked
	lapicWrite(lapicInitCnt, 0)
}

// lapicSelfID returns the running CPU's APIC ID (32 bits in x2APIC mode).
func lapicSelfID() uint32 {
	if x2apic {
		return uint32(amd64.Rdmsr(0x802))
	}
	return lapicRead(lapicID) >> 24
}

// calibrate measures the TSC and the LAPIC timer against the ACPI PM
// timer, at 3.579545 MHz, over 1 ms (refineTSC measures again later),
// where ACPI names one that counts; else against PIT channel 2: three 2 ms
// windows, keeping the median, so that one window stretched by the host
// (under emulation the vCPU can be descheduled between the PIT expiring and
// the TSC read) does not skew the clock.
func calibrate() {
	if acpi.pmTimer != 0 && calibratePM() {
		tscSource = fromPMTimer
		refine.due = true
		return
	}
	pitWorks() // also a warm-up: the first window after a PIT's start reads 0.3% off under TCG
	tscSource = fromPIT
	var tsc, apic [3]uint64
	start := amd64.Rdtsc()
	for i := range tsc {
		tsc[i], apic[i] = pitWindow()
	}
	calibrationTSC = amd64.Rdtsc() - start
	tsc0 = start
	// median of three, with its LAPIC count
	m := 0
	for i := range tsc {
		below, above := 0, 0
		for j := range tsc {
			if tsc[j] < tsc[i] {
				below++
			} else if tsc[j] > tsc[i] {
				above++
			}
		}
		if below <= 1 && above <= 1 {
			m = i
		}
	}
	tscHz = tsc[m] * 500
	lapicHz = apic[m] * 500
	if tscHz == 0 {
		tscHz = 1_000_000_000 // no PIT? assume 1 GHz rather than divide by zero
	}
	if lapicHz == 0 {
		lapicHz = 1_000_000
	}
}

// cpuidTSC returns the TSC frequency the CPU states (package tscfreq).
func cpuidTSC() (uint64, uint32) {
	var l tscfreq.Leaves
	l.Max, _, _, _ = amd64.Cpuid(0, 0)
	if l.Max >= 0x15 {
		l.Denom, l.Numer, l.Crystal, _ = amd64.Cpuid(0x15, 0)
	}
	if l.Max >= 0x16 {
		l.BaseMHz, _, _, _ = amd64.Cpuid(0x16, 0)
	}
	return tscfreq.Stated(l)
}

// pitWorks checks that PIT channel 2's output rises within 100 ms of TSC
// time after a 1 ms count (a missing PIT reads 0xFF or never rises).
func pitWorks() bool {
	amd64.Outb(0x61, (amd64.Inb(0x61)&^0x02)|0x01)
	amd64.Outb(0x43, 0xB0)
	amd64.Outb(0x42, 0xA9) // 1193 = 1 ms
	amd64.Outb(0x42, 0x04)
	for i := 0; i < 10_000_000; i++ {
		if s := amd64.Inb(0x61); s == 0xFF {
			return false
		} else if s&0x20 != 0 {
			return true
		}
	}
	return false
}

// pmHz is the ACPI PM timer's rate (ACPI 6.5, 4.8.3.3).
const pmHz = 3579545

// pmRead reads the PM timer's 24 bits.
func pmRead() uint64 { return uint64(amd64.Inl(uint16(acpi.pmTimer)) & 0xFFFFFF) }

// lapicSample returns the LAPIC timer's current count and the TSC at it,
// the best of 4 reads as pmSample's.
func lapicSample() (count, tsc uint64) {
	best := ^uint64(0)
	for i := 0; i < 4; i++ {
		a := amd64.Rdtsc()
		c := uint64(lapicRead(lapicCurCnt))
		b := amd64.Rdtsc()
		if b-a < best {
			best, count, tsc = b-a, c, a+(b-a)/2
		}
	}
	return count, tsc
}

// pmSample returns a PM timer reading and the TSC at it, the best of 8: the
// one whose port read took least. A read the host delayed (an emulated
// port, a vCPU thread descheduled) would put the pair tens of
// microseconds apart, percents of a 1 ms window.
func pmSample() (pm, tsc uint64) {
	best := ^uint64(0)
	for i := 0; i < 8; i++ {
		a := amd64.Rdtsc()
		p := pmRead()
		b := amd64.Rdtsc()
		if b-a < best {
			best, pm, tsc = b-a, p, a+(b-a)/2
		}
	}
	return pm, tsc
}

// calibratePM measures the TSC and LAPIC timer over 1 ms of the ACPI PM
// timer (24 or 32 bits wide; the difference is taken modulo 24 bits, more
// than 1 ms), and keeps its start for refineTSC. It returns false if the
// timer does not advance 1 ms in 2^29 TSC ticks (0.2 s at 2.6 GHz; a
// firmware may name a PM timer that is not there): then the PIT is used.
func calibratePM() bool {
	start := amd64.Rdtsc()
	p0, t0 := pmSample()
	// The LAPIC timer counts down meanwhile; two samples of it, timed by
	// the TSC, give its rate.
	lapicWrite(lapicInitCnt, 0xFFFFFFFF)
	c0, ta := lapicSample()
	var p1, t1 uint64
	for amd64.Rdtsc()-t0 < 1<<29 {
		if p := pmRead(); (p-p0)&0xFFFFFF >= pmHz/1000 {
			p1, t1 = pmSample()
			break
		}
	}
	c1, tb := lapicSample()
	lapicWrite(lapicInitCnt, 0)
	n := (p1 - p0) & 0xFFFFFF
	if t1 == 0 || n == 0 || t1 <= t0 || tb <= ta || c1 >= c0 {
		return false
	}
	tsc0, calibrationTSC = start, amd64.Rdtsc()-start
	tscHz = (t1 - t0) * pmHz / n
	lapicHz = (c0 - c1) * tscHz / (tb - ta)
	refine.pm0, refine.tsc0 = p0, t0
	return true
}

// pitWindow returns the TSC ticks and LAPIC timer ticks of 2 ms, timed by
// PIT channel 2 in mode 0 (its output goes high when the count runs out).
func pitWindow() (tsc, apic uint64) {
	const pitHz = 1193182
	const latch = pitHz / 500
	amd64.Outb(0x61, (amd64.Inb(0x61)&^0x02)|0x01) // gate on, speaker off
	amd64.Outb(0x43, 0xB0)                         // channel 2, lo/hi, mode 0
	amd64.Outb(0x42, latch&0xFF)
	amd64.Outb(0x42, latch>>8)
	lapicWrite(lapicInitCnt, 0xFFFFFFFF)
	t1 := amd64.Rdtsc()
	for i := 0; amd64.Inb(0x61)&0x20 == 0; i++ {
		if i > 100_000_000 {
			break
		}
	}
	t2 := amd64.Rdtsc()
	l := 0xFFFFFFFF - uint64(lapicRead(lapicCurCnt))
	lapicWrite(lapicInitCnt, 0)
	return t2 - t1, l
}

// armTimer programs the LAPIC timer to fire at deadline (monotonic ns), or
// stops it if deadline is 0.
func armTimer(now, deadline int64) {
	if deadline == 0 {
		lapicWrite(lapicInitCnt, 0)
		return
	}
	d := deadline - now
	if d < 1000 {
		d = 1000
	}
	hi, lo := bits.Mul64(uint64(d), lapicHz)
	ticks := uint64(0xFFFFFFFF)
	if hi == 0 {
		if t := lo / 1_000_000_000; t < ticks {
			ticks = t
		}
	}
	if ticks == 0 {
		ticks = 1
	}
	lapicWrite(lapicInitCnt, uint32(ticks))
}

//go:noinline
func eoi() { lapicWrite(lapicEOI, 0) }

// CMOS real-time clock.

func cmos(reg uint8) uint8 {
	amd64.Outb(0x70, reg)
	return amd64.Inb(0x71)
}

// readRTC returns the RTC's time in Unix nanoseconds (the RTC is taken to
// keep UTC, as Linux assumes by default).
func readRTC() int64 {
	var t, last [7]uint8
	for try := 0; try < 10; try++ {
		for i := 0; i < 1000000 && cmos(0x0A)&0x80 != 0; i++ {
		}
		t = [7]uint8{cmos(0), cmos(2), cmos(4), cmos(7), cmos(8), cmos(9), cmos(0x32)}
		if t == last {
			break
		}
		last = t
	}
	b := cmos(0x0B)
	bcd := func(v uint8) int64 { return int64(v>>4)*10 + int64(v&15) }
	sec, min, hour, day, mon, year, cent := int64(t[0]), int64(t[1]), int64(t[2]&0x7F), int64(t[3]), int64(t[4]), int64(t[5]), int64(t[6])
	pm := t[2]&0x80 != 0
	if b&0x04 == 0 {
		sec, min, hour, day, mon, year, cent = bcd(t[0]), bcd(t[1]), bcd(t[2]&0x7F), bcd(t[3]), bcd(t[4]), bcd(t[5]), bcd(t[6])
	}
	if b&0x02 == 0 && pm {
		hour = (hour + 12) % 24
	}
	if cent >= 19 && cent <= 30 {
		year += cent * 100
	} else {
		year += 2000
	}
	return unixDays(year, mon, day)*86400_000_000_000 + (hour*3600+min*60+sec)*1_000_000_000
}

// unixDays returns days since 1970-01-01 of a civil date (proleptic
// Gregorian; Howard Hinnant's days_from_civil).
func unixDays(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// refine is refineTSC's state: due until it has run, and where the PM
// timer and the TSC stood at calibratePM's start.
var refine struct {
	due       bool
	pm0, tsc0 uint64
}

// maybeRefineTSC runs refineTSC once a second has passed (from the timer
// interrupt: the runtime's sysmon makes some every few ms).
func maybeRefineTSC() {
	if refine.due && nanotime() >= 1_000_000_000 {
		refine.due = false
		refineTSC()
	}
}

// refineTSC measures the TSC against the PM timer from boot to now and, if
// that differs from the boot measurement, goes on at the new rate from the
// present time: monotonic time neither jumps nor runs backwards. A CPUID-
// stated frequency is kept (it is exact). The 24-bit PM count wraps every
// 4.7 s: the TSC, good to a fraction of a percent, says how many times.
func refineTSC() {
	if tscSource != fromPMTimer {
		return
	}
	p1, t1 := pmSample()
	hz, ok := tscfreq.Refine(t1-refine.tsc0, (p1-refine.pm0)&0xFFFFFF, tscHz, pmHz)
	if !ok {
		return
	}
	cur := &clocks[clockSel&1]
	next := &clocks[(clockSel+1)&1]
	hi, lo := bits.Mul64(t1-cur.tsc0, cur.mult)
	*next = clockParams{tsc0: t1, mult: (1_000_000_000 << 32) / hz, base: cur.base + (hi<<32 | lo>>32)}
	amd64.Store64(&clockSel, clockSel+1)
	kprint("rt0: TSC ")
	kprintDec(int64(tscHz / 1000))
	kprint(" kHz refined against the PM timer to ")
	kprintDec(int64(hz / 1000))
	kprint(" kHz\n")
	tscHz = hz
}
