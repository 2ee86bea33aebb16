package netstack

import (
	"net/netip"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IPv6 as Linux configures it: a link-local address from the card's MAC
// (EUI-64), router solicitations, and from router advertisements (RFC
// 4861, 4862) the on-link prefixes, default routers and global addresses
// (SLAAC). gVisor's NDP does the protocol and tells this dispatcher what it
// learned; the dispatcher may not call into the stack from its callbacks,
// so it queues each change for a goroutine that rewrites the route table
// and tells the kernel the addresses.

type ndp struct {
	n       *iface
	changes chan func()

	mu     sync.Mutex
	addrs  map[tcpip.AddressWithPrefix]bool // SLAAC's
	routes map[ndpRoute]bool
}

type ndpRoute struct {
	dest    tcpip.Subnet
	gateway tcpip.Address // zero: on-link
}

func newNDP() *ndp {
	return &ndp{changes: make(chan func(), 64), addrs: map[tcpip.AddressWithPrefix]bool{}, routes: map[ndpRoute]bool{}}
}

// ipv6Options are the IPv6 protocol's, with d as its NDP dispatcher.
func ipv6Options(d *ndp) ipv6.Options {
	return ipv6.Options{
		AutoGenLinkLocal: true,
		NDPDisp:          d,
		NDPConfigs: ipv6.NDPConfigurations{
			MaxRtrSolicitations:     3,
			RtrSolicitationInterval: 4 * time.Second,
			MaxRtrSolicitationDelay: time.Second,
			HandleRAs:               ipv6.HandlingRAsEnabledWhenForwardingDisabled,
			DiscoverDefaultRouters:  true,
			DiscoverOnLinkPrefixes:  true,
			AutoGenGlobalAddresses:  true,
		},
		DADConfigs: stack.DADConfigurations{DupAddrDetectTransmits: 1, RetransmitTimer: time.Second},
	}
}

// run applies the changes in order, for the life of the interface.
func (d *ndp) run(n *iface) {
	d.n = n
	for f := range d.changes {
		f()
		n.updateRoutes()
		n.announce()
	}
}

func (d *ndp) queue(f func()) {
	select {
	case d.changes <- f:
	default:
		go func() { d.changes <- f }() // never block the stack
	}
}

// v6Routes are the routes NDP found, and the link-local subnet.
func (d *ndp) v6Routes() []tcpip.Route {
	d.mu.Lock()
	defer d.mu.Unlock()
	rs := []tcpip.Route{{Destination: prefixSubnet(netip.MustParsePrefix("fe80::/10")), NIC: nicID}}
	for r := range d.routes {
		if r.gateway.Len() == 0 {
			rs = append(rs, tcpip.Route{Destination: r.dest, NIC: nicID})
		}
	}
	for r := range d.routes { // default and other off-link routes after the on-link ones
		if r.gateway.Len() != 0 {
			rs = append(rs, tcpip.Route{Destination: r.dest, Gateway: r.gateway, NIC: nicID})
		}
	}
	return rs
}

func (d *ndp) OnDuplicateAddressDetectionResult(_ tcpip.NICID, a tcpip.Address, r stack.DADResult) {
	if _, ok := r.(*stack.DADSucceeded); ok {
		d.queue(func() {}) // an address is usable now: tell the kernel
		return
	}
	logf("rt0: net: IPv6 address %v: duplicate address detection: %v", a, r)
}

func (d *ndp) OnOffLinkRouteUpdated(_ tcpip.NICID, dest tcpip.Subnet, router tcpip.Address, _ header.NDPRoutePreference) {
	d.queue(func() {
		d.mu.Lock()
		d.routes[ndpRoute{dest, router}] = true
		d.mu.Unlock()
	})
}

func (d *ndp) OnOffLinkRouteInvalidated(_ tcpip.NICID, dest tcpip.Subnet, router tcpip.Address) {
	d.queue(func() {
		d.mu.Lock()
		delete(d.routes, ndpRoute{dest, router})
		d.mu.Unlock()
	})
}

func (d *ndp) OnOnLinkPrefixDiscovered(_ tcpip.NICID, p tcpip.Subnet) {
	d.queue(func() {
		d.mu.Lock()
		d.routes[ndpRoute{dest: p}] = true
		d.mu.Unlock()
	})
}

func (d *ndp) OnOnLinkPrefixInvalidated(_ tcpip.NICID, p tcpip.Subnet) {
	d.queue(func() {
		d.mu.Lock()
		delete(d.routes, ndpRoute{dest: p})
		d.mu.Unlock()
	})
}

func (d *ndp) OnAutoGenAddress(_ tcpip.NICID, a tcpip.AddressWithPrefix) stack.AddressDispatcher {
	d.queue(func() {
		d.mu.Lock()
		d.addrs[a] = true
		d.mu.Unlock()
	})
	return nil
}

func (d *ndp) OnAutoGenAddressDeprecated(tcpip.NICID, tcpip.AddressWithPrefix) {}

func (d *ndp) OnAutoGenAddressInvalidated(_ tcpip.NICID, a tcpip.AddressWithPrefix) {
	d.queue(func() {
		d.mu.Lock()
		delete(d.addrs, a)
		d.mu.Unlock()
	})
}

func (d *ndp) OnRecursiveDNSServerOption(tcpip.NICID, []tcpip.Address, time.Duration) {}
func (d *ndp) OnDNSSearchListOption(tcpip.NICID, []string, time.Duration)             {}
func (d *ndp) OnDHCPv6Configuration(tcpip.NICID, ipv6.DHCPv6ConfigurationFromNDPRA)   {}
