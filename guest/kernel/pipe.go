package kernel

import (
	"rt0/guest/kernel/ring"
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Pipes: pipe2 makes two descriptions over one 64 KiB ring in the kernel
// heap, a read end and a write end. The ring is allocated at the first
// write, so that a program may hold many idle pipes (os/exec-style code,
// tests that make a hundred) without their memory. A read with nothing to read waits (or
// says EAGAIN if non-blocking, or 0 once every write end is closed); a
// write waits for room, all of it written in the end unless the read ends
// close (then EPIPE and SIGPIPE, as on Linux). The Go runtime polls pipes
// (os.Pipe sets O_NONBLOCK and registers both ends with epoll,
// edge-triggered), so every change of a pipe's state is an epoll edge.
//
// A blocked reader or writer is finished by whoever changes the pipe:
// pipeProgress copies between the waiting threads' buffers and the ring
// (one address space: any thread's user buffer is reachable) and wakes
// them with their result.

const (
	maxPipes = 512
	pipeSize = 64 << 10
)

type pipe struct {
	used bool
	// The bytes: a kheap block (0 until the first write), its capacity,
	// the read and write counters.
	ring.Ring
	readers, writers int32
	// reset: the writing socket closed with SO_LINGER 0 (an RST): the
	// reader gets ECONNRESET rather than EOF.
	reset bool
	// fifo: the FIFO's inode + 1 whose ring this is (0: none).
	fifo int32
}

var pipes [maxPipes]pipe

// put copies b into the ring (the caller checked the room) and returns
// how much it stored: all, or nothing if there is no memory for the ring
// (its buffer is allocated at the first write).
func (p *pipe) put(b []byte) uint64 {
	if p.Buf == 0 && len(b) > 0 {
		a, ok := kalloc(p.Size)
		if !ok {
			return 0
		}
		p.Buf = a
	}
	p.Put(b)
	return uint64(len(b))
}

func sysPipe2(fds, flags uint64) int64 {
	out, ok := userBytes(fds, 8, true)
	if !ok {
		return -linux.EFAULT
	}
	// (precheck refused unknown flags)
	k := newRing()
	if k < 0 {
		return -linux.ENFILE
	}
	fl := uint32(flags) & (linux.O_NONBLOCK | linux.O_CLOEXEC)
	r := allocFD(fdPipe, linux.O_RDONLY|fl)
	if r < 0 {
		pipes[k] = pipe{}
		return r
	}
	w := allocFD(fdPipe, linux.O_WRONLY|fl)
	if w < 0 {
		// Undo the read end by hand: its description is not a pipe's
		// yet, closeFD would release one.
		ofds[ofdOf(uint64(r))].kind = fdFree
		fdt[r] = 0
		pipes[k] = pipe{}
		return w
	}
	getFile(uint64(r)).ino = k
	getFile(uint64(w)).ino = k
	put32(out[0:], uint32(r))
	put32(out[4:], uint32(w))
	return 0
}

// reads and writes: what a pipe's description may do (a FIFO opened
// O_RDWR is both ends at once).
func reads(f *ofd) bool  { return f.flags&linux.O_ACCMODE != linux.O_WRONLY }
func writes(f *ofd) bool { return f.flags&linux.O_ACCMODE != linux.O_RDONLY }

func pipeRead(f *ofd, buf, n uint64) int64 {
	if !reads(f) {
		return -linux.EBADF
	}
	return ringRead(f.ino, f.flags&linux.O_NONBLOCK != 0, buf, n, false)
}

func pipeWrite(f *ofd, buf, n uint64) int64 {
	if !writes(f) {
		return -linux.EBADF
	}
	return ringWrite(f.ino, f.flags&linux.O_NONBLOCK != 0, buf, n, true)
}

// ringRead reads pipe k into user buf: what is there, or EOF (0) when no
// writer is left, or waits. Sockets read their receive ring with it too;
// peek copies without consuming (MSG_PEEK).
func ringRead(k int32, nonblock bool, buf, n uint64, peek bool) int64 {
	p := &pipes[k]
	if n == 0 {
		return 0
	}
	b, ok := userBytes(buf, n, true)
	if !ok {
		return -linux.EFAULT
	}
	if p.Len() > 0 {
		if peek {
			h := p.Head
			r := p.Take(b)
			p.Head = h
			return int64(r)
		}
		r := p.Take(b)
		pipeChanged(k)
		return int64(r)
	}
	if p.writers == 0 {
		if p.reset {
			return -linux.ECONNRESET
		}
		return 0
	}
	if nonblock {
		return -linux.EAGAIN
	}
	cur := sched.Current()
	sched.Block(cur, sched.WaitPipeRead, uint64(k), 0, 0)
	t := sched.T(cur)
	t.Args[0], t.Args[1] = buf, n
	return blocked
}

// ringWrite writes user buf into pipe k: what fits, and waits for room for
// the rest unless nonblock. With no reader left it fails with EPIPE, and
// raises SIGPIPE if sigpipe (not for send with MSG_NOSIGNAL).
func ringWrite(k int32, nonblock bool, buf, n uint64, sigpipe bool) int64 {
	p := &pipes[k]
	if p.readers == 0 {
		if sigpipe {
			signalThread(sched.Current(), linux.SIGPIPE)
		}
		return -linux.EPIPE
	}
	b, ok := userBytes(buf, n, false)
	if !ok {
		return -linux.EFAULT
	}
	w := p.put(b[:min(n, p.Room())])
	if w == 0 && n > 0 && p.Room() > 0 {
		return -linux.ENOMEM // no memory for the ring
	}
	if w > 0 {
		pipeChanged(k)
	}
	if w == n {
		return int64(n)
	}
	if nonblock {
		if w > 0 {
			return int64(w)
		}
		return -linux.EAGAIN
	}
	cur := sched.Current()
	sched.Block(cur, sched.WaitPipeWrite, uint64(k), 0, 0)
	t := sched.T(cur)
	t.Args[0], t.Args[1], t.Args[2] = buf, n, w
	return blocked
}

// pipeClose drops one end of pipe k.
func pipeClose(f *ofd) {
	if reads(f) && writes(f) {
		pipes[f.ino].writers-- // an O_RDWR FIFO: the write end here, the read end below
	}
	ringDrop(f.ino, reads(f))
}

// ringDrop drops a reader (or a writer) of pipe k; the last one frees it.
func ringDrop(k int32, reader bool) {
	p := &pipes[k]
	if reader {
		p.readers--
	} else {
		p.writers--
	}
	pipeChanged(k)
	if p.readers <= 0 && p.writers <= 0 {
		if p.Buf != 0 {
			kfree(p.Buf, p.Size)
		}
		if p.fifo != 0 {
			ino(p.fifo - 1).data = 0 // the FIFO's node has no ring any more
		}
		*p = pipe{}
	}
}

// newRing takes a free pipe with one reader and one writer, or -1.
func newRing() int32 { return newRingOf(pipeSize) }

// newRingOf is newRing with a capacity of size bytes (a power of two).
func newRingOf(size uint64) int32 {
	for i := range pipes {
		if !pipes[i].used {
			pipes[i] = pipe{used: true, readers: 1, writers: 1, Ring: ring.Ring{Size: size}}
			return int32(i)
		}
	}
	return -1
}

// pipeChanged finishes what waits on pipe k and tells epoll.
func pipeChanged(k int32) {
	p := &pipes[k]
	for again := true; again; {
		again = false
		for i := 1; i < sched.Top(); i++ {
			t := sched.T(i)
			if t.State != sched.Blocked || t.WaitAddr != uint64(k) {
				continue
			}
			switch t.Wait {
			case sched.WaitRestart:
				// Back to the SYSCALL instruction (2 bytes) with the
				// call's number in RAX: the call runs again and finds
				// what changed (datagram sockets wait so).
				t.Frame.RIP -= 2
				sched.Wake(i, int64(t.Args[0]))
			case sched.WaitPipeRead:
				if p.Len() == 0 && p.writers > 0 {
					continue
				}
				b, ok := userBytes(t.Args[0], t.Args[1], true)
				if !ok {
					sched.Wake(i, -linux.EFAULT)
					continue
				}
				sched.Wake(i, int64(p.Take(b)))
				again = true
			case sched.WaitPipeWrite:
				done := t.Args[2]
				if p.readers == 0 {
					signalThread(i, linux.SIGPIPE)
					if done > 0 {
						sched.Wake(i, int64(done))
					} else {
						sched.Wake(i, -linux.EPIPE)
					}
					continue
				}
				if p.Room() == 0 {
					continue
				}
				b, ok := userBytes(t.Args[0], t.Args[1], false)
				if !ok {
					sched.Wake(i, -linux.EFAULT)
					continue
				}
				k := p.put(b[done : done+min(t.Args[1]-done, p.Room())])
				if k == 0 {
					continue
				}
				t.Args[2] = done + k
				if t.Args[2] == t.Args[1] {
					sched.Wake(i, int64(t.Args[1]))
				}
				again = true
			}
		}
	}
	// Every description of this pipe (or of a socket on it) saw an edge.
	for o := range ofds[:ofdTop] {
		f := &ofds[o]
		if f.kind == fdPipe && f.ino == k || f.kind == fdSocket && (sockets[f.ino].rx == k || sockets[f.ino].tx == k) {
			fileChanged(f)
		}
	}
}

// pipeReadiness is a pipe end's poll state.
func pipeReadiness(f *ofd) uint32 {
	var ev uint32
	if reads(f) {
		ev |= ringReadable(f.ino)
	}
	if writes(f) {
		ev |= ringWritable(f.ino)
	}
	return ev
}

// ringReadable is the poll state of pipe k's read side.
func ringReadable(k int32) uint32 {
	p := &pipes[k]
	var ev uint32
	if p.Len() > 0 {
		ev |= linux.EPOLLIN
	}
	if p.writers == 0 {
		ev |= linux.EPOLLIN | linux.EPOLLHUP | linux.EPOLLRDHUP
	}
	return ev
}

// ringWritable is the poll state of pipe k's write side.
func ringWritable(k int32) uint32 {
	p := &pipes[k]
	var ev uint32
	if p.Room() > 0 {
		ev |= linux.EPOLLOUT
	}
	if p.readers == 0 {
		ev |= linux.EPOLLOUT | linux.EPOLLERR
	}
	return ev
}
