package netstack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// chop cuts f into slices at the given lengths (the rest is the last), as
// gVisor's views split a packet.
func chop(f []byte, lens ...int) [][]byte {
	var s [][]byte
	for _, n := range lens {
		s = append(s, f[:n])
		f = f[n:]
	}
	return append(s, f)
}

// tcpChecksumOK says whether the TCP checksum of frame (IP at l3, TCP at
// l4) is right.
func tcpChecksumOK(f []byte, l3, l4 int, v6 bool) bool {
	var src, dst tcpip.Address
	if v6 {
		ip := header.IPv6(f[l3:])
		src, dst = ip.SourceAddress(), ip.DestinationAddress()
	} else {
		ip := header.IPv4(f[l3:])
		src, dst = ip.SourceAddress(), ip.DestinationAddress()
	}
	x := header.PseudoHeaderChecksum(header.TCPProtocolNumber, src, dst, uint16(len(f)-l4))
	return checksum.Checksum(f[l4:], x) == 0xffff
}

// A 5000-byte segment with timestamps is cut into three full frames and a
// short one, each a packet a receiver accepts: lengths and checksums right,
// the sequence numbers and IPv4 identifications counting up, FIN and PSH
// only on the last, CWR only on the first, and the payload the original's,
// in order, whatever the slices it came in.
func TestSegmentTCP(t *testing.T) {
	const mss, data = 1448, 5000
	for _, v6 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v6=%v", v6), func(t *testing.T) {
			big := buildSegment(segment{v6: v6, sport: 8080, dport: 40000, seq: 0xfffff000, ack: 77,
				flags: header.TCPFlagAck | header.TCPFlagPsh | header.TCPFlagFin | header.TCPFlagCwr, opts: tsOpt, data: data})
			l3 := header.EthernetMinimumSize
			l4 := l3 + header.IPv4MinimumSize
			if v6 {
				l4 = l3 + header.IPv6MinimumSize
			} else {
				header.IPv4(big[l3:]).SetID(0xfffe)
			}
			hdrLen := l4 + header.TCPMinimumSize + len(tsOpt)
			// gVisor's partial checksum: segmentTCP must not trust it.
			header.TCP(big[l4:]).SetChecksum(0x1234)
			var frames [][]byte
			ok := segmentTCP(chop(big, 5, l4+3-5, 0, hdrLen+100-l4-3, 1, 2000), l3, l4, hdrLen, v6, mss,
				func() []byte { return make([]byte, 0, 1514) }, func(f []byte) { frames = append(frames, f) })
			if !ok || len(frames) != 4 {
				t.Fatalf("segmentTCP: %v, %d frames, want true, 4", ok, len(frames))
			}
			var payload []byte
			for i, f := range frames {
				want := min(mss, data-i*mss)
				if len(f) != hdrLen+want {
					t.Errorf("frame %d: %d bytes, want %d", i, len(f), hdrLen+want)
					continue
				}
				if !bytes.Equal(f[:l3], big[:l3]) {
					t.Errorf("frame %d: Ethernet header %x, want %x", i, f[:l3], big[:l3])
				}
				if v6 {
					if got := header.IPv6(f[l3:]).PayloadLength(); int(got) != len(f)-l4 {
						t.Errorf("frame %d: IPv6 payload length %d, want %d", i, got, len(f)-l4)
					}
				} else {
					ip := header.IPv4(f[l3:])
					if int(ip.TotalLength()) != len(f)-l3 || !ip.IsChecksumValid() || ip.ID() != uint16(0xfffe+i) {
						t.Errorf("frame %d: IPv4 length %d (want %d), checksum valid %v, ID %#x (want %#x)",
							i, ip.TotalLength(), len(f)-l3, ip.IsChecksumValid(), ip.ID(), uint16(0xfffe+i))
					}
				}
				tc := header.TCP(f[l4:])
				if !tcpChecksumOK(f, l3, l4, v6) {
					t.Errorf("frame %d: bad TCP checksum", i)
				}
				if want := uint32(0xfffff000 + i*mss); tc.SequenceNumber() != want {
					t.Errorf("frame %d: seq %#x, want %#x", i, tc.SequenceNumber(), want)
				}
				flags := header.TCPFlagAck
				if i == 0 {
					flags |= header.TCPFlagCwr
				}
				if i == len(frames)-1 {
					flags |= header.TCPFlagFin | header.TCPFlagPsh
				}
				if tc.Flags() != flags {
					t.Errorf("frame %d: flags %v, want %v", i, tc.Flags(), flags)
				}
				if tc.AckNumber() != 77 || !bytes.Equal(tc.Options(), tsOpt) {
					t.Errorf("frame %d: ack %d, options %x; want 77, %x", i, tc.AckNumber(), tc.Options(), tsOpt)
				}
				payload = append(payload, tc.Payload()...)
			}
			if !bytes.Equal(payload, big[hdrLen:]) {
				t.Error("the frames' payloads are not the segment's")
			}
		})
	}
}

// A segment within the MSS, a pure ACK among them, is one frame with its
// checksum completed; headers that do not parse are refused untouched.
func TestSegmentTCPSmallAndMalformed(t *testing.T) {
	l3, l4 := header.EthernetMinimumSize, header.EthernetMinimumSize+header.IPv4MinimumSize
	newFrame := func() []byte { return nil }
	for _, data := range []int{0, 1, 1448} {
		f := buildSegment(segment{sport: 1, dport: 2, seq: 9, ack: 5, flags: header.TCPFlagAck | header.TCPFlagPsh, data: data})
		header.TCP(f[l4:]).SetChecksum(0)
		var frames [][]byte
		ok := segmentTCP([][]byte{f}, l3, l4, l4+header.TCPMinimumSize, false, 1448, newFrame, func(f []byte) { frames = append(frames, f) })
		if !ok || len(frames) != 1 || len(frames[0]) != len(f) || !tcpChecksumOK(frames[0], l3, l4, false) ||
			header.TCP(frames[0][l4:]).Flags() != header.TCPFlagAck|header.TCPFlagPsh {
			t.Errorf("%d bytes: ok %v, %d frames, want one of %d bytes, checksummed, ACK|PSH", data, ok, len(frames), len(f))
		}
	}
	f := buildSegment(segment{sport: 1, dport: 2, flags: header.TCPFlagAck, opts: tsOpt, data: 10})
	emit := func([]byte) { t.Error("a frame emitted for a malformed packet") }
	for _, c := range []struct {
		name           string
		l3, l4, hdrLen int
		src            [][]byte
	}{
		{"IP header too short", l3, l3 + 10, l3 + 10 + 20, [][]byte{f}},
		{"TCP header too short", l3, l4, l4 + 10, [][]byte{f}},
		{"data offset not the header's length", l3, l4, l4 + 20, [][]byte{f}},
		{"headers longer than the packet", l3, l4, l4 + 32, [][]byte{f[:l4+8]}},
		{"headers too long to copy", l3, l4, maxSegmentHeaders + 1, [][]byte{make([]byte, 4000)}},
	} {
		if segmentTCP(c.src, c.l3, c.l4, c.hdrLen, false, 1448, newFrame, emit) {
			t.Errorf("%s: segmentTCP took it", c.name)
		}
	}
}

// wire joins two endpoints as a cable would: a card whose Send delivers to
// the peer's Receive.
type wireCard struct {
	mac    [6]byte
	peer   *wireCard
	frames chan []byte
	mu     sync.Mutex
	maxLen int // the longest frame sent
	sent   int
}

func (c *wireCard) Model() string { return "wire" }
func (c *wireCard) MAC() [6]byte  { return c.mac }
func (c *wireCard) MTU() int      { return 1500 }
func (c *wireCard) LinkUp() bool  { return true }
func (c *wireCard) Send(f []byte) error {
	c.mu.Lock()
	c.maxLen = max(c.maxLen, len(f))
	c.sent++
	c.mu.Unlock()
	c.peer.frames <- bytes.Clone(f)
	return nil
}
func (c *wireCard) Receive(deliver func([]byte), flush func()) error {
	for f := range c.frames {
		deliver(f)
		for more := true; more; {
			select {
			case f := <-c.frames:
				deliver(f)
			default:
				more = false
			}
		}
		flush()
	}
	return nil
}

func wireStack(t *testing.T, c *wireCard, addr tcpip.Address) *stack.Stack {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	e := newEndpoint(c)
	if err := s.CreateNIC(nicID, e); err != nil {
		t.Fatal(err)
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: addr.WithPrefix()}
	pa.AddressWithPrefix.PrefixLen = 24
	if err := s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: nicID}})
	go c.Receive(e.deliver, e.flush)
	return s
}

// Two stacks joined by a wire, each on this endpoint: 4 MiB over TCP
// arrive whole, in frames no longer than the MTU allows, with no checksum
// error on the receiver, and far fewer calls into IP than frames (TCP
// handed it 64 KiB segments to cut).
func TestSegmentationOverTheWire(t *testing.T) {
	a := &wireCard{mac: [6]byte{2, 0, 0, 0, 0, 1}, frames: make(chan []byte, 4096)}
	b := &wireCard{mac: [6]byte{2, 0, 0, 0, 0, 2}, frames: make(chan []byte, 4096), peer: a}
	a.peer = b
	addrA, addrB := tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), tcpip.AddrFrom4([4]byte{10, 0, 0, 2})
	sa, sb := wireStack(t, a, addrA), wireStack(t, b, addrB)
	defer sa.Close()
	defer sb.Close()

	ln, err := gonet.ListenTCP(sb, tcpip.FullAddress{NIC: nicID, Addr: addrB, Port: 9}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	want := make([]byte, 4<<20)
	for i := range want {
		want[i] = byte(i*7 + i>>11)
	}
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := gonet.DialContextTCP(ctx, sa, tcpip.FullAddress{NIC: nicID, Addr: addrB, Port: 9}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(want); err != nil {
		t.Fatalf("sending: %v (receiver's TCP checksum errors: %d)", err, sb.Stats().TCP.ChecksumErrors.Value())
	}
	c.Close()
	select {
	case b := <-got:
		if !bytes.Equal(b, want) {
			t.Errorf("received %d bytes, not the %d sent", len(b), len(want))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the transfer did not end in 30 s")
	}
	if e := sb.Stats().TCP.ChecksumErrors.Value(); e != 0 {
		t.Errorf("the receiver counted %d TCP checksum errors", e)
	}
	if e := sb.Stats().IP.MalformedPacketsReceived.Value(); e != 0 {
		t.Errorf("the receiver counted %d malformed IP packets", e)
	}
	a.mu.Lock()
	maxLen, sent := a.maxLen, a.sent
	a.mu.Unlock()
	if maxLen > header.EthernetMinimumSize+1500 {
		t.Errorf("a %d-byte frame was sent, over the MTU", maxLen)
	}
	ipCalls := sa.Stats().IP.PacketsSent.Value()
	if sent < len(want)/1500 || ipCalls*4 > uint64(sent) {
		t.Errorf("%d frames sent for %d IP packets: want at least %d frames, 4 per IP packet", sent, ipCalls, len(want)/1500)
	}
	t.Logf("%d frames from %d IP packets", sent, ipCalls)
}

// A packet left for segmentation whose headers do not parse is dropped and
// counted, not sent whole; the packets after it go out.
func TestWritePacketsDropsUncuttable(t *testing.T) {
	card := &fakeCard{}
	e := newEndpoint(card)
	var mu sync.Mutex
	var dropped []error
	e.sent = func(n int, err error) {
		mu.Lock()
		defer mu.Unlock()
		for range n {
			if err != nil {
				dropped = append(dropped, err)
			}
		}
	}
	l := packets("no headers at all, 40 bytes of payload...", "next")
	l.AsSlice()[0].GSOOptions = stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, MSS: 1448}
	e.WritePackets(l)
	l.DecRef()
	waitSent(t, card, 1)
	time.Sleep(10 * time.Millisecond) // a wrongly sent first packet would be in the same batch
	frames, _ := card.sent()
	if fmt.Sprint(frames) != "[next]" {
		t.Errorf("sent %q, want only [next]", frames)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dropped) != 1 || dropped[0] != errUncuttable {
		t.Errorf("counted drops %v, want one errUncuttable", dropped)
	}
}
