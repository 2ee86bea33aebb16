package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/netsvc"
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Sockets that leave the machine, through the network service (package
// netsvc says why there is one, and what it and the kernel tell each
// other). The kernel keeps every socket as for the loopback: a TCP
// connection to another host is the program's socket joined by two rings
// to a socket the service holds, and the service moves the bytes between
// that one and gVisor's TCP endpoint. So reading, writing, blocking,
// shutdown and epoll are the loopback's own code, and the kernel decides
// only when a connection exists:
//
//   - connect to an address that is neither the loopback nor the
//     interface's: the socket is bound (the interface's address, an
//     ephemeral port), becomes sockConnecting, and an EvConnect goes to
//     the service; the connect waits (or says EINPROGRESS) until the
//     service answers with IoctlConnected: the rings are made, or the
//     error is the connect's (SO_ERROR for a non-blocking one).
//   - listen on the unspecified or the interface's address: an EvListen;
//     each connection the service accepts there comes back as an
//     IoctlAccept and is queued on the listener like a loopback one.
//   - close of such a listener: an EvUnlisten.
//
// Without the service (no network card, or a program that never started
// it) other hosts are unreachable, as before.
//
// /dev/rt0net is the service's: one open at a time; when it closes, the
// connections waiting for it fail (ENETUNREACH) and the interface is gone.

const maxNetEvents = 128

var netsvcState struct {
	open  bool
	ofd   int32 // the service's description
	gen   uint32
	ev    [maxNetEvents][netsvc.EventSize]byte
	head  uint32 // events are ev[head%max .. tail%max)
	tail  uint32
	iface netsvc.Interface
	hasIf bool
	relay int32 // the UDP relay socket, +1 (0: none)
}

// Operations of /dev/rt0net, through socketOp (linked with the sockets).
const (
	sockOpNetOpen  = sockOpRead + 4 // a0: the description
	sockOpNetRead  = sockOpRead + 5 // a0: the description, a1, a2: buffer, length
	sockOpNetIoctl = sockOpRead + 6 // a0: request, a1: argument
	sockOpNetReady = sockOpRead + 7
	sockOpNetClose = sockOpRead + 8
	sockOpNetIface = sockOpRead + 9 // a0: a *netsvc.Interface to fill; 1 if the card has one
)

func netOp(nr, a0, a1, a2 uint64) int64 {
	switch nr {
	case sockOpNetOpen:
		netsvcState.open, netsvcState.ofd = true, int32(a0)
		netsvcState.head, netsvcState.tail = 0, 0
		// Listeners and UDP sockets made before the service started are
		// its too.
		for i := range sockets {
			s := &sockets[i]
			switch {
			case s.state == sockListening && s.family != linux.AF_UNIX && !isLoopback(&s.local.ip):
				netListen(int32(i))
			case s.typ == linux.SOCK_DGRAM && s.bound && s.family != linux.AF_UNIX && !isLoopback(&s.local.ip):
				netUDPBind(int32(i))
			}
		}
		return 0
	case sockOpNetRead:
		return netRead(&ofds[a0], a1, a2)
	case sockOpNetIoctl:
		return netIoctl(a0, a1)
	case sockOpNetIface:
		if !netsvcState.hasIf {
			return 0
		}
		*(*netsvc.Interface)(amd64.Ptr(uintptr(a0))) = netsvcState.iface
		return 1
	case sockOpNetReady:
		if netsvcState.head != netsvcState.tail {
			return linux.EPOLLIN
		}
		return 0
	case sockOpNetClose:
		netsvcState.open, netsvcState.hasIf = false, false
		netsvcState.relay = 0
		for i := range sockets {
			if sockets[i].state == sockConnecting {
				netConnectDone(int32(i), -linux.ENETUNREACH)
			}
		}
		return 0
	}
	return -linux.ENOSYS
}

// netPush queues event e for the service; false if the queue is full.
func netPush(e *netsvc.Event) bool {
	st := &netsvcState
	if st.tail-st.head == maxNetEvents {
		return false
	}
	e.Encode(&st.ev[st.tail%maxNetEvents])
	st.tail++
	netWakeReader()
	fileChanged(&ofds[st.ofd])
	return true
}

// netTake copies the events that fit in user buffer p (whole events).
func netTake(p []byte) int64 {
	st := &netsvcState
	n := 0
	for st.head != st.tail && len(p)-n >= netsvc.EventSize {
		n += copy(p[n:], st.ev[st.head%maxNetEvents][:])
		st.head++
	}
	return int64(n)
}

func netRead(f *ofd, buf, n uint64) int64 {
	if n < netsvc.EventSize {
		return -linux.EINVAL
	}
	p, ok := userBytes(buf, n, true)
	if !ok {
		return -linux.EFAULT
	}
	if netsvcState.head != netsvcState.tail {
		return netTake(p)
	}
	if f.flags&linux.O_NONBLOCK != 0 {
		return -linux.EAGAIN
	}
	cur := sched.Current()
	sched.Block(cur, sched.WaitDevice, netWaitAddr, 0, 0)
	t := sched.T(cur)
	t.Args[0], t.Args[1] = buf, n
	return blocked
}

// netWaitAddr is the WaitAddr of a read of /dev/rt0net: no uio device has
// that number.
const netWaitAddr = 1 << 20

func netWakeReader() {
	for i := 1; i < sched.Top(); i++ {
		t := sched.T(i)
		if t.State != sched.Blocked || t.Wait != sched.WaitDevice || t.WaitAddr != netWaitAddr {
			continue
		}
		p, ok := userBytes(t.Args[0], t.Args[1], true)
		if !ok {
			sched.Wake(i, -linux.EFAULT)
			continue
		}
		sched.Wake(i, netTake(p))
		return
	}
}

func netIoctl(req, arg uint64) int64 {
	switch req {
	case netsvc.IoctlSetInterface:
		p, ok := userBytes(arg, netsvc.InterfaceSize, false)
		if !ok {
			return -linux.EFAULT
		}
		netsvcState.iface.Decode((*[netsvc.InterfaceSize]byte)(p))
		netsvcState.hasIf = true
		return 0
	case netsvc.IoctlConnected, netsvc.IoctlAccept:
		p, ok := userBytes(arg, netsvc.ReplySize, false)
		if !ok {
			return -linux.EFAULT
		}
		var r netsvc.Reply
		r.Decode((*[netsvc.ReplySize]byte)(p))
		if r.Sock < 0 || int(r.Sock) >= maxSockets || sockets[r.Sock].gen != r.Gen || sockets[r.Sock].state == sockFree {
			return -linux.ENOENT // closed (or reused) before the service answered
		}
		if req == netsvc.IoctlConnected {
			return netConnected(r.Sock, &r)
		}
		return netAccepted(r.Sock, &r)
	case netsvc.IoctlUDPRelay:
		return netRelay()
	}
	return -linux.ENOTTY
}

// isIfAddr reports one of the interface's addresses.
func isIfAddr(ip *[16]byte) bool {
	st := &netsvcState
	if !st.hasIf {
		return false
	}
	for i := range st.iface.N {
		if st.iface.Addrs[i].IP == *ip {
			return true
		}
	}
	return false
}

// isLocal reports an address of this machine: the loopback's or the
// interface's (Linux routes a connection to its own address through the
// loopback too).
func isLocal(ip *[16]byte) bool { return isLoopback(ip) || isIfAddr(ip) }

// netSource picks the interface's address to connect to ip from: of the
// same family, link-local for a link-local destination (fe80::/10) and
// global otherwise.
func netSource(ip *[16]byte) ([16]byte, bool) {
	st := &netsvcState
	if !st.hasIf || !st.iface.Up {
		return [16]byte{}, false
	}
	v4 := isV4(ip)
	ll := ip[0] == 0xfe && ip[1]&0xc0 == 0x80
	var best [16]byte
	found := false
	for i := range st.iface.N {
		a := &st.iface.Addrs[i].IP
		if isV4(a) != v4 {
			continue
		}
		all := a[0] == 0xfe && a[1]&0xc0 == 0x80
		if !found || all == ll {
			best, found = *a, true
		}
		if all == ll {
			break
		}
	}
	return best, found
}

// netConnect starts socket k's connection to sa, another host.
func netConnect(k int32, sa sockAddr) int64 {
	s := &sockets[k]
	if s.state == sockConnecting {
		return -linux.EALREADY
	}
	src, ok := netSource(&sa.ip)
	if !ok || s.family == linux.AF_INET6 && s.v6only && isV4(&sa.ip) {
		return -linux.ENETUNREACH
	}
	if s.bound && !isAny(&s.local.ip) && s.local.ip != src {
		if !isIfAddr(&s.local.ip) {
			return -linux.EINVAL
		}
		src = s.local.ip // bound to another of the interface's addresses
	}
	if !s.bound {
		if !ephemeral(s, src) {
			return -linux.EADDRNOTAVAIL
		}
	}
	s.local.ip = src
	s.peer = sa
	netsvcState.gen++
	s.gen = netsvcState.gen
	e := netsvc.Event{Op: netsvc.EvConnect, Sock: k, Gen: s.gen, Family: uint16(s.family),
		Local: s.local.ip, LPort: s.local.port, Remote: sa.ip, RPort: sa.port}
	if !netPush(&e) {
		return -linux.ENOBUFS
	}
	s.state = sockConnecting
	for o := range ofds[:ofdTop] {
		if ofds[o].kind == fdSocket && ofds[o].ino == k && ofds[o].flags&linux.O_NONBLOCK != 0 {
			return -linux.EINPROGRESS
		}
	}
	cur := sched.Current()
	sched.Block(cur, sched.WaitConnect, uint64(k), 0, 0)
	return blocked
}

// netConnectDone finishes socket k's connect with result e (0 or an
// errno): the connects that wait get it; a non-blocking one finds it in
// SO_ERROR, and epoll says EPOLLOUT.
func netConnectDone(k int32, e int64) {
	s := &sockets[k]
	if e != 0 {
		s.state = sockOpen
		s.soError = int32(-e)
	}
	for i := 1; i < sched.Top(); i++ {
		t := sched.T(i)
		if t.State == sched.Blocked && t.Wait == sched.WaitConnect && t.WaitAddr == uint64(k) {
			sched.Wake(i, e)
			s.soError = 0 // reported by the connect itself
		}
	}
	for o := range ofds[:ofdTop] {
		if ofds[o].kind == fdSocket && ofds[o].ino == k {
			fileChanged(&ofds[o])
		}
	}
}

// netConnected answers socket k's EvConnect.
func netConnected(k int32, r *netsvc.Reply) int64 {
	s := &sockets[k]
	if s.state != sockConnecting {
		return -linux.ENOENT
	}
	if r.Errno != 0 {
		netConnectDone(k, -int64(r.Errno))
		return 0
	}
	fd, e := netPair(k)
	if e != 0 {
		netConnectDone(k, e)
		return e
	}
	netConnectDone(k, 0)
	return fd
}

// netPair joins socket k to a new socket the service gets a descriptor
// of, and returns the descriptor.
func netPair(k int32) (int64, int64) {
	s := &sockets[k]
	p := newSocket(s.family)
	if p < 0 {
		return 0, -linux.ENOBUFS
	}
	fd := allocFD(fdSocket, linux.O_RDWR|linux.O_CLOEXEC|linux.O_NONBLOCK)
	if fd < 0 {
		sockets[p] = socket{}
		return 0, fd
	}
	if !connectPair(k, p) {
		sockets[p] = socket{}
		closeFD(uint64(fd))
		return 0, -linux.ENOBUFS
	}
	ps := &sockets[p]
	ps.local, ps.peer, ps.bound = s.peer, s.local, true
	getFile(uint64(fd)).ino = p
	return fd, 0
}

// netListen tells the service of listener k.
func netListen(k int32) { netAnnounce(k, netsvc.EvListen) }

// netUnlisten tells the service that listener k closed.
func netUnlisten(k int32) { netForget(k, netsvc.EvUnlisten) }

// netAnnounce gives socket k a new generation and tells the service what
// it now has (op: EvListen, EvUDPBind): its address and port.
func netAnnounce(k int32, op uint32) {
	s := &sockets[k]
	netsvcState.gen++
	s.gen, s.ext = netsvcState.gen, true
	e := netsvc.Event{Op: op, Sock: k, Gen: s.gen, Family: uint16(s.family), V6Only: s.v6only,
		Local: s.local.ip, LPort: s.local.port}
	netPush(&e)
}

// netForget tells the service that socket k, announced, closed (op:
// EvUnlisten, EvUDPClose).
func netForget(k int32, op uint32) {
	s := &sockets[k]
	e := netsvc.Event{Op: op, Sock: k, Gen: s.gen, Family: uint16(s.family), Local: s.local.ip, LPort: s.local.port}
	netPush(&e)
}

// netAccepted queues the connection the service accepted for listener l.
func netAccepted(l int32, r *netsvc.Reply) int64 {
	L := &sockets[l]
	if L.state != sockListening {
		return -linux.ENOENT
	}
	if L.pending >= L.backlog {
		return -linux.ECONNREFUSED
	}
	c := newSocket(L.family)
	if c < 0 {
		return -linux.ENOBUFS
	}
	cs := &sockets[c]
	cs.local, cs.peer, cs.bound = sockAddr{r.Local, r.LPort}, sockAddr{r.Remote, r.RPort}, true
	fd, e := netPair(c)
	if e != 0 {
		sockets[c] = socket{}
		return e
	}
	cs.listener = l
	queueConnection(l, c)
	return fd
}

// netShouldListen says whether listener s takes connections from other
// hosts (and the service is there to bring them).
func netShouldListen(s *socket) bool {
	return netsvcState.open && s.family != linux.AF_UNIX && !isLoopback(&s.local.ip)
}

// UDP to and from other hosts: the relay socket (package netsvc). The
// service takes, through EvUDPBind, every port a UDP socket has on an
// address other hosts can reach, and sends and receives for it.

// netRelay makes the relay socket and returns the service's descriptor.
func netRelay() int64 {
	if netsvcState.relay != 0 {
		return -linux.EBUSY
	}
	k := newSocket(linux.AF_INET6)
	if k < 0 {
		return -linux.ENFILE
	}
	s := &sockets[k]
	s.typ, s.relay = linux.SOCK_DGRAM, true
	if s.rx = newRingOf(relayRing); s.rx < 0 {
		sockets[k] = socket{}
		return -linux.ENFILE
	}
	fd := allocFD(fdSocket, linux.O_RDWR|linux.O_CLOEXEC|linux.O_NONBLOCK)
	if fd < 0 {
		socketClose(k)
		return fd
	}
	getFile(uint64(fd)).ino = k
	netsvcState.relay = k + 1
	return fd
}

const relayRing = 1 << 20 // every program's datagrams to other hosts wait here

// relayFor returns the relay, if datagrams to ip go through it, else -1.
func relayFor(ip *[16]byte) int32 {
	if !netsvcState.open || netsvcState.relay == 0 || isLocal(ip) {
		return -1
	}
	return netsvcState.relay - 1
}

// netUDPBind tells the service that UDP socket k has its port.
func netUDPBind(k int32) {
	s := &sockets[k]
	if s.ext || !netsvcState.open {
		return
	}
	netAnnounce(k, netsvc.EvUDPBind)
}

// netUDPClose tells the service that UDP socket k closed.
func netUDPClose(k int32) { netForget(k, netsvc.EvUDPClose) }

// relayOut queues the program's datagram v from s to dst for the service.
func relayOut(s *socket, dst *sockAddr, v *userVec) int64 {
	h := netsvc.UDPHeader{Src: s.local.ip, SPort: s.local.port, Dst: dst.ip, DPort: dst.port}
	if isAny(&h.Src) {
		src, ok := netSource(&dst.ip)
		if !ok {
			return -linux.ENETUNREACH
		}
		h.Src = src
	}
	var b [netsvc.UDPHeaderSize]byte
	h.Encode(&b)
	n := v.total()
	ok, e := putRecord(netsvcState.relay-1, b[:], v)
	if e != 0 {
		return e
	}
	if !ok {
		return -linux.ENOBUFS // the service is behind: Linux says so of a full device queue
	}
	return int64(n)
}

// relayIn delivers a datagram the service received from another host:
// the relay's sendto, its address a UDPHeader.
func relayIn(v *userVec, a, alen uint64) int64 {
	p, ok := userBytes(a, netsvc.UDPHeaderSize, false)
	if !ok || alen != netsvc.UDPHeaderSize {
		return -linux.EINVAL
	}
	var h netsvc.UDPHeader
	h.Decode((*[netsvc.UDPHeaderSize]byte)(p))
	n := int64(v.total())
	dst, src := sockAddr{h.Dst, h.DPort}, sockAddr{h.Src, h.SPort}
	r := udpReceiver(&dst)
	if r < 0 {
		return n // nobody has the port (any more): lost, as UDP loses it
	}
	R := &sockets[r]
	if R.state == sockConnected && !sameAddr(&R.peer, &src) {
		return n // a connected socket hears only its peer
	}
	var name [2 + unixPathMax]byte
	l := sockaddrBytes(R.family, src, &name)
	if _, e := putRecord(R.rx, name[:l], v); e != 0 {
		return e
	}
	return n // or dropped: R's buffer is full
}
