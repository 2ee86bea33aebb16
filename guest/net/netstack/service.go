package netstack

import (
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"rt0/guest/kernel/netsvc"
)

// The service: what the kernel asks through /dev/rt0net (package netsvc
// documents the interface).

type service struct {
	n    *iface
	dev  *os.File
	mu   sync.Mutex
	lsns map[lkey]*listener
	udp  *udpService
}

type lkey struct {
	sock int32
	gen  uint32
}

// serve opens /dev/rt0net, describes the interface to the kernel and
// starts answering its events.
func (n *iface) serve() error {
	f, err := os.OpenFile("/dev/rt0net", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("/dev/rt0net: %w", err)
	}
	s := &service{n: n, dev: f, lsns: map[lkey]*listener{}}
	n.mu.Lock()
	n.svc = s
	n.mu.Unlock()
	if err := s.setInterface(); err != nil {
		return err
	}
	if err := s.startUDP(); err != nil {
		return fmt.Errorf("the UDP relay: %w", err)
	}
	go s.loop()
	return nil
}

func (s *service) ioctl(req uintptr, arg unsafe.Pointer) (uintptr, error) {
	rc, err := s.dev.SyscallConn()
	if err != nil {
		return 0, err
	}
	var r uintptr
	var e syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		r, _, e = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return 0, err
	}
	if e != 0 {
		return 0, e
	}
	return r, nil
}

func (s *service) setInterface() error {
	mac := s.n.dev.MAC()
	in := netsvc.Interface{Index: ifIndex, MTU: uint32(s.n.dev.MTU()), MAC: mac, Up: s.n.dev.LinkUp()}
	copy(in.Name[:], s.n.name)
	for _, p := range s.n.addrs() {
		if int(in.N) == netsvc.MaxAddrs {
			break
		}
		in.Addrs[in.N] = netsvc.Addr{IP: p.Addr().As16(), Prefix: uint8(p.Bits())}
		in.N++
	}
	var b [netsvc.InterfaceSize]byte
	in.Encode(&b)
	_, err := s.ioctl(netsvc.IoctlSetInterface, unsafe.Pointer(&b))
	return err
}

// loop reads the kernel's events and does what each asks.
func (s *service) loop() {
	buf := make([]byte, 64*netsvc.EventSize)
	for {
		n, err := s.dev.Read(buf)
		if err != nil {
			logf("rt0: net: reading /dev/rt0net: %v: the network service stops", err)
			return
		}
		for i := 0; i+netsvc.EventSize <= n; i += netsvc.EventSize {
			var e netsvc.Event
			e.Decode((*[netsvc.EventSize]byte)(buf[i:]))
			switch e.Op {
			case netsvc.EvConnect:
				go s.connect(e)
			case netsvc.EvListen:
				s.listen(e)
			case netsvc.EvUnlisten:
				s.unlisten(e)
			case netsvc.EvUDPBind:
				s.udp.bind(e)
			case netsvc.EvUDPClose:
				s.udp.unbind(e)
			}
		}
	}
}

// reply sends an IoctlConnected or IoctlAccept and returns the
// descriptor it gives (0 if none).
func (s *service) reply(req uintptr, r *netsvc.Reply) (int, error) {
	var b [netsvc.ReplySize]byte
	r.Encode(&b)
	fd, err := s.ioctl(req, unsafe.Pointer(&b))
	return int(fd), err
}

// addr16 is a (kernel-form) address as netip's.
func addr16(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }
