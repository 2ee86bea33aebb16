// Package e1000 drives Intel's 8254x gigabit Ethernet controllers as QEMU
// emulates them: the 82540EM (QEMU's "e1000", the pc machine's NIC) and
// the 82574L (QEMU's "e1000e", the q35 machine's), both through legacy
// descriptors and the legacy (INTx) interrupt. It is ordinary Go above
// the runtime: it reaches the device through rt0/guest/net/pcidev
// (registers mapped from BAR 0, DMA memory, the interrupt as a uio file)
// and gives the network stack a link.Device.
package e1000

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"rt0/guest/net/link"
	"rt0/guest/net/pcidev"
)

// interrupt is the device's interrupt as Receive uses it; *pcidev.IRQ is
// one.
type interrupt interface {
	// Wait blocks until the device has interrupted since the last Wait.
	Wait() (uint32, error)
	// Enable lets it interrupt again.
	Enable() error
}

// Device is one running controller: a link.Device.
type Device struct {
	model string
	mac   [6]byte
	regs  registers
	irq   interrupt

	txMu   sync.Mutex
	tx     *txRing       // under txMu
	txDone chan struct{} // a token when TXDW reports finished descriptors

	rx        *rxRing     // Receive's alone
	receiving atomic.Bool // Receive is running
}

var _ link.Device = (*Device)(nil)

// ringMemory is the DMA memory of both rings: each ring's descriptors
// (one page each) and ringLen buffers of bufSize bytes.
type ringMemory struct {
	rxDesc, rxBufs, txDesc, txBufs dmaRegion
}

// allocRingMemory allocates ringMemory from pcidev: one allocation for
// the two descriptor pages and one for each ring's buffers.
func allocRingMemory() (ringMemory, error) {
	descs, err := pcidev.AllocDMA(2 * 4096)
	if err != nil {
		return ringMemory{}, err
	}
	rxBufs, err := pcidev.AllocDMA(ringLen * bufSize)
	if err != nil {
		return ringMemory{}, err
	}
	txBufs, err := pcidev.AllocDMA(ringLen * bufSize)
	if err != nil {
		return ringMemory{}, err
	}
	return ringMemory{
		rxDesc: region(descs, 0, 4096),
		txDesc: region(descs, 4096, 4096),
		rxBufs: region(rxBufs, 0, ringLen*bufSize),
		txBufs: region(txBufs, 0, ringLen*bufSize),
	}, nil
}

// region is bytes [off, off+size) of m.
func region(m *pcidev.DMA, off, size int) dmaRegion {
	return dmaRegion{buf: m.Buf[off : off+size], phys: func(o int) uint64 { return m.Phys(off + o) }}
}

// Open resets and starts the controller d, which Match accepts: its
// registers are memory BAR 0, its interrupt d's uio device.
func Open(d *pcidev.Dev) (link.Device, error) {
	c, ok := chips[d.Device]
	if !ok || d.Vendor != vendorIntel {
		return nil, fmt.Errorf("e1000: %v is not a controller this driver runs", d)
	}
	// Memory decoding for the registers, bus mastering for the DMA
	// (without it the device can neither fetch descriptors nor write
	// frames).
	if err := d.Enable(); err != nil {
		return nil, err
	}
	mmio, err := d.MapBAR(0)
	if err != nil {
		return nil, err
	}
	irq, err := d.OpenIRQ()
	if err != nil {
		return nil, err
	}
	mem, err := allocRingMemory()
	if err != nil {
		return nil, err
	}
	dev, err := start(mmio, irq, c, mem)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", d, err)
	}
	return dev, nil
}

// Timing of the reset: the 8257x manuals ask for about 1 ms after setting
// CTRL.RST before touching any register; the 8254x's needs a few
// microseconds. resetTimeout bounds the wait for RST to clear itself.
const (
	resetSettle  = time.Millisecond
	resetTimeout = 100 * time.Millisecond
)

// Registers set to zero because this driver uses no flow control (8254x
// manual 14.3, "General Configuration": FCAL, FCAH, FCT and FCTTV are
// written 0 when it is not used).
var flowControlRegs = []uintptr{0x0028, 0x002C, 0x0030, 0x0170}

// start brings the controller up in the order of the 8254x manual's
// chapter 14, "General Initialization and Reset Operation": reset with
// interrupts masked, link and MAC configuration, the receive filter, the
// receive and transmit rings, and last the interrupts.
func start(regs registers, irq interrupt, c chip, mem ringMemory) (*Device, error) {
	// Mask every interrupt cause, then reset the MAC (CTRL.RST is
	// self-clearing; the reset leaves the PCI configuration, bus
	// mastering included, alone). The manual masks again after the
	// reset, since the reset's own defaults are not promised to be zero.
	regs.Write32(regIMC, ^uint32(0))
	regs.Write32(regCTRL, regs.Read32(regCTRL)|ctrlRST)
	time.Sleep(resetSettle)
	for deadline := time.Now().Add(resetTimeout); regs.Read32(regCTRL)&ctrlRST != 0; {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("e1000: CTRL.RST still set %v after the reset", resetTimeout)
		}
		time.Sleep(100 * time.Microsecond)
	}
	regs.Write32(regIMC, ^uint32(0))
	regs.Read32(regICR) // drop any cause pending from before

	// Link (14.3, "General Configuration"): SLU lets the
	// MAC's link follow the PHY, ASDE takes the speed the PHY
	// autonegotiated; no forced link reset, PHY reset, inverted loss of
	// signal or VLAN mode.
	ctrl := regs.Read32(regCTRL)
	ctrl |= ctrlSLU | ctrlASDE
	ctrl &^= ctrlLRST | ctrlPHYRST | ctrlILOS | ctrlVME
	regs.Write32(regCTRL, ctrl)
	for _, r := range flowControlRegs {
		regs.Write32(r, 0)
	}

	// The receive filter (14.4, "Receive Initialization"): our address in
	// entry 0, valid; the multicast hash table cleared, so no multicast
	// frame passes it (broadcast passes by RCTL.BAM).
	mac, err := stationAddress(regs, c)
	if err != nil {
		return nil, err
	}
	setStationAddress(regs, mac)
	for i := 0; i < multicastTableWords; i++ {
		regs.Write32(regMTA+uintptr(4*i), 0)
	}

	rx, err := newRXRing(regs, mem.rxDesc, mem.rxBufs, ringLen)
	if err != nil {
		return nil, err
	}
	// Write each frame back at once rather than after the receive delay
	// timer (13.4.30, "Receive Delay Timer Register"): RDTR 0.
	regs.Write32(regRDTR, 0)
	// Receiver on: broadcasts accepted, every multicast accepted (IPv6's
	// neighbour discovery lives on multicast: router advertisements to
	// ff02::1, solicitations to each address's solicited-node group; the
	// stack keeps what it joined, so no multicast table to keep), the CRC
	// stripped, 2048-byte buffers, no long frames, not unicast
	// promiscuous, descriptor-minimum threshold at half the ring (RDMTS
	// 00), legacy descriptors (82574: DTYP 00).
	regs.Write32(regRCTL, rctlEN|rctlBAM|rctlMPE|rctlSECRC|rctlBSIZE2048)

	tx, err := newTXRing(regs, mem.txDesc, mem.txBufs, ringLen)
	if err != nil {
		return nil, err
	}
	// Transmitter on (14.5, "Transmit Initialization"): short frames
	// padded, the recommended collision threshold and full-duplex
	// collision distance, and the chip's recommended inter-packet gap.
	regs.Write32(regTCTL, tctlEN|tctlPSP|tctlCT|tctlCOLD)
	regs.Write32(regTIPG, c.tipg)

	// Interrupts last, once there is something for them to report:
	// frames written back (RXT0), the ring running low or out (RXDMT0,
	// RXO), the link changing (LSC), transmit descriptors done (TXDW).
	regs.Read32(regICR)
	regs.Write32(regIMS, interruptsWanted)

	return &Device{
		model:  c.model,
		mac:    mac,
		regs:   regs,
		irq:    irq,
		tx:     tx,
		txDone: make(chan struct{}, 1),
		rx:     rx,
	}, nil
}

// Model names the controller: "e1000 82540EM", "e1000e 82574L".
func (d *Device) Model() string { return d.model }

// MAC is the station address from the EEPROM.
func (d *Device) MAC() [6]byte { return d.mac }

// MTU is Ethernet's 1500: RCTL.LPE is off, so no longer frames arrive.
func (d *Device) MTU() int { return maxFrame - 14 }

// LinkUp reads STATUS.LU, the link as the PHY reports it (8254x manual
// 13.4.2, "Device Status Register").
func (d *Device) LinkUp() bool { return d.regs.Read32(regSTATUS)&statusLU != 0 }

// Waiting for a full transmit ring: Send wakes on TXDW (Receive's loop
// passes it on) or every txPoll, reclaiming what the device finished, and
// gives up when nothing came back for txStuck.
const (
	txPoll  = time.Millisecond
	txStuck = 5 * time.Second
)

// Send transmits one frame (header and payload, no FCS): it copies it
// into the next transmit buffer and posts its descriptor.
func (d *Device) Send(frame []byte) error {
	d.txMu.Lock()
	defer d.txMu.Unlock()
	if err := d.post(frame); err != nil {
		return err
	}
	d.tx.kick()
	return nil
}

// SendBatch is Send of each frame with one tail write for them all.
func (d *Device) SendBatch(frames [][]byte) error {
	d.txMu.Lock()
	defer d.txMu.Unlock()
	for _, f := range frames {
		if d.tx.free() == 0 {
			d.tx.kick() // what is posted must reach the device before we wait for it
		}
		if err := d.post(f); err != nil {
			d.tx.kick()
			return err
		}
	}
	d.tx.kick()
	return nil
}

// post puts frame in the ring, waiting for room, without telling the
// device. Called with txMu held.
func (d *Device) post(frame []byte) error {
	if len(frame) < minFrame || len(frame) > maxFrame {
		return fmt.Errorf("e1000: a %d-byte frame (want %d to %d)", len(frame), minFrame, maxFrame)
	}
	stuck := time.Now().Add(txStuck)
	for d.tx.free() == 0 {
		if d.tx.reclaim() > 0 {
			break
		}
		if time.Now().After(stuck) {
			return fmt.Errorf("e1000: the transmit ring is full and the device finished nothing in %v", txStuck)
		}
		d.txMu.Unlock()
		select {
		case <-d.txDone:
		case <-time.After(txPoll):
		}
		d.txMu.Lock()
	}
	d.tx.post(frame)
	// Take back what is done now, so the ring rarely fills.
	d.tx.reclaim()
	return nil
}

// Receive delivers frames until the interrupt fails. Each round drains
// the ring, acknowledges the causes by reading ICR (which clears it and
// so deasserts INTx), lets the interrupt fire again, drains once more,
// and waits. The second drain closes the race with a frame written back
// between the first drain and the ICR read: its cause was cleared with
// the others, so no interrupt would come for it.
func (d *Device) Receive(deliver func(frame []byte), flush func()) error {
	if flush == nil {
		flush = func() {}
	}
	if !d.receiving.CompareAndSwap(false, true) {
		return errors.New("e1000: Receive is already running")
	}
	defer d.receiving.Store(false)
	for {
		d.rx.drain(deliver)
		cause := d.regs.Read32(regICR)
		if cause&intTXDW != 0 {
			select {
			case d.txDone <- struct{}{}:
			default:
			}
		}
		// LSC needs nothing: LinkUp reads STATUS. RXO and RXDMT0 need
		// only the drain.
		if err := d.irq.Enable(); err != nil {
			return fmt.Errorf("e1000: interrupt: %w", err)
		}
		d.rx.drain(deliver)
		flush()
		if _, err := d.irq.Wait(); err != nil {
			return fmt.Errorf("e1000: interrupt: %w", err)
		}
	}
}
