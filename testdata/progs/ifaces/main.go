// ifaces lists the network interfaces and their addresses as Go sees
// them (net.Interfaces, through netlink; the multicast groups from
// /proc/net/igmp and igmp6): on rt0 without a card, the loopback only.
package main

import (
	"fmt"
	"net"
)

func main() {
	ifs, err := net.Interfaces()
	if err != nil {
		fmt.Println("interfaces:", err)
		return
	}
	for _, i := range ifs {
		addrs, err := i.Addrs()
		fmt.Printf("%d %s mtu %d flags %v addrs %v %v\n", i.Index, i.Name, i.MTU, i.Flags, addrs, err)
		maddrs, err := i.MulticastAddrs()
		fmt.Printf("%d %s multicast %v %v\n", i.Index, i.Name, maddrs, err)
	}
	lo, err := net.InterfaceByName("lo")
	fmt.Println("by name:", lo != nil && lo.Index == 1, err)
	all, err := net.InterfaceAddrs()
	fmt.Println("all addresses:", all, err)
}
