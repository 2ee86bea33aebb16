package netstack

import (
	"errors"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/stack/gro"

	"rt0/guest/net/link"
)

// endpoint is gVisor's link endpoint for the card: Ethernet framing;
// frames out, TCP's 64 KiB segments cut by the endpoint (segmentTCP,
// tso.go), in batches, one doorbell each (WritePackets); frames in from
// the driver's Receive through the ACK filter (ackfilter.go) and GRO,
// which coalesces a batch's consecutive TCP segments of one connection
// into one before TCP sees them (the driver's flush ends a batch).
type endpoint struct {
	dev  link.Device
	mac  tcpip.LinkAddress
	mtu  uint32
	mu   sync.Mutex
	disp stack.NetworkDispatcher
	gro  gro.GRO
	acks ackFilter // under the driver's Receive, like gro
	// rxValidated: the packet being delivered has had its checksums
	// checked (groOut).
	rxValidated atomic.Bool
	// Transmit: frames queued by WritePackets for the flusher.
	txMu     sync.Mutex
	pending  [][]byte // queued, in order (under txMu)
	free     [][]byte // frame buffers to reuse (under txMu)
	sendMu   sync.Mutex
	spare    [][]byte // pending's next array (under sendMu)
	doorbell chan struct{}
	// sent counts a batch the driver took (err nil) or failed, and
	// packets WritePackets drops (iface's counters); called under sendMu
	// for a batch.
	sent func(frames int, err error)
}

var _ stack.LinkEndpoint = (*endpoint)(nil)

func newEndpoint(dev link.Device) *endpoint {
	mac := dev.MAC()
	e := &endpoint{dev: dev, mac: tcpip.LinkAddress(mac[:]), mtu: uint32(dev.MTU())}
	e.gro.Init(true)
	e.acks.pass = e.deliverNow
	e.doorbell = make(chan struct{}, 1)
	go e.flusher()
	return e
}

func (e *endpoint) MTU() uint32                             { return e.mtu }
func (e *endpoint) SetMTU(mtu uint32)                       { e.mtu = mtu }
func (e *endpoint) MaxHeaderLength() uint16                 { return header.EthernetMinimumSize }
func (e *endpoint) LinkAddress() tcpip.LinkAddress          { return e.mac }
func (e *endpoint) SetLinkAddress(a tcpip.LinkAddress)      { e.mac = a }
func (e *endpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }
func (e *endpoint) Wait()                                   {}
func (e *endpoint) Close()                                  {}
func (e *endpoint) SetOnCloseAction(func())                 {}

// Capabilities: neighbours must be resolved (ARP, NDP); no offloads (QEMU's
// cards offer none over its user network), except that a packet whose
// checksums deliverNow checked is delivered saying so (groOut).
func (e *endpoint) Capabilities() stack.LinkEndpointCapabilities {
	c := stack.CapabilityResolutionRequired
	if e.rxValidated.Load() {
		c |= stack.CapabilityRXChecksumOffload
	}
	return c
}

// GSOMaxSize and SupportedGSO offer "host" segmentation offload, done by
// WritePackets in software (segmentTCP, tso.go): TCP hands IP one segment
// of up to 64 KiB, so its sender's per-segment work (window, congestion
// and retransmit bookkeeping) is done once per 64 KiB, and IP's and the
// NIC's write path once too; WritePackets cuts it into MTU-sized frames
// and checksums them, as the cards QEMU offers over its user network do
// not.
func (e *endpoint) GSOMaxSize() uint32               { return maxGSOSize }
func (e *endpoint) SupportedGSO() stack.SupportedGSO { return stack.HostGSOSupported }

// maxGSOSize is the largest packet TCP hands IP: IPv4's total length and
// IPv6's payload length are 16 bits (TCP keeps its segments that much
// below it, less the largest headers).
const maxGSOSize = 1 << 16

var _ stack.GSOEndpoint = (*endpoint)(nil)

func (e *endpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	e.disp = d
	e.gro.Dispatcher = (*groOut)(e)
	e.mu.Unlock()
}

func (e *endpoint) IsAttached() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.disp != nil
}

func (e *endpoint) AddHeader(pkt *stack.PacketBuffer) {
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{
		SrcAddr: pkt.EgressRoute.LocalLinkAddress,
		DstAddr: pkt.EgressRoute.RemoteLinkAddress,
		Type:    pkt.NetworkProtocolNumber,
	})
}

func (e *endpoint) ParseHeader(pkt *stack.PacketBuffer) bool {
	_, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	return ok
}

// WritePackets copies each packet into a frame of the pending batch and
// leaves the sending to the doorbell goroutine (flusher), which hands the
// driver all that is pending at once when it runs, that is when the
// goroutine that wrote (TCP's processor after a run of ACKs, or the
// program's writer) blocks, or at once on another CPU. A TCP packet left
// for the card to cut becomes its frames here (segment). gVisor's TCP
// writes one packet per call, and QEMU's user network acknowledges every
// segment, so without the batching nearly each ACK's answer would ring
// the card's doorbell, an exit to the emulator that waits for its big
// lock.
// A writer that finds maxPending frames pending sends them itself, so a
// stalled card stalls the writers rather than growing the queue.
//
// A frame is sent after WritePackets returns, so it reports every packet
// taken; a driver's error drops the batch and counts it (txErrors), as a
// Linux qdisc's drop is not the sender's error either.
func (e *endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	ps := pkts.AsSlice()
	dropped := 0
	e.txMu.Lock()
	for _, pkt := range ps {
		if cut, ok := e.segment(pkt); cut {
			if !ok {
				dropped++
			}
			continue
		}
		f := e.newFrame()
		for _, s := range pkt.AsSlices() {
			f = append(f, s...)
		}
		e.pending = append(e.pending, f)
	}
	full := len(e.pending) >= maxPending
	e.txMu.Unlock()
	if dropped > 0 && e.sent != nil {
		e.sent(dropped, errUncuttable)
	}
	if full {
		e.flushTx()
	} else {
		select {
		case e.doorbell <- struct{}{}:
		default: // already rung: the flusher takes these too
		}
	}
	return len(ps), nil
}

// segment queues the frames of a TCP packet that TCP left for the card to
// cut (GSOTCPv4, GSOTCPv6: every packet of a connection, small ones too,
// carries a checksum only partly computed). cut says the packet was one
// of those, ok that its frames are queued: one whose headers segmentTCP
// cannot parse is dropped, as sending it whole would put a frame over the
// MTU with a wrong checksum on the wire (the driver would refuse it, and
// its batch with it). Called with txMu held.
func (e *endpoint) segment(pkt *stack.PacketBuffer) (cut, ok bool) {
	gso := pkt.GSOOptions
	if gso.Type != stack.GSOTCPv4 && gso.Type != stack.GSOTCPv6 {
		return false, false
	}
	l3 := len(pkt.LinkHeader().Slice())
	l4 := l3 + len(pkt.NetworkHeader().Slice())
	hdrLen := l4 + len(pkt.TransportHeader().Slice())
	return true, segmentTCP(pkt.AsSlices(), l3, l4, hdrLen, gso.Type == stack.GSOTCPv6, int(gso.MSS), e.newFrame, e.queue)
}

// errUncuttable counts a TCP packet left for segmentation whose headers do
// not parse (segment).
var errUncuttable = errors.New("a TCP packet for segmentation with headers that do not parse")

// newFrame takes a frame buffer from the free list, or makes one. Called
// with txMu held.
func (e *endpoint) newFrame() []byte {
	if n := len(e.free); n > 0 {
		f := e.free[n-1]
		e.free = e.free[:n-1]
		return f
	}
	return make([]byte, 0, int(e.mtu)+header.EthernetMinimumSize)
}

// queue adds a filled frame to the pending batch. Called with txMu held.
func (e *endpoint) queue(f []byte) { e.pending = append(e.pending, f) }

// maxPending bounds the frames WritePackets queues before a writer sends
// them itself: a quarter of a 256-descriptor ring.
const maxPending = 64

// flusher sends what WritePackets queued, one batch per wake-up.
func (e *endpoint) flusher() {
	for range e.doorbell {
		e.flushTx()
	}
}

// flushTx sends every pending frame in one batch. sendMu keeps batches in
// order: the one taken first is sent first.
func (e *endpoint) flushTx() {
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	e.txMu.Lock()
	frames := e.pending
	e.pending = e.spare[:0]
	e.txMu.Unlock()
	if len(frames) == 0 {
		e.spare = frames
		return
	}
	var err error
	if b, ok := e.dev.(link.BatchSender); ok && len(frames) > 1 {
		err = b.SendBatch(frames)
	} else {
		for _, f := range frames {
			if err = e.dev.Send(f); err != nil {
				break
			}
		}
	}
	if e.sent != nil {
		e.sent(len(frames), err)
	}
	e.txMu.Lock()
	for i, f := range frames {
		e.free = append(e.free, f[:0])
		frames[i] = nil
	}
	e.txMu.Unlock()
	e.spare = frames[:0]
}

// deliver takes one received frame (the driver's goroutine), through the
// ACK filter.
func (e *endpoint) deliver(frame []byte) { e.acks.deliver(frame) }

// deliverNow hands a frame to the stack through GRO; validated says its
// IP and TCP checksums are right (the ACK filter's parseTCP checked them).
//
// GRO merges only TCP segments marked so: its own check of an unmarked
// one (gVisor's PacketData.ChecksumAtOffset) sums from the start of the
// buffer, the Ethernet header included, so it fails for every frame of a
// link endpoint that consumes a header, and GRO passes each segment on
// alone. And the checksum of a merged segment is its first segment's,
// which only a stack that trusts the marking accepts: the NIC overwrites
// RXChecksumValidated with its endpoint's RX checksum offload capability,
// which groOut reports for the marked packet it delivers.
func (e *endpoint) deliverNow(frame []byte, validated bool) {
	if len(frame) < header.EthernetMinimumSize {
		return // a runt: not even an Ethernet header
	}
	eth := header.Ethernet(frame)
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
	defer pkt.DecRef()
	if _, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize); !ok {
		return
	}
	switch dst := eth.DestinationAddress(); {
	case dst == header.EthernetBroadcastAddress:
		pkt.PktType = tcpip.PacketBroadcast
	case header.IsMulticastEthernetAddress(dst):
		pkt.PktType = tcpip.PacketMulticast
	case dst == e.mac:
		pkt.PktType = tcpip.PacketHost
	default:
		pkt.PktType = tcpip.PacketOtherHost
	}
	pkt.NetworkProtocolNumber = eth.Type()
	pkt.RXChecksumValidated = validated
	e.gro.Enqueue(pkt)
}

// groOut is GRO's dispatcher: the stack's, with the endpoint's RX checksum
// offload capability on while it delivers a packet whose checksums were
// checked (deliverNow). Only the driver's Receive goroutine delivers, so
// the capability is that packet's; nothing else in the stack reads it.
type groOut endpoint

func (g *groOut) DeliverNetworkPacket(protocol tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	e := (*endpoint)(g)
	if pkt.RXChecksumValidated {
		e.rxValidated.Store(true)
		defer e.rxValidated.Store(false)
	}
	e.disp.DeliverNetworkPacket(protocol, pkt)
}

func (g *groOut) DeliverLinkPacket(protocol tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	(*endpoint)(g).disp.DeliverLinkPacket(protocol, pkt)
}

// flush passes on what GRO holds (the end of the driver's batch).
func (e *endpoint) flush() {
	e.acks.flush()
	e.gro.Flush()
}
