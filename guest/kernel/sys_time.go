package kernel

import (
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Time syscalls. Without a vDSO (rt0 passes no AT_SYSINFO_EHDR) the runtime
// makes every clock_gettime a real syscall: it must be cheap.

func clockNow(clk uint64) (int64, bool) {
	switch clk {
	case linux.CLOCK_REALTIME, linux.CLOCK_REALTIME_COARSE:
		return walltime(), true
	case linux.CLOCK_MONOTONIC, linux.CLOCK_MONOTONIC_RAW, linux.CLOCK_MONOTONIC_COARSE, linux.CLOCK_BOOTTIME:
		return nanotime(), true
	case linux.CLOCK_PROCESS_CPUTIME_ID, linux.CLOCK_THREAD_CPUTIME_ID:
		return cpuClockNow(clk), true // sys_timer.go
	}
	return 0, false
}

func sysClockGettime(clk, ts uint64) int64 {
	now, ok := clockNow(clk)
	if !ok {
		return -linux.EINVAL
	}
	if !writeTimespec(ts, now) {
		return -linux.EFAULT
	}
	return 0
}

func sysClockGetres(clk, ts uint64) int64 {
	if _, ok := clockNow(clk); !ok {
		return -linux.EINVAL
	}
	if ts != 0 && !writeTimespec(ts, 1) {
		return -linux.EFAULT
	}
	return 0
}

// sysGettimeofday writes the time and, if asked, a zero struct timezone
// (UTC), each only when its pointer is not NULL.
func sysGettimeofday(tv, tz uint64) int64 {
	if tv != 0 {
		p, ok := userBytes(tv, 16, true)
		if !ok {
			return -linux.EFAULT
		}
		now := walltime()
		put64(p[0:], uint64(now/1e9))
		put64(p[8:], uint64(now%1e9/1000))
	}
	if tz != 0 {
		p, ok := userBytes(tz, 8, true)
		if !ok {
			return -linux.EFAULT
		}
		clear(p)
	}
	return 0
}

func sysTime(t uint64) int64 {
	now := walltime() / 1e9
	if t != 0 {
		p, ok := userU64(t, true)
		if !ok {
			return -linux.EFAULT
		}
		*p = uint64(now)
	}
	return now
}

func sleepUntil(deadline int64) int64 {
	if deadline <= nanotime() {
		return 0
	}
	sched.Block(sched.Current(), sched.WaitSleep, 0, deadline, 0)
	return blocked
}

func sysNanosleep(req uint64) int64 {
	ns, e := readTimespec(req)
	if e != 0 {
		return e
	}
	return sleepUntil(nanotime() + ns)
}

func sysClockNanosleep(clk, flags, req uint64) int64 {
	// The clock first (one without sleeps: EOPNOTSUPP), then the time.
	switch clk {
	case linux.CLOCK_REALTIME, linux.CLOCK_MONOTONIC, linux.CLOCK_BOOTTIME, linux.CLOCK_PROCESS_CPUTIME_ID:
	case linux.CLOCK_MONOTONIC_RAW, linux.CLOCK_REALTIME_COARSE, linux.CLOCK_MONOTONIC_COARSE:
		return -linux.EOPNOTSUPP
	default:
		return -linux.EINVAL
	}
	ns, e := readTimespec(req)
	if e != 0 {
		return e
	}
	if flags&linux.TIMER_ABSTIME == 0 {
		return sleepUntil(nanotime() + ns)
	}
	if clk == linux.CLOCK_REALTIME || clk == linux.CLOCK_REALTIME_COARSE {
		ns -= wall0
	}
	return sleepUntil(ns)
}
