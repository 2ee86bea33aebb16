package netstack

import (
	"encoding/binary"
	"fmt"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// segment describes a TCP segment for buildSegment.
type segment struct {
	v6           bool
	sport, dport uint16
	seq, ack     uint32
	flags        header.TCPFlags
	opts         []byte // TCP options, a multiple of 4 bytes
	data         int    // bytes of payload
	badSum       bool   // spoil the TCP checksum
	badIPSum     bool   // spoil the IPv4 header checksum
}

var (
	hostIP4, guestIP4 = tcpip.AddrFrom4([4]byte{10, 0, 2, 2}), tcpip.AddrFrom4([4]byte{10, 0, 2, 15})
	hostIP6, guestIP6 = tcpip.AddrFrom16([16]byte{0xfe, 0x80, 15: 2}), tcpip.AddrFrom16([16]byte{0xfe, 0x80, 15: 15})
)

// buildSegment builds an Ethernet frame holding s from the host to the guest,
// with right checksums unless s.badSum.
func buildSegment(s segment) []byte {
	tcpLen := header.TCPMinimumSize + len(s.opts) + s.data
	src, dst := hostIP4, guestIP4
	ipLen, proto := header.IPv4MinimumSize, header.IPv4ProtocolNumber
	if s.v6 {
		src, dst = hostIP6, guestIP6
		ipLen, proto = header.IPv6MinimumSize, header.IPv6ProtocolNumber
	}
	f := make([]byte, header.EthernetMinimumSize+ipLen+tcpLen)
	header.Ethernet(f).Encode(&header.EthernetFields{
		SrcAddr: "\x52\x55\x0a\x00\x02\x02", DstAddr: "\x52\x54\x00\x12\x34\x56", Type: proto})
	ip := f[header.EthernetMinimumSize:]
	if s.v6 {
		header.IPv6(ip).Encode(&header.IPv6Fields{PayloadLength: uint16(tcpLen),
			TransportProtocol: header.TCPProtocolNumber, HopLimit: 64, SrcAddr: src, DstAddr: dst})
	} else {
		h := header.IPv4(ip)
		h.Encode(&header.IPv4Fields{TotalLength: uint16(ipLen + tcpLen), TTL: 64,
			Protocol: uint8(header.TCPProtocolNumber), SrcAddr: src, DstAddr: dst})
		h.SetChecksum(^h.CalculateChecksum())
	}
	tcp := header.TCP(ip[ipLen:])
	tcp.Encode(&header.TCPFields{SrcPort: s.sport, DstPort: s.dport, SeqNum: s.seq,
		AckNum: s.ack, DataOffset: uint8(header.TCPMinimumSize + len(s.opts)), Flags: s.flags, WindowSize: 65535})
	copy(tcp[header.TCPMinimumSize:], s.opts)
	for i := range s.data {
		tcp[header.TCPMinimumSize+len(s.opts)+i] = byte(i)
	}
	xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, src, dst, uint16(tcpLen))
	xsum = checksum.Checksum(tcp[tcp.DataOffset():], xsum)
	tcp.SetChecksum(^tcp.CalculateChecksum(xsum))
	if s.badSum {
		tcp.SetChecksum(tcp.Checksum() + 1)
	}
	if s.badIPSum && !s.v6 {
		h := header.IPv4(ip)
		h.SetChecksum(h.Checksum() + 1)
	}
	return f
}

// describe names a delivered frame by its port and acknowledgement number.
func describe(f []byte) string {
	t, ok := parseTCP(f)
	if !ok {
		return "other"
	}
	k := "ack"
	if !t.pure {
		k = "seg"
	}
	return fmt.Sprintf("%s:%d:%d", k, t.flow.sport, t.ack)
}

var tsOpt = []byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionTS, header.TCPOptionTSLength, 0, 0, 0, 1, 0, 0, 0, 2}

func TestACKFilter(t *testing.T) {
	ack := func(port uint16, n uint32) segment {
		return segment{sport: port, dport: 8080, ack: n, flags: header.TCPFlagAck, opts: tsOpt}
	}
	with := func(s segment, f func(*segment)) segment { f(&s); return s }
	sack := []byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionSACK, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	for _, c := range []struct {
		name string
		in   []segment
		want []string // what reaches the stack, in order, after the batch's flush
	}{
		{"a run keeps its last", []segment{ack(1, 100), ack(1, 200), ack(1, 300)}, []string{"ack:1:300"}},
		{"without options", []segment{with(ack(1, 100), func(s *segment) { s.opts = nil }), with(ack(1, 200), func(s *segment) { s.opts = nil })}, []string{"ack:1:200"}},
		{"IPv6", []segment{with(ack(1, 100), func(s *segment) { s.v6 = true }), with(ack(1, 200), func(s *segment) { s.v6 = true })}, []string{"ack:1:200"}},
		{"IPv4 and IPv6 are two flows", []segment{ack(1, 100), with(ack(1, 200), func(s *segment) { s.v6 = true })}, []string{"ack:1:100", "ack:1:200"}},
		{"duplicates all pass", []segment{ack(1, 100), ack(1, 100), ack(1, 100)}, []string{"ack:1:100", "ack:1:100", "ack:1:100"}},
		{"an older ACK does not replace", []segment{ack(1, 200), ack(1, 100)}, []string{"ack:1:200", "ack:1:100"}},
		{"sequence numbers wrap", []segment{ack(1, 0xFFFFFF00), ack(1, 0x100)}, []string{"ack:1:256"}},
		{"data releases the held ACK first", []segment{ack(1, 100), with(ack(1, 200), func(s *segment) { s.data = 10 }), ack(1, 300)},
			[]string{"ack:1:100", "seg:1:200", "ack:1:300"}},
		{"flows are apart", []segment{ack(1, 100), ack(2, 100), ack(1, 200), ack(2, 200)}, []string{"ack:1:200", "ack:2:200"}},
		{"other flags pass", []segment{ack(1, 100), with(ack(1, 200), func(s *segment) { s.flags |= header.TCPFlagFin }), ack(1, 300)},
			[]string{"ack:1:100", "seg:1:200", "ack:1:300"}},
		{"SACK blocks pass", []segment{ack(1, 100), with(ack(1, 200), func(s *segment) { s.opts = sack }), ack(1, 300)},
			[]string{"ack:1:100", "seg:1:200", "ack:1:300"}},
		{"a bad checksum replaces nothing", []segment{ack(1, 100), with(ack(1, 200), func(s *segment) { s.badSum = true })},
			[]string{"ack:1:100", "seg:1:200"}},
		{"a bad IP checksum replaces nothing", []segment{ack(1, 100), with(ack(1, 200), func(s *segment) { s.badIPSum = true })},
			[]string{"ack:1:100", "seg:1:200"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			f := ackFilter{pass: func(frame []byte, _ bool) { got = append(got, describe(frame)) }}
			for _, s := range c.in {
				f.deliver(buildSegment(s))
			}
			f.flush()
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("delivered %v, want %v", got, c.want)
			}
		})
	}
}

// Held ACKs are copies: the driver reuses its buffer after deliver.
func TestACKFilterCopies(t *testing.T) {
	var got []string
	f := ackFilter{pass: func(frame []byte, _ bool) { got = append(got, describe(frame)) }}
	buf := buildSegment(segment{sport: 1, dport: 8080, ack: 100, flags: header.TCPFlagAck})
	f.deliver(buf)
	clear(buf)
	f.flush()
	if fmt.Sprint(got) != "[ack:1:100]" {
		t.Errorf("delivered %v after the driver's buffer was cleared", got)
	}
}

// More flows than slots: the extra ones pass at once, nothing is lost.
func TestACKFilterFull(t *testing.T) {
	n := 0
	f := ackFilter{pass: func([]byte, bool) { n++ }}
	flows := len(f.held) + 3
	for p := range flows {
		f.deliver(buildSegment(segment{sport: uint16(p + 1), dport: 8080, ack: 1, flags: header.TCPFlagAck}))
	}
	if n != 3 {
		t.Errorf("%d passed before the flush, want 3", n)
	}
	f.flush()
	if n != flows || f.n != 0 {
		t.Errorf("%d delivered, %d still held, want %d and 0", n, f.n, flows)
	}
}

// Frames the filter cannot parse pass untouched: runts, truncated and
// lying headers, other protocols.
func TestACKFilterMalformed(t *testing.T) {
	good := buildSegment(segment{sport: 1, dport: 8080, ack: 5, flags: header.TCPFlagAck})
	lying := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(lying[header.EthernetMinimumSize+2:], 2000) // IPv4 total length
	offset := append([]byte(nil), good...)
	offset[header.EthernetMinimumSize+header.IPv4MinimumSize+12] = 0xF0 // data offset 60 > segment
	arp := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(arp[12:], uint16(header.ARPProtocolNumber))
	for _, f := range [][]byte{nil, good[:10], good[:header.EthernetMinimumSize+10], good[:len(good)-4], lying, offset, arp} {
		n := 0
		filter := ackFilter{pass: func([]byte, bool) { n++ }}
		filter.deliver(f)
		if n != 1 || filter.n != 0 {
			t.Errorf("% x: passed %d times, %d held; want passed at once", f, n, filter.n)
		}
	}
}
