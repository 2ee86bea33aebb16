package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// segmentTCP is TCP segmentation offload done by the link endpoint: what a
// card with TSO does in hardware, and Linux's GSO in software just above
// the driver. The endpoint offers gVisor "host" GSO (endpoint.go), so TCP
// hands IP one segment of up to 64 KiB with its headers built once, and IP
// hands it to WritePackets as one packet; segmentTCP cuts it into frames
// of at most mss payload bytes each, copying the headers and fixing in
// each what differs:
//
//   - IPv4: the total length, the identification (the first segment's
//     plus its index, as Linux's TSO numbers them) and the header
//     checksum; IPv6: the payload length.
//   - TCP: the sequence number (the first's plus the payload before it);
//     FIN and PSH only on the last segment and CWR only on the first, as
//     Linux's tcp_gso_segment does; the checksum, computed in full over the
//     pseudo-header, header and payload (gVisor leaves a partial one, for a
//     card to finish).
//
// Against gVisor's own segmentation (GVisorGSO, sendTCPBatch), which this
// replaces, each frame skips IP's and the NIC's whole write path: a packet
// buffer, route and iptables checks, header pushes and statistics, once
// per 1448 bytes — a third of the CPU of a bulk send on rt0.
//
// src is the packet as gVisor keeps it: its bytes in order (link, network
// and transport headers, then payload) over any number of slices; l3 and
// l4 are the offsets of the IP and TCP headers and hdrLen the length of all
// three. A packet whose headers do not parse as said (too short, too long
// for hdrBuf) is not cut: segmentTCP returns false and emits nothing.
// newFrame returns an empty frame to fill (its capacity is a hint) and
// emit takes the filled frame.
func segmentTCP(src [][]byte, l3, l4, hdrLen int, v6 bool, mss int, newFrame func() []byte, emit func([]byte)) bool {
	var hdrBuf [maxSegmentHeaders]byte
	ipMin := header.IPv4MinimumSize
	if v6 {
		ipMin = header.IPv6MinimumSize
	}
	if l3 < 0 || l4-l3 < ipMin || hdrLen-l4 < header.TCPMinimumSize || hdrLen > len(hdrBuf) {
		return false
	}
	r := sliceReader{src: src}
	hdr := hdrBuf[:hdrLen]
	if r.read(hdr) < hdrLen {
		return false
	}
	tcp := header.TCP(hdr[l4:])
	if int(tcp.DataOffset()) != hdrLen-l4 {
		return false
	}
	payload := r.left()
	if mss <= 0 {
		mss = payload // nothing said: one segment
	}
	n := 1
	if payload > mss {
		n = (payload + mss - 1) / mss
	}
	seq, flags := tcp.SequenceNumber(), tcp.Flags()
	var id uint16
	if !v6 {
		id = header.IPv4(hdr[l3:]).ID()
	}
	for i, off := 0, 0; i < n; i++ {
		size := min(mss, payload-off)
		f := append(newFrame(), hdr...)
		f = r.appendTo(f, size)

		var pseudo uint16
		if v6 {
			ip := header.IPv6(f[l3:])
			ip.SetPayloadLength(uint16(len(f) - l3 - header.IPv6MinimumSize))
			pseudo = header.PseudoHeaderChecksum(header.TCPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(f)-l4))
		} else {
			ip := header.IPv4(f[l3:l4])
			ip.SetTotalLength(uint16(len(f) - l3))
			ip.SetID(id + uint16(i))
			ip.SetChecksum(0)
			ip.SetChecksum(^ip.CalculateChecksum())
			pseudo = header.PseudoHeaderChecksum(header.TCPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(f)-l4))
		}
		t := header.TCP(f[l4:])
		t.SetSequenceNumber(seq + uint32(off))
		fl := flags
		if i != n-1 {
			fl &^= header.TCPFlagFin | header.TCPFlagPsh
		}
		if i != 0 {
			fl &^= header.TCPFlagCwr
		}
		t.SetFlags(uint8(fl))
		t.SetChecksum(0)
		t.SetChecksum(^checksum.Checksum(f[l4:], pseudo))
		emit(f)
		off += size
	}
	return true
}

// maxSegmentHeaders holds the largest headers segmentTCP copies: Ethernet,
// an IPv4 header with 40 bytes of options or IPv6 with room for an
// extension header, and TCP with 40 bytes of options.
const maxSegmentHeaders = header.EthernetMinimumSize + header.IPv6MinimumSize + 64 + header.TCPMinimumSize + 40

// sliceReader reads a sequence of slices in order, as one stream.
type sliceReader struct {
	src [][]byte
	i   int // the slice being read
	off int // how much of it is read
}

// read copies the next len(p) bytes (or what is left) into p and says how
// many it copied.
func (r *sliceReader) read(p []byte) int {
	n := 0
	for n < len(p) && r.i < len(r.src) {
		c := copy(p[n:], r.src[r.i][r.off:])
		n += c
		r.advance(c)
	}
	return n
}

// appendTo appends the next size bytes (or what is left) to f.
func (r *sliceReader) appendTo(f []byte, size int) []byte {
	for size > 0 && r.i < len(r.src) {
		s := r.src[r.i][r.off:]
		s = s[:min(len(s), size)]
		f = append(f, s...)
		size -= len(s)
		r.advance(len(s))
	}
	return f
}

// advance moves past c bytes of the current slice, to the next non-empty
// slice when it is done.
func (r *sliceReader) advance(c int) {
	r.off += c
	for r.i < len(r.src) && r.off >= len(r.src[r.i]) {
		r.i++
		r.off = 0
	}
}

// left says how many bytes are still to read.
func (r *sliceReader) left() int {
	n := 0
	for j := r.i; j < len(r.src); j++ {
		n += len(r.src[j])
	}
	return n - r.off
}
