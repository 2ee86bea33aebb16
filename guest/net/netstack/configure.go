package netstack

import (
	"fmt"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// configure gives the interface its address: ip='s, or DHCP's (renewed
// at half the lease, as RFC 2131's T1).
func (n *iface) configure(c ipConfig) error {
	if c.static {
		n.how = "ip="
		if err := n.setAddress(c.addr, c.gateway); err != nil {
			return err
		}
		n.mu.Lock()
		n.dns = c.dns
		n.mu.Unlock()
		return writeResolvConf(c.dns, nil)
	}
	l, err := n.dhcp()
	if err != nil {
		return fmt.Errorf("%s: DHCP: %w", n.name, err)
	}
	n.how = "DHCP"
	if l.server.IsValid() {
		n.how += " from " + l.server.String()
	}
	if err := n.setAddress(l.addr, l.router); err != nil {
		return err
	}
	n.mu.Lock()
	n.dns = l.dns
	n.mu.Unlock()
	go n.renew(l)
	return writeResolvConf(l.dns, l.search)
}

// renew asks for the lease again at each T1 (half of it). A server that
// gives another address or says no is logged; the address is kept (a
// program's connections are on it).
func (n *iface) renew(l *lease) {
	for {
		time.Sleep(max(l.time/2, dhcpMinT1))
		nl, err := n.dhcp()
		switch {
		case err != nil:
			logf("rt0: net: %s: renewing the DHCP lease of %v: %v", n.name, l.addr, err)
		case nl.addr != l.addr:
			logf("rt0: net: %s: the DHCP server now offers %v; keeping %v", n.name, nl.addr, l.addr)
		default:
			l = nl
		}
	}
}

// addrs are the interface's addresses as the kernel keeps them: IPv4's,
// then IPv6's (link-local and SLAAC's) once duplicate address detection
// let the stack assign them.
func (n *iface) addrs() []netip.Prefix {
	n.mu.Lock()
	var a []netip.Prefix
	if n.addr.IsValid() {
		a = append(a, n.addr)
	}
	n.mu.Unlock()
	for _, pa := range n.stack.NICInfo()[nicID].ProtocolAddresses {
		if pa.Protocol != ipv6.ProtocolNumber {
			continue
		}
		if ip, ok := netip.AddrFromSlice(pa.AddressWithPrefix.Address.AsSlice()); ok {
			a = append(a, netip.PrefixFrom(ip, pa.AddressWithPrefix.PrefixLen))
		}
	}
	return a
}
