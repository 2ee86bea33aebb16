package kernel

import "rt0/guest/sched"

// Time syscalls. Without a vDSO (rt0 passes no AT_SYSINFO_EHDR) the runtime
// makes every clock_gettime a real syscall: it must be cheap.

const (
	clockRealtime       = 0
	clockMonotonic      = 1
	clockProcessCputime = 2
	clockThreadCputime  = 3
	clockMonotonicRaw   = 4
	clockRealtimeCoarse = 5
	clockMonotonicCoars = 6
	clockBoottime       = 7
	timerAbstime        = 1
)

func clockNow(clk uint64) (int64, bool) {
	switch clk {
	case clockRealtime, clockRealtimeCoarse:
		return walltime(), true
	case clockMonotonic, clockMonotonicRaw, clockMonotonicCoars, clockBoottime,
		clockProcessCputime, clockThreadCputime:
		return nanotime(), true
	}
	return 0, false
}

func sysClockGettime(clk, ts uint64) int64 {
	now, ok := clockNow(clk)
	if !ok {
		return -EINVAL
	}
	if !writeTimespec(ts, now) {
		return -EFAULT
	}
	return 0
}

func sysClockGetres(clk, ts uint64) int64 {
	if _, ok := clockNow(clk); !ok {
		return -EINVAL
	}
	if ts != 0 && !writeTimespec(ts, 1) {
		return -EFAULT
	}
	return 0
}

func sysGettimeofday(tv uint64) int64 {
	if tv == 0 {
		return 0
	}
	p, ok := userBytes(tv, 16, true)
	if !ok {
		return -EFAULT
	}
	now := walltime()
	put64(p[0:], uint64(now/1e9))
	put64(p[8:], uint64(now%1e9/1000))
	return 0
}

func sysTime(t uint64) int64 {
	now := walltime() / 1e9
	if t != 0 {
		p, ok := userU64(t, true)
		if !ok {
			return -EFAULT
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
	ns, ok := readTimespec(req)
	if !ok {
		return -EINVAL
	}
	return sleepUntil(nanotime() + ns)
}

func sysClockNanosleep(clk, flags, req uint64) int64 {
	ns, ok := readTimespec(req)
	if !ok {
		return -EINVAL
	}
	if _, ok := clockNow(clk); !ok {
		return -EINVAL
	}
	if flags&timerAbstime == 0 {
		return sleepUntil(nanotime() + ns)
	}
	if clk == clockRealtime || clk == clockRealtimeCoarse {
		ns -= wall0
	}
	return sleepUntil(ns)
}
