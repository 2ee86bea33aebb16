package virtionet

import (
	"errors"
	"fmt"
	"time"

	"rt0/guest/net/pcidev"
)

// transport is what the network device needs of the bus it sits on once
// it is running: tell the device of new buffers, take its interrupt,
// read its configuration. pciTransport is virtio over PCI; the host tests
// give a fake.
type transport interface {
	// notify tells the device that queue has new available buffers.
	notify(queue uint16)
	// interruptStatus reads (and so clears) the ISR status: bit 0, a
	// queue has used buffers; bit 1, the configuration changed.
	interruptStatus() uint8
	// enableInterrupt lets the device interrupt again; waitInterrupt
	// blocks until it has interrupted since the last wait.
	enableInterrupt() error
	waitInterrupt() error
	// deviceConfig16 reads the 16-bit field at off of the device-specific
	// configuration (virtio_net_config).
	deviceConfig16(off uintptr) uint16
	// needsReset says whether the device has set DEVICE_NEEDS_RESET: it
	// hit an error and will not go on until reset.
	needsReset() bool
}

// Virtio over PCI ("Virtio Over PCI Bus", "Virtio Structure PCI
// Capabilities"): a modern device describes where its structures are
// with vendor-specific capabilities (ID 0x09) in configuration space,
//
//	0 cap_vndr 0x09, 1 cap_next, 2 cap_len, 3 cfg_type, 4 bar, 5-7 padding,
//	8 offset le32, 12 length le32  (the structure is at offset in BAR bar)
//	16 notify_off_multiplier le32  (only the notification capability)
//
// one per structure type. A device may list a type more than once; the
// driver uses the first it can ("The driver SHOULD use the first
// instance of each virtio structure type they can support").
const (
	pciCapVendor = 0x09

	capTypeCommon = 1 // VIRTIO_PCI_CAP_COMMON_CFG
	capTypeNotify = 2 // VIRTIO_PCI_CAP_NOTIFY_CFG
	capTypeISR    = 3 // VIRTIO_PCI_CAP_ISR_CFG
	capTypeDevice = 4 // VIRTIO_PCI_CAP_DEVICE_CFG

	capOffType       = 3
	capOffBAR        = 4
	capOffOffset     = 8
	capOffLength     = 12
	capOffMultiplier = 16
)

// The common configuration structure, virtio_pci_common_cfg ("Common
// configuration structure layout"). The queue_* fields are those of the
// queue queue_select names.
const (
	commonDeviceFeatureSelect = 0  // le32: which 32 bits device_feature shows
	commonDeviceFeature       = 4  // le32
	commonDriverFeatureSelect = 8  // le32
	commonDriverFeature       = 12 // le32
	commonMSIXConfig          = 16 // le16
	commonNumQueues           = 18 // le16
	commonDeviceStatus        = 20 // u8
	commonConfigGeneration    = 21 // u8
	commonQueueSelect         = 22 // le16
	commonQueueSize           = 24 // le16: on reset the maximum; the driver may lower it
	commonQueueMSIXVector     = 26 // le16
	commonQueueEnable         = 28 // le16
	commonQueueNotifyOff      = 30 // le16
	commonQueueDesc           = 32 // le64: descriptor table
	commonQueueDriver         = 40 // le64: available ring
	commonQueueDevice         = 48 // le64: used ring
	commonSize                = 56

	// VIRTIO_MSI_NO_VECTOR: no MSI-X vector for this event. The driver
	// leaves MSI-X disabled in its capability, so the device interrupts
	// by INTx and the ISR status register ("ISR status capability")
	// whatever the vectors say; writing NO_VECTOR for every event makes
	// that explicit.
	msixNoVector = 0xFFFF
)

// Device status bits ("Device Status Field").
const (
	statusAcknowledge      = 1   // the guest noticed the device
	statusDriver           = 2   // and has a driver for it
	statusDriverOK         = 4   // the driver is ready: the device may run
	statusFeaturesOK       = 8   // the driver accepted the features (the device may refuse)
	statusDeviceNeedsReset = 64  // the device hit an error it can't go on from
	statusFailed           = 128 // the driver gave up on the device
)

// mmioWindow is one structure: a range of a mapped BAR.
type mmioWindow struct {
	bar    *pcidev.MMIO
	off    uintptr
	length uint32
}

type pciTransport struct {
	dev              *pcidev.Dev
	common, isr, cfg mmioWindow
	notifyBase       mmioWindow
	notifyMultiplier uint32
	notifyOff        map[uint16]uintptr // queue → offset in notifyBase, from queue_notify_off
	irq              *pcidev.IRQ
}

// openPCI enables d (memory decoding and bus mastering, so the device
// can DMA), finds its four virtio structures, maps their BARs and opens
// its interrupt.
func openPCI(d *pcidev.Dev) (*pciTransport, error) {
	if err := d.Enable(); err != nil {
		return nil, err
	}
	caps, err := d.Capabilities(pciCapVendor)
	if err != nil {
		return nil, fmt.Errorf("%v: capabilities: %w", d, err)
	}
	t := &pciTransport{dev: d, notifyOff: map[uint16]uintptr{}}
	bars := map[int]*pcidev.MMIO{}
	found := map[uint8]bool{}
	for _, c := range caps {
		typ, err1 := d.ReadConfig(c+capOffType, 1)
		bar, err2 := d.ReadConfig(c+capOffBAR, 1)
		off, err3 := d.ReadConfig(c+capOffOffset, 4)
		length, err4 := d.ReadConfig(c+capOffLength, 4)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, err
		}
		var w *mmioWindow
		switch uint8(typ) {
		case capTypeCommon:
			w = &t.common
		case capTypeNotify:
			w = &t.notifyBase
		case capTypeISR:
			w = &t.isr
		case capTypeDevice:
			w = &t.cfg
		default:
			continue // PCI configuration access, shared memory, or later types
		}
		// Skip a reserved BAR number ("The driver MUST ignore any
		// vendor-specific capability structure which has a reserved bar
		// value") and a second instance of a type.
		if bar > 5 || found[uint8(typ)] {
			continue
		}
		m := bars[int(bar)]
		if m == nil {
			if m, err = d.MapBAR(int(bar)); err != nil {
				return nil, fmt.Errorf("%v: virtio structure %d: %w", d, typ, err)
			}
			bars[int(bar)] = m
		}
		*w = mmioWindow{bar: m, off: uintptr(off), length: length}
		if uint8(typ) == capTypeNotify {
			if t.notifyMultiplier, err = d.ReadConfig(c+capOffMultiplier, 4); err != nil {
				return nil, err
			}
		}
		found[uint8(typ)] = true
	}
	for _, need := range []struct {
		typ  uint8
		name string
	}{{capTypeCommon, "common configuration"}, {capTypeNotify, "notification"}, {capTypeISR, "ISR status"}, {capTypeDevice, "device configuration"}} {
		if !found[need.typ] {
			return nil, fmt.Errorf("%v: no virtio 1.0 %s capability: a legacy-only device (QEMU's disable-modern=on)?", d, need.name)
		}
	}
	if t.common.length < commonSize {
		return nil, fmt.Errorf("%v: common configuration of %d bytes, want %d", d, t.common.length, commonSize)
	}
	if t.irq, err = d.OpenIRQ(); err != nil {
		return nil, err
	}
	return t, nil
}

func (w mmioWindow) read8(off uintptr) uint8       { return w.bar.Read8(w.off + off) }
func (w mmioWindow) read16(off uintptr) uint16     { return w.bar.Read16(w.off + off) }
func (w mmioWindow) read32(off uintptr) uint32     { return w.bar.Read32(w.off + off) }
func (w mmioWindow) write8(off uintptr, v uint8)   { w.bar.Write8(w.off+off, v) }
func (w mmioWindow) write16(off uintptr, v uint16) { w.bar.Write16(w.off+off, v) }
func (w mmioWindow) write32(off uintptr, v uint32) { w.bar.Write32(w.off+off, v) }

// write64 writes a 64-bit field as two 32-bit halves, low first: the
// spec lets the driver access the halves independently ("Common
// configuration structure layout"), and not every device takes 64-bit
// accesses to its registers.
func (w mmioWindow) write64(off uintptr, v uint64) {
	w.write32(off, uint32(v))
	w.write32(off+4, uint32(v>>32))
}

func (t *pciTransport) status() uint8       { return t.common.read8(commonDeviceStatus) }
func (t *pciTransport) addStatus(bit uint8) { t.common.write8(commonDeviceStatus, t.status()|bit) }

// reset writes 0 to device_status and waits for it to read 0 ("After
// writing 0 to device_status, the driver MUST wait for a read of
// device_status to return 0 before reinitializing the device").
func (t *pciTransport) reset() error {
	t.common.write8(commonDeviceStatus, 0)
	for i := 0; t.status() != 0; i++ {
		if i == 1000 {
			return fmt.Errorf("%v: device status still %#x a second after reset", t.dev, t.status())
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// fail tells the device the driver gave up on it (FAILED).
func (t *pciTransport) fail() { t.addStatus(statusFailed) }

// negotiate reads the device's features, writes back those of want it
// offers, and sets FEATURES_OK, which the device confirms by keeping it
// set ("Feature Bits", and steps 4-6 of "Device Initialization"). It
// returns the features agreed on.
func (t *pciTransport) negotiate(want uint64) (uint64, error) {
	var offered uint64
	for half := uint32(0); half < 2; half++ {
		t.common.write32(commonDeviceFeatureSelect, half)
		offered |= uint64(t.common.read32(commonDeviceFeature)) << (32 * half)
	}
	agreed := offered & want
	for half := uint32(0); half < 2; half++ {
		t.common.write32(commonDriverFeatureSelect, half)
		t.common.write32(commonDriverFeature, uint32(agreed>>(32*half)))
	}
	if agreed&featureVersion1 == 0 {
		// Without VERSION_1 this is a legacy-only device: its layout
		// (the legacy I/O BAR, the 10-byte header) is not this driver's.
		return 0, fmt.Errorf("%v: the device does not offer VIRTIO_F_VERSION_1 (features %#x): legacy virtio is not supported", t.dev, offered)
	}
	t.addStatus(statusFeaturesOK)
	if t.status()&statusFeaturesOK == 0 {
		return 0, fmt.Errorf("%v: the device refused features %#x (FEATURES_OK did not stay set)", t.dev, agreed)
	}
	return agreed, nil
}

// maxQueueSizeOf is the largest queue size the device allows for queue,
// 0 if the queue does not exist.
func (t *pciTransport) maxQueueSizeOf(queue uint16) uint16 {
	if queue >= t.common.read16(commonNumQueues) {
		return 0
	}
	t.common.write16(commonQueueSelect, queue)
	return t.common.read16(commonQueueSize)
}

// setupQueue gives the device q's size and ring addresses and enables it
// ("Virtqueue Configuration"), and learns where q's notifications go.
func (t *pciTransport) setupQueue(q *virtqueue) error {
	c := t.common
	c.write16(commonQueueSelect, q.index)
	c.write16(commonQueueSize, q.size)
	c.write16(commonQueueMSIXVector, msixNoVector)
	c.write64(commonQueueDesc, q.descPhys())
	c.write64(commonQueueDriver, q.availPhys())
	c.write64(commonQueueDevice, q.usedPhys())
	// Notifications for this queue are 16-bit writes of its index at
	// cap.offset + queue_notify_off × notify_off_multiplier in the
	// notification capability's BAR ("Notification capability").
	off := uintptr(c.read16(commonQueueNotifyOff)) * uintptr(t.notifyMultiplier)
	if off+2 > uintptr(t.notifyBase.length) {
		return fmt.Errorf("%v: queue %d's notification address %#x is beyond the %#x-byte notification structure", t.dev, q.index, off, t.notifyBase.length)
	}
	t.notifyOff[q.index] = off
	c.write16(commonQueueEnable, 1)
	if c.read16(commonQueueEnable) != 1 {
		return fmt.Errorf("%v: queue %d did not enable", t.dev, q.index)
	}
	return nil
}

func (t *pciTransport) notify(queue uint16) { t.notifyBase.write16(t.notifyOff[queue], queue) }

// interruptStatus reads the ISR status byte. Reading it is the
// acknowledgement: it clears the bits, and with them the device's INTx
// assertion ("ISR status capability").
func (t *pciTransport) interruptStatus() uint8 { return t.isr.read8(0) }

func (t *pciTransport) enableInterrupt() error { return t.irq.Enable() }
func (t *pciTransport) waitInterrupt() error   { _, err := t.irq.Wait(); return err }

func (t *pciTransport) needsReset() bool { return t.status()&statusDeviceNeedsReset != 0 }

func (t *pciTransport) deviceConfig16(off uintptr) uint16 { return t.cfg.read16(off) }

// readDeviceConfig copies the device-specific configuration's bytes
// [off, off+len(b)) into b. Such a read of more than one field may tear
// if the device changes them meanwhile; config_generation changes when
// it does, so read until it is the same before and after ("Device
// Configuration Space").
func (t *pciTransport) readDeviceConfig(off uintptr, b []byte) error {
	if off+uintptr(len(b)) > uintptr(t.cfg.length) {
		return fmt.Errorf("%v: device configuration of %d bytes, want %d", t.dev, t.cfg.length, off+uintptr(len(b)))
	}
	for {
		gen := t.common.read8(commonConfigGeneration)
		for i := range b {
			b[i] = t.cfg.read8(off + uintptr(i))
		}
		if t.common.read8(commonConfigGeneration) == gen {
			return nil
		}
	}
}
