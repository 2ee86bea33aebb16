// Package sched runs the threads under the Go runtime's Ms.
//
// A thread is what clone(CLONE_THREAD) makes: a saved TrapFrame (registers,
// FS base, SSE state) plus what it waits for. The kernel has no threads of
// its own: every kernel entry runs to completion on the CPU's kernel stack,
// and "switching threads" means that, before the trap returns, Schedule
// saves the frame of the thread that was running and puts another's in its
// place, so the IRETQ resumes that one. A blocking syscall (futex wait,
// nanosleep, epoll_pwait) marks its thread Blocked and lets Schedule pick
// another; whoever wakes it later writes the syscall's result into its
// saved RAX.
//
// The loop, per CPU, on every way out of the kernel:
//
//	expire deadlines -> keep running the current thread unless it blocked,
//	exited or used up its time slice -> else take the next Runnable thread
//	round-robin, or the idle thread (STI; HLT) if there is none.
//
// One CPU today. Thread 0 is CPU 0's idle thread.
package sched

import "rt0/guest/arch/amd64"

// MaxThreads bounds the thread table (the runtime makes one thread per M).
const MaxThreads = 128

// State of a thread slot.
type State uint32

const (
	Free State = iota
	Runnable
	Running
	Blocked
)

// Wait says what a Blocked thread waits for.
type Wait uint32

const (
	WaitNone      Wait = iota
	WaitFutex          // WaitAddr: the futex word
	WaitSleep          // only its deadline
	WaitPoll           // an epoll instance (Args hold epoll_pwait's arguments)
	WaitRead           // console input
	WaitPipeRead       // a pipe's data (WaitAddr: the pipe)
	WaitPipeWrite      // room in a pipe (WaitAddr: the pipe)
	WaitAccept         // a connection to accept (WaitAddr: the listening socket)
	WaitRestart        // any change of a ring (WaitAddr), then the system call runs again (Args[0]: its number)
	WaitFifo           // the other end of a FIFO to open (WaitAddr: its ring; Args[0]: the open flags)
)

// Thread is one thread of the single process.
type Thread struct {
	State    State
	Wait     Wait
	Tid      int32
	_        int32
	WaitAddr uint64
	Deadline int64 // monotonic ns at which the wait times out; 0: never
	// TimeoutRet is the syscall result to deliver if Deadline passes.
	TimeoutRet int64
	// Args keep what a blocked syscall needs to finish when woken.
	Args [4]uint64
	// Signals (guest/kernel/signal.go): the blocked mask, the pending set (bit
	// sig-1), and the alternate signal stack (ss_sp, ss_flags, ss_size).
	SigMask  uint64
	Pending  uint64
	AltStack [3]uint64
	// ClearTID is CLONE_CHILD_CLEARTID's address (0 if none).
	ClearTID uint64
	Frame    amd64.TrapFrame
}

var (
	threads [MaxThreads]Thread
	nextTid int32 = 1
)

// Quantum is the time slice of a thread when others are runnable.
const Quantum = 10_000_000 // 10 ms

// T returns thread slot i.
func T(i int) *Thread { return &threads[i] }

// Current returns the slot of the thread running on this CPU.
func Current() int { return int(amd64.This().Current) }

// Cur returns the thread running on this CPU.
func Cur() *Thread { return &threads[amd64.This().Current] }

// InitIdle makes slot 0 CPU 0's idle thread: ring 0, interrupts on, running
// idleLoop (STI; HLT) on its own small stack.
func InitIdle() {
	t := &threads[0]
	t.State = Running
	t.Tid = 0
	f := &t.Frame
	f.RIP = uint64(idleLoopAddr())
	f.CS = amd64.SelCode
	f.SS = amd64.SelData
	f.RSP = uint64(idleStackTop())
	f.RFLAGS = amd64.RFLAGS_IF | amd64.RFLAGS_RESERVED1
	initFX(f)
}

// initFX gives a new frame the FXSAVE image of a freshly reset FPU:
// FCW 0x37F, MXCSR 0x1F80 (all exceptions masked, round to nearest).
func initFX(f *amd64.TrapFrame) {
	for i := range f.FX {
		f.FX[i] = 0
	}
	f.FX[0], f.FX[1] = 0x7F, 0x03   // FCW
	f.FX[24], f.FX[25] = 0x80, 0x1F // MXCSR
	f.FX[28], f.FX[29] = 0xFF, 0xFF // MXCSR_MASK
}

// New takes a free slot for a new thread and gives it a tid. The caller
// fills its Frame and makes it Runnable.
func New() (int, bool) {
	for i := 1; i < MaxThreads; i++ {
		t := &threads[i]
		if t.State == Free {
			*t = Thread{}
			t.Tid = nextTid
			nextTid++
			return i, true
		}
	}
	return 0, false
}

// NewMain makes the first thread (pid 1): rip/rsp as the ELF entry and the
// initial stack, interrupts on.
func NewMain(rip, rsp uint64) int {
	i, _ := New()
	t := &threads[i]
	f := &t.Frame
	f.RIP, f.RSP = rip, rsp
	f.CS, f.SS = amd64.SelCode, amd64.SelData
	f.RFLAGS = amd64.RFLAGS_IF | amd64.RFLAGS_RESERVED1
	initFX(f)
	t.State = Runnable
	return i
}

// Block puts thread i to sleep. deadline 0 means no timeout; timeoutRet is
// what its syscall returns if the deadline passes first.
func Block(i int, w Wait, addr uint64, deadline, timeoutRet int64) {
	t := &threads[i]
	t.State = Blocked
	t.Wait = w
	t.WaitAddr = addr
	t.Deadline = deadline
	t.TimeoutRet = timeoutRet
}

// Wake makes blocked thread i runnable with syscall result ret.
func Wake(i int, ret int64) {
	t := &threads[i]
	t.State = Runnable
	t.Wait = WaitNone
	t.Deadline = 0
	t.Frame.RAX = uint64(ret)
}

// Exit frees thread i's slot.
func Exit(i int) {
	threads[i].State = Free
}

// WakeFutex wakes up to n threads waiting on the futex word at addr and
// returns how many it woke.
func WakeFutex(addr uint64, n int) int {
	woken := 0
	for i := 1; i < MaxThreads && woken < n; i++ {
		t := &threads[i]
		if t.State == Blocked && t.Wait == WaitFutex && t.WaitAddr == addr {
			Wake(i, 0)
			woken++
		}
	}
	return woken
}

// Expire wakes every thread whose deadline is at or before now.
func Expire(now int64) {
	for i := 1; i < MaxThreads; i++ {
		t := &threads[i]
		if t.State == Blocked && t.Deadline != 0 && t.Deadline <= now {
			Wake(i, t.TimeoutRet)
		}
	}
}

// NextDeadline returns the earliest deadline of a blocked thread (0: none).
func NextDeadline() int64 {
	var d int64
	for i := 1; i < MaxThreads; i++ {
		t := &threads[i]
		if t.State == Blocked && t.Deadline != 0 && (d == 0 || t.Deadline < d) {
			d = t.Deadline
		}
	}
	return d
}

// Counts returns the number of live (non-free) and runnable threads, idle
// excluded.
func Counts() (live, runnable int) {
	for i := 1; i < MaxThreads; i++ {
		switch threads[i].State {
		case Runnable, Running:
			runnable++
			live++
		case Blocked:
			live++
		}
	}
	return
}

// Schedule decides which thread the trap returns to. tf is the frame on the
// kernel stack: the current thread's state, or the place to load another's.
// It keeps the current thread if it is still Running and its slice has time
// left (or nobody else wants the CPU).
func Schedule(tf *amd64.TrapFrame, now int64) {
	c := amd64.This()
	cur := int(c.Current)
	ct := &threads[cur]
	if cur != 0 && ct.State == Running && now < c.SliceEnd {
		return
	}
	next := -1
	for k := 1; k <= MaxThreads-1; k++ {
		i := (cur + k) % MaxThreads
		if i == 0 {
			continue
		}
		if threads[i].State == Runnable {
			next = i
			break
		}
	}
	if next < 0 {
		if cur != 0 && ct.State == Running {
			c.SliceEnd = now + Quantum
			return // nobody else: keep going
		}
		next = 0
	}
	if next == cur {
		return
	}
	if ct.State != Free {
		ct.Frame = *tf
		if ct.State == Running {
			ct.State = Runnable
		}
	}
	if cur == 0 {
		ct.State = Runnable // idle is always ready
	}
	nt := &threads[next]
	*tf = nt.Frame
	nt.State = Running
	c.Current = uint64(next)
	c.SliceEnd = now + Quantum
}

// SliceEnd returns when the running thread's time slice ends.
func SliceEnd() int64 { return amd64.This().SliceEnd }

func idleLoopAddr() uintptr
func idleStackTop() uintptr

// Yield ends the running thread's time slice: the next Schedule gives the
// CPU to another runnable thread, if there is one.
func Yield() { amd64.This().SliceEnd = 0 }
