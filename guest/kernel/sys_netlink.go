package kernel

import (
	"rt0/guest/kernel/netsvc"
	"rt0/guest/linux"
)

// Netlink, the little of it that Go's net.Interfaces and
// net.InterfaceAddrs ask: an AF_NETLINK NETLINK_ROUTE socket, to which a
// program sends an RTM_GETLINK or RTM_GETADDR dump request and from which
// it reads the answer. rt0's one interface is the loopback, "lo", index
// 1, with 127.0.0.1/8 and ::1/128, as a Linux machine without a network
// card has it. A netlink socket is a datagram socket (its answers are
// records in its ring, sys_socket_dgram.go) whose sends are requests.

const (
	loMTU = 65536
)

// nlWriter builds netlink messages in a buffer.
type nlWriter struct {
	b        [1536]byte
	n        int
	msg      int // where the message being built starts
	seq, pid uint32
}

// begin starts a message of type typ.
func (w *nlWriter) begin(typ uint16) {
	w.msg = w.n
	w.n += linux.NLMSG_HDRLEN
	b := w.b[w.msg:]
	put32(b[4:], uint32(typ)|linux.NLM_F_MULTI<<16)
	put32(b[8:], w.seq)
	put32(b[12:], w.pid)
}

// end finishes the message: its length, then alignment to 4 bytes.
func (w *nlWriter) end() {
	put32(w.b[w.msg:], uint32(w.n-w.msg))
	w.n = (w.n + 3) &^ 3
}

// raw appends bytes.
func (w *nlWriter) raw(p []byte) { w.n += copy(w.b[w.n:], p) }

// attr appends a route attribute (length, type, value, aligned).
func (w *nlWriter) attr(typ uint16, v []byte) {
	put32(w.b[w.n:], uint32(4+len(v))|uint32(typ)<<16)
	w.n += 4
	w.raw(v)
	w.n = (w.n + 3) &^ 3
}

// netlinkSocket makes socket k a netlink route socket.
func netlinkSocket(typ, proto uint64) int64 {
	if typ&0xF != linux.SOCK_RAW && typ&0xF != linux.SOCK_DGRAM {
		return -linux.ESOCKTNOSUPPORT
	}
	if proto != linux.NETLINK_ROUTE {
		return -linux.EPROTONOSUPPORT
	}
	return 0
}

// netlinkBind gives socket s its port id: 1 (the process's pid) for the
// first, as Linux does, others a number of their own.
func netlinkBind(s *socket, k int32) int64 {
	if s.bound {
		return 0
	}
	s.nlPid = 1
	for i := range sockets {
		if o := &sockets[i]; o != s && o.family == linux.AF_NETLINK && o.bound && o.nlPid == 1 {
			s.nlPid = 0x80000000 + uint32(k)
		}
	}
	s.bound = true
	return 0
}

// putNetlinkName writes s's sockaddr_nl.
func putNetlinkName(s *socket, a, lenp uint64) int64 {
	var b [12]byte
	b[0] = linux.AF_NETLINK
	put32(b[4:], s.nlPid)
	l, ok := userBytes(lenp, 4, true)
	if !ok {
		return -linux.EFAULT
	}
	if p, ok := userBytes(a, min(uint64(u32(l)), 12), true); ok {
		copy(p, b[:])
	}
	put32(l, 12)
	return 0
}

// netlinkSend takes a request and queues its answer on socket k.
func netlinkSend(k int32, v *userVec) int64 {
	s := &sockets[k]
	netlinkBind(s, k)
	n := v.total()
	base, m, ok := v.piece(0)
	if !ok || n < linux.NLMSG_HDRLEN+1 || m < linux.NLMSG_HDRLEN+1 {
		return -linux.EINVAL
	}
	req, ok := userBytes(base, linux.NLMSG_HDRLEN+1, false)
	if !ok {
		return -linux.EFAULT
	}
	w := &nlWriter{seq: u32(req[8:]), pid: s.nlPid}
	switch typ := uint16(u32(req[4:])); typ {
	case linux.RTM_GETLINK:
		w.begin(linux.RTM_NEWLINK)
		var ifi [16]byte // ifinfomsg: family, type, index, flags, change
		ifi[2], ifi[3] = linux.ARPHRD_LOOPBACK&0xFF, linux.ARPHRD_LOOPBACK>>8
		put32(ifi[4:], 1)
		put32(ifi[8:], linux.IFF_UP|linux.IFF_LOOPBACK|linux.IFF_RUNNING)
		w.raw(ifi[:])
		lo := [3]byte{'l', 'o', 0}
		w.attr(linux.IFLA_IFNAME, lo[:])
		var mtu [4]byte
		put32(mtu[:], loMTU)
		w.attr(linux.IFLA_MTU, mtu[:])
		var hw [6]byte // the loopback's hardware address: zeros
		w.attr(linux.IFLA_ADDRESS, hw[:])
		w.end()
		if netsvcState.hasIf {
			netlinkLink(w)
		}
	case linux.RTM_GETADDR:
		family := req[linux.NLMSG_HDRLEN]
		if family == linux.AF_UNSPEC || family == linux.AF_INET {
			w.begin(linux.RTM_NEWADDR)
			ifa := [8]byte{linux.AF_INET, 8, 0, linux.RT_SCOPE_HOST, 1} // ifaddrmsg: 127.0.0.1/8 on index 1
			w.raw(ifa[:])
			ip := [4]byte{127, 0, 0, 1}
			w.attr(linux.IFA_ADDRESS, ip[:])
			w.attr(linux.IFA_LOCAL, ip[:])
			lo := [3]byte{'l', 'o', 0}
			w.attr(linux.IFA_LABEL, lo[:])
			w.end()
		}
		if family == linux.AF_UNSPEC || family == linux.AF_INET6 {
			w.begin(linux.RTM_NEWADDR)
			ifa := [8]byte{linux.AF_INET6, 128, 0, linux.RT_SCOPE_HOST, 1} // ::1/128
			w.raw(ifa[:])
			ip := [16]byte{15: 1}
			w.attr(linux.IFA_ADDRESS, ip[:])
			w.end()
		}
		if netsvcState.hasIf {
			netlinkAddrs(w, family)
		}
	default:
		// NLMSG_ERROR: EOPNOTSUPP, with the request's header.
		w.begin(linux.NLMSG_ERROR)
		var e [4]byte
		put32(e[:], 1<<32-linux.EOPNOTSUPP) // -EOPNOTSUPP as an int32
		w.raw(e[:])
		w.raw(req[:linux.NLMSG_HDRLEN])
		w.end()
		return netlinkQueue(s, w, n)
	}
	w.begin(linux.NLMSG_DONE)
	var zero [4]byte // its error field: none
	w.raw(zero[:])
	w.end()
	return netlinkQueue(s, w, n)
}

// netlinkQueue puts w's messages, from the kernel (port id 0), into s's
// ring as one datagram; the request of n bytes was taken.
func netlinkQueue(s *socket, w *nlWriter, n uint64) int64 {
	from := [12]byte{0: linux.AF_NETLINK}
	if !putRecordBytes(s.rx, from[:], w.b[:w.n]) {
		return -linux.ENOBUFS
	}
	return int64(n)
}

// netlinkLink adds the network card's interface (the service's, as it
// described it: sys_socket_net.go).
func netlinkLink(w *nlWriter) {
	it := &netsvcState.iface
	w.begin(linux.RTM_NEWLINK)
	var ifi [16]byte
	ifi[2], ifi[3] = linux.ARPHRD_ETHER&0xFF, linux.ARPHRD_ETHER>>8
	put32(ifi[4:], it.Index)
	fl := uint32(linux.IFF_BROADCAST | linux.IFF_MULTICAST)
	if it.Up {
		fl |= linux.IFF_UP | linux.IFF_RUNNING
	}
	put32(ifi[8:], fl)
	w.raw(ifi[:])
	w.attr(linux.IFLA_IFNAME, ifName(it))
	var mtu [4]byte
	put32(mtu[:], it.MTU)
	w.attr(linux.IFLA_MTU, mtu[:])
	w.attr(linux.IFLA_ADDRESS, it.MAC[:])
	w.end()
}

// ifName is the interface's name with its NUL.
func ifName(it *netsvc.Interface) []byte {
	n := 0
	for n < len(it.Name)-1 && it.Name[n] != 0 {
		n++
	}
	return it.Name[:n+1]
}

// netlinkAddrs adds the interface's addresses of family (AF_UNSPEC: all).
func netlinkAddrs(w *nlWriter, family byte) {
	it := &netsvcState.iface
	for i := range it.N {
		a := &it.Addrs[i]
		v4 := isV4(&a.IP)
		if v4 && family == linux.AF_INET6 || !v4 && family == linux.AF_INET {
			continue
		}
		w.begin(linux.RTM_NEWADDR)
		scope := byte(linux.RT_SCOPE_UNIVERSE)
		if !v4 && a.IP[0] == 0xfe && a.IP[1]&0xc0 == 0x80 {
			scope = linux.RT_SCOPE_LINK
		}
		ifa := [8]byte{linux.AF_INET6, a.Prefix, 0, scope}
		put32(ifa[4:], it.Index)
		if v4 {
			ifa[0] = linux.AF_INET
			w.raw(ifa[:])
			w.attr(linux.IFA_ADDRESS, a.IP[12:])
			w.attr(linux.IFA_LOCAL, a.IP[12:])
			var bc [4]byte
			copy(bc[:], a.IP[12:])
			for b := a.Prefix; b < 32; b++ {
				bc[b/8] |= 0x80 >> (b % 8)
			}
			w.attr(linux.IFA_BROADCAST, bc[:])
			w.attr(linux.IFA_LABEL, ifName(it))
		} else {
			w.raw(ifa[:])
			w.attr(linux.IFA_ADDRESS, a.IP[:])
		}
		w.end()
	}
}
