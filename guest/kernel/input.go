package kernel

import (
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Console input: bytes from COM1's receive interrupt (and, later, the
// keyboard) wait in a ring until a read of descriptor 0 takes them.
//
// End of input works as on a terminal: the byte 0x04 (^D, VEOF) ends a
// read early, and a read that finds ^D first returns 0, end of file. `rt0
// run` sends ^D when its own standard input ends, so `echo hi | rt0 run
// prog.go` reads "hi\n" and then EOF.

const eot = 0x04

var input struct {
	ring       [4096]uint8
	head, tail uint32 // head: next to read; tail: next to write
	enabled    bool   // some device can deliver input
	dropped    uint64
}

func inputLen() uint32 { return input.tail - input.head }

// inputFull reports whether the ring has no room: devices then keep their
// bytes (a UART holds them and the sender waits) until a read makes room.
func inputFull() bool { return inputLen() == uint32(len(input.ring)) }

// consoleByte takes a byte from a console device. ^C (VINTR) and ^\
// (VQUIT) are a terminal's signal keys: SIGINT and SIGQUIT for the program
// (its first thread, which stands for the process), never input. There is
// no termios to turn that off (rt0's console is not a tty). Any other byte
// is queued.
func consoleByte(b byte) {
	switch b {
	case 0x03, 0x1c:
		sig := uint64(linux.SIGINT)
		if b == 0x1c {
			sig = linux.SIGQUIT
		}
		if i := mainThread(); i > 0 {
			signalThread(i, sig)
		}
		return
	}
	inputPush(b)
}

// inputPush queues a byte from a device (the caller checked inputFull).
func inputPush(b byte) {
	if inputFull() {
		input.dropped++
		return
	}
	input.ring[input.tail%uint32(len(input.ring))] = b
	input.tail++
}

// inputTake copies queued input into p, stopping after a newline or before
// a ^D (which it consumes if it comes first: end of file).
func inputTake(p []byte) int {
	n := 0
	for n < len(p) && inputLen() > 0 {
		c := input.ring[input.head%uint32(len(input.ring))]
		if c == eot {
			if n == 0 {
				input.head++
			}
			return n
		}
		input.head++
		p[n] = c
		n++
		if c == '\n' {
			break
		}
	}
	return n
}

// inputReady reports whether a read would return now (data or an EOF).
func inputReady() bool { return inputLen() > 0 }

// consoleRead serves read(0).
func consoleRead(f *ofd, buf, n uint64) int64 {
	if !input.enabled {
		return 0 // no input device: end of file, as from /dev/null
	}
	if n == 0 {
		return 0
	}
	p, ok := userBytes(buf, n, true)
	if !ok {
		return -linux.EFAULT
	}
	if inputReady() {
		r := inputTake(p)
		drainSerial() // the ring has room again
		return int64(r)
	}
	if f.flags&linux.O_NONBLOCK != 0 {
		return -linux.EAGAIN
	}
	cur := sched.Current()
	sched.Block(cur, sched.WaitRead, 0, 0, 0)
	t := sched.T(cur)
	t.Args[0], t.Args[1] = buf, n
	return blocked
}

// inputWake completes the reads that waited for input.
func inputWake() {
	for i := 1; i < sched.Top() && inputReady(); i++ {
		t := sched.T(i)
		if t.State != sched.Blocked || t.Wait != sched.WaitRead {
			continue
		}
		p, ok := userBytes(t.Args[0], t.Args[1], true)
		if !ok {
			sched.Wake(i, -linux.EFAULT)
			continue
		}
		sched.Wake(i, int64(inputTake(p)))
	}
	drainSerial()
}

// waitingForInput reports whether a thread waits for input that a device
// can still deliver (so an idle machine is not a deadlock).
func waitingForInput() bool {
	if !input.enabled {
		return false
	}
	for i := 1; i < sched.Top(); i++ {
		if t := sched.T(i); t.State == sched.Blocked && t.Wait == sched.WaitRead {
			return true
		}
	}
	return false
}
