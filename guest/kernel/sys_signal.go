package kernel

import (
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Signal syscalls. The runtime installs a handler for every signal, masks
// and unmasks them around clone, gives each M an alternate signal stack,
// and sends SIGURG to a thread to preempt the goroutine it runs. These
// record what the program asks; signal.go delivers.

const nsig = 65

// sigactions holds each signal's struct sigaction as the program gave it:
// handler, flags, restorer, mask.
var sigactions [nsig][4]uint64

func sysRtSigaction(sig, act, oact, size uint64) int64 {
	if sig == 0 || sig >= nsig || size != 8 {
		return -linux.EINVAL
	}
	if oact != 0 {
		p, ok := userBytes(oact, 32, true)
		if !ok {
			return -linux.EFAULT
		}
		for i := 0; i < 4; i++ {
			put64(p[8*i:], sigactions[sig][i])
		}
	}
	if act != 0 {
		if sig == 9 || sig == 19 { // SIGKILL, SIGSTOP
			return -linux.EINVAL
		}
		p, ok := userBytes(act, 32, false)
		if !ok {
			return -linux.EFAULT
		}
		for i := 0; i < 4; i++ {
			sigactions[sig][i] = le64(p[8*i:])
		}
	}
	return 0
}

func sysRtSigprocmask(how, set, oset, size uint64) int64 {
	if size != 8 {
		return -linux.EINVAL
	}
	t := sched.Cur()
	if oset != 0 {
		p, ok := userU64(oset, true)
		if !ok {
			return -linux.EFAULT
		}
		*p = t.SigMask
	}
	if set != 0 {
		p, ok := userU64(set, false)
		if !ok {
			return -linux.EFAULT
		}
		const unblockable = 1<<(9-1) | 1<<(19-1)
		switch how {
		case 0: // SIG_BLOCK
			t.SigMask |= *p
		case 1: // SIG_UNBLOCK
			t.SigMask &^= *p
		case 2: // SIG_SETMASK
			t.SigMask = *p
		default:
			return -linux.EINVAL
		}
		t.SigMask &^= unblockable
	}
	return 0
}

func sysSigaltstack(ss, oss uint64) int64 {
	t := sched.Cur()
	if oss != 0 {
		p, ok := userBytes(oss, 24, true)
		if !ok {
			return -linux.EFAULT
		}
		put64(p[0:], t.AltStack[0])
		put64(p[8:], t.AltStack[1])
		put64(p[16:], t.AltStack[2])
		if t.AltStack[2] == 0 {
			put32(p[8:], 2) // SS_DISABLE
		}
	}
	if ss != 0 {
		p, ok := userBytes(ss, 24, false)
		if !ok {
			return -linux.EFAULT
		}
		t.AltStack[0] = le64(p[0:])
		t.AltStack[1] = le64(p[8:])
		t.AltStack[2] = le64(p[16:])
	}
	return 0
}

func sysTgkill(tgid, tid, sig uint64) int64 {
	if sig >= nsig || int64(tgid) != 1 && tgid != 0 {
		return -linux.EINVAL
	}
	i := threadByTid(tid)
	if i < 0 {
		return -linux.ESRCH
	}
	if sig != 0 {
		signalThread(i, sig)
	}
	return 0
}

// sysKill sends to the process: pid 1 (or 0, -1: everyone there is).
func sysKill(pid, sig uint64) int64 {
	if sig >= nsig {
		return -linux.EINVAL
	}
	if p := int64(pid); p != 1 && p != 0 && p != -1 {
		return -linux.ESRCH
	}
	if sig != 0 {
		signalThread(sched.Current(), sig)
	}
	return 0
}

// mainThread returns the slot of the program's first thread (pid 1), or
// the lowest live one if it has exited.
func mainThread() int {
	for i := 1; i < sched.Top(); i++ {
		if t := sched.T(i); t.State != sched.Free {
			return i
		}
	}
	return 0
}
