package netstack

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"rt0/guest/net/link"
)

const (
	nicID   = 1
	ifIndex = 2 // the loopback is 1, as on Linux
)

// iface is the network card's interface: the driver below, gVisor's
// stack above, and the goroutines that move frames between them.
type iface struct {
	name  string
	dev   link.Device
	stack *stack.Stack
	ep    *endpoint

	mu     sync.Mutex
	addr   netip.Prefix // IPv4 address and subnet
	router netip.Addr
	dns    []netip.Addr
	how    string // "DHCP", "ip="
	// snoop, when set, sees every frame before the stack does and says
	// whether it took it (the DHCP client's replies).
	snoop func(frame []byte) bool

	rxFrames, txFrames, txErrors atomic.Uint64

	ndp      *ndp
	v4routes []tcpip.Route
	svc      *service // once serving: told of address changes
}

func newIface(name string, dev link.Device) (*iface, error) {
	n := &iface{name: name, dev: dev, ndp: newNDP()}
	n.stack = stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocolWithOptions(ipv6Options(n.ndp)), arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
	})
	// Linux's TCP: selective acknowledgements, window scaling with
	// buffers that grow with the connection (up to 4 MiB as
	// tcp_rmem/tcp_wmem's maxima on a machine of some memory).
	sack := tcpip.TCPSACKEnabled(true)
	n.stack.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	mod := tcpip.TCPModerateReceiveBufferOption(true)
	n.stack.SetTransportProtocolOption(tcp.ProtocolNumber, &mod)
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 4 << 20}
	n.stack.SetTransportProtocolOption(tcp.ProtocolNumber, &rcv)
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 4 << 20}
	n.stack.SetTransportProtocolOption(tcp.ProtocolNumber, &snd)

	n.ep = newEndpoint(dev)
	n.ep.sent = func(frames int, err error) {
		if err != nil {
			n.txErrors.Add(uint64(frames))
			return
		}
		n.txFrames.Add(uint64(frames))
	}
	if err := n.stack.CreateNIC(nicID, n.ep); err != nil {
		return nil, fmt.Errorf("gVisor CreateNIC: %v", err)
	}
	go n.ndp.run(n)
	current = n
	go func() {
		err := dev.Receive(n.deliver, n.ep.flush)
		logf("rt0: net: %s: %s stopped receiving: %v", name, dev.Model(), err)
	}()
	return n, nil
}

// deliver hands a received frame to the stack (after the snoop).
func (n *iface) deliver(frame []byte) {
	n.rxFrames.Add(1)
	n.mu.Lock()
	snoop := n.snoop
	n.mu.Unlock()
	if snoop != nil && snoop(frame) {
		return
	}
	n.ep.deliver(frame)
}

func (n *iface) String() string {
	mac := n.dev.MAC()
	n.mu.Lock()
	defer n.mu.Unlock()
	s := fmt.Sprintf("%s (%s %02x:%02x:%02x:%02x:%02x:%02x): %v", n.name, n.dev.Model(), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], n.addr)
	if n.router.IsValid() {
		s += " via " + n.router.String()
	}
	if len(n.dns) > 0 {
		var d []string
		for _, a := range n.dns {
			d = append(d, a.String())
		}
		s += ", DNS " + strings.Join(d, " ")
	}
	return s + " (" + n.how + ")"
}

// setAddress gives the interface its IPv4 address, subnet and default
// route.
func (n *iface) setAddress(p netip.Prefix, router netip.Addr) error {
	pa := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddrFrom4(p.Addr().As4()).WithPrefix(),
	}
	pa.AddressWithPrefix.PrefixLen = p.Bits()
	if err := n.stack.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); err != nil {
		return fmt.Errorf("gVisor AddProtocolAddress %v: %v", p, err)
	}
	routes := []tcpip.Route{{Destination: prefixSubnet(p.Masked()), NIC: nicID}}
	if router.IsValid() {
		routes = append(routes, tcpip.Route{Destination: prefixSubnet(netip.MustParsePrefix("0.0.0.0/0")), Gateway: tcpip.AddrFrom4(router.As4()), NIC: nicID})
	}
	n.mu.Lock()
	n.addr, n.router, n.v4routes = p, router, routes
	n.mu.Unlock()
	n.updateRoutes()
	return nil
}

// updateRoutes sets the route table: IPv4's, then what NDP found.
func (n *iface) updateRoutes() {
	n.mu.Lock()
	rs := append([]tcpip.Route(nil), n.v4routes...)
	n.mu.Unlock()
	n.stack.SetRouteTable(append(rs, n.ndp.v6Routes()...))
}

// announce tells the kernel the interface's addresses again.
func (n *iface) announce() {
	n.mu.Lock()
	s := n.svc
	n.mu.Unlock()
	if s != nil {
		if err := s.setInterface(); err != nil {
			logf("rt0: net: %s: telling the kernel its addresses: %v", n.name, err)
		}
	}
}

// prefixSubnet is p as gVisor's subnet.
func prefixSubnet(p netip.Prefix) tcpip.Subnet {
	var mask tcpip.AddressMask
	if p.Addr().Is4() {
		m := [4]byte{}
		for i := 0; i < p.Bits(); i++ {
			m[i/8] |= 0x80 >> (i % 8)
		}
		mask = tcpip.MaskFromBytes(m[:])
	} else {
		m := [16]byte{}
		for i := 0; i < p.Bits(); i++ {
			m[i/8] |= 0x80 >> (i % 8)
		}
		mask = tcpip.MaskFromBytes(m[:])
	}
	s, err := tcpip.NewSubnet(tcpip.AddrFromSlice(p.Addr().AsSlice()), mask)
	if err != nil {
		panic("netstack: subnet " + p.String() + ": " + err.Error())
	}
	return s
}

// current is the interface up, for Stats.
var current *iface

// Stats describes the network's counters, for a program that wants to
// see them (netserve's /stats).
func Stats() string {
	n := current
	if n == nil {
		return "no network\n"
	}
	t := n.stack.Stats().TCP
	ip := n.stack.Stats().IP
	return fmt.Sprintf("frames in %d out %d, send errors %d; IP in %d out %d, malformed %d; TCP segments in %d out %d, invalid %d, retransmits %d, resets sent %d, passive opens %d, active opens %d, failed %d, SYN drops (listen overflow) %d, ACK drops %d, SYN cookies %d, established resets %d, checksum errors %d\n",
		n.rxFrames.Load(), n.txFrames.Load(), n.txErrors.Load(),
		ip.PacketsReceived.Value(), ip.PacketsSent.Value(), ip.MalformedPacketsReceived.Value(),
		t.ValidSegmentsReceived.Value(), t.SegmentsSent.Value(), t.InvalidSegmentsReceived.Value(), t.Retransmits.Value(), t.ResetsSent.Value(),
		t.PassiveConnectionOpenings.Value(), t.ActiveConnectionOpenings.Value(), t.FailedConnectionAttempts.Value(),
		t.ListenOverflowSynDrop.Value(), t.ListenOverflowAckDrop.Value(), t.ListenOverflowSynCookieSent.Value(),
		t.EstablishedResets.Value(), t.ChecksumErrors.Value())
}
