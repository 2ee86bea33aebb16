// Package virtionet drives a virtio-net NIC (virtio 1.0, the "modern"
// PCI interface) from above the runtime, through pcidev: one receive and
// one transmit split virtqueue, the legacy INTx interrupt, no offloads.
//
// The files follow the spec's layers: dma.go, memory the device reaches
// and how the driver touches it; virtqueue.go, the split ring;
// pcitransport.go, virtio over PCI (capabilities, common configuration,
// notifications, ISR); netdev.go, the network device itself.
package virtionet

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"rt0/guest/net/link"
	"rt0/guest/net/pcidev"
)

// PCI IDs ("PCI Device IDs"): vendor 0x1AF4; a network device is 0x1000
// if transitional (it also has the legacy interface) and 0x1040+1 if
// modern only. Both have the virtio 1.0 capabilities this driver uses.
const (
	pciVendorVirtio          = 0x1AF4
	pciDeviceNetTransitional = 0x1000
	pciDeviceNetModern       = 0x1041
)

// Match says whether vendor:device is a virtio-net function.
func Match(vendor, device uint16) bool {
	return vendor == pciVendorVirtio && (device == pciDeviceNetTransitional || device == pciDeviceNetModern)
}

// Feature bits ("Reserved Feature Bits", "Network Device: Feature bits").
// The driver asks for these and no others: no checksum or segmentation
// offload (so the header it sends is all zeros and the one it receives
// says nothing), no mergeable receive buffers (so every received frame is
// in one buffer), no control queue, no multiqueue, no event index.
const (
	featureNetMAC    = 1 << 5  // VIRTIO_NET_F_MAC: the configuration has the MAC address
	featureNetStatus = 1 << 16 // VIRTIO_NET_F_STATUS: the configuration has the link status
	featureVersion1  = 1 << 32 // VIRTIO_F_VERSION_1: a virtio 1.0 device, not legacy

	wantedFeatures = featureVersion1 | featureNetMAC | featureNetStatus
)

// The device-specific configuration, virtio_net_config ("Network Device:
// Device configuration layout"): mac[6], then status le16.
const (
	netConfigMAC    = 0
	netConfigStatus = 6
	netStatusLinkUp = 1 // VIRTIO_NET_S_LINK_UP
)

// Queues and frames ("Network Device: Virtqueues", "Device Operation").
const (
	receiveQueue  = 0 // receiveq1
	transmitQueue = 1 // transmitq1

	// netHdrSize is struct virtio_net_hdr with VERSION_1: flags, gso_type,
	// hdr_len, gso_size, csum_start, csum_offset, num_buffers. Every
	// buffer starts with one, both ways; all zeros on transmit means no
	// checksum to fill in and no segmentation (VIRTIO_NET_HDR_GSO_NONE).
	netHdrSize = 12

	mtu        = 1500
	ethHdrSize = 14
	maxFrame   = ethHdrSize + mtu // without the FCS, which the device adds
	minFrame   = 60               // Ethernet's minimum without the FCS: shorter frames are padded
	// bufSize holds a header and the largest frame, and two fit a page.
	// Without mergeable buffers or GSO the spec asks for receive buffers
	// of at least 1526 bytes, netHdrSize + maxFrame ("Setting Up Receive
	// Buffers").
	bufSize   = 2048
	queueSize = maxQueueSize // at most: less if the device allows less
)

// txRetryWait bounds a sender's wait for a full transmit ring: after it
// the sender looks at the ring again even without an interrupt.
var txRetryWait = 5 * time.Millisecond

type netDevice struct {
	hw       transport
	mac      [6]byte
	features uint64
	rx       *virtqueue // only Receive's goroutine touches it once running
	tx       *virtqueue // under txMu

	txMu sync.Mutex
	// txReturned is closed (and replaced) whenever transmit descriptors
	// come back, to wake senders waiting for a full ring; under txMu.
	txReturned chan struct{}
	txWaiters  int // senders waiting; under txMu

	receiving atomic.Bool
}

// Open brings up virtio-net function d: the initialization sequence of
// "Device Initialization" (reset, ACKNOWLEDGE, DRIVER, features,
// FEATURES_OK, queues, DRIVER_OK), with every receive buffer posted.
func Open(d *pcidev.Dev) (link.Device, error) {
	if !Match(d.Vendor, d.Device) {
		return nil, fmt.Errorf("%v is not a virtio-net device", d)
	}
	t, err := openPCI(d)
	if err != nil {
		return nil, err
	}
	n, err := initDevice(t)
	if err != nil {
		t.fail()
		return nil, err
	}
	return n, nil
}

func initDevice(t *pciTransport) (*netDevice, error) {
	if err := t.reset(); err != nil {
		return nil, err
	}
	t.addStatus(statusAcknowledge)
	t.addStatus(statusDriver)
	features, err := t.negotiate(wantedFeatures)
	if err != nil {
		return nil, err
	}
	t.common.write16(commonMSIXConfig, msixNoVector)

	n := &netDevice{hw: t, features: features, txReturned: make(chan struct{})}
	if features&featureNetMAC != 0 {
		if err := t.readDeviceConfig(netConfigMAC, n.mac[:]); err != nil {
			return nil, err
		}
	} else {
		// The device has no address of its own; the spec expects the
		// driver to make one up (typically random and locally
		// administered). A fixed one is enough for one NIC on a user
		// network.
		n.mac = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	}
	if features&featureNetStatus != 0 && t.cfg.length < netConfigStatus+2 {
		return nil, fmt.Errorf("%v: device configuration of %d bytes has no status", t.dev, t.cfg.length)
	}

	alloc := dmaAllocator(pciAlloc)
	if n.rx, err = newQueueFor(t, alloc, receiveQueue, true); err != nil {
		return nil, err
	}
	if n.tx, err = newQueueFor(t, alloc, transmitQueue, false); err != nil {
		return nil, err
	}
	n.start()
	// No buffer notification before DRIVER_OK ("Device Initialization"
	// forbids it): the receive buffers wait in the ring until then.
	t.addStatus(statusDriverOK)
	if t.status()&statusDeviceNeedsReset != 0 {
		return nil, fmt.Errorf("%v: the device needs a reset right after DRIVER_OK", t.dev)
	}
	t.notify(receiveQueue)
	return n, nil
}

// newQueueFor builds queue index at the size the device allows (the
// largest power of two at most queueSize and its maximum) and gives it
// to the device.
func newQueueFor(t *pciTransport, alloc dmaAllocator, index uint16, deviceWrites bool) (*virtqueue, error) {
	deviceMax := t.maxQueueSizeOf(index)
	if deviceMax == 0 {
		return nil, fmt.Errorf("%v: no queue %d", t.dev, index)
	}
	size := uint16(queueSize)
	for size > deviceMax {
		size >>= 1
	}
	q, err := newVirtqueue(alloc, index, size, bufSize, deviceWrites)
	if err != nil {
		return nil, err
	}
	return q, t.setupQueue(q)
}

// start posts every receive buffer and asks for no transmit interrupts:
// the senders reclaim transmitted buffers themselves, and ask for an
// interrupt only while they wait for a full ring.
func (n *netDevice) start() {
	for {
		id, ok := n.rx.get()
		if !ok {
			break
		}
		n.rx.offer(id, bufSize)
	}
	n.rx.publish()
	n.tx.setInterrupts(false)
}

func (n *netDevice) Model() string { return "virtio-net" }
func (n *netDevice) MAC() [6]byte  { return n.mac }
func (n *netDevice) MTU() int      { return mtu }

// LinkUp reads the link status from the device's configuration when the
// device reports one (VIRTIO_NET_F_STATUS), otherwise says true: without
// that feature the spec has the driver assume the link is active.
func (n *netDevice) LinkUp() bool {
	if n.features&featureNetStatus == 0 {
		return true
	}
	return n.hw.deviceConfig16(netConfigStatus)&netStatusLinkUp != 0
}

// Send copies frame after a zeroed header into a free transmit buffer,
// offers it and notifies the device. With the ring full it waits for the
// device to return buffers.
func (n *netDevice) Send(frame []byte) error {
	n.txMu.Lock()
	defer n.txMu.Unlock()
	if err := n.post(frame); err != nil {
		return err
	}
	n.kick()
	return nil
}

// SendBatch is Send of each frame, with one notification for them all
// (the device takes the whole batch from the ring when it looks).
func (n *netDevice) SendBatch(frames [][]byte) error {
	n.txMu.Lock()
	defer n.txMu.Unlock()
	for _, f := range frames {
		if len(n.tx.free) == 0 {
			n.kick() // what is posted must reach the device before we wait for it
		}
		if err := n.post(f); err != nil {
			n.kick()
			return err
		}
	}
	n.kick()
	return nil
}

// kick makes the offered buffers visible and notifies the device if it
// wants to be. Called with txMu held.
func (n *netDevice) kick() {
	n.tx.publish()
	if n.tx.needsNotify() {
		n.hw.notify(transmitQueue)
	}
}

// post copies frame after a zeroed header into a free transmit buffer and
// offers it, not yet published. Called with txMu held.
func (n *netDevice) post(frame []byte) error {
	if len(frame) < ethHdrSize || len(frame) > maxFrame {
		return fmt.Errorf("virtio-net: a %d-byte frame (want %d to %d)", len(frame), ethHdrSize, maxFrame)
	}
	id, err := n.transmitDescriptor()
	if err != nil {
		return err
	}
	buf := n.tx.buffer(id)
	clear(buf[:netHdrSize])
	copy(buf[netHdrSize:], frame)
	length := len(frame)
	if length < minFrame {
		clear(buf[netHdrSize+length : netHdrSize+minFrame])
		length = minFrame
	}
	n.tx.offer(id, netHdrSize+length)
	return nil
}

// transmitDescriptor returns a free transmit descriptor, waiting while
// there is none. Called with txMu held; it releases it while it waits.
func (n *netDevice) transmitDescriptor() (uint16, error) {
	for {
		if err := n.reclaimTransmitted(); err != nil {
			return 0, err
		}
		if id, ok := n.tx.get(); ok {
			return id, nil
		}
		// Full: ask for an interrupt when the device returns one, then
		// look again (it may have returned one before the flag was
		// seen), then wait. Receive's goroutine takes the interrupt and
		// closes txReturned; the timer covers a device that does not
		// interrupt and a program that never calls Receive.
		if n.txWaiters == 0 {
			n.tx.setInterrupts(true)
		}
		n.txWaiters++
		if err := n.reclaimTransmitted(); err != nil {
			return 0, err
		}
		if len(n.tx.free) == 0 {
			returned := n.txReturned
			n.txMu.Unlock()
			timer := time.NewTimer(txRetryWait)
			select {
			case <-returned:
			case <-timer.C:
			}
			timer.Stop()
			n.txMu.Lock()
		}
		n.txWaiters--
		if n.txWaiters == 0 {
			n.tx.setInterrupts(false)
		}
	}
}

// reclaimTransmitted takes back the transmit descriptors the device has
// used and wakes the senders waiting for them. Called with txMu held.
func (n *netDevice) reclaimTransmitted() error {
	returned := false
	for {
		id, _, ok, err := n.tx.takeUsed()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		n.tx.put(id)
		returned = true
	}
	if returned && n.txWaiters > 0 {
		close(n.txReturned)
		n.txReturned = make(chan struct{})
	}
	return nil
}

// Receive delivers received frames until the device fails. Each round it
// drains the used receive ring (delivering each frame without its header
// and offering its buffer again), reclaims transmitted buffers, then
// acknowledges the interrupt by reading the ISR status, lets the device
// interrupt again, and waits only if nothing arrived meanwhile: a frame
// used between the drain and the ISR read raised an interrupt the read
// cleared, so the ring is looked at once more after it.
func (n *netDevice) Receive(deliver func(frame []byte), flush func()) error {
	if flush == nil {
		flush = func() {}
	}
	if !n.receiving.CompareAndSwap(false, true) {
		return errors.New("virtio-net: Receive is already running")
	}
	defer n.receiving.Store(false)
	for {
		if err := n.drainReceived(deliver); err != nil {
			return err
		}
		n.txMu.Lock()
		err := n.reclaimTransmitted()
		n.txMu.Unlock()
		if err != nil {
			return err
		}
		if isr := n.hw.interruptStatus(); isr&isrConfigChanged != 0 && n.hw.needsReset() {
			return errors.New("virtio-net: the device needs a reset (DEVICE_NEEDS_RESET)")
		}
		if err := n.hw.enableInterrupt(); err != nil {
			return err
		}
		if n.rx.usedPending() || n.transmitPending() {
			continue
		}
		flush()
		if err := n.hw.waitInterrupt(); err != nil {
			return err
		}
	}
}

const isrConfigChanged = 2 // ISR status bit 1: the device configuration changed

// drainReceived delivers every frame in the used receive ring and offers
// the buffers again.
func (n *netDevice) drainReceived(deliver func(frame []byte)) error {
	reposted := false
	for {
		id, written, ok, err := n.rx.takeUsed()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		// A frame shorter than its header plus an Ethernet header is
		// a device error; drop it rather than deliver garbage.
		if written >= netHdrSize+ethHdrSize {
			deliver(n.rx.buffer(id)[netHdrSize:written])
		}
		n.rx.offer(id, bufSize)
		reposted = true
	}
	if reposted {
		n.rx.publish()
		if n.rx.needsNotify() {
			n.hw.notify(receiveQueue)
		}
	}
	return nil
}

func (n *netDevice) transmitPending() bool {
	n.txMu.Lock()
	defer n.txMu.Unlock()
	return n.tx.usedPending()
}
