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
//	this CPU may run, round-robin, or the idle thread (STI; HLT) if there
//	is none.
//
// One table, one queue, for all CPUs: the kernel lock (guest/kernel/smp.go)
// serializes every decision, so a Runnable thread is taken by exactly one
// CPU, which marks it Running. Slot 0 is the idle thread of every CPU: its
// code (idle_amd64.s) keeps no state and touches no stack (interrupts
// arrive on IST stacks), so each idle CPU runs its own copy of the same
// frame.
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
	WaitConnect        // the network service's answer to a connect (WaitAddr: the socket)
	WaitDevice         // a device's interrupt (WaitAddr: the uio device; Args[0]: the buffer, Args[1]: the description)
)

// Thread is one thread of the single process.
type Thread struct {
	State State
	Wait  Wait
	Tid   int32
	CPU   int32 // the CPU it runs on while Running (then the one it last ran on)
	// Affinity is the set of CPUs it may run on (bit n: CPU n), as
	// sched_setaffinity sets it; 0 means all of them.
	Affinity uint64
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
	// SigSource says, per pending signal (index sig-1), what sent it, for
	// its siginfo: 0 a thread (kill, tgkill: SI_TKILL), -1 the kernel (an
	// interval timer: SI_KERNEL), n > 0 POSIX timer n-1 (SI_TIMER).
	SigSource [64]int8
	// CPUNS is the CPU time it used up to its last switch out (ns); while
	// Running, the time since its CPU's RunSince adds to it (CPUTime).
	CPUNS int64
	// ClearTID is CLONE_CHILD_CLEARTID's address (0 if none).
	ClearTID uint64
	Frame    amd64.TrapFrame
}

// Table is the thread table and the decisions made on it. Its methods take
// what they need as arguments (the running slot, the time, the slice's
// end) instead of reading the CPU, so the host can test them
// (sched_test.go); the package's functions apply them to the one table,
// with this CPU's state from amd64.This().
type Table struct {
	t       [MaxThreads]Thread
	lastTid int32 // the last tid given out: the first thread gets 1
	cursor  int   // the slot picked last: the round-robin goes on from there
	// top is one past the highest slot ever taken: the loops over the
	// table stop there, not at MaxThreads (a Go program has a handful of
	// threads; the way out of every system call walks the table).
	top int
	// gen counts the changes that can alter a scheduling decision: a
	// thread made, made runnable, blocked, woken, switched, exited, its
	// affinity or the running slice changed. The way out of a system call
	// that sees the same gen as the last full pass skips the walks
	// (guest/kernel's reschedule: what that pass expected next has the
	// LAPIC timer armed for it). Every change of State, Deadline or
	// Affinity bumps it, and Yield's of SliceEnd (Schedule's own, in the
	// full pass, is seen by it).
	gen uint64
	// exitedNS is the CPU time of the threads that have exited (the
	// process's CPU clock counts them too).
	exitedNS int64
}

// Gen returns the table's change count (Table.gen).
func Gen() uint64 { return table.gen }

// Gen is Gen on tb.
func (tb *Table) Gen() uint64 { return tb.gen }

// NewTable returns an empty table.
func NewTable() *Table { return new(Table) }

// table is the kernel's. It must stay all zero at link time: a non-zero
// field would move its 385 KiB from the bss into the image's data.
var table Table

// Quantum is the time slice of a thread when others are runnable.
const Quantum = 10_000_000 // 10 ms

// T returns thread slot i.
func T(i int) *Thread { return &table.t[i] }

// Top returns one past the highest slot ever taken: loops over the
// threads may stop there.
func Top() int { return table.top }

// T returns thread slot i of tb.
func (tb *Table) T(i int) *Thread { return &tb.t[i] }

// Current returns the slot of the thread running on this CPU.
func Current() int { return int(amd64.This().Current) }

// Cur returns the thread running on this CPU.
func Cur() *Thread { return &table.t[amd64.This().Current] }

// InitIdle makes slot 0 the idle thread of every CPU: ring 0, interrupts
// on, running idleLoop (STI; HLT), which touches no stack (the one its
// frame names is never used: interrupts arrive on IST stacks).
func InitIdle() {
	t := &table.t[0]
	t.State = Running
	t.Tid = 0
	f := &t.Frame
	f.RIP = uint64(idleLoopAddr())
	f.CS = amd64.SelCode
	f.SS = amd64.SelData
	f.RSP = uint64(idleStackTop())
	f.RFLAGS = amd64.RFLAGS_IF | amd64.RFLAGS_RESERVED1
	f.ResetFX()
}

// New takes a free slot for a new thread and gives it a tid. The caller
// fills its Frame and makes it Runnable.
func New() (int, bool) { return table.New() }

// New is New on tb.
func (tb *Table) New() (int, bool) {
	for i := 1; i < MaxThreads; i++ {
		t := &tb.t[i]
		if t.State == Free {
			tb.gen++
			*t = Thread{}
			tb.lastTid++
			t.Tid = tb.lastTid
			if i >= tb.top {
				tb.top = i + 1
			}
			return i, true
		}
	}
	return 0, false
}

// NewMain makes the first thread (pid 1): rip/rsp as the ELF entry and the
// initial stack, interrupts on.
func NewMain(rip, rsp uint64) int {
	i, _ := New()
	t := &table.t[i]
	f := &t.Frame
	f.RIP, f.RSP = rip, rsp
	f.CS, f.SS = amd64.SelCode, amd64.SelData
	f.RFLAGS = amd64.RFLAGS_IF | amd64.RFLAGS_RESERVED1
	f.ResetFX()
	MakeRunnable(i)
	return i
}

// MakeRunnable lets a new thread, its frame filled in, run.
func MakeRunnable(i int) { table.MakeRunnable(i) }

// MakeRunnable is MakeRunnable on tb.
func (tb *Table) MakeRunnable(i int) {
	tb.gen++
	tb.t[i].State = Runnable
}

// SetAffinity sets the CPUs thread i may run on (0: all).
func SetAffinity(i int, mask uint64) {
	table.gen++
	table.t[i].Affinity = mask
}

// Block puts thread i to sleep. deadline 0 means no timeout; timeoutRet is
// what its syscall returns if the deadline passes first.
//
// The running thread's frame is saved at once (from the trap frame the
// kernel noted in amd64.CPU.Frame): from then on the table's copy is the
// thread, and whoever wakes it — on any CPU, later or in this same kernel
// entry — writes its result there.
func Block(i int, w Wait, addr uint64, deadline, timeoutRet int64) {
	if c := amd64.This(); i == int(c.Current) && c.Frame != 0 {
		tf := (*amd64.TrapFrame)(amd64.Ptr(uintptr(c.Frame)))
		tf.CompleteFX()
		amd64.CopyFrame(&table.t[i].Frame, tf)
	}
	table.Block(i, w, addr, deadline, timeoutRet)
}

// Block is Block on tb.
func (tb *Table) Block(i int, w Wait, addr uint64, deadline, timeoutRet int64) {
	tb.gen++
	t := &tb.t[i]
	t.State = Blocked
	t.Wait = w
	t.WaitAddr = addr
	t.Deadline = deadline
	t.TimeoutRet = timeoutRet
}

// Wake makes blocked thread i runnable with syscall result ret.
func Wake(i int, ret int64) { table.Wake(i, ret) }

// Wake is Wake on tb.
func (tb *Table) Wake(i int, ret int64) {
	tb.gen++
	t := &tb.t[i]
	t.State = Runnable
	t.Wait = WaitNone
	t.Deadline = 0
	t.Frame.RAX = uint64(ret)
}

// Exit frees thread i's slot.
func Exit(i int) { table.Exit(i) }

// Exit is Exit on tb.
func (tb *Table) Exit(i int) {
	tb.gen++
	tb.exitedNS += tb.t[i].CPUNS
	tb.t[i].CPUNS = 0
	tb.t[i].State = Free
}

// WakeFutex wakes up to n threads waiting on the futex word at addr and
// returns how many it woke.
func WakeFutex(addr uint64, n int) int { return table.WakeFutex(addr, n) }

// WakeFutex is WakeFutex on tb.
func (tb *Table) WakeFutex(addr uint64, n int) int {
	woken := 0
	for i := 1; i < tb.top && woken < n; i++ {
		t := &tb.t[i]
		if t.State == Blocked && t.Wait == WaitFutex && t.WaitAddr == addr {
			tb.Wake(i, 0)
			woken++
		}
	}
	return woken
}

// Expire wakes every thread whose deadline is at or before now.
func Expire(now int64) { table.Expire(now) }

// Expire is Expire on tb.
func (tb *Table) Expire(now int64) {
	for i := 1; i < tb.top; i++ {
		t := &tb.t[i]
		if t.State == Blocked && t.Deadline != 0 && t.Deadline <= now {
			tb.Wake(i, t.TimeoutRet)
		}
	}
}

// NextDeadline returns the earliest deadline of a blocked thread (0: none).
func NextDeadline() int64 { return table.NextDeadline() }

// NextDeadline is NextDeadline on tb.
func (tb *Table) NextDeadline() int64 {
	var d int64
	for i := 1; i < tb.top; i++ {
		t := &tb.t[i]
		if t.State == Blocked && t.Deadline != 0 && (d == 0 || t.Deadline < d) {
			d = t.Deadline
		}
	}
	return d
}

// Counts returns the number of live (non-free) and runnable threads, idle
// excluded.
func Counts() (live, runnable int) { return table.Counts() }

// Counts is Counts on tb.
func (tb *Table) Counts() (live, runnable int) {
	for i := 1; i < tb.top; i++ {
		switch tb.t[i].State {
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
// left (or nobody else wants the CPU). It also keeps this CPU's busy time:
// the nanoseconds it ran threads other than idle.
func Schedule(tf *amd64.TrapFrame, now int64) {
	c := amd64.This()
	cur := int(c.Current)
	next, end := table.Pick(cur, int(c.ID), now, c.SliceEnd)
	c.SliceEnd = end
	// A current thread that is no longer Running blocked (its frame was
	// saved then) and may have been woken already, in this very entry:
	// its frame is then the table's, even if it keeps the CPU.
	if next != cur || (cur != 0 && table.t[cur].State != Running) {
		if cur != 0 {
			c.BusyNS += uint64(now - c.RunSince)
			table.charge(cur, now-c.RunSince)
		}
		c.RunSince = now
		table.Switch(tf, cur, next)
		table.t[next].CPU = int32(c.ID)
		c.Current = uint64(next)
	}
}

// charge adds ns of CPU time to slot i, or to the exited threads' total
// if it exited in this kernel entry.
func (tb *Table) charge(i int, ns int64) {
	if tb.t[i].State == Free {
		tb.exitedNS += ns
		return
	}
	tb.t[i].CPUNS += ns
}

// CPUTime returns thread i's CPU time at monotonic time now (ns),
// counting the current run of a Running thread (since the RunSince of
// the CPU running it).
func CPUTime(i int, now int64) int64 {
	t := &table.t[i]
	ns := t.CPUNS
	if t.State == Running && i != 0 {
		ns += now - amd64.CPUs(int(t.CPU)).RunSince
	}
	return ns
}

// ProcessCPUTime returns the CPU time of every thread, exited ones
// included, at monotonic time now, and how many are running now.
func ProcessCPUTime(now int64) (ns int64, running int) {
	ns = table.exitedNS
	for i := 1; i < table.top; i++ {
		if table.t[i].State != Free {
			ns += CPUTime(i, now)
			if table.t[i].State == Running {
				running++
			}
		}
	}
	return ns, running
}

// Changed bumps Gen for a change the table does not see: a timer armed
// that the next way out must program the LAPIC for.
func Changed() { table.gen++ }

// Eligible reports whether thread t may run on cpu.
func (t *Thread) Eligible(cpu int) bool {
	return t.Affinity == 0 || cpu < 64 && t.Affinity&(1<<uint(cpu)) != 0
}

// Pick chooses the slot to run after a trap on CPU cpu, which runs slot
// cur, whose time slice ends at sliceEnd, and returns it with the slice's
// new end. next == cur keeps the current thread (its frame is the one on
// the kernel stack). The rule: the current thread keeps the CPU while it is
// Running, may run here and its slice has time left; else the next
// Runnable slot this CPU may run, round-robin from the last one any CPU
// picked (slot 0, the idle thread, never competes); else the current
// thread again with a fresh slice if it can run; else idle.
func (tb *Table) Pick(cur, cpu int, now, sliceEnd int64) (next int, end int64) {
	ct := &tb.t[cur]
	stay := cur != 0 && ct.State == Running && ct.Eligible(cpu)
	if stay && now < sliceEnd {
		return cur, sliceEnd
	}
	next = -1
	for k := 1; k <= tb.top; k++ {
		i := (tb.cursor + k) % tb.top
		if i == 0 {
			continue
		}
		if t := &tb.t[i]; t.State == Runnable && t.Eligible(cpu) {
			next = i
			break
		}
	}
	if next < 0 {
		if stay {
			return cur, now + Quantum // nobody else: keep going
		}
		next = 0
	}
	if next != 0 {
		tb.cursor = next
	}
	if next == cur {
		return cur, sliceEnd
	}
	return next, now + Quantum
}

// Ready returns the number of Runnable threads: ready to run, and not
// running on any CPU.
func (tb *Table) Ready() int {
	n := 0
	for i := 1; i < tb.top; i++ {
		if tb.t[i].State == Runnable {
			n++
		}
	}
	return n
}

// Ready is Ready on the kernel's table.
func Ready() int { return table.Ready() }

// Switch saves the frame tf of slot cur if it was Running (it becomes
// Runnable) and loads slot next's in its place (next becomes Running).
// next may be cur: a thread that blocked and was woken in the same kernel
// entry goes on from its table frame, which its waker changed.
//
// The idle thread's frame is never saved: idle keeps no state, so every
// CPU restarts it from the frame InitIdle built, which therefore never
// changes (an AP enters it without the kernel lock).
func (tb *Table) Switch(tf *amd64.TrapFrame, cur, next int) {
	tb.gen++
	ct := &tb.t[cur]
	if cur == 0 {
		ct.State = Runnable // idle is always ready
	} else if ct.State == Running {
		tf.CompleteFX()
		amd64.CopyFrame(&ct.Frame, tf) // preempted; a blocked thread's frame was saved by Block
		ct.State = Runnable
	}
	nt := &tb.t[next]
	amd64.CopyFrame(tf, &nt.Frame)
	nt.State = Running
}

// SliceEnd returns when the running thread's time slice ends.
func SliceEnd() int64 { return amd64.This().SliceEnd }

func idleLoopAddr() uintptr
func idleStackTop() uintptr

// Yield ends the running thread's time slice: the next Schedule gives the
// CPU to another runnable thread, if there is one.
func Yield() {
	table.gen++
	amd64.This().SliceEnd = 0
}
