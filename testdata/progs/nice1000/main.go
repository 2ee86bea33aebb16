// Nice1000 brings up the machine's Intel NIC (an 82540EM on the pc
// machine, an 82574L on q35) with rt0/guest/net/e1000 and talks to QEMU's
// user network in raw Ethernet frames, with no network stack:
//
//  1. it prints the NIC's model, MAC and link state;
//  2. it asks by ARP who has 10.0.2.2 (the gateway) and prints the
//     sender MAC of the reply (slirp's 52:55:0a:00:02:02);
//  3. it broadcasts a DHCPDISCOVER and prints the address the DHCPOFFER
//     offers (10.0.2.15).
//
// Each question goes out again every second until its answer comes; none
// within 10 s ends the program with status 1.
//
// With -flood N it then sends N ARP requests from two goroutines at once,
// more than the transmit ring holds, and counts the replies.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"rt0/guest/net/e1000"
	"rt0/guest/net/link"
	"rt0/guest/net/pcidev"
)

const (
	typeIPv4 = 0x0800
	typeARP  = 0x0806

	arpRequest = 1
	arpReply   = 2

	dhcpDiscover = 1
	dhcpOffer    = 2
	xid          = 0x6e696365 // "nice"

	answerTimeout = 10 * time.Second
)

// delivered counts the frames Receive delivered, arpReplies those of
// them that were ARP replies from 10.0.2.2, dropped those the program had
// no room for.
var delivered, arpReplies, dropped atomic.Int64

var (
	broadcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	ourIP        = netip.AddrFrom4([4]byte{10, 0, 2, 15})
	gatewayIP    = netip.AddrFrom4([4]byte{10, 0, 2, 2})
)

func fail(format string, args ...any) {
	fmt.Printf("nice1000: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	flood := flag.Int("flood", 0, "afterwards, send this many ARP requests and count the replies")
	flag.Parse()

	nic, pci := openNIC()
	// The link comes up when the PHY has negotiated; QEMU's is up at once,
	// but give it a moment as real hardware would need.
	for deadline := time.Now().Add(3 * time.Second); !nic.LinkUp() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	mac := nic.MAC()
	linkState := "down"
	if nic.LinkUp() {
		linkState = "up"
	}
	fmt.Printf("nice1000: %s at %s: MAC %s, MTU %d, link %s\n", nic.Model(), pci.Name, macString(mac), nic.MTU(), linkState)

	frames := make(chan []byte, 256)
	go func() {
		err := nic.Receive(func(f []byte) {
			delivered.Add(1)
			if arpAnswer(f) != nil {
				arpReplies.Add(1)
			}
			select {
			case frames <- append([]byte(nil), f...):
			default: // not keeping up: the frame is dropped, as a NIC would
				dropped.Add(1)
			}
		}, nil)
		fail("Receive: %v", err)
	}()

	arp := arpFrame(mac)
	reply := ask(nic, frames, "ARP reply from 10.0.2.2", arp, func(f []byte) []byte { return arpAnswer(f) })
	fmt.Printf("nice1000: ARP reply: 10.0.2.2 is at %s\n", macString([6]byte(reply)))

	offer := ask(nic, frames, "DHCPOFFER", dhcpDiscoverFrame(mac), func(f []byte) []byte { return offeredAddress(f, mac) })
	fmt.Printf("nice1000: DHCPOFFER: %v\n", netip.AddrFrom4([4]byte(offer[:4])))

	if *flood > 0 {
		floodARP(nic, arp, *flood)
		printCounters(pci)
	}
}

// openNIC finds the first PCI function e1000 drives and opens it.
func openNIC() (link.Device, *pcidev.Dev) {
	devs, err := pcidev.List()
	if err != nil {
		fail("listing PCI devices: %v", err)
	}
	for _, d := range devs {
		if e1000.Match(d.Vendor, d.Device) {
			nic, err := e1000.Open(d)
			if err != nil {
				fail("opening %v: %v", d, err)
			}
			return nic, d
		}
	}
	fail("no 8254x or 82574 NIC among %d PCI functions", len(devs))
	return nil, nil
}

// ask sends question every second until answer finds what it wants in a
// received frame (non-nil), and returns that; after answerTimeout it ends
// the program.
func ask(nic link.Device, frames <-chan []byte, what string, question []byte, answer func([]byte) []byte) []byte {
	deadline := time.After(answerTimeout)
	resend := time.NewTicker(time.Second)
	defer resend.Stop()
	if err := nic.Send(question); err != nil {
		fail("Send: %v", err)
	}
	for {
		select {
		case f := <-frames:
			if a := answer(f); a != nil {
				return a
			}
		case <-resend.C:
			if err := nic.Send(question); err != nil {
				fail("Send: %v", err)
			}
		case <-deadline:
			fail("no %s in %v", what, answerTimeout)
		}
	}
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// ethernet returns a frame's header: destination, source, type.
func ethernet(dst, src [6]byte, etherType uint16) []byte {
	h := append(append(make([]byte, 0, 64), dst[:]...), src[:]...)
	return binary.BigEndian.AppendUint16(h, etherType)
}

// arpFrame is the broadcast "who has 10.0.2.2? tell 10.0.2.15" (RFC 826).
func arpFrame(mac [6]byte) []byte {
	f := ethernet(broadcastMAC, mac, typeARP)
	f = binary.BigEndian.AppendUint16(f, 1)        // hardware: Ethernet
	f = binary.BigEndian.AppendUint16(f, typeIPv4) // protocol: IPv4
	f = append(f, 6, 4)                            // address lengths
	f = binary.BigEndian.AppendUint16(f, arpRequest)
	f = append(f, mac[:]...)
	f = append(f, ourIP.AsSlice()...)
	f = append(f, make([]byte, 6)...) // target hardware address: unknown
	return append(f, gatewayIP.AsSlice()...)
}

// arpAnswer returns the sender MAC of an ARP reply from 10.0.2.2, or nil.
func arpAnswer(f []byte) []byte {
	if len(f) < 42 || binary.BigEndian.Uint16(f[12:]) != typeARP {
		return nil
	}
	a := f[14:]
	if binary.BigEndian.Uint16(a[6:]) != arpReply || netip.AddrFrom4([4]byte(a[14:18])) != gatewayIP {
		return nil
	}
	return a[8:14]
}

// dhcpDiscoverFrame is a DHCPDISCOVER (RFC 2131) broadcast from 0.0.0.0
// port 68 to 255.255.255.255 port 67, asking for a broadcast answer.
func dhcpDiscoverFrame(mac [6]byte) []byte {
	bootp := make([]byte, 236)
	bootp[0], bootp[1], bootp[2] = 1, 1, 6 // BOOTREQUEST, Ethernet, 6-byte address
	binary.BigEndian.PutUint32(bootp[4:], xid)
	binary.BigEndian.PutUint16(bootp[10:], 0x8000) // flags: broadcast
	copy(bootp[28:], mac[:])                       // chaddr
	bootp = append(bootp, 99, 130, 83, 99)         // the magic cookie
	bootp = append(bootp, 53, 1, dhcpDiscover)     // message type
	bootp = append(bootp, 55, 3, 1, 3, 6)          // asking for: mask, router, DNS
	bootp = append(bootp, 255)                     // end

	udp := binary.BigEndian.AppendUint16(nil, 68)
	udp = binary.BigEndian.AppendUint16(udp, 67)
	udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(bootp)))
	udp = binary.BigEndian.AppendUint16(udp, 0) // no checksum: optional over IPv4
	udp = append(udp, bootp...)

	ip := make([]byte, 20)
	ip[0] = 0x45 // version 4, 5-word header
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(udp)))
	ip[8], ip[9] = 64, 17 // TTL, UDP
	copy(ip[16:], []byte{255, 255, 255, 255})
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))

	return append(append(ethernet(broadcastMAC, mac, typeIPv4), ip...), udp...)
}

// ipChecksum is the IPv4 header checksum: the ones' complement of the
// ones' complement sum of its 16-bit words.
func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// offeredAddress returns yiaddr of a DHCPOFFER for our transaction, or nil.
func offeredAddress(f []byte, mac [6]byte) []byte {
	if len(f) < 14+20+8+240 || binary.BigEndian.Uint16(f[12:]) != typeIPv4 {
		return nil
	}
	ip := f[14:]
	ihl := int(ip[0]&0xf) * 4
	if ip[0]>>4 != 4 || ip[9] != 17 || len(ip) < ihl+8+240 {
		return nil
	}
	udp := ip[ihl:]
	if binary.BigEndian.Uint16(udp[2:]) != 68 {
		return nil
	}
	b := udp[8:]
	if b[0] != 2 || binary.BigEndian.Uint32(b[4:]) != xid || [6]byte(b[28:34]) != mac {
		return nil
	}
	if binary.BigEndian.Uint32(b[236:]) != 0x63825363 {
		return nil
	}
	for opts := b[240:]; len(opts) >= 2 && opts[0] != 255; {
		if opts[0] == 0 { // pad
			opts = opts[1:]
			continue
		}
		code, n := opts[0], int(opts[1])
		if len(opts) < 2+n {
			break
		}
		if code == 53 && n == 1 && opts[2] == dhcpOffer {
			return b[16:20]
		}
		opts = opts[2+n:]
	}
	return nil
}

// floodARP sends n copies of the ARP request from two goroutines, then
// reports what Receive delivered until a second passes with nothing more.
func floodARP(nic link.Device, arp []byte, n int) {
	delivered0, replies0, dropped0 := delivered.Load(), arpReplies.Load(), dropped.Load()
	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(count int) {
			defer wg.Done()
			for i := 0; i < count; i++ {
				if err := nic.Send(arp); err != nil {
					fail("flood: Send: %v", err)
				}
			}
		}(n/2 + g*(n%2))
	}
	wg.Wait()
	sendTime := time.Since(start)
	for last := int64(-1); delivered.Load() != last; {
		last = delivered.Load()
		time.Sleep(time.Second)
	}
	fmt.Printf("nice1000: flood: %d ARP requests sent in %v; %d frames delivered, %d of them ARP replies (%d not kept by the program)\n",
		n, sendTime.Round(time.Millisecond), delivered.Load()-delivered0, arpReplies.Load()-replies0, dropped.Load()-dropped0)
}

// printCounters prints the controller's own statistics (8254x manual
// 13.7, "Statistics Registers"; the driver reads none of them, and each
// clears when read): frames sent and received whole, and received frames
// missed for want of a descriptor.
func printCounters(d *pcidev.Dev) {
	regs, err := d.MapBAR(0)
	if err != nil {
		fail("mapping BAR 0 for the counters: %v", err)
	}
	gptc, gprc, mpc, rnbc := regs.Read32(0x4080), regs.Read32(0x4074), regs.Read32(0x4010), regs.Read32(0x40A0)
	fmt.Printf("nice1000: the NIC's counters: %d frames sent, %d received, %d missed (%d times without a free descriptor)\n", gptc, gprc, mpc, rnbc)
}
