package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/linux"
)

// The rest of what a Linux process asks about itself.

// sysUname says Linux: the standard library checks the kernel version for
// features (and rt0 serves the Linux ABI).
func sysUname(buf uint64) int64 {
	p, ok := userBytes(buf, 6*65, true)
	if !ok {
		return -linux.EFAULT
	}
	clear(p)
	fields := [6]string{"Linux", "rt0", "6.1.0-rt0", "#1 rt0", "x86_64", "(none)"}
	for i, s := range fields {
		copy(p[65*i:65*i+64], s)
	}
	return 0
}

// sysPrlimit reports generous limits and accepts any new ones.
func sysPrlimit(pid, resource, newp, oldp uint64) int64 {
	if oldp != 0 {
		p, ok := userBytes(oldp, 16, true)
		if !ok {
			return -linux.EFAULT
		}
		cur, max := ^uint64(0), ^uint64(0)
		switch resource {
		case 7: // RLIMIT_NOFILE
			cur, max = maxFDs, maxFDs
		case 3: // RLIMIT_STACK
			cur = stackSize
		}
		put64(p[0:], cur)
		put64(p[8:], max)
	}
	return 0
}

func sysGetrandom(buf, n uint64) int64 {
	if n > 1<<25 {
		n = 1 << 25
	}
	p, ok := userBytes(buf, n, true)
	if !ok {
		return -linux.EFAULT
	}
	fillRandom(p)
	return int64(n)
}

var rngState uint64

// fillRandom fills p from RDRAND where the CPU has it, else from a
// xorshift generator seeded by the TSC (not for cryptography; says so in
// the boot log).
func fillRandom(p []byte) {
	hw := amd64.HasRDRAND()
	for i := 0; i < len(p); i += 8 {
		var v uint64
		ok := false
		if hw {
			for try := 0; try < 10 && !ok; try++ {
				v, ok = amd64.Rdrand()
			}
		}
		if !ok {
			if rngState == 0 {
				rngState = amd64.Rdtsc() | 1
			}
			rngState ^= rngState << 13
			rngState ^= rngState >> 7
			rngState ^= rngState << 17
			v = rngState ^ amd64.Rdtsc()
		}
		for k := 0; k < 8 && i+k < len(p); k++ {
			p[i+k] = byte(v >> (8 * k))
		}
	}
}

// sysPrctl serves the process controls a Go program uses: thread names
// (recorded nowhere), and "keep capabilities", which syscall.AllThreadsSyscall
// sets on every thread (the program is root and keeps everything anyway).
// Anything else is EINVAL, as Linux says for an option it does not know.
func sysPrctl(option, arg uint64) int64 {
	const ()
	switch option {
	case linux.PR_GET_KEEPCAPS:
		return 0
	case linux.PR_SET_KEEPCAPS:
		if arg > 1 {
			return -linux.EINVAL
		}
		return 0
	case linux.PR_SET_NAME:
		return 0
	case linux.PR_GET_NAME:
		if p, ok := userBytes(arg, 16, true); ok {
			clear(p)
			copy(p, "rt0")
			return 0
		}
		return -linux.EFAULT
	}
	return -linux.EINVAL
}
