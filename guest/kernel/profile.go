package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/mem"
	"rt0/guest/sched"
)

// The kernel's sampling profiler (kernel option rt0.profile=HZ; rt0 run
// -profile FILE sets it and turns what it records into a pprof profile).
// It needs nothing from the program: HZ times a second, every CPU's LAPIC
// timer interrupts whatever runs there (reschedule arms it for the next
// sample as for a deadline), and trap records the interrupted RIP and the
// frame-pointer chain above it (Go keeps RBP as a frame pointer on amd64),
// or just the idle loop's address. At exit the samples go to the kernel
// log as "rt0: prof" lines, for the host.
//
// What it cannot see: the kernel itself runs with interrupts off, so its
// time shows at the system call instructions that entered it (the
// runtime's syscall wrappers), not in its own functions.

const (
	profDepth = 32 // frames a sample keeps
	// The sample buffer (two words of header per sample, then its
	// frames): 8 MiB, about a minute of two CPUs at 250 Hz, or a
	// sixteenth of the free memory if that is less (at least 64 KiB).
	// Samples past its end are counted, not kept.
	profMaxBytes = 8 << 20
	profMinBytes = 64 << 10
)

var prof struct {
	hz      int64
	period  int64  // ns between samples
	buf     uint64 // kalloc'd, words words
	words   int
	n       int // words used
	samples int
	dropped int
}

// profileOption applies rt0.profile=HZ (1-10000; a bad value is reported
// and profiling stays off).
func profileOption(v []byte) {
	hz := int64(0)
	for _, c := range v {
		if c < '0' || c > '9' || hz > 10000 {
			hz = -1
			break
		}
		hz = hz*10 + int64(c-'0')
	}
	if hz < 1 || hz > 10000 {
		logToConsole = true
		kprint("rt0: rt0.profile=")
		kprintBytes(v)
		kprint(": want samples a second, 1 to 10000; not profiling\n")
		logToConsole = false
		return
	}
	size := uint64(profMaxBytes)
	for size > profMinBytes && size > frames.FreeCount()*mem.PageSize/16 {
		size /= 2
	}
	a, ok := kalloc(size)
	if !ok {
		kprint("rt0: rt0.profile: no memory for the samples; not profiling\n")
		return
	}
	prof.buf, prof.words, prof.hz, prof.period = a, int(size/8), hz, 1_000_000_000/hz
}

// profNext returns when this CPU takes its next sample (0: not
// profiling), and moves its schedule past now once it is due.
func profNext(k *kcpu, now int64) int64 {
	if prof.hz == 0 {
		return 0
	}
	if k.profAt == 0 || k.profAt <= now-prof.period {
		k.profAt = now + prof.period
	}
	return k.profAt
}

// profileSample records the thread or idle loop a timer interrupt found
// on this CPU, if its sample is due.
func profileSample(tf *amd64.TrapFrame, k *kcpu, c *amd64.CPU) {
	now := nanotime()
	if k.profAt == 0 || now < k.profAt {
		return
	}
	k.profAt += prof.period
	if k.profAt <= now {
		k.profAt = now + prof.period
	}
	if prof.n+2+profDepth > prof.words {
		prof.dropped++
		return
	}
	words := amd64.U64s(uintptr(prof.buf), prof.words)
	head := prof.n
	n := 0
	words[head+2+n] = tf.RIP
	n++
	if c.Current != 0 {
		bp := tf.RBP
		for n < profDepth && bp%8 == 0 && userOK(bp, 16, false) {
			ret := *amd64.U64(uintptr(bp + 8))
			next := *amd64.U64(uintptr(bp))
			if ret == 0 {
				break
			}
			words[head+2+n] = ret
			n++
			if next <= bp {
				break // frames lie at higher addresses, always
			}
			bp = next
		}
	}
	tid := int64(0)
	if c.Current != 0 {
		tid = int64(sched.T(int(c.Current)).Tid)
	}
	words[head] = uint64(n)
	words[head+1] = uint64(c.ID)<<32 | uint64(tid)
	prof.n += 2 + n
	prof.samples++
}

// dumpProfile writes the samples to the kernel log: a header line, then
// "rt0: prof CPU TID PC..." (hex), the first PC the interrupted one, the
// rest return addresses.
func dumpProfile() {
	kprint("rt0: profile hz ")
	kprintDec(prof.hz)
	kprint(" samples ")
	kprintDec(int64(prof.samples))
	kprint(" dropped ")
	kprintDec(int64(prof.dropped))
	kprint("\n")
	words := amd64.U64s(uintptr(prof.buf), prof.words)
	for i := 0; i < prof.n; {
		n := int(words[i])
		kprint("rt0: prof ")
		kprintDec(int64(words[i+1] >> 32))
		kprint(" ")
		kprintDec(int64(uint32(words[i+1])))
		for j := 0; j < n; j++ {
			kprint(" ")
			kprintHex(words[i+2+j])
		}
		kprint("\n")
		i += 2 + n
	}
}
