package netstack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// DHCPv4 (RFC 2131), the client side, as Linux's kernel does it for ip=dhcp
// before any program runs. The messages are github.com/insomniacslk/dhcp's;
// they travel as raw frames through the card, beside the stack (which has no
// address yet to send from): broadcast from 0.0.0.0:68 to
// 255.255.255.255:67, and the answers are taken from the received frames
// (iface.snoop) before the stack sees them.

const (
	dhcpTries   = 4                // DISCOVER or REQUEST sent this many times
	dhcpWait    = time.Second      // for an answer to each
	dhcpDefault = 24 * time.Hour   // a lease without a lease time
	dhcpMinT1   = 30 * time.Second // the shortest renewal period kept
)

type lease struct {
	addr   netip.Prefix
	router netip.Addr
	dns    []netip.Addr
	search []string
	server netip.Addr
	time   time.Duration
}

// dhcp gets a lease: DISCOVER, OFFER, REQUEST, ACK.
func (n *iface) dhcp() (*lease, error) {
	mac := n.dev.MAC()
	replies := make(chan *dhcpv4.DHCPv4, 8)
	n.mu.Lock()
	n.snoop = func(frame []byte) bool {
		p, ok := dhcpPayload(frame)
		if !ok {
			return false
		}
		if m, err := dhcpv4.FromBytes(p); err == nil {
			select {
			case replies <- m:
			default:
			}
		}
		return true
	}
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.snoop = nil
		n.mu.Unlock()
	}()
	disc, err := dhcpv4.NewDiscovery(net.HardwareAddr(mac[:]), dhcpv4.WithBroadcast(true))
	if err != nil {
		return nil, err
	}
	offer, err := n.exchange(disc, dhcpv4.MessageTypeOffer, replies)
	if err != nil {
		return nil, fmt.Errorf("DHCPDISCOVER: %w", err)
	}
	req, err := dhcpv4.NewRequestFromOffer(offer, dhcpv4.WithBroadcast(true))
	if err != nil {
		return nil, err
	}
	ack, err := n.exchange(req, dhcpv4.MessageTypeAck, replies)
	if err != nil {
		return nil, fmt.Errorf("DHCPREQUEST: %w", err)
	}
	return leaseOf(ack)
}

var errNoAnswer = errors.New("no answer")

// exchange sends m until an answer of type want with m's transaction ID
// comes (a NAK is an error).
func (n *iface) exchange(m *dhcpv4.DHCPv4, want dhcpv4.MessageType, replies chan *dhcpv4.DHCPv4) (*dhcpv4.DHCPv4, error) {
	frame := dhcpFrame(n.dev.MAC(), m.ToBytes())
	for range dhcpTries {
		if err := n.dev.Send(frame); err != nil {
			return nil, err
		}
		deadline := time.After(dhcpWait)
	wait:
		for {
			select {
			case r := <-replies:
				if r.TransactionID != m.TransactionID || r.OpCode != dhcpv4.OpcodeBootReply {
					continue
				}
				switch r.MessageType() {
				case want:
					return r, nil
				case dhcpv4.MessageTypeNak:
					return nil, fmt.Errorf("DHCPNAK from %v: %s", r.ServerIdentifier(), r.Message())
				}
			case <-deadline:
				break wait
			}
		}
	}
	return nil, fmt.Errorf("%w in %v", errNoAnswer, dhcpTries*dhcpWait)
}

// leaseOf reads what an ACK grants.
func leaseOf(ack *dhcpv4.DHCPv4) (*lease, error) {
	a, ok := netip.AddrFromSlice(ack.YourIPAddr.To4())
	if !ok || !a.IsValid() || a.IsUnspecified() {
		return nil, fmt.Errorf("DHCPACK without an address")
	}
	bits := classBits(a)
	if m := ack.SubnetMask(); len(m) == 4 {
		if b := maskBits([4]byte(m)); b >= 0 {
			bits = b
		}
	}
	l := &lease{addr: netip.PrefixFrom(a, bits), time: ack.IPAddressLeaseTime(dhcpDefault)}
	if r := ack.Router(); len(r) > 0 {
		l.router, _ = netip.AddrFromSlice(r[0].To4())
	}
	for _, d := range ack.DNS() {
		if x, ok := netip.AddrFromSlice(d.To4()); ok {
			l.dns = append(l.dns, x)
		}
	}
	if s := ack.DomainSearch(); s != nil {
		l.search = s.Labels
	}
	l.server, _ = netip.AddrFromSlice(ack.ServerIdentifier().To4())
	return l, nil
}

// dhcpFrame wraps a DHCP message from 0.0.0.0:68 to 255.255.255.255:67 in
// UDP, IPv4 and an Ethernet broadcast.
func dhcpFrame(mac [6]byte, msg []byte) []byte {
	const ethLen, ipLen, udpLen = header.EthernetMinimumSize, header.IPv4MinimumSize, header.UDPMinimumSize
	b := make([]byte, ethLen+ipLen+udpLen+len(msg))
	header.Ethernet(b).Encode(&header.EthernetFields{
		SrcAddr: tcpip.LinkAddress(mac[:]),
		DstAddr: header.EthernetBroadcastAddress,
		Type:    header.IPv4ProtocolNumber,
	})
	ip := header.IPv4(b[ethLen:])
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(ipLen + udpLen + len(msg)),
		TTL:         64,
		Protocol:    uint8(header.UDPProtocolNumber),
		SrcAddr:     header.IPv4Any,
		DstAddr:     header.IPv4Broadcast,
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	u := header.UDP(b[ethLen+ipLen:])
	u.Encode(&header.UDPFields{SrcPort: 68, DstPort: 67, Length: uint16(udpLen + len(msg))})
	copy(b[ethLen+ipLen+udpLen:], msg)
	// A UDP checksum of 0 means none (IPv4 allows it); a server does not
	// need one to answer.
	return b
}

// dhcpPayload returns the UDP payload of an IPv4 frame to port 68.
func dhcpPayload(frame []byte) ([]byte, bool) {
	const ethLen = header.EthernetMinimumSize
	if len(frame) < ethLen+header.IPv4MinimumSize+header.UDPMinimumSize || header.Ethernet(frame).Type() != header.IPv4ProtocolNumber {
		return nil, false
	}
	ip := header.IPv4(frame[ethLen:])
	hl := int(ip.HeaderLength())
	if !ip.IsValid(len(frame)-ethLen) || ip.TransportProtocol() != header.UDPProtocolNumber || ip.More() || ip.FragmentOffset() != 0 {
		return nil, false
	}
	u := header.UDP(ip[hl:ip.TotalLength()])
	if len(u) < header.UDPMinimumSize || u.DestinationPort() != 68 || int(u.Length()) > len(u) || u.Length() < header.UDPMinimumSize {
		return nil, false
	}
	return u[header.UDPMinimumSize:u.Length()], true
}
