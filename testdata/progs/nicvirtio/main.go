// Nicvirtio brings up the machine's virtio-net NIC with
// rt0/guest/net/virtionet and talks to QEMU's user network (slirp) in
// raw Ethernet frames, with no network stack: it asks by ARP who has the
// gateway 10.0.2.2 and prints the answer (slirp's 52:55:0a:00:02:02),
// then broadcasts a DHCPDISCOVER and prints the address the DHCPOFFER
// offers (10.0.2.15). Each question is repeated every second; no answer
// within 10 s ends the program with status 1.
//
// With -flood N it then sends N ARP requests back to back from two
// goroutines (more than the transmit ring holds, so senders wait for the
// device; past 65536, so the ring indices wrap) and counts the frames
// that come back.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"rt0/guest/net/link"
	"rt0/guest/net/pcidev"
	"rt0/guest/net/virtionet"
)

// delivered counts the frames Receive delivered, dropped those of them
// the program had no room for.
var delivered, dropped atomic.Int64

var (
	broadcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	gateway   = netip.MustParseAddr("10.0.2.2")
	guest     = netip.MustParseAddr("10.0.2.15") // slirp's first DHCP address
)

const (
	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	dhcpXID       = 0x72743021
)

func main() {
	flood := flag.Int("flood", 0, "then send this many ARP requests and count the replies")
	flag.Parse()
	nic := open()
	mac := nic.MAC()
	fmt.Printf("%s MAC %s link %s\n", nic.Model(), macString(mac), map[bool]string{true: "up", false: "down"}[nic.LinkUp()])

	frames := make(chan []byte, 64)
	go func() {
		err := nic.Receive(func(f []byte) {
			delivered.Add(1)
			select {
			case frames <- append([]byte(nil), f...):
			default: // the program is not keeping up: drop
				dropped.Add(1)
			}
		}, nil)
		fail("receive: %v", err)
	}()

	deadline := time.Now().Add(10 * time.Second)
	reply := ask(nic, frames, deadline, "ARP reply", arpRequest(mac), func(f []byte) []byte { return arpReplyFrom(f, gateway) })
	fmt.Printf("ARP reply: %s is at %s\n", gateway, macString([6]byte(reply)))
	offer := ask(nic, frames, deadline, "DHCPOFFER", dhcpDiscover(mac), dhcpOffer)
	fmt.Printf("DHCP offer: %s\n", netip.AddrFrom4([4]byte(offer)))
	if *flood > 0 {
		floodARP(nic, frames, *flood)
	}
}

// floodARP sends n ARP requests as fast as Send takes them, from two
// goroutines, and counts what comes back until a second passes with
// nothing. Slirp and QEMU drop much of a flood (QEMU queues only so many
// frames for a guest without free receive buffers), so the counts vary.
func floodARP(nic link.Device, frames chan []byte, n int) {
	start, delivered0, dropped0 := time.Now(), delivered.Load(), dropped.Load()
	req := arpRequest(nic.MAC())
	sent := make(chan int)
	for g := 0; g < 2; g++ {
		go func() {
			for i := g; i < n; i += 2 {
				if err := nic.Send(req); err != nil {
					fail("flood send: %v", err)
				}
			}
			sent <- 1
		}()
	}
	replies, senders := 0, 2
	for idle := time.NewTimer(time.Second); ; {
		select {
		case f := <-frames:
			if arpReplyFrom(f, gateway) != nil {
				replies++
			}
			idle.Reset(time.Second)
		case <-sent:
			senders--
			idle.Reset(time.Second)
		case <-idle.C:
			if senders > 0 {
				fail("flood: senders stuck; %d replies so far", replies)
			}
			fmt.Printf("flood: sent %d ARP requests in %v; the driver delivered %d frames, the program dropped %d, %d were ARP replies\n",
				n, time.Since(start).Round(100*time.Millisecond), delivered.Load()-delivered0, dropped.Load()-dropped0, replies)
			return
		}
	}
}

// open finds the first virtio-net function and opens it.
func open() link.Device {
	devs, err := pcidev.List()
	if err != nil {
		fail("pci: %v", err)
	}
	for _, d := range devs {
		if !virtionet.Match(d.Vendor, d.Device) {
			continue
		}
		nic, err := virtionet.Open(d)
		if err != nil {
			fail("open: %v", err)
		}
		return nic
	}
	fail("no virtio-net device among %d PCI functions", len(devs))
	return nil
}

// ask sends question every second until a received frame answers it
// (answer returns non-nil) or deadline passes.
func ask(nic link.Device, frames chan []byte, deadline time.Time, what string, question []byte, answer func([]byte) []byte) []byte {
	resend := time.NewTicker(time.Second)
	defer resend.Stop()
	timeout := time.NewTimer(time.Until(deadline))
	defer timeout.Stop()
	if err := nic.Send(question); err != nil {
		fail("send: %v", err)
	}
	for {
		select {
		case f := <-frames:
			if a := answer(f); a != nil {
				return a
			}
		case <-resend.C:
			if err := nic.Send(question); err != nil {
				fail("send: %v", err)
			}
		case <-timeout.C:
			fail("no %s within 10 s", what)
		}
	}
}

func ethernet(dst, src [6]byte, etherType uint16, payload []byte) []byte {
	f := append(append(dst[:], src[:]...), byte(etherType>>8), byte(etherType))
	return append(f, payload...)
}

// arpRequest is "who has 10.0.2.2? tell 10.0.2.15" (RFC 826).
func arpRequest(mac [6]byte) []byte {
	a := []byte{0, 1, 8, 0, 6, 4, 0, 1} // Ethernet, IPv4, 6- and 4-byte addresses, request
	a = append(a, mac[:]...)
	a = append(a, guest.AsSlice()...)
	a = append(a, make([]byte, 6)...)
	a = append(a, gateway.AsSlice()...)
	return ethernet(broadcast, mac, etherTypeARP, a)
}

// arpReplyFrom is the sender hardware address of frame if it is an ARP
// reply from ip.
func arpReplyFrom(f []byte, ip netip.Addr) []byte {
	if len(f) < 14+28 || binary.BigEndian.Uint16(f[12:]) != etherTypeARP {
		return nil
	}
	a := f[14:]
	if binary.BigEndian.Uint16(a[6:]) != 2 || !bytes.Equal(a[14:18], ip.AsSlice()) {
		return nil
	}
	return a[8:14]
}

// dhcpDiscover is a DHCPDISCOVER (RFC 2131) from mac, broadcast in UDP
// from 0.0.0.0:68 to 255.255.255.255:67, asking for a broadcast answer.
func dhcpDiscover(mac [6]byte) []byte {
	b := make([]byte, 236)
	b[0], b[1], b[2] = 1, 1, 6 // BOOTREQUEST, Ethernet, 6-byte address
	binary.BigEndian.PutUint32(b[4:], dhcpXID)
	binary.BigEndian.PutUint16(b[10:], 0x8000) // flags: broadcast
	copy(b[28:], mac[:])
	b = binary.BigEndian.AppendUint32(b, 0x63825363) // magic cookie
	b = append(b, 53, 1, 1)                          // message type: DHCPDISCOVER
	b = append(b, 55, 3, 1, 3, 6)                    // asking for: subnet mask, router, DNS
	b = append(b, 255)                               // end

	udp := make([]byte, 8, 8+len(b))
	binary.BigEndian.PutUint16(udp[0:], 68)
	binary.BigEndian.PutUint16(udp[2:], 67)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(b)))
	udp = append(udp, b...) // checksum 0: none, which IPv4 allows

	ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255}
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(udp)))
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	return ethernet(broadcast, mac, etherTypeIPv4, append(ip, udp...))
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// dhcpOffer is the offered address (yiaddr) of frame if it is a
// DHCPOFFER to our transaction.
func dhcpOffer(f []byte) []byte {
	if len(f) < 14+20 || binary.BigEndian.Uint16(f[12:]) != etherTypeIPv4 || f[14+9] != 17 {
		return nil
	}
	ihl := int(f[14]&0xf) * 4
	u := f[14+ihl:]
	if len(u) < 8+240 || binary.BigEndian.Uint16(u[0:]) != 67 || binary.BigEndian.Uint16(u[2:]) != 68 {
		return nil
	}
	b := u[8:]
	if b[0] != 2 || binary.BigEndian.Uint32(b[4:]) != dhcpXID || binary.BigEndian.Uint32(b[236:]) != 0x63825363 {
		return nil
	}
	for opts := b[240:]; len(opts) >= 2 && opts[0] != 255; {
		if opts[0] == 0 {
			opts = opts[1:]
			continue
		}
		if len(opts) < 2+int(opts[1]) {
			break
		}
		if opts[0] == 53 && opts[1] == 1 && opts[2] == 2 { // DHCPOFFER
			return b[16:20]
		}
		opts = opts[2+int(opts[1]):]
	}
	return nil
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

func fail(format string, args ...any) {
	fmt.Printf("nicvirtio: "+format+"\n", args...)
	os.Exit(1)
}
