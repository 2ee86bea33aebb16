// Package netsvc is the interface between rt0's kernel and its network
// service (rt0/guest/net/netstack): the one interface of the network that
// Linux has no model for, because on Linux TCP/IP is in the kernel.
//
// rt0's kernel keeps every socket (its descriptors, buffers, readiness,
// blocking, epoll) and carries loopback connections itself. TCP/IP for
// other hosts is gVisor's netstack, which is ordinary Go and must run above
// the runtime, in goroutines of the program. So the kernel hands the
// sockets that go off the machine to the service, which opens
// /dev/rt0net:
//
//   - read gives Events, EventSize bytes each: a program connects to a
//     remote address (EvConnect), listens on an address other hosts can
//     reach (EvListen) or stops (EvUnlisten);
//   - ioctl(IoctlConnected, *Reply) answers an EvConnect; when the
//     connection is made, the result is a new descriptor: a stream
//     socket joined to the program's (the other end of its two rings),
//     which the service reads and writes as it moves bytes to and from
//     the TCP endpoint;
//   - ioctl(IoctlAccept, *Reply) hands a connection a listener's remote
//     peer made: the kernel queues a new socket on the listener, for
//     accept, and returns the other end's descriptor;
//   - ioctl(IoctlUDPRelay) returns the UDP relay: a datagram socket whose
//     datagrams are those programs send to other hosts, each with a
//     UDPHeader as its address (recvfrom), and to which the service sends
//     those from other hosts, each with a UDPHeader as its address
//     (sendto): the kernel delivers them to the socket bound to Dst. An
//     EvUDPBind says which ports to take datagrams for.
//   - ioctl(IoctlSetInterface, *Interface) tells the kernel the network
//     card's name, address and IP addresses (bind, the source of a
//     connection, netlink's answers for net.Interfaces).
//
// Addresses are 16 bytes, IPv4 as ::ffff:a.b.c.d (the kernel's own form),
// ports in host order. Encoding allocates nothing, so the kernel uses it
// below the runtime.
package netsvc

// Event operations.
const (
	EvConnect  = 1 // Sock (Gen) connects from Local to Remote
	EvListen   = 2 // Sock (Gen) listens on Local; V6Only as IPV6_V6ONLY
	EvUnlisten = 3 // listener Sock (Gen) closed
	EvUDPBind  = 4 // UDP socket Sock (Gen) has Local (its port): take datagrams to it
	EvUDPClose = 5 // UDP socket Sock (Gen) closed
)

// ioctl requests on /dev/rt0net ('r' 't' and a number).
const (
	IoctlSetInterface = 0x72740001
	IoctlConnected    = 0x72740002
	IoctlAccept       = 0x72740003
	IoctlUDPRelay     = 0x72740004 // returns the relay socket (UDPHeader)
)

const (
	EventSize     = 64
	ReplySize     = 64
	InterfaceSize = 160
	MaxAddrs      = 6
)

// Event is something the service must do.
type Event struct {
	Op     uint32
	Sock   int32  // the kernel's socket
	Gen    uint32 // the socket's generation: a reused slot has another
	Family uint16 // AF_INET or AF_INET6, the socket's
	V6Only bool
	Local  [16]byte
	LPort  uint16
	Remote [16]byte
	RPort  uint16
}

// Reply answers an event: IoctlConnected (Errno, a positive errno, if
// the connection failed) or IoctlAccept (Local, Remote: the connection's
// addresses).
type Reply struct {
	Sock   int32
	Gen    uint32
	Errno  int32
	Local  [16]byte
	LPort  uint16
	Remote [16]byte
	RPort  uint16
}

// Addr is one IP address of the interface.
type Addr struct {
	IP     [16]byte
	Prefix uint8
}

// Interface describes the network card.
type Interface struct {
	Name  [16]byte // "eth0", NUL-padded
	Index uint32
	MTU   uint32
	MAC   [6]byte
	Up    bool
	N     uint8 // addresses in Addrs
	Addrs [MaxAddrs]Addr
}

func put16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }
func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
func get16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func get32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// Encode writes e into b.
func (e *Event) Encode(b *[EventSize]byte) {
	*b = [EventSize]byte{}
	put32(b[0:], e.Op)
	put32(b[4:], uint32(e.Sock))
	put32(b[8:], e.Gen)
	put16(b[12:], e.Family)
	if e.V6Only {
		b[14] = 1
	}
	copy(b[16:32], e.Local[:])
	put16(b[32:], e.LPort)
	put16(b[34:], e.RPort)
	copy(b[36:52], e.Remote[:])
}

// Decode reads e from b.
func (e *Event) Decode(b *[EventSize]byte) {
	e.Op = get32(b[0:])
	e.Sock = int32(get32(b[4:]))
	e.Gen = get32(b[8:])
	e.Family = get16(b[12:])
	e.V6Only = b[14] != 0
	copy(e.Local[:], b[16:32])
	e.LPort = get16(b[32:])
	e.RPort = get16(b[34:])
	copy(e.Remote[:], b[36:52])
}

// Encode writes r into b.
func (r *Reply) Encode(b *[ReplySize]byte) {
	*b = [ReplySize]byte{}
	put32(b[0:], uint32(r.Sock))
	put32(b[4:], r.Gen)
	put32(b[8:], uint32(r.Errno))
	copy(b[12:28], r.Local[:])
	put16(b[28:], r.LPort)
	put16(b[30:], r.RPort)
	copy(b[32:48], r.Remote[:])
}

// Decode reads r from b.
func (r *Reply) Decode(b *[ReplySize]byte) {
	r.Sock = int32(get32(b[0:]))
	r.Gen = get32(b[4:])
	r.Errno = int32(get32(b[8:]))
	copy(r.Local[:], b[12:28])
	r.LPort = get16(b[28:])
	r.RPort = get16(b[30:])
	copy(r.Remote[:], b[32:48])
}

// Encode writes i into b.
func (i *Interface) Encode(b *[InterfaceSize]byte) {
	*b = [InterfaceSize]byte{}
	copy(b[0:16], i.Name[:])
	put32(b[16:], i.Index)
	put32(b[20:], i.MTU)
	copy(b[24:30], i.MAC[:])
	if i.Up {
		b[30] = 1
	}
	b[31] = i.N
	for k := range i.Addrs {
		copy(b[32+17*k:], i.Addrs[k].IP[:])
		b[32+17*k+16] = i.Addrs[k].Prefix
	}
}

// Decode reads i from b.
func (i *Interface) Decode(b *[InterfaceSize]byte) {
	copy(i.Name[:], b[0:16])
	i.Index = get32(b[16:])
	i.MTU = get32(b[20:])
	copy(i.MAC[:], b[24:30])
	i.Up = b[30] != 0
	i.N = min(b[31], MaxAddrs)
	for k := range i.Addrs {
		copy(i.Addrs[k].IP[:], b[32+17*k:])
		i.Addrs[k].Prefix = b[32+17*k+16]
	}
}

// UDPHeaderSize is the length of a UDPHeader's encoding.
const UDPHeaderSize = 36

// UDPHeader is a relayed datagram's addresses.
type UDPHeader struct {
	Src   [16]byte
	SPort uint16
	Dst   [16]byte
	DPort uint16
}

// Encode writes h into b.
func (h *UDPHeader) Encode(b *[UDPHeaderSize]byte) {
	copy(b[0:16], h.Src[:])
	put16(b[16:], h.SPort)
	copy(b[18:34], h.Dst[:])
	put16(b[34:], h.DPort)
}

// Decode reads h from b.
func (h *UDPHeader) Decode(b *[UDPHeaderSize]byte) {
	copy(h.Src[:], b[0:16])
	h.SPort = get16(b[16:])
	copy(h.Dst[:], b[18:34])
	h.DPort = get16(b[34:])
}
