package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Threads: clone, exit, futex and friends. The runtime makes one thread per
// M with clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_SYSVSEM|
// CLONE_SETTLS|CLONE_THREAD); its child starts on the stack the runtime gave
// it, with FS = &mp.tls[0]+8, returning 0 from the same SYSCALL.

func curTid() int32 { return sched.Cur().Tid }

func sysClone(tf *amd64.TrapFrame, flags, stk, ptid, ctid, tls uint64) int64 {
	if flags&(linux.CLONE_VM|linux.CLONE_THREAD) != linux.CLONE_VM|linux.CLONE_THREAD {
		return -linux.ENOSYS // no fork: one process
	}
	i, ok := sched.New()
	if !ok {
		return -linux.EAGAIN
	}
	t := sched.T(i)
	tf.CompleteFX()
	amd64.CopyFrame(&t.Frame, tf)
	t.Frame.RAX = 0
	if stk != 0 {
		t.Frame.RSP = stk
	}
	if flags&linux.CLONE_SETTLS != 0 {
		t.Frame.FSBase = tls
	}
	t.SigMask = sched.Cur().SigMask
	if flags&linux.CLONE_PARENT_SETTID != 0 {
		if p, ok := userU32(ptid, true); ok {
			*p = uint32(t.Tid)
		}
	}
	if flags&linux.CLONE_CHILD_SETTID != 0 {
		if p, ok := userU32(ctid, true); ok {
			*p = uint32(t.Tid)
		}
	}
	if flags&linux.CLONE_CHILD_CLEARTID != 0 {
		t.ClearTID = ctid
	}
	sched.MakeRunnable(i)
	traceClone(tf, t.Tid, stk)
	return int64(t.Tid)
}

// sysExit ends the calling thread; the last one out ends the program.
func sysExit(tf *amd64.TrapFrame, code uint64) int64 {
	cur := sched.Current()
	t := sched.T(cur)
	if t.ClearTID != 0 {
		if p, ok := userU32(t.ClearTID, true); ok {
			*p = 0
			sched.WakeFutex(t.ClearTID, 1)
		}
	}
	forgetThread(cur)
	sched.Exit(cur)
	if live, _ := sched.Counts(); live == 0 {
		stop(int(code & 0xFF))
	}
	return blocked
}

func sysSetTidAddress(addr uint64) int64 {
	sched.Cur().ClearTID = addr
	return int64(curTid())
}

// sysArchPrctl serves ARCH_SET_FS for programs that still ask (the runtime
// does not: rt0's _cgo_init hook set m0's FS directly). The new base is
// written to the frame; the trap return path loads it into the MSR.
func sysArchPrctl(tf *amd64.TrapFrame, code, addr uint64) int64 {
	switch code {
	case linux.ARCH_SET_FS:
		tf.FSBase = addr
		return 0
	case linux.ARCH_GET_FS:
		p, ok := userU64(addr, true)
		if !ok {
			return -linux.EFAULT
		}
		*p = tf.FSBase
		return 0
	}
	return -linux.EINVAL
}

func sysSchedYield() int64 {
	sched.Yield()
	return 0
}

// onlineMask is the set of CPUs started: bits 0 .. ncpu-1.
func onlineMask() uint64 {
	if ncpu >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(ncpu) - 1
}

// affinityTarget returns the slot of the thread a sched_*affinity call
// names: 0 for the caller, else a tid (-1: none).
func affinityTarget(pid uint64) int {
	if pid == 0 {
		return sched.Current()
	}
	return threadByTid(pid)
}

// threadByTid returns the slot of the live thread with the given tid, or -1.
func threadByTid(tid uint64) int {
	for i := 1; i < sched.Top(); i++ {
		if t := sched.T(i); t.State != sched.Free && uint64(t.Tid) == tid {
			return i
		}
	}
	return -1
}

// sysSchedGetaffinity reports the CPUs a thread may use: this is where the
// runtime learns NumCPU and so GOMAXPROCS. Like Linux, it returns the
// bytes written, a multiple of 8 (the kernel's cpumask size).
func sysSchedGetaffinity(pid, size, maskAddr uint64) int64 {
	const maskBytes = 8
	if size < maskBytes || size%8 != 0 {
		return -linux.EINVAL
	}
	i := affinityTarget(pid)
	if i < 0 {
		return -linux.ESRCH
	}
	p, ok := userBytes(maskAddr, maskBytes, true)
	if !ok {
		return -linux.EFAULT
	}
	m := onlineMask()
	if a := sched.T(i).Affinity; a != 0 {
		m &= a
	}
	put64(p, m)
	return maskBytes
}

// sysSchedSetaffinity pins a thread to a set of CPUs. Bits of CPUs that
// are not online are ignored; a set with none of them is EINVAL, as on
// Linux. A thread moved off the CPU it runs on leaves it at its next
// kernel exit (at once if it is the caller).
func sysSchedSetaffinity(pid, size, maskAddr uint64) int64 {
	i := affinityTarget(pid)
	if i < 0 {
		return -linux.ESRCH
	}
	n := min(size, 8)
	p, ok := userBytes(maskAddr, n, false)
	if !ok {
		return -linux.EFAULT
	}
	var m uint64
	for k := uint64(0); k < n; k++ {
		m |= uint64(p[k]) << (8 * k)
	}
	m &= onlineMask()
	if m == 0 {
		return -linux.EINVAL
	}
	t := sched.T(i)
	if m == onlineMask() {
		m = 0
	}
	sched.SetAffinity(i, m)
	if !t.Eligible(int(t.CPU)) {
		if i == sched.Current() {
			sched.Yield()
		} else {
			interruptThread(i)
		}
	}
	return 0
}

// sysGetcpu returns the CPU (and NUMA node: 0) the caller runs on.
func sysGetcpu(cpuAddr, nodeAddr uint64) int64 {
	_, me := thisCPU()
	if cpuAddr != 0 {
		p, ok := userU32(cpuAddr, true)
		if !ok {
			return -linux.EFAULT
		}
		*p = uint32(me)
	}
	if nodeAddr != 0 {
		p, ok := userU32(nodeAddr, true)
		if !ok {
			return -linux.EFAULT
		}
		*p = 0
	}
	return 0
}

// sysFutex: FUTEX_WAIT sleeps if the 32-bit word at addr still holds val
// (the compare and the sleep are atomic: the kernel runs with interrupts
// off on one CPU); FUTEX_WAKE wakes up to val sleepers.
func sysFutex(addr, op, val, timeout uint64) int64 {
	switch op & 127 {
	case linux.FUTEX_WAIT, linux.FUTEX_WAIT_BITSET:
		p, ok := userU32(addr, false)
		if !ok {
			return -linux.EFAULT
		}
		if *p != uint32(val) {
			return -linux.EAGAIN
		}
		var deadline int64
		if timeout != 0 {
			ns, e := readTimespec(timeout)
			if e != 0 {
				return e
			}
			now := nanotime()
			if op&127 == linux.FUTEX_WAIT_BITSET {
				// absolute, on CLOCK_MONOTONIC (or REALTIME)
				if op&linux.FUTEX_CLOCK_REALTIME != 0 {
					ns -= wall0
				}
				deadline = ns
			} else {
				deadline = now + ns
			}
			if deadline <= now {
				return -linux.ETIMEDOUT
			}
		}
		sched.Block(sched.Current(), sched.WaitFutex, addr, deadline, -linux.ETIMEDOUT)
		return blocked
	case linux.FUTEX_WAKE, linux.FUTEX_WAKE_BITSET:
		n := int(int32(val))
		if n < 0 {
			n = 0
		}
		return int64(sched.WakeFutex(addr, n))
	}
	return -linux.ENOSYS
}
