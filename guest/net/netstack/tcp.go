package netstack

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"rt0/guest/kernel/netsvc"
)

// TCP through gVisor for the kernel's sockets: a connect becomes an
// endpoint that connects, a listener endpoints that listen, and each
// connection is spliced to the kernel socket the service holds for it.

const listenBacklog = 4096 // the kernel queues what its listener has not accepted

func tcpipAddr(a netip.Addr) tcpip.Address {
	if a.Is4() {
		return tcpip.AddrFrom4(a.As4())
	}
	return tcpip.AddrFrom16(a.As16())
}

func protoOf(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

// errnoOf is the errno a Linux connect would give for gVisor's error.
func errnoOf(err tcpip.Error) syscall.Errno {
	switch err.(type) {
	case *tcpip.ErrConnectionRefused:
		return syscall.ECONNREFUSED
	case *tcpip.ErrTimeout:
		return syscall.ETIMEDOUT
	case *tcpip.ErrHostUnreachable, *tcpip.ErrHostDown:
		return syscall.EHOSTUNREACH
	case *tcpip.ErrNetworkUnreachable, *tcpip.ErrNoNet:
		return syscall.ENETUNREACH
	case *tcpip.ErrPortInUse, *tcpip.ErrNoPortAvailable:
		return syscall.EADDRINUSE
	case *tcpip.ErrBadLocalAddress:
		return syscall.EADDRNOTAVAIL
	case *tcpip.ErrConnectionReset:
		return syscall.ECONNRESET
	case *tcpip.ErrConnectionAborted, *tcpip.ErrAborted:
		return syscall.ECONNABORTED
	case *tcpip.ErrNoBufferSpace:
		return syscall.ENOBUFS
	}
	return syscall.EIO
}

// connect answers an EvConnect: the program's connect waits for this.
func (s *service) connect(e netsvc.Event) {
	r := netsvc.Reply{Sock: e.Sock, Gen: e.Gen}
	ep, wq, errno := s.dial(e)
	if errno != 0 {
		r.Errno = int32(errno)
		s.reply(netsvc.IoctlConnected, &r)
		return
	}
	fd, err := s.reply(netsvc.IoctlConnected, &r)
	if err != nil {
		abort(ep) // the program closed the socket while it connected
		return
	}
	splice(gonet.NewTCPConn(wq, ep), ep, fd)
}

func (s *service) dial(e netsvc.Event) (tcpip.Endpoint, *waiter.Queue, syscall.Errno) {
	local, remote := addr16(e.Local), addr16(e.Remote)
	wq := new(waiter.Queue)
	ep, terr := s.n.stack.NewEndpoint(tcp.ProtocolNumber, protoOf(remote), wq)
	if terr != nil {
		return nil, nil, errnoOf(terr)
	}
	ep.SocketOptions().SetDelayOption(false) // TCP_NODELAY: what Go sets on every connection
	if terr := ep.Bind(tcpip.FullAddress{Addr: tcpipAddr(local), Port: e.LPort}); terr != nil {
		ep.Close()
		return nil, nil, errnoOf(terr)
	}
	we, ready := waiter.NewChannelEntry(waiter.WritableEvents)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)
	terr = ep.Connect(tcpip.FullAddress{Addr: tcpipAddr(remote), Port: e.RPort})
	if _, ok := terr.(*tcpip.ErrConnectStarted); ok {
		<-ready
		terr = ep.LastError()
	}
	if terr != nil {
		ep.Close()
		return nil, nil, errnoOf(terr)
	}
	return ep, wq, 0
}

// listener is what serves one of the kernel's listeners: an endpoint per
// protocol it takes.
type listener struct {
	eps    []tcpip.Endpoint
	closed chan struct{}
}

// listen answers an EvListen.
func (s *service) listen(e netsvc.Event) {
	local := addr16(e.Local)
	type bind struct {
		proto  tcpip.NetworkProtocolNumber
		addr   tcpip.Address
		v6only bool
	}
	var binds []bind
	switch {
	case e.Family == syscall.AF_INET || local.Is4():
		var a tcpip.Address
		if !local.IsUnspecified() {
			a = tcpipAddr(local)
		}
		binds = []bind{{ipv4.ProtocolNumber, a, false}}
	case local.IsUnspecified():
		// [::] takes IPv4 too unless IPV6_V6ONLY: one dual-stack
		// endpoint, as Linux's.
		binds = []bind{{ipv6.ProtocolNumber, tcpip.Address{}, e.V6Only}}
	default:
		binds = []bind{{ipv6.ProtocolNumber, tcpipAddr(local), true}}
	}
	l := &listener{closed: make(chan struct{})}
	for _, b := range binds {
		wq := new(waiter.Queue)
		ep, terr := s.n.stack.NewEndpoint(tcp.ProtocolNumber, b.proto, wq)
		if terr != nil {
			logf("rt0: net: listening on port %d: %v", e.LPort, terr)
			continue
		}
		if b.proto == ipv6.ProtocolNumber {
			ep.SocketOptions().SetV6Only(b.v6only)
		}
		ep.SocketOptions().SetReuseAddress(true)
		if terr := ep.Bind(tcpip.FullAddress{Addr: b.addr, Port: e.LPort}); terr != nil {
			logf("rt0: net: binding port %d for other hosts: %v", e.LPort, terr)
			ep.Close()
			continue
		}
		if terr := ep.Listen(listenBacklog); terr != nil {
			logf("rt0: net: listening on port %d: %v", e.LPort, terr)
			ep.Close()
			continue
		}
		l.eps = append(l.eps, ep)
		go s.acceptLoop(e, l, ep, wq)
	}
	s.mu.Lock()
	s.lsns[lkey{e.Sock, e.Gen}] = l
	s.mu.Unlock()
}

// unlisten answers an EvUnlisten.
func (s *service) unlisten(e netsvc.Event) {
	s.mu.Lock()
	l := s.lsns[lkey{e.Sock, e.Gen}]
	delete(s.lsns, lkey{e.Sock, e.Gen})
	s.mu.Unlock()
	if l == nil {
		return
	}
	close(l.closed)
	for _, ep := range l.eps {
		ep.Close()
	}
}

func (s *service) acceptLoop(e netsvc.Event, l *listener, ep tcpip.Endpoint, wq *waiter.Queue) {
	we, ready := waiter.NewChannelEntry(waiter.ReadableEvents)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)
	for {
		var peer tcpip.FullAddress
		nep, nwq, terr := ep.Accept(&peer)
		if _, ok := terr.(*tcpip.ErrWouldBlock); ok {
			select {
			case <-ready:
				continue
			case <-l.closed:
				return
			}
		}
		if terr != nil {
			select {
			case <-l.closed:
			default:
				logf("rt0: net: accepting on port %d: %v", e.LPort, terr)
			}
			return
		}
		go s.accepted(e, nep, nwq)
	}
}

// accepted hands a connection to the kernel's listener.
func (s *service) accepted(e netsvc.Event, ep tcpip.Endpoint, wq *waiter.Queue) {
	ep.SocketOptions().SetDelayOption(false)
	la, err1 := ep.GetLocalAddress()
	ra, err2 := ep.GetRemoteAddress()
	if err1 != nil || err2 != nil {
		abort(ep)
		return
	}
	r := netsvc.Reply{Sock: e.Sock, Gen: e.Gen, Local: as16(la.Addr), LPort: la.Port, Remote: as16(ra.Addr), RPort: ra.Port}
	fd, err := s.reply(netsvc.IoctlAccept, &r)
	if err != nil {
		abort(ep) // the listener's queue is full, or it closed: a reset
		return
	}
	splice(gonet.NewTCPConn(wq, ep), ep, fd)
}

// as16 is gVisor's address in the kernel's form.
func as16(a tcpip.Address) [16]byte {
	if a.Len() == 4 {
		return netip.AddrFrom4(a.As4()).As16()
	}
	return a.As16()
}

// abort resets a connection (SO_LINGER with a time of 0, as Linux's
// close then does).
func abort(ep tcpip.Endpoint) {
	ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true})
	ep.Close()
}

// splice moves bytes both ways between a TCP connection and the kernel
// socket fd joined to the program's, until both directions end: an end
// of stream on one side is a FIN (shutdown) on the other; a reset on one
// side resets the other.
func splice(conn *gonet.TCPConn, ep tcpip.Endpoint, fd int) {
	f := os.NewFile(uintptr(fd), "rt0net")
	up := make(chan error, 1)   // the program's bytes to the peer
	down := make(chan error, 1) // the peer's to the program
	go func() {
		_, err := io.Copy(conn, f)
		up <- err
	}()
	go func() {
		_, err := io.Copy(f, conn)
		down <- err
	}()
	upDone, downDone := false, false
	for !upDone || !downDone {
		select {
		case err := <-up:
			upDone = true
			if err != nil { // the program reset its end
				abort(ep)
				f.Close()
				return
			}
			conn.CloseWrite()
		case err := <-down:
			downDone = true
			if err != nil {
				var errno syscall.Errno
				if errors.As(err, &errno) { // writing the program's end: it is gone
					abort(ep)
				} else { // the peer reset: so does the program's end
					setLinger0(f)
					conn.Close()
				}
				f.Close()
				return
			}
			shutdownWrite(f)
		}
	}
	f.Close()
	conn.Close()
}

func shutdownWrite(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_WR) })
	}
}

func setLinger0(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1})
		})
	}
}
