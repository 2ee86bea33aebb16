package kernel

import (
	"unsafe"

	"rt0/guest/arch/amd64"
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Sockets: networking inside the machine. rt0 has no network card; what
// programs and tests need of a network is mostly the loopback: a server
// and its client in one process (net/http/httptest, a program that
// serves and calls itself), and socketpair. So: TCP over 127.0.0.0/8 and
// ::1 (AF_INET, AF_INET6, SOCK_STREAM, dual-stack listeners as Linux's
// default), and AF_UNIX stream sockets, named by a path in the
// filesystem or in the abstract namespace, and socketpair. Other hosts
// are unreachable (ENETUNREACH), as on a machine without a network.
//
// A connection is two pipe rings (pipe.go), one each way: a socket reads
// its rx ring and writes its tx ring, which are its peer's tx and rx.
// Reading, writing, blocking, EOF, EPIPE and epoll edges are the pipes'
// own code. connect finds the listener, makes the accepting side's socket
// at once and queues it on the listener (the handshake of a loopback
// connection is instant), so connect succeeds at once, also when
// non-blocking.
//
// The bulk of it (socketSyscall and what it calls) is linked only into
// programs that use package net: rt0 build's overlay calls EnableSockets
// for them, and nothing else refers to socketSyscall, so the Go linker
// leaves it out of the others (hello stays small). Without it the socket
// system calls fail with ENOSYS, as on a kernel built without networking.

const (
	maxSockets  = 256
	unixPathMax = 108 // sizeof(sun_path)
	maxBacklog  = 4096
	portLo      = 32768 // Linux's ephemeral port range
	portHi      = 60999
)

const (
	sockFree = iota
	sockOpen
	sockListening
	sockConnected
	sockConnecting // to another host, through the network service (sys_socket_net.go)
)

// sockAddr is an address and port; IPv4 addresses are kept IPv4-mapped
// (::ffff:a.b.c.d), so one comparison serves both families.
type sockAddr struct {
	ip   [16]byte
	port uint16
}

type socket struct {
	state  uint8
	family uint8
	typ    uint8
	v6only bool
	bound  bool
	shutRd bool
	shutWr bool
	// abort: SO_LINGER on with a time of 0: close resets the connection.
	abort bool
	// reset: the peer closed and answered a write with an RST: further
	// writes fail.
	reset    bool
	local    sockAddr
	peer     sockAddr
	rx, tx   int32 // connected: the rings it reads and writes; else -1
	listener int32 // queued for accept: the listener; else -1
	// A listener's queue of connections not yet accepted, linked
	// through next.
	head, tail, next int32
	pending, backlog int32
	// Unix: the name as bound (sun_path: a path, or a NUL and an abstract
	// name), the path's inode (-1: none), and the socket at the other end.
	uname [unixPathMax]byte
	ulen  uint8
	unode int32
	pair  int32
	nlPid uint32               // netlink: the port id
	opts  [len(optSlots)]int32 // the options a program may read back
	// The network service's (sys_socket_net.go): the generation that
	// tells this socket from the slot's later ones, the error a failed
	// non-blocking connect left for SO_ERROR, and whether the service
	// listens for this listener.
	gen     uint32
	soError int32
	ext     bool
	relay   bool // the UDP relay (sys_socket_net.go)
}

// optSlots are the (level<<16 | name) of the options kept per socket:
// SO_REUSEADDR, SO_KEEPALIVE, SO_BROADCAST, SO_REUSEPORT, SO_SNDBUF,
// SO_RCVBUF, TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT.
var optSlots = [...]uint32{
	linux.SOL_SOCKET<<16 | 2, linux.SOL_SOCKET<<16 | 9, linux.SOL_SOCKET<<16 | 6, linux.SOL_SOCKET<<16 | 15,
	linux.SOL_SOCKET<<16 | linux.SO_SNDBUF, linux.SOL_SOCKET<<16 | linux.SO_RCVBUF,
	linux.IPPROTO_TCP<<16 | 1, linux.IPPROTO_TCP<<16 | 4, linux.IPPROTO_TCP<<16 | 5, linux.IPPROTO_TCP<<16 | 6,
}

// optSlot returns the slot of option (level, name), or -1.
func optSlot(level, name uint64) int {
	for i, o := range optSlots {
		if uint64(o) == level<<16|name {
			return i
		}
	}
	return -1
}

var (
	sockets [maxSockets]socket
	// socketCall is socketSyscall once EnableSockets ran, else nil.
	socketCall func(nr, a0, a1, a2, a3, a4, a5 uint64) int64
	nextPort   uint16
)

// EnableSockets turns on the socket system calls. rt0 build's overlay
// calls it (from package init) in programs that import package net.
func EnableSockets() {
	f := socketSyscall
	// The func value of a top-level function points at static data, so
	// storing it needs no write barrier (code below the runtime must not
	// have one): store it as the plain word it is.
	*(*uintptr)(unsafe.Pointer(&socketCall)) = *(*uintptr)(unsafe.Pointer(&f))
}

// socketRead reads connected socket k for a description with flags fl
// (read, recvfrom, recvmsg).
func socketRead(k int32, fl uint32, buf, n, flags uint64) int64 {
	s := &sockets[k]
	switch s.typ {
	case linux.SOCK_DGRAM:
		return dgramRecv(k, fl, &userVec{base: buf, n: n}, 0, 0, flags, 0)
	case linux.SOCK_SEQPACKET:
		return seqRead(s, fl, &userVec{base: buf, n: n}, flags, 0)
	}
	if s.state != sockConnected {
		return -linux.ENOTCONN
	}
	if s.shutRd {
		return 0
	}
	return ringRead(s.rx, fl&linux.O_NONBLOCK != 0 || flags&linux.MSG_DONTWAIT != 0, buf, n, flags&linux.MSG_PEEK != 0)
}

// socketWrite writes connected socket k (write, sendto, sendmsg).
func socketWrite(k int32, fl uint32, buf, n, flags uint64) int64 {
	s := &sockets[k]
	switch s.typ {
	case linux.SOCK_DGRAM:
		return dgramSend(k, fl, &userVec{base: buf, n: n}, 0, 0, flags)
	case linux.SOCK_SEQPACKET:
		return seqWrite(s, fl, &userVec{base: buf, n: n}, flags)
	}
	if s.state != sockConnected {
		return -linux.ENOTCONN
	}
	if s.shutWr {
		if flags&linux.MSG_NOSIGNAL == 0 {
			signalThread(sched.Current(), linux.SIGPIPE)
		}
		return -linux.EPIPE
	}
	if pipes[s.tx].readers == 0 && !s.reset && s.family != linux.AF_UNIX {
		// TCP: a peer that closed only sent a FIN; the first write after
		// it goes out (and is lost), the peer's RST makes later ones fail.
		// TLS's close_notify after the server hung up counts on it.
		s.reset = true
		return int64(n)
	}
	return ringWrite(s.tx, fl&linux.O_NONBLOCK != 0 || flags&linux.MSG_DONTWAIT != 0, buf, n, flags&linux.MSG_NOSIGNAL == 0)
}

// socketReadiness is socket k's poll state.
func socketReadiness(k int32) uint32 {
	s := &sockets[k]
	if s.typ == linux.SOCK_DGRAM {
		if pipes[s.rx].Len() > 0 {
			return linux.EPOLLIN | linux.EPOLLOUT
		}
		return linux.EPOLLOUT
	}
	switch s.state {
	case sockListening:
		if s.pending > 0 {
			return linux.EPOLLIN
		}
		return 0
	case sockConnected:
		rx, tx := &pipes[s.rx], &pipes[s.tx]
		var ev uint32
		if rx.Len() > 0 || s.shutRd {
			ev |= linux.EPOLLIN
		}
		if rx.writers == 0 {
			ev |= linux.EPOLLIN | linux.EPOLLRDHUP
		}
		if s.shutWr || tx.readers == 0 || tx.Room() > 0 {
			ev |= linux.EPOLLOUT
		}
		if rx.writers == 0 && (s.shutWr || tx.readers == 0) {
			ev |= linux.EPOLLHUP
		}
		return ev
	case sockConnecting:
		return 0
	}
	if s.soError != 0 {
		return linux.EPOLLOUT | linux.EPOLLERR | linux.EPOLLHUP // a failed connect
	}
	return linux.EPOLLOUT | linux.EPOLLHUP // not connected, as Linux says of a fresh TCP socket
}

// socketClose releases socket k when its last description goes.
func socketClose(k int32) {
	s := &sockets[k]
	switch {
	case s.typ == linux.SOCK_DGRAM:
		if s.ext && netsvcState.open {
			netUDPClose(k)
		}
		if s.relay {
			netsvcState.relay = 0
		}
		ringDrop(s.rx, false)
		ringDrop(s.rx, true)
	case s.state == sockConnected:
		if s.abort {
			// An RST: what was not read is gone, the peer's reads fail.
			t := &pipes[s.tx]
			t.Head, t.reset = t.Tail, true
		}
		if !s.shutWr {
			ringDrop(s.tx, false)
		}
		ringDrop(s.rx, true)
	case s.state == sockConnecting:
		// Closed while the service connects it: a connect waiting in
		// another thread ends (Linux would hold the socket open under
		// it; rt0 frees it, so it must not leave the waiter asleep).
		netConnectDone(k, -linux.ECONNABORTED)
	case s.state == sockListening:
		if s.ext && netsvcState.open {
			netUnlisten(k)
		}
		// Connections never accepted are closed: their clients see EOF.
		for c := s.head; c >= 0; {
			next := sockets[c].next
			socketClose(c)
			c = next
		}
		wakeAcceptors(k, -linux.EINVAL)
	}
	sockets[k] = socket{}
}

// newSocket takes a free socket, or -1.
func newSocket(family uint8) int32 {
	for i := range sockets {
		if sockets[i].state == sockFree {
			s := &sockets[i]
			*s = socket{}
			s.state, s.family, s.typ = sockOpen, family, linux.SOCK_STREAM
			s.rx, s.tx, s.listener, s.head, s.tail, s.next, s.unode, s.pair = -1, -1, -1, -1, -1, -1, -1, -1
			// Linux's defaults: buffers (reported doubled), keep-alive
			// idle 2 h, probes every 75 s, 9 of them.
			s.opts[4], s.opts[5], s.opts[7], s.opts[8], s.opts[9] = 2*pipeSize, 2*pipeSize, 7200, 75, 9
			return int32(i)
		}
	}
	return -1
}

// Operations on socket descriptions that the rest of the kernel asks of
// socketCall, beside the system calls (numbers no system call has): a
// socket description exists only once sockets are enabled, so the code
// for them need not be linked before.
const (
	sockOpRead      = 1 << 20 // a0: the socket, a1: the description's flags, a2, a3: buffer, length
	sockOpWrite     = sockOpRead + 1
	sockOpReadiness = sockOpRead + 2 // a0: the socket
	sockOpClose     = sockOpRead + 3 // a0: the socket
)

// socketOp asks socketCall for one of the sockOp operations.
//
//go:noinline
func socketOp(op uint64, a0, a1, a2, a3 uint64) int64 {
	return socketCall(op, a0, a1, a2, a3, 0, 0)
}

// socketSyscall serves the socket system calls and the sockOp operations.
func socketSyscall(nr, a0, a1, a2, a3, a4, a5 uint64) int64 {
	switch nr {
	case sockOpRead:
		return socketRead(int32(a0), uint32(a1), a2, a3, 0)
	case sockOpWrite:
		return socketWrite(int32(a0), uint32(a1), a2, a3, 0)
	case sockOpReadiness:
		return int64(socketReadiness(int32(a0)))
	case sockOpClose:
		socketClose(int32(a0))
		return 0
	case sockOpNetOpen, sockOpNetRead, sockOpNetIoctl, sockOpNetReady, sockOpNetClose, sockOpNetIface:
		return netOp(nr, a0, a1, a2)
	case linux.SYS_SOCKET:
		return sysSocket(a0, a1, a2)
	case linux.SYS_SOCKETPAIR:
		return sysSocketpair(a0, a1, a2, a3)
	case linux.SYS_SENDFILE:
		return sysSendfile(a0, a1, a2, a3)
	}
	f := getFile(a0)
	if f == nil {
		return -linux.EBADF
	}
	if f.kind != fdSocket {
		return -linux.ENOTSOCK
	}
	k := f.ino
	s := &sockets[k]
	switch nr {
	case linux.SYS_BIND:
		if s.family == linux.AF_NETLINK {
			return netlinkBind(s, k)
		}
		if s.family == linux.AF_UNIX {
			return unixBind(s, a1, a2)
		}
		return sockBind(k, a1, a2)
	case linux.SYS_LISTEN, linux.SYS_ACCEPT, linux.SYS_ACCEPT4:
		if s.typ == linux.SOCK_DGRAM {
			return -linux.EOPNOTSUPP
		}
	case linux.SYS_CONNECT:
		if s.typ == linux.SOCK_DGRAM {
			return dgramConnect(k, a1, a2)
		}
	case linux.SYS_GETPEERNAME:
		if s.state != sockConnected {
			return -linux.ENOTCONN
		}
	}
	switch nr {
	case linux.SYS_LISTEN:
		return sockListen(k, int32(a1))
	case linux.SYS_ACCEPT:
		return sockAccept(f, a1, a2, 0)
	case linux.SYS_ACCEPT4:
		return sockAccept(f, a1, a2, a3)
	case linux.SYS_CONNECT:
		if s.family == linux.AF_UNIX {
			return unixConnect(k, a1, a2)
		}
		return sockConnect(k, a1, a2)
	case linux.SYS_GETSOCKNAME:
		if s.family == linux.AF_NETLINK {
			return putNetlinkName(s, a1, a2)
		}
		if s.family == linux.AF_UNIX {
			return putUnixName(s, a1, a2)
		}
		return putSockaddr(s, s.local, a1, a2)
	case linux.SYS_GETPEERNAME:
		if s.family == linux.AF_UNIX {
			return putUnixName(&sockets[s.pair], a1, a2)
		}
		return putSockaddr(s, s.peer, a1, a2)
	case linux.SYS_SHUTDOWN:
		return sockShutdown(s, a1)
	case linux.SYS_SETSOCKOPT:
		return sockSetopt(s, a1, a2, a3, a4)
	case linux.SYS_GETSOCKOPT:
		return sockGetopt(s, a1, a2, a3, a4)
	case linux.SYS_SENDTO:
		if s.family == linux.AF_NETLINK {
			return netlinkSend(k, &userVec{base: a1, n: a2})
		}
		if s.typ == linux.SOCK_DGRAM {
			return dgramSend(k, f.flags, &userVec{base: a1, n: a2}, a4, a5, a3)
		}
		return socketWrite(k, f.flags, a1, a2, a3) // connected: the address is ignored
	case linux.SYS_RECVFROM:
		if s.typ == linux.SOCK_DGRAM {
			return dgramRecv(k, f.flags, &userVec{base: a1, n: a2}, a4, a5, a3, 0)
		}
		r := socketRead(k, f.flags, a1, a2, a3)
		if r >= 0 && a4 != 0 {
			if s.family == linux.AF_UNIX {
				putUnixName(&sockets[s.pair], a4, a5)
			} else {
				putSockaddr(s, s.peer, a4, a5)
			}
		}
		return r
	case linux.SYS_SENDMSG, linux.SYS_RECVMSG:
		return sockMsg(f, nr == linux.SYS_SENDMSG, a1, a2)
	}
	return -linux.ENOSYS
}

func sysSocket(domain, typ, proto uint64) int64 {
	t := typ & 0xF
	switch {
	case domain == linux.AF_NETLINK:
		if e := netlinkSocket(typ, proto); e != 0 {
			return e
		}
		t = linux.SOCK_DGRAM // its answers are datagrams
	case domain != linux.AF_INET && domain != linux.AF_INET6 && domain != linux.AF_UNIX:
		return -linux.EAFNOSUPPORT
	case t == linux.SOCK_STREAM, t == linux.SOCK_DGRAM, t == linux.SOCK_SEQPACKET && domain == linux.AF_UNIX:
		if proto != 0 && (domain == linux.AF_UNIX || t == linux.SOCK_STREAM && proto != linux.IPPROTO_TCP || t == linux.SOCK_DGRAM && proto != linux.IPPROTO_UDP) {
			return -linux.EPROTONOSUPPORT
		}
	default:
		return -linux.ESOCKTNOSUPPORT
	}
	k := newSocket(uint8(domain))
	if k < 0 {
		return -linux.ENFILE
	}
	sockets[k].typ = uint8(t)
	if t == linux.SOCK_DGRAM {
		if sockets[k].rx = newRingOf(dgramRing); sockets[k].rx < 0 {
			sockets[k] = socket{}
			return -linux.ENFILE
		}
	}
	fd := allocFD(fdSocket, linux.O_RDWR|uint32(typ)&(linux.O_NONBLOCK|linux.O_CLOEXEC))
	if fd < 0 {
		socketClose(k)
		return fd
	}
	getFile(uint64(fd)).ino = k
	return fd
}

// sysSocketpair makes two AF_UNIX stream sockets connected to each other.
func sysSocketpair(domain, typ, proto, sv uint64) int64 {
	if domain != linux.AF_UNIX {
		return -linux.EAFNOSUPPORT
	}
	t := uint8(typ & 0xF)
	if t != linux.SOCK_STREAM && t != linux.SOCK_DGRAM && t != linux.SOCK_SEQPACKET {
		return -linux.ESOCKTNOSUPPORT
	}
	out, ok := userBytes(sv, 8, true)
	if !ok {
		return -linux.EFAULT
	}
	a, b := newSocket(linux.AF_UNIX), newSocket(linux.AF_UNIX)
	made := a >= 0 && b >= 0
	if made && t == linux.SOCK_DGRAM {
		// Two datagram sockets, each with its ring, each the other's peer.
		sockets[a].rx, sockets[b].rx = newRingOf(dgramRing), newRingOf(dgramRing)
		made = sockets[a].rx >= 0 && sockets[b].rx >= 0
		sockets[a].pair, sockets[b].pair = b, a
		sockets[a].state, sockets[b].state = sockConnected, sockConnected
	} else if made {
		made = connectPair(a, b)
	}
	if !made {
		for _, x := range [2]int32{a, b} {
			if x >= 0 {
				if sockets[x].rx >= 0 && t == linux.SOCK_DGRAM {
					pipes[sockets[x].rx] = pipe{}
				}
				sockets[x] = socket{}
			}
		}
		return -linux.ENFILE
	}
	sockets[a].typ, sockets[b].typ = t, t
	fl := linux.O_RDWR | uint32(typ)&(linux.O_NONBLOCK|linux.O_CLOEXEC)
	fa := allocFD(fdSocket, fl)
	if fa < 0 {
		socketClose(a)
		socketClose(b)
		return fa
	}
	getFile(uint64(fa)).ino = a
	fb := allocFD(fdSocket, fl)
	if fb < 0 {
		closeFD(uint64(fa))
		socketClose(b)
		return fb
	}
	getFile(uint64(fb)).ino = b
	put32(out[0:], uint32(fa))
	put32(out[4:], uint32(fb))
	return 0
}

// connectPair joins sockets a and b with two rings.
func connectPair(a, b int32) bool {
	r1 := newRing()
	if r1 < 0 {
		return false
	}
	r2 := newRing()
	if r2 < 0 {
		pipes[r1] = pipe{}
		return false
	}
	sa, sb := &sockets[a], &sockets[b]
	sa.rx, sa.tx, sa.state, sa.pair = r1, r2, sockConnected, b
	sb.rx, sb.tx, sb.state, sb.pair = r2, r1, sockConnected, a
	return true
}

// getSockaddr reads the address at a for socket s.
func getSockaddr(s *socket, a, n uint64) (sockAddr, int64) {
	var sa sockAddr
	b, ok := userBytes(a, min(n, linux.SizeofSockaddrInet6), false)
	if !ok || n < 2 {
		return sa, -linux.EFAULT
	}
	fam := uint64(b[0]) | uint64(b[1])<<8
	switch {
	case fam == linux.AF_INET && s.family == linux.AF_INET && n >= linux.SizeofSockaddrInet4:
		sa.ip[10], sa.ip[11] = 0xFF, 0xFF
		copy(sa.ip[12:], b[4:8])
	case fam == linux.AF_INET6 && s.family == linux.AF_INET6 && n >= 24:
		copy(sa.ip[:], b[8:24])
	case fam != uint64(s.family):
		return sa, -linux.EAFNOSUPPORT
	default:
		return sa, -linux.EINVAL
	}
	sa.port = uint16(b[2])<<8 | uint16(b[3])
	return sa, 0
}

// putSockaddr writes address sa as socket s's family has it, to user a
// (with the value-result length at lenp, as Linux: what fits is written,
// the whole length is reported).
func putSockaddr(s *socket, sa sockAddr, a, lenp uint64) int64 {
	var b [2 + unixPathMax]byte
	n := uint64(sockaddrBytes(s.family, sa, &b))
	l, ok := userBytes(lenp, 4, true)
	if !ok {
		return -linux.EFAULT
	}
	want := uint64(u32(l))
	if p, ok := userBytes(a, min(want, n), true); ok {
		copy(p, b[:])
	} else if want > 0 {
		return -linux.EFAULT
	}
	put32(l, uint32(n))
	return 0
}

// sockaddrBytes writes sa as a sockaddr of family into b and returns its
// length.
func sockaddrBytes(family uint8, sa sockAddr, b *[2 + unixPathMax]byte) int {
	b[0], b[1] = family, 0
	b[2], b[3] = byte(sa.port>>8), byte(sa.port)
	switch family {
	case linux.AF_INET:
		copy(b[4:8], sa.ip[12:])
		clear(b[8:linux.SizeofSockaddrInet4])
		return linux.SizeofSockaddrInet4
	case linux.AF_INET6:
		clear(b[4:8])
		copy(b[8:24], sa.ip[:])
		clear(b[24:linux.SizeofSockaddrInet6])
		return linux.SizeofSockaddrInet6
	}
	return 2
}

var v4mapped = [12]byte{10: 0xFF, 11: 0xFF}

func isV4(ip *[16]byte) bool { return [12]byte(ip[:12]) == v4mapped }

// isAny reports an unspecified address (0.0.0.0 or ::).
func isAny(ip *[16]byte) bool {
	if isV4(ip) {
		return [4]byte(ip[12:]) == [4]byte{}
	}
	return *ip == [16]byte{}
}

// isLoopback reports 127.0.0.0/8 or ::1.
func isLoopback(ip *[16]byte) bool {
	if isV4(ip) {
		return ip[12] == 127
	}
	return *ip == [16]byte{15: 1}
}

// covers reports whether socket s, bound or listening, takes address
// ip: its own address or, if it has the unspecified one, every address of
// its family (an AF_INET6 socket without IPV6_V6ONLY has IPv4's too, as
// Linux's default).
func covers(s *socket, ip *[16]byte) bool {
	v4 := isV4(ip)
	switch {
	case s.family == linux.AF_INET && !v4:
		return false
	case s.family == linux.AF_INET6 && v4 && (s.v6only || !isAny(&s.local.ip) && !isV4(&s.local.ip)):
		return false
	}
	return isAny(&s.local.ip) || s.local.ip == *ip
}

// portTaken reports whether another socket bound to sa's port would take
// the same connections as s bound to sa. Accepted and connected sockets
// do not count (Go sets SO_REUSEADDR on listeners, and rt0 has no
// TIME_WAIT).
func portTaken(s *socket, sa *sockAddr) bool {
	t := *s
	t.local = *sa
	for i := range sockets {
		o := &sockets[i]
		if o == s || !o.bound || o.family == linux.AF_UNIX || o.typ != s.typ || o.state == sockConnected && o.typ == linux.SOCK_STREAM || o.local.port != sa.port {
			continue
		}
		if covers(o, &sa.ip) || covers(&t, &o.local.ip) {
			return true
		}
	}
	return false
}

// ephemeral binds s to a free port at ip: one no socket uses at all, so
// that every connection has its own (address, port) pair.
//
//go:noinline
func ephemeral(s *socket, ip [16]byte) bool {
	for range portHi - portLo + 1 {
		nextPort++
		if nextPort < portLo || nextPort > portHi {
			nextPort = portLo
		}
		used := false
		for i := range sockets {
			if o := &sockets[i]; o.state != sockFree && o.bound && o.local.port == nextPort {
				used = true
				break
			}
		}
		if !used {
			s.local, s.bound = sockAddr{ip: ip, port: nextPort}, true
			return true
		}
	}
	return false
}

func sockBind(k int32, a, n uint64) int64 {
	s := &sockets[k]
	if s.bound || s.family == linux.AF_UNIX {
		return -linux.EINVAL
	}
	sa, e := getSockaddr(s, a, n)
	if e != 0 {
		return e
	}
	if !isAny(&sa.ip) && !isLocal(&sa.ip) {
		return -linux.EADDRNOTAVAIL // not an address of this machine's
	}
	if sa.port == 0 {
		if !ephemeral(s, sa.ip) {
			return -linux.EADDRINUSE
		}
		if s.typ == linux.SOCK_DGRAM && !isLoopback(&sa.ip) {
			netUDPBind(k)
		}
		return 0
	}
	if portTaken(s, &sa) {
		return -linux.EADDRINUSE
	}
	s.local, s.bound = sa, true
	if s.typ == linux.SOCK_DGRAM && !isLoopback(&sa.ip) {
		netUDPBind(k)
	}
	return 0
}

// anyAddr is the unspecified address of s's family.
func anyAddr(s *socket) (ip [16]byte) {
	if s.family == linux.AF_INET {
		ip = [16]byte{10: 0xFF, 11: 0xFF}
	}
	return ip
}

func sockListen(k, backlog int32) int64 {
	s := &sockets[k]
	if s.state == sockConnected {
		return -linux.EINVAL
	}
	switch {
	case s.family == linux.AF_UNIX && !s.bound:
		unixAutobind(s)
	case !s.bound && !ephemeral(s, anyAddr(s)):
		return -linux.EADDRINUSE
	}
	was := s.state
	s.state = sockListening
	s.backlog = min(max(backlog, 1), maxBacklog)
	if was != sockListening && netShouldListen(s) {
		netListen(k)
	}
	return 0
}

// findListener returns the listening socket that takes connections to
// sa, or -1.
func findListener(sa *sockAddr) int32 {
	for i := range sockets {
		l := &sockets[i]
		if l.state == sockListening && l.family != linux.AF_UNIX && l.local.port == sa.port && covers(l, &sa.ip) {
			return int32(i)
		}
	}
	return -1
}

// connectable says why stream socket s cannot connect (0 if it can).
func connectable(s *socket) int64 {
	switch s.state {
	case sockConnected:
		return -linux.EISCONN
	case sockListening:
		return -linux.EINVAL
	case sockConnecting:
		return -linux.EALREADY
	}
	return 0
}

func sockConnect(k int32, a, n uint64) int64 {
	s := &sockets[k]
	if e := connectable(s); e != 0 {
		return e
	}
	sa, e := getSockaddr(s, a, n)
	if e != 0 {
		return e
	}
	if isAny(&sa.ip) { // connecting to "any" means this host
		sa.ip = [16]byte{15: 1}
		if isV4(&s.local.ip) || s.family == linux.AF_INET {
			sa.ip = [16]byte{10: 0xFF, 11: 0xFF, 12: 127, 15: 1}
		}
	}
	if !isLocal(&sa.ip) {
		if netsvcState.open {
			return netConnect(k, sa)
		}
		return -linux.ENETUNREACH
	}
	l := findListener(&sa)
	if l < 0 || sockets[l].pending >= sockets[l].backlog {
		return -linux.ECONNREFUSED
	}
	if !s.bound {
		local := [16]byte{15: 1}
		if isV4(&sa.ip) {
			local = [16]byte{10: 0xFF, 11: 0xFF, 12: 127, 15: 1}
		}
		if isIfAddr(&sa.ip) {
			local = sa.ip // to the interface's address: from it
		}
		if !ephemeral(s, local) {
			return -linux.EADDRNOTAVAIL
		}
	}
	// The accepting side: a socket of the listener's family whose local
	// address is the one the client asked for.
	L := &sockets[l]
	c := newSocket(L.family)
	if c < 0 {
		return -linux.ENOBUFS
	}
	if !connectPair(k, c) {
		sockets[c] = socket{}
		return -linux.ENOBUFS
	}
	cs := &sockets[c]
	cs.local, cs.peer, cs.bound, cs.listener = sa, s.local, true, l
	s.peer = sa
	queueConnection(l, c)
	return 0
}

// queueConnection puts connection c on listener l's queue and tells whoever
// waits to accept.
func queueConnection(l, c int32) {
	L := &sockets[l]
	if L.tail >= 0 {
		sockets[L.tail].next = c
	} else {
		L.head = c
	}
	L.tail = c
	L.pending++
	wakeAcceptors(l, 0)
	for o := range ofds[:ofdTop] {
		if ofds[o].kind == fdSocket && ofds[o].ino == l {
			fileChanged(&ofds[o])
		}
	}
}

func sockAccept(f *ofd, addr, lenp, flags uint64) int64 {
	l := f.ino
	if sockets[l].state != sockListening {
		return -linux.EINVAL
	}
	if flags&^uint64(linux.O_NONBLOCK|linux.O_CLOEXEC) != 0 {
		return -linux.EINVAL
	}
	if sockets[l].pending > 0 {
		return acceptOne(l, addr, lenp, flags)
	}
	if f.flags&linux.O_NONBLOCK != 0 {
		return -linux.EAGAIN
	}
	cur := sched.Current()
	sched.Block(cur, sched.WaitAccept, uint64(l), 0, 0)
	t := sched.T(cur)
	t.Args[0], t.Args[1], t.Args[2] = addr, lenp, flags
	return blocked
}

// acceptOne takes the first connection queued on listener l.
func acceptOne(l int32, addr, lenp, flags uint64) int64 {
	L := &sockets[l]
	c := L.head
	fd := allocFD(fdSocket, linux.O_RDWR|uint32(flags)&(linux.O_NONBLOCK|linux.O_CLOEXEC))
	if fd < 0 {
		return fd
	}
	L.head = sockets[c].next
	if L.head < 0 {
		L.tail = -1
	}
	L.pending--
	cs := &sockets[c]
	cs.next, cs.listener = -1, -1
	getFile(uint64(fd)).ino = c
	if addr != 0 {
		putSockaddr(cs, cs.peer, addr, lenp)
	}
	return fd
}

// wakeAcceptors finishes the accepts blocked on listener l: with a
// connection each while there are some, or with error e (if not 0).
func wakeAcceptors(l int32, e int64) {
	for i := 1; i < sched.Top(); i++ {
		t := sched.T(i)
		if t.State != sched.Blocked || t.Wait != sched.WaitAccept || t.WaitAddr != uint64(l) {
			continue
		}
		switch {
		case e != 0:
			sched.Wake(i, e)
		case sockets[l].pending > 0:
			sched.Wake(i, acceptOne(l, t.Args[0], t.Args[1], t.Args[2]))
		}
	}
}

func sockShutdown(s *socket, how uint64) int64 {
	if how > linux.SHUT_RDWR {
		return -linux.EINVAL
	}
	if s.state != sockConnected {
		return -linux.ENOTCONN
	}
	if s.typ == linux.SOCK_DGRAM {
		s.shutRd, s.shutWr = s.shutRd || how != linux.SHUT_WR, s.shutWr || how != linux.SHUT_RD
		return 0
	}
	if how != linux.SHUT_WR {
		s.shutRd = true
		pipeChanged(s.rx)
	}
	if how != linux.SHUT_RD && !s.shutWr {
		s.shutWr = true
		ringDrop(s.tx, false) // the peer reads to EOF
	}
	return 0
}

// sockSetopt keeps the options Go and common programs set (address
// reuse, keep-alive and its timings, TCP_NODELAY, buffer sizes: nothing
// to do on a loopback, but a program may read them back) and
// IPV6_V6ONLY, which decides what a listener on [::] takes.
func sockSetopt(s *socket, level, name, val, n uint64) int64 {
	switch level {
	case linux.SOL_SOCKET, linux.IPPROTO_TCP, linux.IPPROTO_IPV6, 0:
	default:
		return -linux.ENOPROTOOPT
	}
	var v uint32
	if n >= 4 {
		b, ok := userBytes(val, 4, false)
		if !ok {
			return -linux.EFAULT
		}
		v = u32(b)
	}
	if level == linux.IPPROTO_IPV6 && name == linux.IPV6_V6ONLY {
		if s.family != linux.AF_INET6 || s.bound || n < 4 {
			return -linux.EINVAL
		}
		s.v6only = v != 0
	}
	if level == linux.SOL_SOCKET && name == linux.SO_LINGER {
		b, ok := userBytes(val, 8, false)
		if !ok || n < 8 {
			return -linux.EINVAL
		}
		s.abort = u32(b) != 0 && u32(b[4:]) == 0
	}
	if i := optSlot(level, name); i >= 0 && n >= 4 {
		if name == linux.SO_SNDBUF || name == linux.SO_RCVBUF {
			v *= 2 // Linux keeps (and reports) twice what was asked
		}
		s.opts[i] = int32(v)
	}
	return 0
}

func sockGetopt(s *socket, level, name, val, lenp uint64) int64 {
	var v [2]uint32
	size := uint64(4)
	switch {
	case optSlot(level, name) >= 0:
		v[0] = uint32(s.opts[optSlot(level, name)])
	case level == linux.SOL_SOCKET && name == linux.SO_TYPE:
		v[0] = uint32(s.typ)
	case level == linux.SOL_SOCKET && name == linux.SO_DOMAIN:
		v[0] = uint32(s.family)
	case level == linux.SOL_SOCKET && name == linux.SO_ACCEPTCONN:
		if s.state == sockListening {
			v[0] = 1
		}
	case level == linux.IPPROTO_IPV6 && name == linux.IPV6_V6ONLY:
		if s.v6only {
			v[0] = 1
		}
	case level == linux.SOL_SOCKET && name == linux.SO_LINGER:
		size = 8 // struct linger {onoff, seconds}
		if s.abort {
			v[0] = 1
		}
	case level == linux.SOL_SOCKET && name == linux.SO_ERROR:
		// Loopback connections are made at once; a failed connect to
		// another host leaves its error here, read once.
		v[0] = uint32(s.soError)
		s.soError = 0
	}
	l, ok := userBytes(lenp, 4, true)
	if !ok {
		return -linux.EFAULT
	}
	if uint64(u32(l)) < size {
		return -linux.EINVAL
	}
	p, ok := userBytes(val, size, true)
	if !ok {
		return -linux.EFAULT
	}
	put32(p, v[0])
	if size == 8 {
		put32(p[4:], v[1])
	}
	put32(l, uint32(size))
	return 0
}

// Unix sockets' names.

// unixFind returns the socket bound to abstract name, or -1.
func unixFind(name []byte) int32 {
	for i := range sockets {
		s := &sockets[i]
		if s.state != sockFree && s.family == linux.AF_UNIX && s.unode < 0 && int(s.ulen) == len(name) && string(s.uname[:s.ulen]) == string(name) {
			return int32(i)
		}
	}
	return -1
}

// unixAutobind gives s an abstract name of five hex digits, as Linux does
// for a Unix socket that listens (or is bound with an empty address)
// without a name.
func unixAutobind(s *socket) {
	for n := uint32(0); ; n++ {
		const hex = "0123456789abcdef"
		name := [6]byte{0, hex[n>>16&15], hex[n>>12&15], hex[n>>8&15], hex[n>>4&15], hex[n&15]}
		if unixFind(name[:]) < 0 {
			s.ulen = uint8(copy(s.uname[:], name[:]))
			s.bound = true
			return
		}
	}
}

func unixBind(s *socket, a, n uint64) int64 {
	if s.bound {
		return -linux.EINVAL
	}
	b, ok := userBytes(a, min(n, 2+unixPathMax), false)
	if !ok || n < 2 {
		return -linux.EINVAL
	}
	switch {
	case n == 2:
		unixAutobind(s)
		return 0
	case b[2] == 0: // the abstract namespace
		if unixFind(b[2:]) >= 0 {
			return -linux.EADDRINUSE
		}
		s.ulen = uint8(copy(s.uname[:], b[2:]))
	default: // a path: a socket node in the filesystem
		dir, name, node, e := parentOf(atCWD, a+2, 0)
		if e != 0 {
			return e
		}
		if node >= 0 {
			return -linux.EADDRINUSE
		}
		i, e := mknod(dir, name, iSock, 0o777&^umask)
		if e != 0 {
			return e
		}
		s.unode = i
		p := b[2:]
		for j := range p {
			if p[j] == 0 {
				p = p[:j]
				break
			}
		}
		s.ulen = uint8(copy(s.uname[:], p))
	}
	s.bound = true
	return 0
}

func unixConnect(k int32, a, n uint64) int64 {
	s := &sockets[k]
	if e := connectable(s); e != 0 {
		return e
	}
	b, ok := userBytes(a, min(n, 2+unixPathMax), false)
	if !ok || n < 3 {
		return -linux.EINVAL
	}
	if uint64(b[0])|uint64(b[1])<<8 != linux.AF_UNIX {
		return -linux.EAFNOSUPPORT
	}
	l := int32(-1)
	if b[2] == 0 {
		l = unixFind(b[2:])
	} else {
		node, e := resolveAt(atCWD, a+2, true)
		if e != 0 {
			return e
		}
		if ino(node).kind != iSock {
			return -linux.ECONNREFUSED
		}
		for i := range sockets {
			if sockets[i].family == linux.AF_UNIX && sockets[i].unode == node {
				l = int32(i)
			}
		}
	}
	if l < 0 || sockets[l].state != sockListening || sockets[l].pending >= sockets[l].backlog {
		return -linux.ECONNREFUSED
	}
	if sockets[l].typ != s.typ {
		return -linux.EPROTOTYPE
	}
	c := newSocket(linux.AF_UNIX)
	if c < 0 {
		return -linux.ENOBUFS
	}
	if !connectPair(k, c) {
		sockets[c] = socket{}
		return -linux.ENOBUFS
	}
	// The accepting side bears the listener's name.
	cs, L := &sockets[c], &sockets[l]
	cs.uname, cs.ulen, cs.bound, cs.listener, cs.typ = L.uname, L.ulen, true, l, L.typ
	queueConnection(l, c)
	return 0
}

// putUnixName writes the name of Unix socket s as a sockaddr_un (value-
// result length at lenp): just the family if unnamed, the path with its
// NUL, or the abstract name.
func putUnixName(s *socket, a, lenp uint64) int64 {
	var b [2 + unixPathMax]byte
	b[0] = linux.AF_UNIX
	n := 2 + uint64(copy(b[2:], s.uname[:s.ulen]))
	if s.ulen > 0 && s.uname[0] != 0 && n < uint64(len(b)) {
		n++ // a path's terminating NUL counts
	}
	l, ok := userBytes(lenp, 4, true)
	if !ok {
		return -linux.EFAULT
	}
	if p, ok := userBytes(a, min(uint64(u32(l)), n), true); ok {
		copy(p, b[:])
	}
	put32(l, uint32(n))
	return 0
}

// sockMsg serves sendmsg and recvmsg: a datagram or a record whole, with
// its address (msg_name); a stream's iovecs in turn. No ancillary data
// (msg_controllen comes back 0).
func sockMsg(f *ofd, send bool, msg, flags uint64) int64 {
	h, ok := userBytes(msg, 56, !send)
	if !ok {
		return -linux.EFAULT
	}
	name, iov, cnt := le64(h[0:]), le64(h[16:]), le64(h[24:])
	if cnt > 1024 {
		return -linux.EMSGSIZE
	}
	v := userVec{iov: iov, cnt: cnt}
	k := f.ino
	s := &sockets[k]
	if !send {
		put64(h[40:], 0) // msg_controllen: no ancillary data
		put32(h[48:], 0) // msg_flags
	}
	switch {
	case s.family == linux.AF_NETLINK && send:
		return netlinkSend(k, &v)
	case s.typ == linux.SOCK_DGRAM && send:
		return dgramSend(k, f.flags, &v, name, uint64(u32(h[8:])), flags)
	case s.typ == linux.SOCK_DGRAM:
		return dgramRecv(k, f.flags, &v, name, msg+8, flags, msg+48)
	case s.typ == linux.SOCK_SEQPACKET && send:
		return seqWrite(s, f.flags, &v, flags)
	case s.typ == linux.SOCK_SEQPACKET:
		put32(h[8:], 0) // msg_namelen: a connection's records carry no address
		return seqRead(s, f.flags, &v, flags, msg+48)
	}
	if !send {
		put32(h[8:], 0)
	}
	var total int64
	for i := uint64(0); ; i++ {
		base, n, ok := v.piece(i)
		if !ok {
			break
		}
		var r int64
		if send {
			r = socketWrite(k, f.flags, base, n, flags)
		} else {
			r = socketRead(k, f.flags, base, n, flags)
		}
		if r < 0 {
			if total > 0 {
				break
			}
			return r
		}
		total += r
		if uint64(r) < n {
			break
		}
	}
	return total
}

// sysSendfile copies a regular file into a stream socket without the
// program's buffers (Go's io.Copy from an *os.File to a TCP connection
// uses it): what fits in the connection's ring now, from the file's
// offset or *offp. Other pairs of descriptors say EINVAL, and Go copies
// through its buffers instead.
func sysSendfile(out, in, offp, count uint64) int64 {
	fo, fi := getFile(out), getFile(in)
	if fo == nil || fi == nil {
		return -linux.EBADF
	}
	if fo.kind != fdSocket || fi.kind != fdFile || ino(fi.ino).kind != iReg || sockets[fo.ino].typ != linux.SOCK_STREAM {
		return -linux.EINVAL
	}
	s := &sockets[fo.ino]
	if s.state != sockConnected {
		return -linux.ENOTCONN
	}
	if s.shutWr || pipes[s.tx].readers == 0 {
		signalThread(sched.Current(), linux.SIGPIPE)
		return -linux.EPIPE
	}
	off := fi.off
	if offp != 0 {
		b, ok := userBytes(offp, 8, true)
		if !ok {
			return -linux.EFAULT
		}
		off = le64(b)
	}
	node := ino(fi.ino)
	if off >= node.size || count == 0 {
		return 0
	}
	t := &pipes[s.tx]
	n := min(count, node.size-off, t.Room())
	if n == 0 {
		if fo.flags&linux.O_NONBLOCK != 0 {
			return -linux.EAGAIN
		}
		return blockRestart(s.tx)
	}
	if t.put(amd64.Bytes(uintptr(node.data+off), int(n))) == 0 {
		return -linux.ENOMEM
	}
	pipeChanged(s.tx)
	if offp != 0 {
		b, _ := userBytes(offp, 8, true)
		put64(b, off+n)
	} else {
		fi.off = off + n
	}
	return int64(n)
}
