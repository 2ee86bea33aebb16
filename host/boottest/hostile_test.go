package boottest

// Hostile frames: the test is the guest's whole network (a QEMU socket
// netdev: each frame a UDP datagram between QEMU and this test), so it can
// send what no well-behaved host would: runts, giants, lying headers, bad
// checksums, fragments of nothing, random bytes and a SYN flood. The
// kernel must not stop and the program must go on answering.

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"rt0/host/qemu"
)

var (
	wireHostMAC  = tcpip.LinkAddress("\x52\x55\x0a\x00\x02\x02")
	wireGuestMAC = tcpip.LinkAddress("\x52\x54\x00\x12\x34\x56") // QEMU's first card's
	wireHostIP   = tcpip.AddrFrom4([4]byte{10, 0, 2, 2})
	wireGuestIP  = tcpip.AddrFrom4([4]byte{10, 0, 2, 15})
)

// wire is this test's end of the guest's network.
type wire struct {
	c     *net.UDPConn
	qemu  *net.UDPAddr
	udp   chan string // UDP payloads the guest sent to this host
	pong  chan uint16 // the sequence numbers of the guest's ICMP echo replies
	other int         // frames of other kinds seen
}

func (w *wire) send(frame []byte) { w.c.WriteToUDP(frame, w.qemu) }

// run reads the guest's frames: it answers ARP requests for the host's
// address, and passes UDP payloads on.
func (w *wire) run() {
	b := make([]byte, 70000)
	for {
		n, _, err := w.c.ReadFromUDP(b)
		if err != nil {
			return
		}
		f := b[:n]
		if len(f) < header.EthernetMinimumSize {
			continue
		}
		eth := header.Ethernet(f)
		switch eth.Type() {
		case header.ARPProtocolNumber:
			a := header.ARP(f[header.EthernetMinimumSize:])
			if a.IsValid() && a.Op() == header.ARPRequest && tcpip.AddrFromSlice(a.ProtocolAddressTarget()) == wireHostIP {
				w.send(arpFrame(header.ARPReply, wireGuestMAC, wireGuestIP))
			}
		case header.IPv4ProtocolNumber:
			ip := header.IPv4(f[header.EthernetMinimumSize:])
			if ip.IsValid(len(ip)) && ip.TransportProtocol() == header.ICMPv4ProtocolNumber {
				if ic := header.ICMPv4(ip.Payload()); len(ic) >= header.ICMPv4MinimumSize && ic.Type() == header.ICMPv4EchoReply {
					select {
					case w.pong <- ic.Sequence():
					default:
					}
				}
				continue
			}
			if !ip.IsValid(len(ip)) || ip.TransportProtocol() != header.UDPProtocolNumber {
				w.other++
				continue
			}
			u := header.UDP(ip.Payload())
			if len(u) >= header.UDPMinimumSize {
				select {
				case w.udp <- string(u.Payload()):
				default:
				}
			}
		}
	}
}

func ethFrame(dst tcpip.LinkAddress, typ tcpip.NetworkProtocolNumber, payload []byte) []byte {
	b := make([]byte, header.EthernetMinimumSize+len(payload))
	header.Ethernet(b).Encode(&header.EthernetFields{SrcAddr: wireHostMAC, DstAddr: dst, Type: typ})
	copy(b[header.EthernetMinimumSize:], payload)
	return b
}

// arpFrame is an ARP op from the host about itself to target.
func arpFrame(op header.ARPOp, dstMAC tcpip.LinkAddress, target tcpip.Address) []byte {
	a := header.ARP(make([]byte, header.ARPSize))
	a.SetIPv4OverEthernet()
	a.SetOp(op)
	copy(a.HardwareAddressSender(), wireHostMAC)
	copy(a.ProtocolAddressSender(), wireHostIP.AsSlice())
	copy(a.HardwareAddressTarget(), dstMAC)
	copy(a.ProtocolAddressTarget(), target.AsSlice())
	return ethFrame(dstMAC, header.ARPProtocolNumber, a)
}

// ipFrame is an IPv4 packet from the host to the guest, checksums right.
func ipFrame(proto tcpip.TransportProtocolNumber, transport []byte) []byte {
	b := make([]byte, header.IPv4MinimumSize+len(transport))
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(b)), TTL: 64, Protocol: uint8(proto), SrcAddr: wireHostIP, DstAddr: wireGuestIP})
	ip.SetChecksum(^ip.CalculateChecksum())
	copy(b[header.IPv4MinimumSize:], transport)
	return ethFrame(wireGuestMAC, header.IPv4ProtocolNumber, b)
}

func udpFrame(srcPort, dstPort uint16, payload []byte) []byte {
	u := header.UDP(make([]byte, header.UDPMinimumSize+len(payload)))
	u.Encode(&header.UDPFields{SrcPort: srcPort, DstPort: dstPort, Length: uint16(len(u))})
	copy(u.Payload(), payload)
	x := header.PseudoHeaderChecksum(header.UDPProtocolNumber, wireHostIP, wireGuestIP, uint16(len(u)))
	u.SetChecksum(^checksum.Checksum(u, x))
	return ipFrame(header.UDPProtocolNumber, u)
}

// pingFrame is an ICMP echo request with sequence number seq.
func pingFrame(seq uint16) []byte {
	ic := header.ICMPv4(make([]byte, header.ICMPv4MinimumSize+8))
	ic.SetType(header.ICMPv4Echo)
	ic.SetIdent(0x7274)
	ic.SetSequence(seq)
	copy(ic.Payload(), "rt0 ping")
	ic.SetChecksum(^checksum.Checksum(ic, 0))
	return ipFrame(header.ICMPv4ProtocolNumber, ic)
}

func synFrame(srcPort, dstPort uint16, seq uint32) []byte {
	t := header.TCP(make([]byte, header.TCPMinimumSize))
	t.Encode(&header.TCPFields{SrcPort: srcPort, DstPort: dstPort, SeqNum: seq, DataOffset: header.TCPMinimumSize, Flags: header.TCPFlagSyn, WindowSize: 65535})
	x := header.PseudoHeaderChecksum(header.TCPProtocolNumber, wireHostIP, wireGuestIP, uint16(len(t)))
	t.SetChecksum(^checksum.Checksum(t, x))
	return ipFrame(header.TCPProtocolNumber, t)
}

// hostileFrames are the malformed frames, each kind at least once.
func hostileFrames(r *rand.Rand) [][]byte {
	var fs [][]byte
	good := udpFrame(5000, 9999, []byte("ping"))
	const e = header.EthernetMinimumSize
	// Runts: less than an Ethernet header, a header and part of an IP one.
	for _, n := range []int{1, 6, 13, 14, 20, 33, 41} {
		fs = append(fs, good[:n])
	}
	// Giants.
	for _, n := range []int{1515, 1600, 9000, 65000} {
		g := make([]byte, n)
		copy(g, good)
		fs = append(fs, g)
	}
	mut := func(f func(b []byte)) {
		b := append([]byte(nil), good...)
		f(b)
		fs = append(fs, b)
	}
	mut(func(b []byte) { b[e] = 0x40 })                                        // IHL 0
	mut(func(b []byte) { b[e] = 0x4F })                                        // IHL 60 bytes, past the packet
	mut(func(b []byte) { b[e] = 0x65 })                                        // version 6 in an IPv4 frame
	mut(func(b []byte) { binary.BigEndian.PutUint16(b[e+2:], 9000) })          // total length past the frame
	mut(func(b []byte) { binary.BigEndian.PutUint16(b[e+2:], 10) })            // total length inside the header
	mut(func(b []byte) { b[e+10] ^= 0xFF })                                    // bad IP checksum
	mut(func(b []byte) { b[e+26] ^= 0xFF })                                    // bad UDP checksum
	mut(func(b []byte) { binary.BigEndian.PutUint16(b[e+24:], 4000) })         // UDP length past the packet
	mut(func(b []byte) { binary.BigEndian.PutUint16(b[e+24:], 3) })            // UDP length under its header
	mut(func(b []byte) { binary.BigEndian.PutUint16(b[e+6:], 0x2000|0x1FFF) }) // a fragment at the end of 64 KiB, more to come
	mut(func(b []byte) { binary.BigEndian.PutUint16(b[e+6:], 0x0001) })        // a last fragment of nothing
	mut(func(b []byte) { b[12], b[13] = 0x86, 0xDD })                          // IPv4 bytes called IPv6
	mut(func(b []byte) { b[12], b[13] = 0x08, 0x06 })                          // ... called ARP
	mut(func(b []byte) { b[12], b[13] = 0x81, 0x00 })                          // a VLAN tag of junk
	syn := synFrame(6000, 8080, 1)
	for _, off := range []int{0x50, 0xF0, 0x10} { // TCP data offsets: 20, 60 (past the end), 4 (inside the header)
		b := append([]byte(nil), syn...)
		b[e+header.IPv4MinimumSize+12] = byte(off)
		fs = append(fs, b)
	}
	// Fragments that overlap, and a fragment flood that never completes.
	for i := range 200 {
		mut(func(b []byte) {
			binary.BigEndian.PutUint16(b[e+4:], uint16(i))          // ID
			binary.BigEndian.PutUint16(b[e+6:], 0x2000|uint16(i%8)) // more fragments, small offsets
			b[e+10], b[e+11] = 0, 0
			header.IPv4(b[e:]).SetChecksum(^header.IPv4(b[e:]).CalculateChecksum())
		})
	}
	// Random bytes, as IPv4, IPv6, ARP and anything.
	for i := range 1000 {
		b := make([]byte, 14+r.IntN(1500))
		for k := range b {
			b[k] = byte(r.Uint32())
		}
		copy(b, wireGuestMAC)
		switch i % 4 {
		case 0:
			b[12], b[13] = 0x08, 0x00
		case 1:
			b[12], b[13] = 0x86, 0xDD
		case 2:
			b[12], b[13] = 0x08, 0x06
		}
		fs = append(fs, b)
	}
	return fs
}

func TestBootNICHostile(t *testing.T) {
	img := Build(t, "testdata/progs/netserve")
	for _, model := range []string{"virtio-net-pci", "e1000", "e1000e"} {
		t.Run(model, func(t *testing.T) {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			qport := freePort(t)
			w := &wire{c: c, qemu: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: qport}, udp: make(chan string, 64), pong: make(chan uint16, 64)}
			go w.run()
			cfg := qemu.Config{
				Kernel: img, SMP: 1, Timeout: 3 * time.Minute,
				Append: "ip=10.0.2.15::10.0.2.2:255.255.255.0",
				Net:    []string{fmt.Sprintf("socket,udp=%s,localaddr=127.0.0.1:%d,model=%s", c.LocalAddr(), qport, model)},
			}
			done := make(chan *qemu.Result, 1)
			go func() {
				res, err := qemu.Run(context.Background(), cfg)
				if err != nil {
					t.Errorf("qemu: %v", err)
				}
				done <- res
			}()
			// ask sends msg to the guest's UDP echo until it answers.
			ask := func(msg string, within time.Duration) bool {
				deadline := time.Now().Add(within)
				for time.Now().Before(deadline) {
					w.send(udpFrame(5000, 9999, []byte(msg)))
					tick := time.After(500 * time.Millisecond)
				wait:
					for {
						select {
						case got := <-w.udp:
							if got == "echo: "+msg {
								return true
							}
						case <-tick:
							break wait
						}
					}
				}
				return false
			}
			finish := func() *qemu.Result {
				w.send(udpFrame(5000, 9999, []byte("quit")))
				select {
				case res := <-done:
					return res
				case <-time.After(time.Minute):
					t.Fatal("the guest did not exit after quit")
				}
				return nil
			}
			if !ask("before", 2*time.Minute) {
				res := finish()
				t.Fatalf("no echo from the guest before the hostile frames\nserial:\n%s\ndebugcon:\n%s", res.Serial, res.Debug)
			}
			r := rand.New(rand.NewPCG(1, 2))
			frames := hostileFrames(r)
			for i, f := range frames {
				w.send(f)
				if i%20 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			// A SYN flood: 10 000 connections begun and never finished.
			for i := range 10_000 {
				w.send(synFrame(uint16(1024+i%60000), 8080, r.Uint32()))
				if i%20 == 0 {
					time.Sleep(time.Millisecond) // let the guest keep up: QEMU drops what its queue cannot hold
				}
			}
			ok := ask("after", time.Minute)
			// And the stack itself answers a ping (gVisor's ICMP).
			pinged := false
			for seq := uint16(1); seq <= 5 && !pinged; seq++ {
				w.send(pingFrame(seq))
				select {
				case got := <-w.pong:
					pinged = got == seq
				case <-time.After(2 * time.Second):
				}
			}
			res := finish()
			if !pinged {
				t.Errorf("no answer to an ICMP echo request after the hostile frames")
			}
			if !ok {
				t.Fatalf("no echo from the guest after %d hostile frames and a SYN flood\nserial:\n%s\ndebugcon:\n%s", len(frames), res.Serial, res.Debug)
			}
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\nserial:\n%s\ndebugcon:\n%s", res.ExitCode, res.Serial, res.Debug)
			}
			if strings.Contains(string(res.Debug), "fault") || strings.Contains(string(res.Serial), "panic") {
				t.Errorf("a fault or panic:\nserial:\n%s\ndebugcon:\n%s", res.Serial, res.Debug)
			}
			if w.other < 200 {
				t.Errorf("only %d answers to 10000 SYNs: the flood did not reach the guest's stack", w.other)
			}
			t.Logf("%d hostile frames and 10000 SYNs: the guest answered after; %d other frames from it", len(frames), w.other)
		})
	}
}
