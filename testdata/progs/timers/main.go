// timers: the CPU-time clocks, interval timers, POSIX timers and
// runtime/pprof's CPU profile, which stands on the last two (the runtime
// makes a CLOCK_THREAD_CPUTIME_ID timer per thread, and ITIMER_PROF, and
// takes each SIGPROF as a sample). Each line says whether what Linux does
// happened; run on the host and on rt0, the output must be the same.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/google/pprof/profile"
)

const (
	sigevSignal  = 0
	clockThread  = 3 // CLOCK_THREAD_CPUTIME_ID
	clockMonoton = 1
)

// cpu reads a CPU-time clock.
func cpu(clk int) time.Duration {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clk), uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		panic(e)
	}
	return time.Duration(ts.Nano())
}

// spin keeps the CPU busy for d of wall time.
//
//go:noinline
func spin(d time.Duration) uint64 {
	var x uint64
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

type itimerval struct{ interval, value syscall.Timeval }

func setitimer(which int, it itimerval) (old itimerval, err error) {
	if _, _, e := syscall.Syscall(syscall.SYS_SETITIMER, uintptr(which), uintptr(unsafe.Pointer(&it)), uintptr(unsafe.Pointer(&old))); e != 0 {
		err = e
	}
	return
}

// sigevent is struct sigevent's first fields (64 bytes in all).
type sigevent struct {
	value  uint64
	signo  int32
	notify int32
	tid    int32
	_      [44]byte
}

type itimerspec struct{ interval, value syscall.Timespec }

func timerCreate(clk int, ev *sigevent) (int32, error) {
	var id int32
	if _, _, e := syscall.Syscall(syscall.SYS_TIMER_CREATE, uintptr(clk), uintptr(unsafe.Pointer(ev)), uintptr(unsafe.Pointer(&id))); e != 0 {
		return 0, e
	}
	return id, nil
}

func timerSettime(id int32, value, interval time.Duration) error {
	spec := itimerspec{syscall.NsecToTimespec(int64(interval)), syscall.NsecToTimespec(int64(value))}
	if _, _, e := syscall.Syscall6(syscall.SYS_TIMER_SETTIME, uintptr(id), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
		return e
	}
	return nil
}

func timerGettime(id int32) (itimerspec, error) {
	var spec itimerspec
	if _, _, e := syscall.Syscall(syscall.SYS_TIMER_GETTIME, uintptr(id), uintptr(unsafe.Pointer(&spec)), 0); e != 0 {
		return spec, e
	}
	return spec, nil
}

func timerDelete(id int32) error {
	if _, _, e := syscall.Syscall(syscall.SYS_TIMER_DELETE, uintptr(id), 0, 0); e != 0 {
		return e
	}
	return nil
}

func main() {
	runtime.LockOSThread()

	// The thread's CPU clock counts work, not sleep.
	t0 := cpu(clockThread)
	time.Sleep(200 * time.Millisecond)
	slept := cpu(clockThread) - t0
	t1 := cpu(clockThread)
	spin(200 * time.Millisecond)
	spun := cpu(clockThread) - t1
	fmt.Printf("thread CPU clock: 200ms asleep adds under 50ms: %v; 200ms spinning adds over 100ms: %v\n",
		slept < 50*time.Millisecond, spun > 100*time.Millisecond)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("getrusage: user+system time at least the spin's: %v\n",
		time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= spun-time.Millisecond)

	// ITIMER_REAL every 50 ms: SIGALRM, three times.
	alrm := make(chan os.Signal, 8)
	signal.Notify(alrm, syscall.SIGALRM)
	start := time.Now()
	every := syscall.NsecToTimeval(int64(50 * time.Millisecond))
	if _, err := setitimer(0, itimerval{every, every}); err != nil {
		fmt.Println("setitimer:", err)
	}
	for range 3 {
		<-alrm
	}
	took := time.Since(start)
	old, _ := setitimer(0, itimerval{})
	left, _ := setitimer(0, itimerval{})
	fmt.Printf("ITIMER_REAL every 50ms: 3 SIGALRM in 100ms-2s: %v; interval read back: %v; disarmed: %v\n",
		took >= 100*time.Millisecond && took < 2*time.Second, old.interval == every, left.value.Nano() == 0)
	_, err := setitimer(3, itimerval{})
	fmt.Println("setitimer(3):", err)
	_, err = setitimer(0, itimerval{value: syscall.Timeval{Usec: 1e6}})
	fmt.Println("setitimer with usec 1e6:", err)

	// A POSIX timer on CLOCK_MONOTONIC: SIGUSR1 once, 30 ms on.
	usr1 := make(chan os.Signal, 8)
	signal.Notify(usr1, syscall.SIGUSR1)
	id, err := timerCreate(clockMonoton, &sigevent{value: 42, signo: int32(syscall.SIGUSR1), notify: sigevSignal})
	if err != nil {
		fmt.Println("timer_create:", err)
		return
	}
	if err := timerSettime(id, 30*time.Millisecond, 0); err != nil {
		fmt.Println("timer_settime:", err)
	}
	spec, _ := timerGettime(id)
	fmt.Printf("POSIX timer armed: time left in (0, 30ms]: %v\n", spec.value.Nano() > 0 && spec.value.Nano() <= int64(30*time.Millisecond))
	select {
	case <-usr1:
		fmt.Println("POSIX timer: SIGUSR1 arrived")
	case <-time.After(5 * time.Second):
		fmt.Println("POSIX timer: no SIGUSR1 in 5s")
	}
	spec, _ = timerGettime(id)
	fmt.Println("POSIX timer after it fired: time left", spec.value.Nano())
	fmt.Println("timer_settime with nsec 1e9:", timerSettime(id, time.Second+1, -1))
	fmt.Println("timer_delete:", timerDelete(id), "then again:", timerDelete(id))
	_, err = timerCreate(99, nil)
	fmt.Println("timer_create(clock 99):", err)

	// runtime/pprof: 2 s of spinning, 100 samples a second.
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		fmt.Println("StartCPUProfile:", err)
		return
	}
	spin(2 * time.Second)
	pprof.StopCPUProfile()
	p, err := profile.Parse(&buf)
	if err != nil {
		fmt.Println("profile:", err)
		return
	}
	// A Sample is a stack and its counts: Value[0] is how many samples.
	var n, inSpin int64
	for _, s := range p.Sample {
		n += s.Value[0]
		for _, l := range s.Location {
			for _, ln := range l.Line {
				if strings.HasSuffix(ln.Function.Name, "main.spin") {
					inSpin += s.Value[0]
				}
			}
		}
	}
	if os.Getenv("TIMERS_VERBOSE") != "" {
		fmt.Fprintln(os.Stderr, "samples", n, "in spin", inSpin)
	}
	fmt.Printf("pprof: 2s of spinning gave 120-300 samples: %v; most in main.spin: %v\n", n >= 120 && n <= 300, inSpin > n/2)
}
