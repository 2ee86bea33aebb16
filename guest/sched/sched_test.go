package sched

// The scheduler's decisions, on the host: a Table of its own, the time and
// the running slot given as arguments.

import (
	"testing"

	"rt0/guest/arch/amd64"
)

// runnable makes n new Runnable threads and returns their slots.
func runnable(t *testing.T, tb *Table, n int) []int {
	t.Helper()
	var s []int
	for k := 0; k < n; k++ {
		i, ok := tb.New()
		if !ok {
			t.Fatal("table full")
		}
		tb.T(i).State = Runnable
		s = append(s, i)
	}
	return s
}

func TestNewTids(t *testing.T) {
	tb := NewTable()
	a, _ := tb.New()
	// New leaves the slot Free until the caller makes it Runnable: asked
	// again, it hands out the same slot, with a new tid.
	if again, _ := tb.New(); again != a || tb.T(a).Tid != 2 {
		t.Errorf("New twice: slot %d tid %d; want slot %d, tid 2", again, tb.T(a).Tid, a)
	}
	tb.T(a).State = Runnable
	b, _ := tb.New()
	tb.T(b).State = Runnable
	if a != 1 || b != 2 || tb.T(b).Tid != 3 {
		t.Errorf("slots %d %d, tid %d; want 1 2, tid 3", a, b, tb.T(b).Tid)
	}
	tb.T(a).State = Free // exited: the slot is reused, the tid is not
	if c, _ := tb.New(); c != a || tb.T(c).Tid != 4 {
		t.Errorf("reused slot %d tid %d; want slot %d, tid 4", c, tb.T(c).Tid, a)
	}
	for {
		i, ok := tb.New()
		if !ok {
			break
		}
		tb.T(i).State = Runnable
	}
	if live, run := tb.Counts(); live != MaxThreads-1 || run != MaxThreads-1 {
		t.Errorf("full table: live %d runnable %d; want %d (the idle slot not counted)", live, run, MaxThreads-1)
	}
	if _, ok := tb.New(); ok {
		t.Error("New succeeded on a full table (slot 0 is the idle thread's)")
	}
}

// Round-robin from the running slot; the running thread keeps its slice.
func TestPickRoundRobin(t *testing.T) {
	tb := NewTable()
	s := runnable(t, tb, 3) // 1 2 3
	tb.T(0).State = Running // idle runs
	next, end := tb.Pick(0, 0, 100, 0)
	if next != s[0] || end != 100+Quantum {
		t.Fatalf("from idle: %d, %d; want %d, %d", next, end, s[0], 100+Quantum)
	}
	var tf amd64.TrapFrame
	tb.Switch(&tf, 0, next)
	if tb.T(0).State != Runnable || tb.T(s[0]).State != Running {
		t.Errorf("after switch: idle %v, %d %v", tb.T(0).State, s[0], tb.T(s[0]).State)
	}
	// Slice not over: keep.
	if n, e := tb.Pick(s[0], 0, 100+Quantum-1, end); n != s[0] || e != end {
		t.Errorf("mid-slice: %d, %d; want to keep %d, %d", n, e, s[0], end)
	}
	// Slice over: the next one, then the next, wrapping past the end of
	// the table and skipping the idle slot.
	cur, now := s[0], end
	for _, want := range []int{s[1], s[2], s[0], s[1]} {
		n, e := tb.Pick(cur, 0, now, now)
		if n != want || e != now+Quantum {
			t.Fatalf("after %d: %d, %d; want %d, %d", cur, n, e, want, now+Quantum)
		}
		tb.Switch(&tf, cur, n)
		cur, now = n, e
	}
}

// Nobody else runnable: the running thread gets a fresh slice; a blocked
// one gives the CPU to idle.
func TestPickAlone(t *testing.T) {
	tb := NewTable()
	s := runnable(t, tb, 1)
	tb.T(s[0]).State = Running
	if n, e := tb.Pick(s[0], 0, 50, 40); n != s[0] || e != 50+Quantum {
		t.Errorf("alone past its slice: %d, %d; want %d, %d", n, e, s[0], 50+Quantum)
	}
	tb.Block(s[0], WaitSleep, 0, 90, -4)
	if n, _ := tb.Pick(s[0], 0, 60, 50+Quantum); n != 0 {
		t.Errorf("blocked, none runnable: %d; want idle (0)", n)
	}
	// The idle thread with nothing runnable stays idle.
	tb.T(0).State = Running
	if n, _ := tb.Pick(0, 0, 70, 0); n != 0 {
		t.Errorf("idle, none runnable: %d", n)
	}
}

// Switch keeps the frames: the leaving thread's state is saved, the
// arriving one's loaded; an exited thread's frame is not saved.
func TestSwitchFrames(t *testing.T) {
	tb := NewTable()
	s := runnable(t, tb, 2)
	tb.T(s[0]).State = Running
	tb.T(s[1]).Frame.RIP = 0x2222
	tb.T(s[1]).Frame.FX[amd64.FXXMM] = 0x22
	var tf amd64.TrapFrame
	tf.RIP = 0x1111
	tf.FX[amd64.FXXMM] = 0x11 // XMM0's first byte: the FX area moves too
	tb.Switch(&tf, s[0], s[1])
	if tf.RIP != 0x2222 || tb.T(s[0]).Frame.RIP != 0x1111 || tb.T(s[0]).State != Runnable {
		t.Errorf("switch: tf.RIP %#x, saved %#x, state %v", tf.RIP, tb.T(s[0]).Frame.RIP, tb.T(s[0]).State)
	}
	if tf.FX[amd64.FXXMM] != 0x22 || tb.T(s[0]).Frame.FX[amd64.FXXMM] != 0x11 {
		t.Errorf("switch: FX not moved with the frame: loaded %#x, saved %#x", tf.FX[amd64.FXXMM], tb.T(s[0]).Frame.FX[amd64.FXXMM])
	}
	tb.T(s[1]).State = Free // exits
	tf.RIP = 0x3333
	tb.Switch(&tf, s[1], s[0])
	if tb.T(s[1]).Frame.RIP != 0x2222 || tb.T(s[1]).State != Free || tf.RIP != 0x1111 {
		t.Errorf("from an exited thread: saved %#x state %v tf %#x", tb.T(s[1]).Frame.RIP, tb.T(s[1]).State, tf.RIP)
	}
}

func TestFutexAndDeadlines(t *testing.T) {
	tb := NewTable()
	s := runnable(t, tb, 4)
	tb.Block(s[0], WaitFutex, 0x1000, 0, 0)
	tb.Block(s[1], WaitFutex, 0x1000, 500, -110)
	tb.Block(s[2], WaitFutex, 0x2000, 300, -110)
	tb.Block(s[3], WaitSleep, 0, 400, 0)
	if live, run := tb.Counts(); live != 4 || run != 0 {
		t.Errorf("counts %d %d", live, run)
	}
	if d := tb.NextDeadline(); d != 300 {
		t.Errorf("next deadline %d; want 300", d)
	}
	// futex wake: at most n, only that word, result 0.
	if n := tb.WakeFutex(0x1000, 1); n != 1 || tb.T(s[0]).State != Runnable || tb.T(s[1]).State != Blocked {
		t.Errorf("wake 1: %d woken, states %v %v", n, tb.T(s[0]).State, tb.T(s[1]).State)
	}
	if n := tb.WakeFutex(0x1000, 10); n != 1 || tb.T(s[1]).Frame.RAX != 0 || tb.T(s[1]).Deadline != 0 {
		t.Errorf("wake rest: %d woken, RAX %d, deadline %d", n, tb.T(s[1]).Frame.RAX, tb.T(s[1]).Deadline)
	}
	if n := tb.WakeFutex(0x3000, 10); n != 0 {
		t.Errorf("nobody waits on 0x3000: woke %d", n)
	}
	// Expire: deadlines at or before now, with their timeout result.
	tb.Expire(299)
	if tb.T(s[2]).State != Blocked {
		t.Error("woken before its deadline")
	}
	tb.Expire(300)
	if tb.T(s[2]).State != Runnable || int64(tb.T(s[2]).Frame.RAX) != -110 {
		t.Errorf("at its deadline: %v, RAX %d; want Runnable, -110 (ETIMEDOUT)", tb.T(s[2]).State, int64(tb.T(s[2]).Frame.RAX))
	}
	if d := tb.NextDeadline(); d != 400 {
		t.Errorf("next deadline %d; want 400", d)
	}
	tb.Expire(1000)
	if d := tb.NextDeadline(); d != 0 {
		t.Errorf("no deadlines left: %d", d)
	}
	if _, run := tb.Counts(); run != 4 {
		t.Errorf("runnable %d; want 4", run)
	}
}

// The decisions run in traps: they must not allocate.
func TestNoAllocs(t *testing.T) {
	tb := NewTable()
	s := runnable(t, tb, 8)
	var tf amd64.TrapFrame
	cur := 0
	now := int64(0)
	n := testing.AllocsPerRun(100, func() {
		next, end := tb.Pick(cur, 0, now, now)
		if next != cur {
			tb.Switch(&tf, cur, next)
			cur = next
		}
		now = end
		tb.Block(s[1], WaitFutex, 0x10, now+5, 0)
		tb.WakeFutex(0x10, 1)
		tb.Expire(now)
		tb.NextDeadline()
		tb.Counts()
	})
	if n != 0 {
		t.Errorf("%v allocations per round", n)
	}
}

// Two CPUs share the queue: a thread Running on one is never picked by the
// other, and the round-robin goes on from the last pick of either.
func TestPickTwoCPUs(t *testing.T) {
	tb := NewTable()
	s := runnable(t, tb, 3)
	var tf0, tf1 amd64.TrapFrame
	a, _ := tb.Pick(0, 0, 10, 0) // CPU 0, idle
	tb.Switch(&tf0, 0, a)
	b, _ := tb.Pick(0, 1, 10, 0) // CPU 1, idle
	tb.Switch(&tf1, 0, b)
	if a != s[0] || b != s[1] {
		t.Fatalf("CPU 0 took %d, CPU 1 %d; want %d, %d", a, b, s[0], s[1])
	}
	if tb.Ready() != 1 {
		t.Errorf("ready %d; want 1", tb.Ready())
	}
	// CPU 0's slice ends: it takes the third, not CPU 1's.
	c, _ := tb.Pick(a, 0, 10+Quantum, 10+Quantum)
	if c != s[2] {
		t.Errorf("CPU 0 after its slice: %d; want %d", c, s[2])
	}
	tb.Switch(&tf0, a, c)
	// CPU 1's slice ends: a is Runnable again, b goes back in the queue.
	if d, _ := tb.Pick(b, 1, 20+Quantum, 10+Quantum); d != a {
		t.Errorf("CPU 1 after its slice: %d; want %d", d, a)
	}
}

// Affinity: a thread pinned to CPU 1 is not picked by CPU 0, and a running
// thread whose mask no longer holds its CPU leaves it at once.
func TestPickAffinity(t *testing.T) {
	tb := NewTable()
	s := runnable(t, tb, 2)
	tb.T(s[0]).Affinity = 1 << 1
	if n, _ := tb.Pick(0, 0, 10, 0); n != s[1] {
		t.Errorf("CPU 0 picked %d; want %d (slot %d is pinned to CPU 1)", n, s[1], s[0])
	}
	if n, _ := tb.Pick(0, 1, 10, 0); n != s[0] {
		t.Errorf("CPU 1 picked %d; want %d", n, s[0])
	}
	var tf amd64.TrapFrame
	tb.Switch(&tf, 0, s[1])
	tb.T(s[1]).Affinity = 1 << 1 // moved off CPU 0 while running there
	if n, _ := tb.Pick(s[1], 0, 20, 1000); n != 0 {
		t.Errorf("CPU 0 kept %d mid-slice; want idle: it may not run here", n)
	}
	if !(&Thread{}).Eligible(63) || (&Thread{Affinity: 1}).Eligible(64) {
		t.Error("Eligible: an empty mask is every CPU; no CPU beyond 63")
	}
}

// Every change that can alter a decision moves Gen: the kernel's way out
// of a system call skips the table's walks while Gen stays put.
func TestGen(t *testing.T) {
	tb := NewTable()
	step := func(what string, f func()) {
		t.Helper()
		g := tb.Gen()
		f()
		if tb.Gen() == g {
			t.Errorf("%s left Gen at %d", what, g)
		}
	}
	var a, b int
	step("New", func() { a, _ = tb.New() })
	step("MakeRunnable", func() { tb.MakeRunnable(a) })
	step("New", func() { b, _ = tb.New() })
	step("MakeRunnable", func() { tb.MakeRunnable(b) })
	var tf amd64.TrapFrame
	step("Switch", func() { tb.Switch(&tf, 0, a) })
	step("Block", func() { tb.Block(b, WaitFutex, 0x1000, 0, 0) })
	step("WakeFutex", func() { tb.WakeFutex(0x1000, 1) })
	step("Block with a deadline", func() { tb.Block(b, WaitSleep, 0, 100, 0) })
	step("Expire", func() { tb.Expire(100) })
	step("Block", func() { tb.Block(b, WaitSleep, 0, 0, 0) })
	step("Wake", func() { tb.Wake(b, 0) })
	step("Exit", func() { tb.Exit(b) })

	// Reading the table changes nothing.
	g := tb.Gen()
	tb.Counts()
	tb.Ready()
	tb.NextDeadline()
	tb.Expire(50)
	tb.WakeFutex(0x2000, 1)
	if tb.Gen() != g {
		t.Errorf("a pass that changed nothing moved Gen from %d to %d", g, tb.Gen())
	}
}
