package e1000

import "fmt"

// registers is what the rings need of the device: BAR 0's 32-bit
// registers. *pcidev.MMIO is one; the tests' fake device is another.
type registers interface {
	Read32(off uintptr) uint32
	Write32(off uintptr, v uint32)
}

// dmaRegion is memory the device reaches: the bytes, and the bus address
// of each byte (pcidev.DMA.Phys on the hardware, a made-up mapping in the
// tests).
type dmaRegion struct {
	buf  []byte
	phys func(off int) uint64
}

const (
	// ringLen is the descriptors in each ring: 256 of 16 bytes fill one
	// page, so the ring is physically contiguous however the pages lie.
	// RDLEN and TDLEN must be multiples of 128 bytes (8 descriptors).
	ringLen = 256
	// bufSize is each frame buffer: RCTL.BSIZE's 2048, two to a page, so
	// that none crosses a page boundary (the device reads and writes a
	// buffer as one physically contiguous run).
	bufSize = 2048
	// maxFrame is the longest frame Send takes: MTU 1500 plus the
	// 14-byte Ethernet header, without the FCS, which the device adds.
	maxFrame = 1514
	// minFrame is an Ethernet header: the least Send takes (TCTL.PSP pads
	// short frames to the 64-byte minimum).
	minFrame = 14
)

// checkRing checks a ring's memory: n descriptors in one page, a length
// the LEN registers accept, a buffer per descriptor, each within a page.
func checkRing(desc, bufs dmaRegion, n int) error {
	switch {
	case n < 8 || n*descSize%128 != 0:
		return fmt.Errorf("e1000: %d descriptors: the ring's length must be a multiple of 128 bytes", n)
	case len(desc.buf) < n*descSize || n*descSize > 4096:
		return fmt.Errorf("e1000: %d descriptors do not fit the ring's %d bytes (at most one page)", n, len(desc.buf))
	case len(bufs.buf) < n*bufSize:
		return fmt.Errorf("e1000: %d buffers do not fit %d bytes", n, len(bufs.buf))
	case desc.phys(0)%128 != 0:
		return fmt.Errorf("e1000: descriptor ring at %#x is not 128-byte aligned", desc.phys(0))
	}
	return nil
}

// txRing is the transmit ring (8254x manual 3.4, "Transmit Descriptor
// Ring Structure"). The device owns the descriptors from TDH (its head)
// up to, not including, TDT (the tail software writes); TDH == TDT means
// it owns none. So software may have at most n-1 descriptors posted: with
// n the tail would catch the head and the full ring would read as empty.
// Every descriptor asks for its status (RS), so the device sets DD in
// each as it finishes, and software reclaims in order by DD alone.
//
// A txRing is not safe for concurrent use: the device serializes Send.
type txRing struct {
	regs  registers
	desc  dmaRegion // n descriptors
	bufs  dmaRegion // n buffers of bufSize bytes, buffer i for descriptor i
	n     int
	tail  int // the next descriptor to fill, and what TDT was set to
	clean int // the oldest posted descriptor not yet reclaimed
	busy  int // descriptors posted and not yet reclaimed
}

// newTXRing clears the descriptors and programs the ring's base, length,
// head and tail (8254x manual 14.5, "Transmit Initialization"). It does
// not enable the transmitter (TCTL).
func newTXRing(regs registers, desc, bufs dmaRegion, n int) (*txRing, error) {
	if err := checkRing(desc, bufs, n); err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		setDesc(desc.buf, i, 0, 0)
	}
	base := desc.phys(0)
	regs.Write32(regTDBAL, uint32(base))
	regs.Write32(regTDBAH, uint32(base>>32))
	regs.Write32(regTDLEN, uint32(n*descSize))
	regs.Write32(regTDH, 0)
	regs.Write32(regTDT, 0)
	return &txRing{regs: regs, desc: desc, bufs: bufs, n: n}, nil
}

// free is how many more frames post may take now.
func (r *txRing) free() int { return r.n - 1 - r.busy }

// post copies frame into the tail descriptor's buffer, fills the
// descriptor and hands it to the device by advancing TDT. The caller
// checks free() > 0 and the frame's length.
func (r *txRing) post(frame []byte) {
	i := r.tail
	copy(r.bufs.buf[i*bufSize:(i+1)*bufSize], frame)
	// One descriptor per frame: EOP; the device appends the CRC (IFCS)
	// and sets DD when it has sent it (RS). CSO, CSS and the special
	// field stay zero: no checksum insertion, no VLAN tag.
	cmd := uint32(cmdEOP | cmdIFCS | cmdRS)
	setDesc(r.desc.buf, i, r.bufs.phys(i*bufSize), uint32(len(frame))|cmd<<24)
	r.tail = (i + 1) % r.n
	r.busy++
}

// kick tells the device of the posted descriptors: the tail moves. The
// descriptors' stores are atomic and come first (descriptors.go): the
// device fetches a descriptor only after it sees the tail move past it.
func (r *txRing) kick() {
	r.regs.Write32(regTDT, uint32(r.tail))
}

// reclaim takes back, oldest first, the posted descriptors the device has
// finished with, and returns how many.
func (r *txRing) reclaim() int {
	k := 0
	for r.busy > 0 && descStatus(r.desc.buf, r.clean)&statDD != 0 {
		r.clean = (r.clean + 1) % r.n
		r.busy--
		k++
	}
	return k
}

// rxRing is the receive ring (8254x manual 3.2.6, "Receive Descriptor
// Queue Structure"). The device owns the descriptors from RDH up to, not
// including, RDT, fills them in order, sets DD (and EOP on a frame's last
// one), and advances RDH; RDH == RDT means it has none left and drops
// frames (RXO). Software keeps exactly one descriptor back, the one just
// before next, so RDT is always next-1: n-1 descriptors are the device's
// whenever software has caught up.
//
// An rxRing is not safe for concurrent use: only Receive's loop uses it.
type rxRing struct {
	regs     registers
	desc     dmaRegion
	bufs     dmaRegion
	n        int
	next     int  // the next descriptor the device will write back
	dropping bool // inside a frame that spans descriptors, being dropped
}

// newRXRing points every descriptor at its buffer and programs the ring
// (8254x manual 14.4, "Receive Initialization"): RDH 0, RDT n-1. It does
// not enable the receiver (RCTL).
func newRXRing(regs registers, desc, bufs dmaRegion, n int) (*rxRing, error) {
	if err := checkRing(desc, bufs, n); err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		setDesc(desc.buf, i, bufs.phys(i*bufSize), 0)
	}
	base := desc.phys(0)
	regs.Write32(regRDBAL, uint32(base))
	regs.Write32(regRDBAH, uint32(base>>32))
	regs.Write32(regRDLEN, uint32(n*descSize))
	regs.Write32(regRDH, 0)
	regs.Write32(regRDT, uint32(n-1))
	return &rxRing{regs: regs, desc: desc, bufs: bufs, n: n}, nil
}

// drain delivers, in order, the frames the device has written back,
// re-arms their descriptors and gives them back with one RDT write. It
// returns how many descriptors it took. It stops after n-1, all the
// device can have filled, so that a flood cannot keep it from giving
// descriptors back.
func (r *rxRing) drain(deliver func(frame []byte)) int {
	k := 0
	for ; k < r.n-1; k++ {
		i := r.next
		st := descStatus(r.desc.buf, i)
		if st&statDD == 0 {
			break
		}
		length := descLength(r.desc.buf, i)
		switch {
		case st&statEOP == 0:
			// A frame longer than one buffer. With RCTL.LPE clear
			// the device takes nothing over 1522 bytes, so this is
			// not a frame to deliver: drop it to its EOP.
			r.dropping = true
		case r.dropping:
			r.dropping = false // the long frame's last piece
		case st>>8&rxErrFrame != 0, length > bufSize:
			// damaged on the wire
		default:
			deliver(r.bufs.buf[i*bufSize : i*bufSize+length])
		}
		setDesc(r.desc.buf, i, r.bufs.phys(i*bufSize), 0)
		r.next = (i + 1) % r.n
	}
	if k > 0 {
		// One tail write for the whole batch, not one per descriptor:
		// besides saving register writes, QEMU's 82540 model answers an
		// RDT write by delivering every frame it has queued and
		// dropping (as overruns) those beyond the descriptors it now
		// owns, so the more each write gives back, the fewer it drops.
		// The re-armed descriptors' stores came first (descriptors.go).
		r.regs.Write32(regRDT, uint32((r.next+r.n-1)%r.n))
	}
	return k
}
