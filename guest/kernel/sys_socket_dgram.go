package kernel

import (
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Datagram sockets: UDP over the loopback (AF_INET, AF_INET6 SOCK_DGRAM)
// and Unix datagram sockets, and the record framing that Unix
// SOCK_SEQPACKET connections share with them.
//
// A datagram socket receives into a ring of its own (rx), in records: 4
// bytes of data length, 1 byte of address length, the sender's address as
// recvfrom returns it to this socket's family, then the data. A send finds
// the receiving socket by address, writes one record whole or not at all,
// and does not wait: a full ring drops the datagram, as a full receive
// buffer does on Linux (Unix datagram sockets say EAGAIN instead). A
// receive takes one record; a waiting receive sleeps until its ring
// changes, then its system call runs again (blockRestart), so that no
// waiter holds half a datagram.
//
// A SOCK_SEQPACKET connection is a stream connection (two rings) whose
// reads and writes are records: message boundaries kept, EOF and EPIPE as
// a stream's.

const (
	dgramRing    = 256 << 10 // a datagram socket's receive ring
	maxDgram     = 65507     // UDP's largest payload (IPv4)
	maxUnixDgram = 212992    // Linux's default for a Unix datagram (wmem_default)
	recHdr       = 5
)

// userVec is a program's buffers: one (base, n), or iovecs at iov.
type userVec struct {
	iov, cnt uint64 // iovecs (cnt of them), if iov != 0
	base, n  uint64 // else one buffer
}

// piece returns buffer i (false past the last or on a bad iovec).
func (v *userVec) piece(i uint64) (uint64, uint64, bool) {
	if v.iov == 0 {
		return v.base, v.n, i == 0
	}
	if i >= v.cnt {
		return 0, 0, false
	}
	p, ok := userBytes(v.iov+16*i, 16, false)
	if !ok {
		return 0, 0, false
	}
	return le64(p[0:]), le64(p[8:]), true
}

// total is the length of all the buffers.
func (v *userVec) total() uint64 {
	var t uint64
	for i := uint64(0); ; i++ {
		_, n, ok := v.piece(i)
		if !ok {
			return t
		}
		t += n
	}
}

// blockRestart puts the current thread to sleep until ring k changes;
// then the system call being served runs again.
func blockRestart(k int32) int64 {
	cur := sched.Current()
	sched.Block(cur, sched.WaitRestart, uint64(k), 0, 0)
	sched.T(cur).Args[0] = syscallNR
	return blocked
}

// putRecord writes one record (address addr, data from the program's
// buffers v) into ring k; false if it does not fit now.
func putRecord(k int32, addr []byte, v *userVec) (bool, int64) {
	p := &pipes[k]
	n := v.total()
	if recHdr+uint64(len(addr))+n > p.Room() {
		return false, 0
	}
	hdr := [recHdr]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24), byte(len(addr))}
	if p.put(hdr[:]) == 0 && p.Buf == 0 {
		return false, -linux.ENOMEM
	}
	p.put(addr)
	for i := uint64(0); ; i++ {
		base, m, ok := v.piece(i)
		if !ok {
			break
		}
		b, ok := userBytes(base, m, false)
		if !ok {
			// Undo: the record must be whole.
			p.Tail -= recHdr + uint64(len(addr))
			return false, -linux.EFAULT
		}
		p.put(b)
	}
	pipeChanged(k)
	return true, int64(n)
}

// putRecordBytes writes one record of kernel bytes (a netlink answer)
// into ring k; false if it does not fit.
func putRecordBytes(k int32, addr, data []byte) bool {
	p := &pipes[k]
	n := uint64(len(data))
	if recHdr+uint64(len(addr))+n > p.Room() {
		return false
	}
	hdr := [recHdr]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24), byte(len(addr))}
	if p.put(hdr[:]) == 0 {
		return false
	}
	p.put(addr)
	p.put(data)
	pipeChanged(k)
	return true
}

// takeRecord reads the first record of ring k into the program's buffers
// v and its address to name/nameLenp (if name != 0); it returns the
// data's length as the program sees it and whether it was cut short.
func takeRecord(k int32, v *userVec, name, nameLenp uint64, peek, wantFull bool) (int64, bool) {
	p := &pipes[k]
	var hdr [recHdr]byte
	p.PeekAt(0, hdr[:])
	n := uint64(hdr[0]) | uint64(hdr[1])<<8 | uint64(hdr[2])<<16 | uint64(hdr[3])<<24
	alen := uint64(hdr[4])
	if name != 0 {
		var a [2 + unixPathMax]byte
		p.PeekAt(recHdr, a[:alen])
		if l, ok := userBytes(nameLenp, 4, true); ok {
			if b, ok := userBytes(name, min(uint64(u32(l)), alen), true); ok {
				copy(b, a[:alen])
			}
			put32(l, uint32(alen))
		}
	}
	var done uint64
	for i := uint64(0); done < n; i++ {
		base, m, ok := v.piece(i)
		if !ok {
			break
		}
		m = min(m, n-done)
		b, ok := userBytes(base, m, true)
		if !ok {
			return -linux.EFAULT, false
		}
		p.PeekAt(recHdr+alen+done, b)
		done += m
	}
	if !peek {
		p.Head += recHdr + alen + n
		pipeChanged(k)
	}
	if wantFull {
		return int64(n), done < n
	}
	return int64(done), done < n
}

// dgramDest finds the socket a datagram to (a, alen) from s goes to
// (-1: none), and for UDP the address it names.
func dgramDest(s *socket, a, alen uint64) (int32, sockAddr, int64) {
	var sa sockAddr
	if s.family == linux.AF_UNIX {
		b, ok := userBytes(a, min(alen, 2+unixPathMax), false)
		if !ok || alen < 3 {
			return -1, sa, -linux.EINVAL
		}
		if b[2] == 0 {
			return unixFind(b[2:]), sa, 0
		}
		node, e := resolveAt(atCWD, a+2, true)
		if e != 0 {
			return -1, sa, e
		}
		for i := range sockets {
			if sockets[i].family == linux.AF_UNIX && sockets[i].unode == node {
				return int32(i), sa, 0
			}
		}
		return -1, sa, 0
	}
	sa, e := getSockaddr(s, a, alen)
	if e != 0 {
		return -1, sa, e
	}
	if isAny(&sa.ip) {
		sa.ip = loopbackOf(&sa.ip)
	}
	if r := relayFor(&sa.ip); r >= 0 {
		return r, sa, 0 // another host's: through the network service
	}
	if !isLocal(&sa.ip) {
		return -1, sa, -linux.ENETUNREACH
	}
	return udpReceiver(&sa), sa, 0
}

// udpReceiver returns the UDP socket bound to take datagrams to sa, or -1.
func udpReceiver(sa *sockAddr) int32 {
	for i := range sockets {
		r := &sockets[i]
		if r.typ == linux.SOCK_DGRAM && r.family != linux.AF_UNIX && r.bound && r.local.port == sa.port && covers(r, &sa.ip) {
			return int32(i)
		}
	}
	return -1
}

// sameAddr compares two addresses and ports.
func sameAddr(a, b *sockAddr) bool { return a.port == b.port && a.ip == b.ip }

// loopbackOf is the loopback address of ip's family.
func loopbackOf(ip *[16]byte) [16]byte {
	if isV4(ip) {
		return [16]byte{10: 0xFF, 11: 0xFF, 12: 127, 15: 1}
	}
	return [16]byte{15: 1}
}

// dgramSend sends the program's buffers v from socket k (description
// flags fl) to the address (a, alen), or to its peer if a is 0.
func dgramSend(k int32, fl uint32, v *userVec, a, alen, flags uint64) int64 {
	s := &sockets[k]
	if s.relay {
		return relayIn(v, a, alen)
	}
	r := int32(-1)
	var dst sockAddr
	switch {
	case a != 0:
		var e int64
		if r, dst, e = dgramDest(s, a, alen); e != 0 {
			return e
		}
	case s.state != sockConnected:
		return -linux.EDESTADDRREQ
	case s.family == linux.AF_UNIX:
		r = s.pair
		if sockets[r].state == sockFree || sockets[r].typ != linux.SOCK_DGRAM {
			return -linux.ECONNREFUSED
		}
	default:
		dst = s.peer
		if r = relayFor(&s.peer.ip); r < 0 {
			r = udpReceiver(&s.peer)
		}
	}
	max := uint64(maxDgram)
	if s.family == linux.AF_UNIX {
		max = maxUnixDgram
	}
	n := v.total()
	if n > max || recHdr+n+2+unixPathMax > dgramRing {
		return -linux.EMSGSIZE
	}
	relayed := s.family != linux.AF_UNIX && r >= 0 && sockets[r].relay
	if s.family != linux.AF_UNIX && !s.bound {
		ip := [16]byte{15: 1}
		if s.family == linux.AF_INET {
			ip = [16]byte{10: 0xFF, 11: 0xFF, 12: 127, 15: 1}
		}
		if relayed {
			ip = anyAddr(s) // answers come from the other host to any address
		}
		if !ephemeral(s, ip) {
			return -linux.EAGAIN
		}
	}
	if relayed {
		netUDPBind(k)
		return relayOut(s, &dst, v)
	}
	if r < 0 {
		if s.family == linux.AF_UNIX {
			return -linux.ECONNREFUSED
		}
		return int64(n) // nobody listens there: the datagram is lost, as UDP loses it
	}
	R := &sockets[r]
	// A connected socket hears only its peer.
	if R.state == sockConnected {
		if s.family == linux.AF_UNIX && R.pair != k {
			return -linux.EPERM
		}
		if s.family != linux.AF_UNIX && !sameAddr(&R.peer, &s.local) {
			return int64(n)
		}
	}
	// The sender's address, as the receiver's family gives it.
	var src [2 + unixPathMax]byte
	var slen int
	if s.family == linux.AF_UNIX {
		// An unnamed sender has no address at all (Linux reports
		// length 0), a named one its name.
		if s.ulen > 0 {
			src[0] = linux.AF_UNIX
			slen = 2 + copy(src[2:], s.uname[:s.ulen])
		}
	} else {
		slen = sockaddrBytes(R.family, s.local, &src)
	}
	ok, e := putRecord(R.rx, src[:slen], v)
	switch {
	case e != 0:
		return e
	case ok:
		return int64(n)
	case s.family == linux.AF_UNIX && (fl&linux.O_NONBLOCK != 0 || flags&linux.MSG_DONTWAIT != 0):
		return -linux.EAGAIN
	case s.family == linux.AF_UNIX:
		return blockRestart(R.rx)
	}
	return int64(n) // the receiver's ring is full: lost
}

// dgramRecv receives one datagram of socket k into v.
func dgramRecv(k int32, fl uint32, v *userVec, name, nameLenp, flags, msgFlags uint64) int64 {
	s := &sockets[k]
	p := &pipes[s.rx]
	if p.Len() == 0 {
		if fl&linux.O_NONBLOCK != 0 || flags&linux.MSG_DONTWAIT != 0 {
			return -linux.EAGAIN
		}
		return blockRestart(s.rx)
	}
	r, cut := takeRecord(s.rx, v, name, nameLenp, flags&linux.MSG_PEEK != 0, flags&linux.MSG_TRUNC != 0)
	putMsgFlags(msgFlags, cut)
	return r
}

// putMsgFlags sets recvmsg's msg_flags (at user address a, if not 0):
// MSG_TRUNC if the record was cut to fit the buffers.
func putMsgFlags(a uint64, cut bool) {
	if b, ok := userBytes(a, 4, true); ok && a != 0 {
		put32(b, 0)
		if cut {
			put32(b, linux.MSG_TRUNC)
		}
	}
}

// seqWrite sends one record on a SOCK_SEQPACKET connection.
func seqWrite(s *socket, fl uint32, v *userVec, flags uint64) int64 {
	if s.state != sockConnected {
		return -linux.ENOTCONN
	}
	if s.shutWr || pipes[s.tx].readers == 0 {
		if flags&linux.MSG_NOSIGNAL == 0 {
			signalThread(sched.Current(), linux.SIGPIPE)
		}
		return -linux.EPIPE
	}
	if recHdr+v.total() > pipeSize {
		return -linux.EMSGSIZE
	}
	ok, e := putRecord(s.tx, nil, v)
	switch {
	case e != 0:
		return e
	case ok:
		return int64(v.total())
	case fl&linux.O_NONBLOCK != 0 || flags&linux.MSG_DONTWAIT != 0:
		return -linux.EAGAIN
	}
	return blockRestart(s.tx)
}

// seqRead receives one record of a SOCK_SEQPACKET connection (0 at EOF).
func seqRead(s *socket, fl uint32, v *userVec, flags, msgFlags uint64) int64 {
	if s.state != sockConnected {
		return -linux.ENOTCONN
	}
	p := &pipes[s.rx]
	if p.Len() == 0 {
		if p.writers == 0 || s.shutRd {
			return 0
		}
		if fl&linux.O_NONBLOCK != 0 || flags&linux.MSG_DONTWAIT != 0 {
			return -linux.EAGAIN
		}
		return blockRestart(s.rx)
	}
	r, cut := takeRecord(s.rx, v, 0, 0, flags&linux.MSG_PEEK != 0, flags&linux.MSG_TRUNC != 0)
	putMsgFlags(msgFlags, cut)
	return r
}

// dgramConnect sets (or, with AF_UNSPEC, clears) a datagram socket's
// peer: where send goes, and the only sender it hears.
func dgramConnect(k int32, a, alen uint64) int64 {
	s := &sockets[k]
	b, ok := userBytes(a, 2, false)
	if !ok || alen < 2 {
		return -linux.EINVAL
	}
	if b[0] == linux.AF_UNSPEC && b[1] == 0 {
		s.pair, s.state = -1, sockOpen
		return 0
	}
	r, sa, e := dgramDest(s, a, alen)
	if e != 0 {
		return e
	}
	if s.family == linux.AF_UNIX {
		if r < 0 {
			return -linux.ECONNREFUSED
		}
		s.pair = r
	} else {
		s.peer = sa
		local := loopbackOf(&sa.ip)
		if r >= 0 && sockets[r].relay {
			// Another host's: from the interface's address, as Linux's
			// route lookup gives getsockname.
			local, _ = netSource(&sa.ip)
		}
		if !s.bound && !ephemeral(s, local) {
			return -linux.EAGAIN
		}
		if r >= 0 && sockets[r].relay {
			if isAny(&s.local.ip) {
				s.local.ip = local
			}
			netUDPBind(k)
		}
	}
	s.state = sockConnected
	return 0
}
