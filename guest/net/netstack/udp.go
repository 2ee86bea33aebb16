package netstack

import (
	"bytes"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"rt0/guest/kernel/netsvc"
)

// UDP for the kernel's sockets: one gVisor endpoint for each port a
// program's UDP socket has (EvUDPBind), which sends what the relay
// socket brings and gives the relay what arrives.

type udpService struct {
	s     *service
	relay *os.File
	mu    sync.Mutex
	eps   map[udpKey]*udpPort
}

type udpKey struct {
	v6   bool
	port uint16
}

type udpPort struct {
	ep   tcpip.Endpoint
	wq   *waiter.Queue
	sock lkey
	v6   bool // an IPv6 endpoint (dual-stack unless IPV6_V6ONLY)
	done chan struct{}
}

func (s *service) startUDP() error {
	fd, err := s.ioctl(netsvc.IoctlUDPRelay, nil)
	if err != nil {
		return err
	}
	u := &udpService{s: s, relay: os.NewFile(fd, "rt0net-udp"), eps: map[udpKey]*udpPort{}}
	s.udp = u
	go u.out()
	return nil
}

// bind answers an EvUDPBind: an endpoint on the port, for the socket's
// family (an AF_INET6 socket without IPV6_V6ONLY takes IPv4 too).
func (u *udpService) bind(e netsvc.Event) {
	local := addr16(e.Local)
	v6 := e.Family == syscall.AF_INET6 && !local.Is4()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.bindLocked(udpKey{v6, e.LPort}, local, lkey{e.Sock, e.Gen}, e.V6Only)
}

// unknownSock marks an endpoint made for a datagram that came through the
// relay before its socket's EvUDPBind did (the two travel apart).
var unknownSock = lkey{sock: -1}

func (u *udpService) bindLocked(k udpKey, local netip.Addr, sock lkey, v6only bool) *udpPort {
	if old := u.eps[k]; old != nil {
		if old.sock == unknownSock {
			old.sock = sock // the datagram's socket, now known
			return old
		}
		old.close() // a closed socket's port, taken again
	}
	v6 := k.v6
	e := struct{ LPort uint16 }{k.port}
	proto := ipv4.ProtocolNumber
	if v6 {
		proto = ipv6.ProtocolNumber
	}
	wq := new(waiter.Queue)
	ep, terr := u.s.n.stack.NewEndpoint(udp.ProtocolNumber, proto, wq)
	if terr != nil {
		logf("rt0: net: UDP port %d: %v", e.LPort, terr)
		return nil
	}
	if v6 {
		ep.SocketOptions().SetV6Only(v6only)
	}
	ep.SocketOptions().SetBroadcast(true)
	var a tcpip.Address
	if !local.IsUnspecified() {
		a = tcpipAddr(local)
	}
	if terr := ep.Bind(tcpip.FullAddress{Addr: a, Port: e.LPort}); terr != nil {
		logf("rt0: net: binding UDP port %d: %v", e.LPort, terr)
		ep.Close()
		return nil
	}
	p := &udpPort{ep: ep, wq: wq, sock: sock, v6: v6, done: make(chan struct{})}
	u.eps[k] = p
	go u.in(p)
	return p
}

// unbind answers an EvUDPClose.
func (u *udpService) unbind(e netsvc.Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, p := range u.eps {
		if p.sock == (lkey{e.Sock, e.Gen}) {
			p.close()
			delete(u.eps, k)
		}
	}
}

func (p *udpPort) close() {
	close(p.done)
	p.ep.Close()
}

// out sends the programs' datagrams (the relay's records).
func (u *udpService) out() {
	buf := make([]byte, 65536)
	rc, err := u.relay.SyscallConn()
	if err != nil {
		return
	}
	for {
		var hb [netsvc.UDPHeaderSize]byte
		var n int
		var errno syscall.Errno
		err := rc.Read(func(fd uintptr) bool {
			hl := uint32(len(hb))
			r, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0,
				uintptr(unsafe.Pointer(&hb)), uintptr(unsafe.Pointer(&hl)))
			n, errno = int(r), e
			return e != syscall.EAGAIN
		})
		if err != nil || errno != 0 {
			logf("rt0: net: the UDP relay: %v %v: UDP to other hosts stops", err, errno)
			return
		}
		var h netsvc.UDPHeader
		h.Decode(&hb)
		dst := addr16(h.Dst)
		u.mu.Lock()
		p := u.eps[udpKey{dst.Is6(), h.SPort}]
		if p == nil && dst.Is4() {
			p = u.eps[udpKey{true, h.SPort}] // an AF_INET6 socket's, dual-stack
		}
		if p == nil {
			// Ahead of its socket's EvUDPBind: bind the port now, for
			// the source's family, on the source address.
			p = u.bindLocked(udpKey{dst.Is6(), h.SPort}, addr16(h.Src), unknownSock, false)
		}
		u.mu.Unlock()
		if p == nil {
			continue // the socket is gone
		}
		to := tcpip.FullAddress{Addr: tcpipAddr(dst), Port: h.DPort}
		if p.v6 && dst.Is4() {
			to.Addr = tcpip.AddrFrom16(dst.As16()) // a dual-stack endpoint writes to IPv4 as ::ffff:a.b.c.d
		}
		var r bytes.Reader
		r.Reset(buf[:n])
		p.ep.Write(&r, tcpip.WriteOptions{To: &to})
	}
}

// in gives the relay what port p receives.
func (u *udpService) in(p *udpPort) {
	we, ready := waiter.NewChannelEntry(waiter.ReadableEvents)
	p.wq.EventRegister(&we)
	defer p.wq.EventUnregister(&we)
	var buf bytes.Buffer
	rc, err := u.relay.SyscallConn()
	if err != nil {
		return
	}
	for {
		buf.Reset()
		res, terr := p.ep.Read(&buf, tcpip.ReadOptions{NeedRemoteAddr: true})
		if _, ok := terr.(*tcpip.ErrWouldBlock); ok {
			select {
			case <-ready:
				continue
			case <-p.done:
				return
			}
		}
		if terr != nil {
			return
		}
		la, _ := p.ep.GetLocalAddress()
		h := netsvc.UDPHeader{Src: as16(res.RemoteAddr.Addr), SPort: res.RemoteAddr.Port, DPort: la.Port}
		if la.Addr.Len() == 0 || netip.AddrFrom16(as16(la.Addr)).IsUnspecified() {
			// An endpoint on any address: the datagram was to ours.
			for _, a := range u.s.n.addrs() {
				if a.Addr().Is4() == addr16(h.Src).Is4() {
					h.Dst = a.Addr().As16()
				}
			}
		} else {
			h.Dst = as16(la.Addr)
		}
		var hb [netsvc.UDPHeaderSize]byte
		h.Encode(&hb)
		data := buf.Bytes()
		var dp unsafe.Pointer
		if len(data) > 0 {
			dp = unsafe.Pointer(&data[0])
		}
		rc.Write(func(fd uintptr) bool {
			_, _, e := syscall.Syscall6(syscall.SYS_SENDTO, fd, uintptr(dp), uintptr(len(data)), 0,
				uintptr(unsafe.Pointer(&hb)), uintptr(len(hb)))
			return e != syscall.EAGAIN
		})
	}
}
