// ifaces lists the network interfaces and their addresses as Go sees
// them (net.Interfaces, through netlink; the multicast groups from
// /proc/net/igmp and igmp6): on rt0 without a card, the loopback only.
package main

import (
	"fmt"
	"net"
	"os"
	"strings"
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
	// The loopback's lines of the files MulticastAddrs reads, as they are.
	if b, err := os.ReadFile("/proc/net/igmp6"); err == nil {
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[1] == "lo" {
				fmt.Printf("igmp6: %q\n", l)
			}
		}
	}
	if b, err := os.ReadFile("/proc/net/igmp"); err == nil {
		lines := strings.SplitAfter(string(b), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "1\tlo ") && i+1 < len(lines) {
				fmt.Printf("igmp: %q %q\n", l, lines[i+1])
			}
		}
	}
}
