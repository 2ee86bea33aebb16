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
// The kernel itself runs with interrupts off, so a sample that falls due
// while it runs waits for its way out, and is then taken at the first
// instruction back in the thread. Such a sample is the kernel's time: the
// way out of the kernel entry that ended last on this CPU (profLast,
// noted when profiling) found the timer's interrupt pending in the LAPIC
// (the time alone cannot tell: under TCG the interrupt arrives tens of
// microseconds after its deadline, past many short entries). It gets a
// first frame naming what that entry served — a system call by number,
// else the trap or interrupt vector (profKernelPC) — above the thread's
// own stack when the thread is the one that entered, and counts every
// period that passed meanwhile. What it still cannot see is which of the
// kernel's own functions ran.

const (
	profDepth = 32 // frames a sample keeps
	// The sample buffer (two words of header per sample, then its
	// frames): 8 MiB, about a minute of two CPUs at 250 Hz, or a
	// sixteenth of the free memory if that is less (at least 64 KiB).
	// Samples past its end are counted, not kept.
	profMaxBytes = 8 << 20
	profMinBytes = 64 << 10
)

// profEntry is a kernel entry the profiler may charge a sample to.
type profEntry struct {
	kind uint64 // profKernelPC's low bits
	tid  int32
	held bool // the timer's interrupt waited for its way out (profLast only)
}

// profKernelPC marks a sample's kernel frame: the system call number, or
// profKernelTrap plus the vector of a trap or interrupt, in the low bits
// of an address no code has. cmd/rt0's profile.go names them.
const (
	profKernelPC   = 0xFFFF_FFFF_0000_0000
	profKernelTrap = 0x1_0000
)

// profEnter notes what a kernel entry from a thread serves (trap.go, at
// depth 0, only while profiling).
func profEnter(k *kcpu, tf *amd64.TrapFrame, c *amd64.CPU) {
	k.profEntry.kind = profKernelTrap + tf.Vector
	if tf.Vector == amd64.VectorSyscall {
		k.profEntry.kind = tf.RAX & 0xFFFF
	}
	k.profEntry.tid = 0
	if c.Current != 0 {
		k.profEntry.tid = sched.T(int(c.Current)).Tid
	}
}

// profExit notes that the entry ends now, and whether a sample's
// interrupt waits for it: the LAPIC's IRR has it (a register read, only
// once a sample is due).
func profExit(k *kcpu) {
	k.profLast = k.profEntry
	k.profLast.held = k.profAt != 0 && nanotime() >= k.profAt && lapicRead(lapicIRR+vecTimer/32*0x10)&(1<<(vecTimer%32)) != 0
}

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
	due := k.profAt
	if due == 0 || now < due {
		return
	}
	// Every period since the sample fell due counts (a long system call
	// holds the interrupt back for all of them).
	weight := 1 + (now-due)/prof.period
	k.profAt = due + weight*prof.period
	if prof.n+3+profDepth > prof.words {
		prof.dropped += int(weight)
		return
	}
	words := amd64.U64s(uintptr(prof.buf), prof.words)
	head := prof.n
	n := 0
	tid := int64(0)
	if c.Current != 0 {
		tid = int64(sched.T(int(c.Current)).Tid)
	}
	user := c.Current != 0
	if k.profLast.held {
		// Due while the kernel ran: its frame first, the thread's stack
		// only if that thread made the entry.
		words[head+3+n] = profKernelPC | k.profLast.kind
		n++
		user = user && tid == int64(k.profLast.tid)
		tid = int64(k.profLast.tid)
		if !user {
			goto done
		}
	}
	words[head+3+n] = tf.RIP
	n++
	if user {
		bp := tf.RBP
		for n < profDepth && bp%8 == 0 && userOK(bp, 16, false) {
			ret := *amd64.U64(uintptr(bp + 8))
			next := *amd64.U64(uintptr(bp))
			if ret == 0 {
				break
			}
			words[head+3+n] = ret
			n++
			if next <= bp {
				break // frames lie at higher addresses, always
			}
			bp = next
		}
	}
done:
	words[head] = uint64(n)
	words[head+1] = uint64(c.ID)<<32 | uint64(uint32(tid))
	words[head+2] = uint64(weight)
	prof.n += 3 + n
	prof.samples += int(weight)
}

// dumpProfile writes the samples to the kernel log: a header line, then
// "rt0: prof CPU TID xWEIGHT PC..." (hex): the periods the sample stands
// for, the first PC the interrupted one (or a profKernelPC), the rest
// return addresses.
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
		kprint(" x")
		kprintDec(int64(words[i+2]))
		for j := 0; j < n; j++ {
			kprint(" ")
			kprintHex(words[i+3+j])
		}
		kprint("\n")
		i += 3 + n
	}
}
