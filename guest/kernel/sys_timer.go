package kernel

import (
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Timers that send signals: the interval timers of setitimer(2) and
// alarm(2), and the POSIX timers of timer_create(2), on the wall clocks
// and on the CPU-time clocks, which count the nanoseconds a thread (or all
// of them) ran (sched.CPUTime: everything between being switched in and
// out, the kernel's work for it included — rt0 runs programs in ring 0 and
// tells no user time from system time, so ITIMER_VIRTUAL counts what
// ITIMER_PROF does).
//
// This is what runtime/pprof's CPU profile stands on: the runtime makes a
// CLOCK_THREAD_CPUTIME_ID timer for each M with SIGEV_THREAD_ID, every
// 1/hz of the thread's CPU time, and takes each SIGPROF with si_code
// SI_TIMER as a sample (and, process-wide, ITIMER_PROF, whose SI_KERNEL
// signals it counts only for threads without their own timer).
//
// Expiry is checked on the full pass of every way out of the kernel
// (reschedule, trap.go): a wall-clock timer's next expiry is a deadline
// like a sleeper's (the LAPIC timer is armed for the earliest), a CPU-time
// timer's is turned into a wall time while its thread runs — now plus the
// CPU time left, divided among the running threads for a process clock —
// and the LAPIC armed for it too, so a thread spinning in user code is
// interrupted when its time is up. Arming a timer bumps sched.Gen, so the
// way out of that very call takes the full pass.

// A ktimer is one timer: a POSIX timer (posixTimers, its id the index)
// or an interval timer (itimers, by ITIMER_*).
type ktimer struct {
	used    bool
	clock   uint64 // CLOCK_* it counts
	slot    int    // CLOCK_THREAD_CPUTIME_ID: the thread it counts
	tid     int32  // ... and its tid (a reused slot is another thread)
	notify  uint32 // SIGEV_*
	sig     uint64
	target  int   // SIGEV_THREAD_ID: the thread slot to signal (else the process)
	ttid    int32 // ... and its tid
	value   uint64
	next    int64 // the expiry on its clock (ns); 0: disarmed
	every   int64 // the interval (ns); 0: one shot
	overrun int32 // expirations while its signal was pending
	shown   int32 // the overrun count of the last signal delivered (timer_getoverrun)
}

// maxTimers bounds the POSIX timers (Linux's limit is RLIMIT_SIGPENDING;
// a Go program makes one per M while profiling).
const maxTimers = 64

var (
	posixTimers [maxTimers]ktimer
	itimers     [3]ktimer // ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF
	timersArmed int       // timers with next != 0: 0 skips the checks
)

// itimerSignal and itimerClock: what each interval timer sends and counts.
var (
	itimerSignal = [3]uint64{linux.SIGALRM, linux.SIGVTALRM, linux.SIGPROF}
	itimerClock  = [3]uint64{linux.CLOCK_MONOTONIC, linux.CLOCK_PROCESS_CPUTIME_ID, linux.CLOCK_PROCESS_CPUTIME_ID}
)

// clockValue returns tm's clock at monotonic time now, and false if its
// thread has gone.
func (tm *ktimer) clockValue(now int64) (int64, bool) {
	switch tm.clock {
	case linux.CLOCK_REALTIME:
		return wall0 + now, true
	case linux.CLOCK_PROCESS_CPUTIME_ID:
		ns, _ := sched.ProcessCPUTime(now)
		return ns, true
	case linux.CLOCK_THREAD_CPUTIME_ID:
		if t := sched.T(tm.slot); t.State == sched.Free || t.Tid != tm.tid {
			return 0, false
		}
		return sched.CPUTime(tm.slot, now), true
	}
	return now, true // MONOTONIC, BOOTTIME
}

// arm sets tm to expire at next on its clock (0: disarm), every ns after.
func (tm *ktimer) arm(next, every int64) {
	if (tm.next != 0) != (next != 0) {
		if next != 0 {
			timersArmed++
		} else {
			timersArmed--
		}
	}
	tm.next, tm.every = next, every
	sched.Changed() // the way out programs the LAPIC for it
}

// remaining returns the time to tm's next expiry (0: disarmed or due).
func (tm *ktimer) remaining(now int64) int64 {
	if tm.next == 0 {
		return 0
	}
	v, ok := tm.clockValue(now)
	if !ok || v >= tm.next {
		return 1 // due: Linux reports the smallest nonzero value
	}
	return tm.next - v
}

// expireTimers fires the timers that are due at monotonic time now and
// returns when the next one is: the earliest wall-clock expiry (a
// deadline, monotonic ns), and the earliest CPU-time expiry of the thread
// running here (cur) or of the process, as a wall time (0: none).
func expireTimers(now int64, cur int) (wall, cpu int64) {
	if timersArmed == 0 {
		return 0, 0
	}
	proc, running := sched.ProcessCPUTime(now)
	for i := range posixTimers {
		w, c := posixTimers[i].check(now, cur, proc, running, int8(i+1))
		wall, cpu = earliest(wall, w), earliest(cpu, c)
	}
	for i := range itimers {
		w, c := itimers[i].check(now, cur, proc, running, -1)
		wall, cpu = earliest(wall, w), earliest(cpu, c)
	}
	return wall, cpu
}

// earliest returns the earlier of two times, 0 meaning none.
func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// check fires tm if it is due (src is its SigSource) and returns its next
// expiry as expireTimers does.
func (tm *ktimer) check(now int64, cur int, proc int64, running int, src int8) (wall, cpu int64) {
	if !tm.used || tm.next == 0 {
		return 0, 0
	}
	v := proc
	if tm.clock != linux.CLOCK_PROCESS_CPUTIME_ID {
		var ok bool
		if v, ok = tm.clockValue(now); !ok {
			tm.arm(0, 0) // its thread exited
			return 0, 0
		}
	}
	if v >= tm.next {
		missed := int64(0)
		if tm.every > 0 {
			missed = (v - tm.next) / tm.every
			tm.next += (missed + 1) * tm.every
		} else {
			tm.arm(0, 0)
		}
		tm.fire(cur, src, missed)
		if tm.next == 0 {
			return 0, 0
		}
	}
	left := tm.next - v
	switch tm.clock {
	case linux.CLOCK_PROCESS_CPUTIME_ID:
		return 0, now + left/int64(max(running, 1))
	case linux.CLOCK_THREAD_CPUTIME_ID:
		if tm.slot == cur {
			return 0, now + left
		}
		return 0, 0 // it counts only while its thread runs: checked then
	case linux.CLOCK_REALTIME:
		return now + left, 0
	}
	return tm.next, 0
}

// fire sends tm's signal: to its thread (SIGEV_THREAD_ID), else to the
// process — the thread running here if it takes it, as Linux prefers.
// A signal still pending from an earlier expiry counts an overrun.
func (tm *ktimer) fire(cur int, src int8, missed int64) {
	if tm.notify == linux.SIGEV_NONE {
		return
	}
	i := tm.target
	if tm.notify&linux.SIGEV_THREAD_ID != 0 {
		if t := sched.T(i); t.State == sched.Free || t.Tid != tm.ttid {
			return // gone
		}
	} else {
		i = cur
		if t := sched.T(i); i == 0 || t.SigMask&(1<<(tm.sig-1)) != 0 {
			i = mainThread()
		}
	}
	t := sched.T(i)
	bit := uint64(1) << (tm.sig - 1)
	if t.Pending&bit != 0 && t.SigSource[tm.sig-1] == src {
		tm.overrun += int32(min(missed+1, 1<<30))
		return
	}
	tm.overrun += int32(min(missed, 1<<30))
	if t.Pending&bit != 0 {
		return // pending from another sender: Linux drops this one too
	}
	signalFrom(i, tm.sig, src)
}

// timerSiginfo completes the siginfo of a signal from timer src (a
// SigSource > 0) and resets the timer's overrun count.
func timerSiginfo(info []byte, src int8) {
	tm := &posixTimers[src-1]
	put32(info[siTimerID:], uint32(src-1))
	put32(info[siOverrun:], uint32(tm.overrun))
	put64(info[siValue:], tm.value)
	tm.shown, tm.overrun = tm.overrun, 0
}

// forgetThread disarms the timers that count or signal thread slot i,
// which exits.
func forgetThread(i int) {
	for k := range posixTimers {
		tm := &posixTimers[k]
		if tm.used && (tm.clock == linux.CLOCK_THREAD_CPUTIME_ID && tm.slot == i ||
			tm.notify&linux.SIGEV_THREAD_ID != 0 && tm.target == i) {
			tm.arm(0, 0)
		}
	}
}

// timerClockOK reports the clocks a timer may count.
func timerClockOK(clk uint64) bool {
	switch clk {
	case linux.CLOCK_REALTIME, linux.CLOCK_MONOTONIC, linux.CLOCK_BOOTTIME,
		linux.CLOCK_PROCESS_CPUTIME_ID, linux.CLOCK_THREAD_CPUTIME_ID:
		return true
	}
	return false
}

// struct sigevent: where its fields are (host/rules checks them against
// the runtime's sigevent and sigeventFields).
const (
	evValue    = 0
	evSigno    = 8
	evNotify   = 12
	evThreadID = 16
	evSize     = 64
)

// sysTimerCreate serves timer_create(clockid, sevp, timerid), checking in
// Linux's order: the sigevent's memory, the clock, the sigevent, the id's
// memory. Linux's negative clock ids (another process's or thread's CPU
// clock) are not served: EINVAL.
func sysTimerCreate(clk, sevp, idp uint64) int64 {
	var ev []byte
	if sevp != 0 {
		var ok bool
		if ev, ok = userBytes(sevp, evSize, false); !ok {
			return -linux.EFAULT
		}
	}
	clk = uint64(uint32(clk)) // a clockid_t, an int
	if !timerClockOK(clk) {
		return -linux.EINVAL
	}
	tm := ktimer{used: true, clock: clk, notify: linux.SIGEV_SIGNAL, sig: linux.SIGALRM}
	if clk == linux.CLOCK_THREAD_CPUTIME_ID {
		tm.slot, tm.tid = sched.Current(), sched.Cur().Tid
	}
	if ev != nil {
		tm.value = le64(ev[evValue:])
		tm.sig = uint64(int64(int32(u32(ev[evSigno:]))))
		tm.notify = u32(ev[evNotify:])
		switch tm.notify {
		case linux.SIGEV_NONE:
		case linux.SIGEV_SIGNAL, linux.SIGEV_THREAD, linux.SIGEV_SIGNAL | linux.SIGEV_THREAD_ID:
			if tm.notify&linux.SIGEV_THREAD_ID != 0 {
				tid := int32(u32(ev[evThreadID:]))
				if tm.target = slotOfTid(tid); tm.target == 0 {
					return -linux.EINVAL
				}
				tm.ttid = tid
			}
			if tm.sig == 0 || tm.sig >= nsig {
				return -linux.EINVAL
			}
		default:
			return -linux.EINVAL
		}
	}
	for i := range posixTimers {
		if !posixTimers[i].used {
			ip, ok := userU32(idp, true)
			if !ok {
				return -linux.EFAULT
			}
			if ev == nil {
				tm.value = uint64(i) // the default sigev_value is the id
			}
			posixTimers[i] = tm
			*ip = uint32(i)
			return 0
		}
	}
	return -linux.EAGAIN
}

// slotOfTid returns the slot of the live thread tid (0: none).
func slotOfTid(tid int32) int {
	for i := 1; i < sched.Top(); i++ {
		if t := sched.T(i); t.State != sched.Free && t.Tid == tid {
			return i
		}
	}
	return 0
}

// posixTimer returns timer id, or nil.
func posixTimer(id uint64) *ktimer {
	id = uint64(uint32(id)) // a timer_t, an int
	if id >= maxTimers || !posixTimers[id].used {
		return nil
	}
	return &posixTimers[id]
}

// readItimerspec reads struct itimerspec {it_interval, it_value timespec}:
// EFAULT if any of it is unreadable, then EINVAL for a value out of range
// (Linux copies the struct whole before it looks at it).
func readItimerspec(addr uint64) (value, interval, errno int64) {
	if _, ok := userBytes(addr, 32, false); !ok {
		return 0, 0, -linux.EFAULT
	}
	if interval, errno = readTimespec(addr); errno != 0 {
		return
	}
	value, errno = readTimespec(addr + 16)
	return
}

// writeItimerspec writes struct itimerspec: an interval and a time left.
func writeItimerspec(addr uint64, every, left int64) bool {
	return writeTimespec(addr, every) && writeTimespec(addr+16, left)
}

// sysTimerSettime checks in Linux's order: the new value (NULL, its
// memory, its range), the timer, then writes the old value.
func sysTimerSettime(id, flags, newp, oldp uint64) int64 {
	if newp == 0 {
		return -linux.EINVAL
	}
	value, interval, errno := readItimerspec(newp)
	if errno != 0 {
		return errno
	}
	tm := posixTimer(id)
	if tm == nil {
		return -linux.EINVAL
	}
	oldEvery, oldLeft := tm.replace(value, interval, flags&linux.TIMER_ABSTIME != 0)
	if oldp != 0 && !writeItimerspec(oldp, oldEvery, oldLeft) {
		return -linux.EFAULT
	}
	return 0
}

// replace arms tm as settime does and returns the interval and time left
// it had, for the old value setitimer and timer_settime give back.
func (tm *ktimer) replace(value, interval int64, abs bool) (every, left int64) {
	now := nanotime()
	every, left = tm.every, tm.remaining(now)
	settime(tm, value, interval, abs, now)
	return every, left
}

// settime arms tm for value (relative to its clock's now unless abs) and
// interval; a value of 0 disarms it.
func settime(tm *ktimer, value, interval int64, abs bool, now int64) {
	tm.overrun = 0
	if value == 0 {
		tm.arm(0, 0)
		return
	}
	if !abs {
		v, _ := tm.clockValue(now)
		value += v
	}
	tm.arm(max(value, 1), interval)
}

func sysTimerGettime(id, cur uint64) int64 {
	tm := posixTimer(id)
	if tm == nil {
		return -linux.EINVAL
	}
	if !writeItimerspec(cur, tm.every, tm.remaining(nanotime())) {
		return -linux.EFAULT
	}
	return 0
}

func sysTimerGetoverrun(id uint64) int64 {
	tm := posixTimer(id)
	if tm == nil {
		return -linux.EINVAL
	}
	return int64(tm.shown)
}

func sysTimerDelete(id uint64) int64 {
	tm := posixTimer(id)
	if tm == nil {
		return -linux.EINVAL
	}
	tm.arm(0, 0)
	*tm = ktimer{}
	return 0
}

// itimer returns interval timer which, set up on first use.
func itimer(which uint64) *ktimer {
	which = uint64(uint32(which)) // an int
	if which >= uint64(len(itimers)) {
		return nil
	}
	tm := &itimers[which]
	if !tm.used {
		*tm = ktimer{used: true, clock: itimerClock[which], notify: linux.SIGEV_SIGNAL, sig: itimerSignal[which]}
	}
	return tm
}

// readTimeval reads struct timeval {tv_sec, tv_usec} as nanoseconds.
func readTimeval(addr uint64) (int64, int64) {
	p, ok := userBytes(addr, 16, false)
	if !ok {
		return 0, -linux.EFAULT
	}
	sec, usec := int64(le64(p[0:])), int64(le64(p[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, -linux.EINVAL
	}
	return min(sec, (1<<62)/1_000_000_000)*1e9 + usec*1000, 0
}

// writeItimerval writes struct itimerval {it_interval, it_value timeval}
// in microseconds, rounded up.
func writeItimerval(addr uint64, every, left int64) bool {
	p, ok := userBytes(addr, 32, true)
	if !ok {
		return false
	}
	for i, ns := range [2]int64{every, left} {
		us := (ns + 999) / 1000
		put64(p[16*i:], uint64(us/1e6))
		put64(p[16*i+8:], uint64(us%1e6))
	}
	return true
}

// sysSetitimer checks in Linux's order: the new value (a NULL one disarms,
// as Linux allows), the timer; the old value is written after the new one
// is set.
func sysSetitimer(which, newp, oldp uint64) int64 {
	var interval, value int64
	if newp != 0 {
		if _, ok := userBytes(newp, 32, false); !ok {
			return -linux.EFAULT // Linux copies the struct whole first
		}
		var errno int64
		if interval, errno = readTimeval(newp); errno != 0 {
			return errno
		}
		if value, errno = readTimeval(newp + 16); errno != 0 {
			return errno
		}
	}
	tm := itimer(which)
	if tm == nil {
		return -linux.EINVAL
	}
	oldEvery, oldLeft := tm.replace(value, interval, false)
	if oldp != 0 && !writeItimerval(oldp, oldEvery, oldLeft) {
		return -linux.EFAULT
	}
	return 0
}

func sysGetitimer(which, cur uint64) int64 {
	tm := itimer(which)
	if tm == nil {
		return -linux.EINVAL
	}
	if !writeItimerval(cur, tm.every, tm.remaining(nanotime())) {
		return -linux.EFAULT
	}
	return 0
}

// sysAlarm: ITIMER_REAL in seconds; returns the seconds that were left,
// rounded to nearest (at least 1 if any were), as Linux does.
func sysAlarm(sec uint64) int64 {
	tm := itimer(linux.ITIMER_REAL)
	now := nanotime()
	left := tm.remaining(now)
	settime(tm, int64(min(uint32(sec), 1<<31))*1e9, 0, false, now)
	if left == 0 {
		return 0
	}
	return max((left+5e8)/1e9, 1)
}

// sysGetrusage: the CPU time as user time (rt0 tells no user time from
// system time), the rest zero.
func sysGetrusage(who, addr uint64) int64 {
	now := nanotime()
	var ns int64
	switch int64(int32(who)) {
	case linux.RUSAGE_SELF:
		ns, _ = sched.ProcessCPUTime(now)
	case linux.RUSAGE_THREAD:
		ns = sched.CPUTime(sched.Current(), now)
	case linux.RUSAGE_CHILDREN:
	default:
		return -linux.EINVAL
	}
	p, ok := userBytes(addr, 144, true) // struct rusage
	if !ok {
		return -linux.EFAULT
	}
	clear(p)
	put64(p[0:], uint64(ns/1e9))
	put64(p[8:], uint64(ns%1e9/1000))
	return 0
}

// cpuClockNow is the CPU-time clocks' clock_gettime.
func cpuClockNow(clk uint64) int64 {
	now := nanotime()
	if clk == linux.CLOCK_THREAD_CPUTIME_ID {
		return sched.CPUTime(sched.Current(), now)
	}
	ns, _ := sched.ProcessCPUTime(now)
	return ns
}
