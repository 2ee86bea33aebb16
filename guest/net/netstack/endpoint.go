package netstack

import (
	"sync"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/stack/gro"

	"rt0/guest/net/link"
)

// endpoint is gVisor's link endpoint for the card: Ethernet framing, frames
// out through the driver in the caller's goroutine (the stack's own, so
// no hand-off per frame), frames in from the driver's Receive through GRO,
// which coalesces a batch's consecutive TCP segments of one connection
// into one before TCP sees them (the driver's flush ends a batch).
type endpoint struct {
	dev  link.Device
	mac  tcpip.LinkAddress
	mtu  uint32
	snd  func(frame []byte) error
	mu   sync.Mutex
	disp stack.NetworkDispatcher
	gro  gro.GRO
	bufs [][]byte // outgoing frames being gathered (under txMu)
	txMu sync.Mutex
	tx   func() // counts a frame sent (iface's counter)
}

var _ stack.LinkEndpoint = (*endpoint)(nil)

func newEndpoint(dev link.Device) *endpoint {
	mac := dev.MAC()
	e := &endpoint{dev: dev, mac: tcpip.LinkAddress(mac[:]), mtu: uint32(dev.MTU())}
	e.gro.Init(true)
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
// cards offer none over its user network).
func (e *endpoint) Capabilities() stack.LinkEndpointCapabilities {
	return stack.CapabilityResolutionRequired
}

// GSOMaxSize and SupportedGSO offer gVisor's own segmentation: TCP hands
// IP one segment of up to 64 KiB and splits it into MSS-sized packets in
// one pass (sendTCPBatch), so its sender's per-segment work (window,
// congestion and retransmit bookkeeping) is done once per 64 KiB, not once
// per 1448 bytes. What reaches WritePackets is still one MTU-sized packet
// each, checksummed: the card offers no offload of its own.
func (e *endpoint) GSOMaxSize() uint32               { return stack.GVisorGSOMaxSize }
func (e *endpoint) SupportedGSO() stack.SupportedGSO { return stack.GVisorGSOSupported }

var _ stack.GSOEndpoint = (*endpoint)(nil)

func (e *endpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	e.disp = d
	e.gro.Dispatcher = d
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

// WritePackets sends each packet as one frame, the batch with one
// doorbell where the driver can (link.BatchSender).
func (e *endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	e.txMu.Lock()
	defer e.txMu.Unlock()
	ps := pkts.AsSlice()
	for len(e.bufs) < len(ps) {
		e.bufs = append(e.bufs, make([]byte, 0, int(e.mtu)+header.EthernetMinimumSize))
	}
	frames := e.bufs[:len(ps)]
	for i, pkt := range ps {
		f := frames[i][:0]
		for _, s := range pkt.AsSlices() {
			f = append(f, s...)
		}
		frames[i] = f
	}
	if b, ok := e.dev.(link.BatchSender); ok && len(frames) > 1 {
		if err := b.SendBatch(frames); err != nil {
			return 0, &tcpip.ErrClosedForSend{}
		}
	} else {
		for i, f := range frames {
			if err := e.dev.Send(f); err != nil {
				if i == 0 {
					return 0, &tcpip.ErrClosedForSend{}
				}
				return i, nil
			}
		}
	}
	if e.tx != nil {
		for range frames {
			e.tx()
		}
	}
	return len(frames), nil
}

// deliver takes one received frame (the driver's goroutine).
func (e *endpoint) deliver(frame []byte) {
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
	e.gro.Enqueue(pkt)
}

// flush passes on what GRO holds (the end of the driver's batch).
func (e *endpoint) flush() { e.gro.Flush() }
