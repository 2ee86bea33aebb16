package virtionet

import (
	"errors"
	"fmt"
)

// A virtqueue is one split virtqueue (virtio 1.0, "Virtqueues" and
// "Basic Facilities of a Virtio Device"), seen from the driver: three
// structures in memory the device reads and writes by DMA.
//
//	descriptor table  size × {addr le64, len le32, flags le16, next le16}
//	available ring    flags le16, idx le16, ring[size] le16, used_event le16
//	used ring         flags le16, idx le16, ring[size] {id le32, len le32}, avail_event le16
//
// The driver offers a buffer by writing its descriptor's number into the
// available ring at idx mod size and then incrementing idx; the device
// hands it back by writing {descriptor, bytes written} into the used ring
// and incrementing that idx. Both idx fields count up forever and wrap at
// 65536; since size is a power of two dividing 65536, the slot idx mod
// size is the same before and after the wrap, and idx − last seen (as a
// uint16) is the number of new entries even across it.
//
// This driver never chains descriptors: every buffer is one descriptor
// pointing at one fixed buffer, descriptor i at buffer i, so a queue owns
// size buffers of bufSize bytes, each within one page (the device is
// given one physical address and a length, so a buffer may not straddle
// two pages that need not be adjacent).
type virtqueue struct {
	index uint16 // the queue's number on its device (virtio-net: 0 receiveq1, 1 transmitq1)
	size  uint16 // descriptors; a power of two, at most maxQueueSize

	rings   dmaRegion // page 0: descriptor table, 1: available ring, 2: used ring
	buffers dmaRegion // buffer i at i*bufSize
	bufSize int

	availIdx   uint16 // available ring idx: entries offered so far
	availFlags uint16 // available ring flags, published with availIdx
	usedIdx    uint16 // used ring entries taken so far

	free       []uint16 // descriptors the driver holds (not offered)
	withDevice []bool   // per descriptor: offered and not yet returned
}

const (
	// maxQueueSize keeps each of the three structures within one page:
	// 256 descriptors are exactly 4096 bytes, the used ring 6+8×256 =
	// 2054 bytes.
	maxQueueSize = 256

	descSize = 16

	descFlagWrite = 2 // VIRTQ_DESC_F_WRITE: the device writes this buffer (else reads it)

	// VIRTQ_AVAIL_F_NO_INTERRUPT: the driver asks not to be interrupted
	// when the device uses a buffer (a hint: the device may still).
	availFlagNoInterrupt = 1
	// VIRTQ_USED_F_NO_NOTIFY: the device asks not to be notified of new
	// available buffers (it is polling the ring anyway). Also a hint.
	usedFlagNoNotify = 1

	descTablePage = 0
	availRingPage = 1
	usedRingPage  = 2
)

// newVirtqueue allocates queue index's rings and buffers with alloc and
// writes every descriptor: buffer i's address and bufSize, marked
// device-writable if deviceWrites (receive queues). All descriptors start
// with the driver.
func newVirtqueue(alloc dmaAllocator, index, size uint16, bufSize int, deviceWrites bool) (*virtqueue, error) {
	if size == 0 || size > maxQueueSize || size&(size-1) != 0 {
		return nil, fmt.Errorf("virtqueue %d: size %d is not a power of two ≤ %d", index, size, maxQueueSize)
	}
	if bufSize <= 0 || pageSize%bufSize != 0 {
		return nil, errors.New("virtqueue: buffer size must divide the page size")
	}
	rings, err := alloc(3 * pageSize)
	if err != nil {
		return nil, err
	}
	buffers, err := alloc((int(size)*bufSize + pageSize - 1) &^ (pageSize - 1))
	if err != nil {
		return nil, err
	}
	q := &virtqueue{
		index: index, size: size,
		rings: rings, buffers: buffers, bufSize: bufSize,
		free:       make([]uint16, 0, size),
		withDevice: make([]bool, size),
	}
	var flags uint32
	if deviceWrites {
		flags = descFlagWrite
	}
	desc := q.page(descTablePage)
	for i := 0; i < int(size); i++ {
		store64(desc, i*descSize, buffers.phys(i*bufSize))
		store32(desc, i*descSize+8, uint32(bufSize))
		store32(desc, i*descSize+12, flags) // flags, and next = 0 (no chain)
	}
	for i := int(size) - 1; i >= 0; i-- {
		q.free = append(q.free, uint16(i)) // so that get hands out 0, 1, 2, …
	}
	return q, nil
}

func (q *virtqueue) page(n int) []byte { return q.rings.buf[n*pageSize : (n+1)*pageSize] }

// Physical addresses of the three structures, for the device's queue
// registers (queue_desc, queue_driver, queue_device).
func (q *virtqueue) descPhys() uint64  { return q.rings.phys(descTablePage * pageSize) }
func (q *virtqueue) availPhys() uint64 { return q.rings.phys(availRingPage * pageSize) }
func (q *virtqueue) usedPhys() uint64  { return q.rings.phys(usedRingPage * pageSize) }

// buffer is descriptor id's buffer, all bufSize bytes of it.
func (q *virtqueue) buffer(id uint16) []byte {
	return q.buffers.buf[int(id)*q.bufSize : (int(id)+1)*q.bufSize]
}

// get takes a descriptor the driver holds, if any.
func (q *virtqueue) get() (id uint16, ok bool) {
	if len(q.free) == 0 {
		return 0, false
	}
	id = q.free[len(q.free)-1]
	q.free = q.free[:len(q.free)-1]
	return id, true
}

// put gives back a descriptor get returned or takeUsed handed back, to be
// offered again later.
func (q *virtqueue) put(id uint16) { q.free = append(q.free, id) }

// offer writes descriptor id into the available ring with length bytes
// of its buffer (what the device reads, or at most writes). The device
// sees it only after publish.
func (q *virtqueue) offer(id uint16, length int) {
	if q.withDevice[id] {
		panic(fmt.Sprintf("virtqueue %d: descriptor %d offered twice", q.index, id))
	}
	if length > q.bufSize {
		panic(fmt.Sprintf("virtqueue %d: %d bytes in a %d-byte buffer", q.index, length, q.bufSize))
	}
	q.withDevice[id] = true
	store32(q.page(descTablePage), int(id)*descSize+8, uint32(length))
	store16(q.page(availRingPage), 4+2*int(q.availIdx&(q.size-1)), id)
	q.availIdx++
}

// publish makes what offer wrote visible: it stores the available ring's
// flags and idx together as one 32-bit word (both are the driver's), after
// the descriptors and ring entries, which the device must see first (the
// barrier before the idx update of "Updating idx"). The store is a full
// fence, so a later read of the used ring's flags (needsNotify) sees the
// device's state after it could have seen this idx.
func (q *virtqueue) publish() {
	store32(q.page(availRingPage), 0, uint32(q.availFlags)|uint32(q.availIdx)<<16)
}

// setInterrupts says whether the driver wants an interrupt when the
// device uses a buffer of this queue (VIRTQ_AVAIL_F_NO_INTERRUPT clear),
// and publishes it.
func (q *virtqueue) setInterrupts(on bool) {
	if on {
		q.availFlags &^= availFlagNoInterrupt
	} else {
		q.availFlags |= availFlagNoInterrupt
	}
	q.publish()
}

// needsNotify says whether the device wants to be told of what publish
// made available ("Available Buffer Notification Suppression": without
// VIRTIO_F_EVENT_IDX, notify unless the used ring's flags say
// VIRTQ_USED_F_NO_NOTIFY).
func (q *virtqueue) needsNotify() bool {
	return load32(q.page(usedRingPage), 0)&usedFlagNoNotify == 0
}

// usedPending says whether the device has handed back buffers takeUsed
// has not yet taken.
func (q *virtqueue) usedPending() bool {
	return uint16(load32(q.page(usedRingPage), 0)>>16) != q.usedIdx
}

// takeUsed takes the next buffer the device handed back: its descriptor
// and the bytes the device wrote into it (receive) or 0 (transmit, where
// QEMU and the spec's "len" count only written bytes). The descriptor is
// the driver's again: offer it again, or put it.
func (q *virtqueue) takeUsed() (id uint16, written int, ok bool, err error) {
	used := q.page(usedRingPage)
	// The idx is read before the entry, and x86 does not reorder loads,
	// so an entry below idx is read as the device wrote it.
	if uint16(load32(used, 0)>>16) == q.usedIdx {
		return 0, 0, false, nil
	}
	slot := 4 + 8*int(q.usedIdx&(q.size-1))
	id32, n := load32(used, slot), load32(used, slot+4)
	if id32 >= uint32(q.size) || !q.withDevice[id32] {
		return 0, 0, false, fmt.Errorf("virtqueue %d: the device returned descriptor %d, which it does not hold", q.index, id32)
	}
	if n > uint32(q.bufSize) {
		return 0, 0, false, fmt.Errorf("virtqueue %d: the device wrote %d bytes into a %d-byte buffer", q.index, n, q.bufSize)
	}
	q.usedIdx++
	q.withDevice[id32] = false
	return uint16(id32), int(n), true, nil
}
