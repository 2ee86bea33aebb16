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
// period that passed meanwhile — or, where the NMI sampler below runs,
// none: that one records the kernel's own functions.

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
	if amd64.Load32(&prof.nmi) != profNMIOff {
		return // the NMI sampler sees the kernel itself
	}
	k.profLast = k.profEntry
	k.profLast.held = k.profAt != 0 && nanotime() >= k.profAt && lapicRead(lapicIRR+vecTimer/32*0x10)&(1<<(vecTimer%32)) != 0
}

var prof struct {
	hz     int64
	period int64  // ns between samples
	buf    uint64 // kalloc'd, words words
	words  int
	// n is the words used, samples and dropped the periods kept and
	// lost: atomic, as NMIs write samples on several CPUs at once.
	n       uint64
	samples uint64
	dropped uint64
	// nmi: the PIT's NMI samples the kernel (profNMIOn), or its NMIs are
	// being switched off at exit (profNMIStopping: ignored).
	nmi     uint32
	nmiSeen uint32 // an NMI arrived while the sampler was on
}

const (
	profNMIOff = iota
	profNMIOn
	profNMIStopping
)

// profReserve takes words of the sample buffer, or counts weight periods
// as dropped if they do not fit; it returns the first word's index.
func profReserve(words int, weight uint64) (int, bool) {
	for {
		n := amd64.Load64(&prof.n)
		if n+uint64(words) > uint64(prof.words) {
			amd64.Add64(&prof.dropped, weight)
			return 0, false
		}
		if amd64.Cas64(&prof.n, n, n+uint64(words)) {
			amd64.Add64(&prof.samples, weight)
			return int(n), true
		}
	}
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
	if !profileStartNMI() {
		kprint("rt0: rt0.profile: no PIT NMIs (no I/O APIC or PIT, or a rate under 19 Hz): the kernel's time is sampled without its functions\n")
	}
}

// profNext returns when this CPU takes its next sample (0: not
// profiling), and moves its schedule past now once it is due.
func profNext(k *kcpu, now int64) int64 {
	if prof.hz == 0 || amd64.Load32(&prof.nmi) != profNMIOff {
		return 0 // the NMI sampler's clock is the PIT
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
	var local [3 + profDepth]uint64
	n := 0
	tid := int64(0)
	if c.Current != 0 {
		tid = int64(sched.T(int(c.Current)).Tid)
	}
	user := c.Current != 0
	if k.profLast.held {
		// Due while the kernel ran: its frame first, the thread's stack
		// only if that thread made the entry.
		local[3+n] = profKernelPC | k.profLast.kind
		n++
		user = user && tid == int64(k.profLast.tid)
		tid = int64(k.profLast.tid)
		if !user {
			goto done
		}
	}
	local[3+n] = tf.RIP
	n++
	if user {
		n = profUserStack(local[3:], n, tf.RBP)
	}
done:
	local[0] = uint64(n)
	local[1] = uint64(c.ID)<<32 | uint64(uint32(tid))
	local[2] = uint64(weight)
	profStore(local[:3+n], uint64(weight))
}

// profUserStack appends the return addresses of the thread's frame-pointer
// chain from bp to pcs[:n], and returns the new count. Only under the
// kernel lock: userOK reads the memory map.
func profUserStack(pcs []uint64, n int, bp uint64) int {
	for n < profDepth && bp%8 == 0 && userOK(bp, 16, false) {
		ret := *amd64.U64(uintptr(bp + 8))
		next := *amd64.U64(uintptr(bp))
		if ret == 0 {
			break
		}
		pcs[n] = ret
		n++
		if next <= bp {
			break // frames lie at higher addresses, always
		}
		bp = next
	}
	return n
}

// profileUser takes the sample of the thread an NMI found running
// (vecProfile, the self-IPI profileNMI sends): the interrupt arrives as
// soon as the NMI returns, at the same instruction, and its handler holds
// the kernel lock, so the thread's stack may be walked.
func profileUser(tf *amd64.TrapFrame, k *kcpu, c *amd64.CPU) {
	if k.profUser == 0 {
		return
	}
	k.profUser = 0
	var local [3 + profDepth]uint64
	local[3] = tf.RIP
	n := 1
	tid := int64(0)
	if c.Current != 0 {
		tid = int64(sched.T(int(c.Current)).Tid)
		n = profUserStack(local[3:], n, tf.RBP)
	}
	local[0] = uint64(n)
	local[1] = uint64(c.ID)<<32 | uint64(uint32(tid))
	local[2] = 1
	profStore(local[:3+n], 1)
}

// profStore copies a sample into the buffer.
func profStore(sample []uint64, weight uint64) {
	at, ok := profReserve(len(sample), weight)
	if !ok {
		return
	}
	copy(amd64.U64s(uintptr(prof.buf), prof.words)[at:], sample)
}

// The kernel's own functions, sampled by NMI. The kernel runs with
// interrupts off, but not NMIs: where an I/O APIC and a PIT are, PIT
// channel 0 counts at the profile's rate and its IRQ 0 reaches every CPU
// as an NMI (the I/O APIC's NMI delivery, broadcast). A CPU in a kernel
// entry records the interrupted RIP and the kernel's frame-pointer chain
// while it stays on this CPU's kernel stacks, then the entry's mark
// (profKernelPC) and the thread's RIP from the entry's trap frame — the
// user stack is not walked: an NMI takes no lock, and another CPU may be
// changing the memory map. A CPU in a thread sends itself an interrupt
// (vecProfile) whose handler, a moment later at the same instruction and
// with the kernel lock, records the thread's stack (profileUser); the idle
// loop is recorded at once. The LAPIC sampler and its check of each way
// out (profExit) are then off: the NMI is the one clock. The NMI handler runs at any
// point of the kernel, so it only reads: the trap frames, the CPU's
// stacks, its own kcpu, and the buffer it reserves words of atomically.
// In the entry and exit assembly (before trap counts the entry, after it
// uncounts it) a sample is just that code's address. While the sampler is
// on, every NMI is taken for its clock's: a machine's own NMI (a memory
// error's) would pass as a sample instead of stopping it.
// profileOption starts it after the APs are in apMain, with their IDTs.

// profileStartNMI turns the NMI sampler on, if it can: it returns false
// without an I/O APIC or a PIT that counts (no NMI within three periods).
func profileStartNMI() bool {
	div := 1193182 / prof.hz
	if ioapic == 0 || div < 2 || div > 0xFFFF {
		return false
	}
	amd64.Outb(0x43, 0x34) // channel 0, lo/hi byte, mode 2 (rate generator)
	amd64.Outb(0x40, uint8(div))
	amd64.Outb(0x40, uint8(div>>8))
	pin := acpi.isaGSI[0] - acpi.ioapicGSI
	lo := uint32(0x4 << 8) // NMI delivery (the vector is ignored); edge, active high
	if acpi.isaFlags[0]&3 == 3 {
		lo |= 1 << 13
	}
	amd64.Store32(&prof.nmi, profNMIOn)
	ioapicWrite(0x10+2*pin+1, 0xFF<<24) // every CPU
	ioapicWrite(0x10+2*pin, lo)
	// A PIT counts from the first period on; wait three, and 20 ms more.
	start := nanotime()
	for nanotime()-start < 3*prof.period+20_000_000 {
		if amd64.Load32(&prof.nmiSeen) != 0 {
			return true
		}
		amd64.Pause()
	}
	profileStopNMI()
	amd64.Store32(&prof.nmi, profNMIOff)
	return false
}

// profileStopNMI masks the PIT's input: NMIs still in flight find the
// sampler stopping and are ignored.
func profileStopNMI() {
	if amd64.Load32(&prof.nmi) != profNMIOn {
		return
	}
	amd64.Store32(&prof.nmi, profNMIStopping)
	ioapicWrite(0x10+2*(acpi.isaGSI[0]-acpi.ioapicGSI), 1<<16)
}

// profileNMI is the NMI sampler (trap.go, before anything else: no lock).
func profileNMI(tf *amd64.TrapFrame, c *amd64.CPU, k *kcpu) {
	amd64.Store32(&prof.nmiSeen, 1)
	if amd64.Load32(&prof.nmi) != profNMIOn {
		return
	}
	// In the kernel is with interrupts off: threads and the idle loop run
	// with them on, the kernel from the SYSCALL or the interrupt on —
	// its entry and exit assembly too, before and after trap's depth
	// count (under TCG most of a getpid). A thread's sample needs its
	// stack walked, under the lock: a self-IPI takes it right after.
	if tf.RFLAGS&amd64.RFLAGS_IF != 0 {
		if c.Current == 0 {
			idle := [4]uint64{1, uint64(c.ID) << 32, 1, tf.RIP}
			profStore(idle[:], 1)
			return
		}
		k.profUser = 1
		sendIPI(k.apicID, icrFixed|icrAssert|vecProfile)
		return
	}
	var local [4 + profDepth]uint64
	n := 0
	local[3+n] = tf.RIP
	n++
	for bp := tf.RBP; n < profDepth && bp%8 == 0 && c.OnStack(bp, 16); {
		ret := *amd64.U64(uintptr(bp + 8))
		next := *amd64.U64(uintptr(bp))
		if ret == 0 {
			break
		}
		local[3+n] = ret
		n++
		if next <= bp {
			break
		}
		bp = next
	}
	tid := int64(0)
	if c.Current != 0 {
		tid = int64(sched.T(int(c.Current)).Tid)
	}
	if k.depth > 0 && c.Frame != 0 && c.Current != 0 && n < profDepth {
		// The entry's mark, then where the thread entered.
		entry := (*amd64.TrapFrame)(amd64.Ptr(uintptr(c.Frame)))
		local[3+n] = profKernelPC | k.profEntry.kind
		n++
		local[3+n] = entry.RIP
		n++
		tid = int64(k.profEntry.tid)
	}
	local[0] = uint64(n)
	local[1] = uint64(c.ID)<<32 | uint64(uint32(tid))
	local[2] = 1
	profStore(local[:3+n], 1)
}

// dumpProfile writes the samples to the kernel log: a header line, then
// "rt0: prof CPU TID xWEIGHT PC..." (hex): the periods the sample stands
// for, the first PC the interrupted one (or a profKernelPC), the rest
// return addresses.
func dumpProfile() {
	profileStopNMI()
	kprint("rt0: profile hz ")
	kprintDec(prof.hz)
	kprint(" samples ")
	kprintDec(int64(amd64.Load64(&prof.samples)))
	kprint(" dropped ")
	kprintDec(int64(amd64.Load64(&prof.dropped)))
	kprint("\n")
	words := amd64.U64s(uintptr(prof.buf), prof.words)
	for i := 0; i < int(amd64.Load64(&prof.n)); {
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
