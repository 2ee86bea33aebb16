package netstack

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// ackFilter thins the pure ACKs of one receive batch: of a run of pure
// ACKs of one connection, each acknowledging more than the one before,
// only the last reaches the stack. TCP's acknowledgements are cumulative,
// so the last says all the earlier ones did (its window and timestamp are
// the newest too), and gVisor's sender grows its window by the data
// acknowledged, not by the count of ACKs. A sender whose peer acks every
// segment (QEMU's user network does) otherwise pays the stack's whole
// receive path, IP, demultiplexing and TCP's sender bookkeeping, once per
// segment it sent: here that is a quarter of the CPU of a bulk send. This
// is the ACK compression FreeBSD's LRO does for the same reason.
//
// What is never merged: a duplicate ACK (the same acknowledgement number:
// fast retransmit counts them), an ACK with data, any other flag, SACK
// blocks or other options than timestamps and padding, a segment whose
// checksum is wrong, and anything not TCP over IPv4 or IPv6 without
// extension headers; a segment of a connection with an ACK held first
// releases it, so one connection's segments keep their order.
//
// The filter holds at most len(held) ACKs, one per connection, copied (the
// driver's frame is valid only during the call); flush releases them at
// the end of the driver's batch, so nothing is held while the driver
// waits for the next interrupt.
type ackFilter struct {
	held [8]heldACK
	n    int
	// pass delivers a frame to the stack; validated says parseTCP found
	// it TCP with right checksums.
	pass func(frame []byte, validated bool)
}

type heldACK struct {
	flow flowKey
	ack  uint32
	len  int
	buf  [maxACKFrame]byte
}

// maxACKFrame holds the largest pure ACK the filter keeps: Ethernet, IPv6
// and TCP with 40 bytes of options.
const maxACKFrame = header.EthernetMinimumSize + header.IPv6MinimumSize + header.TCPMinimumSize + 40

// flowKey names a connection as the frame carries it: the IP version,
// the two addresses and the two ports.
type flowKey struct {
	version      uint8
	src, dst     [16]byte
	sport, dport uint16
}

// deliver passes frame to the stack, or holds it if it is a pure ACK that
// a later one of the batch may supersede.
func (f *ackFilter) deliver(frame []byte) {
	t, ok := parseTCP(frame)
	if !ok {
		f.pass(frame, false)
		return
	}
	i := f.find(t.flow)
	if i >= 0 {
		h := &f.held[i]
		if t.pure && int32(t.ack-h.ack) > 0 {
			h.ack, h.len = t.ack, copy(h.buf[:], frame)
			return
		}
		f.release(i)
	}
	if t.pure && f.n < len(f.held) {
		h := &f.held[f.n]
		f.n++
		h.flow, h.ack, h.len = t.flow, t.ack, copy(h.buf[:], frame)
		return
	}
	f.pass(frame, t.valid)
}

// flush releases every held ACK.
func (f *ackFilter) flush() {
	for f.n > 0 {
		f.release(0)
	}
}

func (f *ackFilter) find(flow flowKey) int {
	for i := 0; i < f.n; i++ {
		if f.held[i].flow == flow {
			return i
		}
	}
	return -1
}

// release delivers held ACK i and forgets it.
func (f *ackFilter) release(i int) {
	h := f.held[i]
	f.n--
	f.held[i] = f.held[f.n]
	f.pass(h.buf[:h.len], true) // only valid ACKs are held
}

// A tcpFrame is what parseTCP learns of a frame holding a TCP segment.
type tcpFrame struct {
	flow flowKey
	ack  uint32
	// valid: the IPv4 header's checksum and the segment's are right.
	valid bool
	// pure: an ACK the filter may hold: flags ACK alone, no data, only
	// timestamp and padding options, valid, and small enough to copy.
	pure bool
}

// parseTCP finds the TCP segment in an Ethernet frame: ok says it is TCP
// over IPv4 or IPv6 (no fragment, no extension header, lengths that add
// up). It checks the checksums, so the stack need not (endpoint.go's
// deliverNow).
func parseTCP(frame []byte) (t tcpFrame, ok bool) {
	if len(frame) < header.EthernetMinimumSize {
		return t, false
	}
	var tcp header.TCP
	var src, dst tcpip.Address
	ipValid := true
	switch header.Ethernet(frame).Type() {
	case header.IPv4ProtocolNumber:
		ip := header.IPv4(frame[header.EthernetMinimumSize:])
		if !ip.IsValid(len(ip)) || ip.Protocol() != uint8(header.TCPProtocolNumber) ||
			ip.More() || ip.FragmentOffset() != 0 {
			return t, false
		}
		tcp = header.TCP(ip[ip.HeaderLength():ip.TotalLength()])
		src, dst = ip.SourceAddress(), ip.DestinationAddress()
		t.flow.version = 4
		ipValid = ip.IsChecksumValid()
	case header.IPv6ProtocolNumber:
		ip := header.IPv6(frame[header.EthernetMinimumSize:])
		if !ip.IsValid(len(ip)) || ip.NextHeader() != uint8(header.TCPProtocolNumber) {
			return t, false
		}
		tcp = header.TCP(ip[header.IPv6MinimumSize : header.IPv6MinimumSize+int(ip.PayloadLength())])
		src, dst = ip.SourceAddress(), ip.DestinationAddress()
		t.flow.version = 6
	default:
		return t, false
	}
	if len(tcp) < header.TCPMinimumSize {
		return t, false
	}
	off := int(tcp.DataOffset())
	if off < header.TCPMinimumSize || off > len(tcp) {
		return t, false
	}
	copy(t.flow.src[:], src.AsSlice())
	copy(t.flow.dst[:], dst.AsSlice())
	t.flow.sport, t.flow.dport = tcp.SourcePort(), tcp.DestinationPort()
	t.ack = binary.BigEndian.Uint32(tcp[header.TCPAckNumOffset:])
	payload := tcp[off:]
	t.valid = ipValid && tcp.IsChecksumValid(src, dst, checksum.Checksum(payload, 0), uint16(len(payload)))
	t.pure = t.valid && tcp.Flags() == header.TCPFlagAck && len(payload) == 0 &&
		len(frame) <= maxACKFrame && onlyTimestamps(tcp.Options())
	return t, true
}

// onlyTimestamps says whether TCP options opts hold nothing but
// timestamps, NOPs and the end of the list.
func onlyTimestamps(opts []byte) bool {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case header.TCPOptionEOL:
			return true
		case header.TCPOptionNOP:
			i++
		case header.TCPOptionTS:
			if i+1 >= len(opts) || opts[i+1] != header.TCPOptionTSLength {
				return false
			}
			i += header.TCPOptionTSLength
		default:
			return false
		}
	}
	return true
}
