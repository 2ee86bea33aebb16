package kernel

import (
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// epoll and eventfd: what the runtime's netpoller needs. The runtime makes
// one epoll instance and one eventfd (its "break" fd) registered for
// EPOLLIN; a thread with nothing to do waits in epoll_pwait with the time
// until the next timer, and another thread wakes it early by writing the
// eventfd. So epoll_pwait must really sleep with a timeout, and an eventfd
// write must wake it with an EPOLLIN event carrying the registered data.

const (
	maxPollEvents = 64
	// The Go runtime makes one epoll instance and registers every
	// pollable descriptor with it (pipes, eventfds), so one instance
	// must hold many; few programs make more instances of their own.
	maxEpolls   = 8
	maxInterest = 512
)

// epollSet is one epoll instance's interest list, by descriptor number.
type epollSet struct {
	used   bool
	n      int
	fds    [maxInterest]int32
	events [maxInterest]uint32
	data   [maxInterest]uint64
	// edge: for EPOLLET interests, an event happened on the file since
	// it was last reported (set at EPOLL_CTL_ADD/MOD, as Linux reports the
	// state once then).
	edge [maxInterest]bool
}

const epollET = 1 << 31

var epolls [maxEpolls]epollSet

func sysEpollCreate(flags uint64) int64 {
	k := -1
	for i := range epolls {
		if !epolls[i].used {
			k = i
			break
		}
	}
	if k < 0 {
		return -linux.EMFILE
	}
	fd := allocFD(fdEpoll, linux.O_RDWR|uint32(flags)&linux.O_CLOEXEC)
	if fd >= 0 {
		// Cleared, then marked: a composite literal with a field set
		// would be a static copy of the whole 8 KiB set in the image.
		epolls[k] = epollSet{}
		epolls[k].used = true
		getFile(uint64(fd)).ep = int32(k)
	}
	return fd
}

func sysEventfd(initval, flags uint64) int64 {
	fd := allocFD(fdEventfd, linux.O_RDWR|uint32(flags)&(linux.O_NONBLOCK|linux.O_CLOEXEC))
	if fd >= 0 {
		getFile(uint64(fd)).count = initval
	}
	return fd
}

func sysEpollCtl(epfd, op, fd, ev uint64) int64 {
	epf := getFile(epfd)
	if epf == nil || getFile(fd) == nil {
		return -linux.EBADF
	}
	if epf.kind != fdEpoll || epfd == fd {
		return -linux.EINVAL
	}
	if k := getFile(fd).kind; k == fdFile && alwaysReady(ino(getFile(fd).ino)) {
		return -linux.EPERM // regular files are always ready: Linux refuses them
	}
	ep := &epolls[epf.ep]
	var events uint32
	var data uint64
	if op != linux.EPOLL_CTL_DEL {
		p, ok := userBytes(ev, 12, false)
		if !ok {
			return -linux.EFAULT
		}
		events = uint32(le64(p[0:]))
		data = le64(p[4:])
	}
	k := -1
	for i := 0; i < ep.n; i++ {
		if ep.fds[i] == int32(fd) {
			k = i
		}
	}
	switch op {
	case linux.EPOLL_CTL_ADD:
		if k >= 0 {
			return -linux.EEXIST
		}
		if ep.n == maxInterest {
			return -linux.ENOMEM
		}
		k = ep.n
		ep.n++
		ep.fds[k] = int32(fd)
		fallthrough
	case linux.EPOLL_CTL_MOD:
		if k < 0 {
			return -linux.ENOENT
		}
		ep.events[k] = events
		ep.data[k] = data
		ep.edge[k] = true
	case linux.EPOLL_CTL_DEL:
		if k < 0 {
			return -linux.ENOENT
		}
		ep.n--
		ep.fds[k], ep.events[k], ep.data[k], ep.edge[k] = ep.fds[ep.n], ep.events[ep.n], ep.data[ep.n], ep.edge[ep.n]
	default:
		return -linux.EINVAL
	}
	return 0
}

// ready writes up to max ready events of ep to the user array at out.
func ready(ep *epollSet, out uint64, max int) int64 {
	n := 0
	for i := 0; i < ep.n && n < max; i++ {
		f := getFile(uint64(ep.fds[i]))
		if f == nil {
			continue
		}
		ev := readiness(f) & (ep.events[i] | linux.EPOLLERR | linux.EPOLLHUP) // ERR and HUP always count
		if ep.events[i]&epollET != 0 {
			if !ep.edge[i] {
				continue
			}
			ep.edge[i] = false
		}
		if ev == 0 {
			continue
		}
		p, ok := userBytes(out+uint64(n)*12, 12, true)
		if !ok {
			return -linux.EFAULT
		}
		put32(p[0:], ev)
		put64(p[4:], ep.data[i])
		n++
	}
	return int64(n)
}

// readiness is the poll state of an open file description now.
func readiness(f *ofd) uint32 {
	var ev uint32
	switch f.kind {
	case fdEventfd:
		if f.count > 0 {
			ev |= linux.EPOLLIN
		}
		ev |= linux.EPOLLOUT
	case fdConsole:
		ev |= linux.EPOLLOUT
	case fdFile:
		ev |= linux.EPOLLOUT
		if ino(f.ino).kind == iDev {
			ev |= screenReadiness(f) | uioReadiness(f)
		}
	case fdPipe:
		ev = pipeReadiness(f)
	case fdSocket:
		ev = uint32(socketOp(sockOpReadiness, uint64(f.ino), 0, 0, 0))
	}
	return ev
}

// fileChanged tells the epoll instances watching description f that its
// state changed (an edge), and finishes the waits that it satisfies.
func fileChanged(f *ofd) {
	for fd := range fdt[:fdTop] {
		if fdt[fd] == 0 || &ofds[ofdOf(uint64(fd))] != f {
			continue
		}
		for e := range epolls {
			ep := &epolls[e]
			if !ep.used {
				continue
			}
			for k := 0; k < ep.n; k++ {
				if ep.fds[k] == int32(fd) {
					ep.edge[k] = true
				}
			}
		}
		pollWake(int32(fd))
	}
}

func sysEpollWait(epfd, events, maxevents uint64, timeoutMs int64) int64 {
	epf := getFile(epfd)
	if epf == nil {
		return -linux.EBADF
	}
	if epf.kind != fdEpoll || maxevents == 0 || maxevents > 1<<20 {
		return -linux.EINVAL
	}
	ep := &epolls[epf.ep]
	max := int(maxevents)
	if max > maxPollEvents {
		max = maxPollEvents
	}
	if !userOK(events, uint64(max)*12, true) {
		return -linux.EFAULT
	}
	if n := ready(ep, events, max); n != 0 || timeoutMs == 0 {
		return n
	}
	var deadline int64
	if timeoutMs > 0 {
		deadline = nanotime() + timeoutMs*1_000_000
	}
	cur := sched.Current()
	sched.Block(cur, sched.WaitPoll, epfd, deadline, 0)
	t := sched.T(cur)
	t.Args[0], t.Args[1] = events, uint64(max)
	return blocked
}

// epollForget removes descriptor fd from every interest list: its open
// file description is being released (Linux drops a description's
// registrations when its last reference goes, so a descriptor number
// reused for another file starts with none).
func epollForget(fd int32) {
	for e := range epolls {
		ep := &epolls[e]
		if !ep.used {
			continue
		}
		for k := 0; k < ep.n; k++ {
			if ep.fds[k] == fd {
				ep.n--
				ep.fds[k], ep.events[k], ep.data[k], ep.edge[k] = ep.fds[ep.n], ep.events[ep.n], ep.data[ep.n], ep.edge[ep.n]
				k--
			}
		}
	}
}

// pollWake finishes the epoll waits that the state change of fd satisfies.
func pollWake(fd int32) {
	for i := 1; i < sched.Top(); i++ {
		t := sched.T(i)
		if t.State != sched.Blocked || t.Wait != sched.WaitPoll {
			continue
		}
		epf := getFile(t.WaitAddr)
		if epf == nil || epf.kind != fdEpoll {
			sched.Wake(i, -linux.EBADF)
			continue
		}
		ep := &epolls[epf.ep]
		watches := false
		for k := 0; k < ep.n; k++ {
			if ep.fds[k] == fd {
				watches = true
			}
		}
		if !watches {
			continue
		}
		if n := ready(ep, t.Args[0], int(t.Args[1])); n != 0 {
			sched.Wake(i, n)
		}
	}
}

func eventfdRead(f *ofd, buf, n uint64) int64 {
	if n < 8 {
		return -linux.EINVAL
	}
	p, ok := userBytes(buf, 8, true)
	if !ok {
		return -linux.EFAULT
	}
	if f.count == 0 {
		return -linux.EAGAIN // rt0 has no blocking eventfd reads; the runtime's is non-blocking
	}
	put64(p, f.count)
	f.count = 0
	return 8
}

func eventfdWrite(f *ofd, buf, n uint64) int64 {
	if n < 8 {
		return -linux.EINVAL
	}
	p, ok := userBytes(buf, 8, false)
	if !ok {
		return -linux.EFAULT
	}
	v := le64(p)
	if v == ^uint64(0) {
		return -linux.EINVAL
	}
	if f.count+v < f.count || f.count+v == ^uint64(0) {
		return -linux.EAGAIN
	}
	f.count += v
	fileChanged(f)
	return 8
}

// alwaysReady says whether a file is one Linux's epoll refuses: a regular
// file, or one of the PCI files that are regular files on Linux (a read
// never waits).
func alwaysReady(n *inode) bool {
	return n.kind == iReg || n.kind == iDev && (n.dev == devPCIConfig || n.dev == devPCIResource || n.dev == devPagemap)
}
