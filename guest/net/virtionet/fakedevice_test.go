package virtionet

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"unsafe"
)

// fakeMemory stands for physical memory: it hands out DMA regions whose
// pages get made-up physical addresses (descending, with gaps, so that
// no two pages adjacent in the region are adjacent "physically") and
// resolves such an address back to the bytes, as a device's DMA would.
// A driver that gave the device a wrong address, or one range spanning
// two pages, is caught by resolve.
type fakeMemory struct {
	t     *testing.T
	mu    sync.Mutex
	pages map[uint64][]byte
	next  uint64
}

func newFakeMemory(t *testing.T) *fakeMemory {
	return &fakeMemory{t: t, pages: map[uint64][]byte{}, next: 0x8000_0000}
}

func (m *fakeMemory) alloc(size int) (dmaRegion, error) {
	if size <= 0 || size%pageSize != 0 {
		return dmaRegion{}, errors.New("fake DMA: size not a whole number of pages")
	}
	words := make([]uint64, size/8) // 8-byte aligned, as the 64-bit atomics need
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
	phys := make([]uint64, size/pageSize)
	m.mu.Lock()
	for i := range phys {
		m.next -= 3 * pageSize
		phys[i] = m.next
		m.pages[phys[i]] = buf[i*pageSize : (i+1)*pageSize]
	}
	m.mu.Unlock()
	return dmaRegion{buf: buf, phys: func(off int) uint64 {
		return phys[off/pageSize] + uint64(off%pageSize)
	}}, nil
}

// resolve is the n bytes at physical address addr; they must lie in one
// page of memory alloc handed out.
func (m *fakeMemory) resolve(addr uint64, n int) []byte {
	m.t.Helper()
	m.mu.Lock()
	page, ok := m.pages[addr&^(pageSize-1)]
	m.mu.Unlock()
	off := int(addr & (pageSize - 1))
	if !ok {
		m.t.Fatalf("device access at %#x: no DMA memory there", addr)
	}
	if off+n > pageSize {
		m.t.Fatalf("device access at %#x of %d bytes crosses a page boundary", addr, n)
	}
	return page[off : off+n]
}

// fakeQueue is the device's side of one split virtqueue, found only
// through the physical addresses the driver gave it, as real hardware
// finds it.
type fakeQueue struct {
	t                  *testing.T
	mem                *fakeMemory
	size               uint16
	desc, avail, used  []byte
	lastAvail, usedIdx uint16
	usedFlags          uint16
}

func newFakeQueue(t *testing.T, mem *fakeMemory, q *virtqueue) *fakeQueue {
	n := int(q.size)
	return &fakeQueue{
		t: t, mem: mem, size: q.size,
		desc:  mem.resolve(q.descPhys(), descSize*n),
		avail: mem.resolve(q.availPhys(), 6+2*n),
		used:  mem.resolve(q.usedPhys(), 6+8*n),
	}
}

// availFlags and availIdx read the driver's word: flags, then idx.
func (f *fakeQueue) availFlags() uint16 { return uint16(load32(f.avail, 0)) }
func (f *fakeQueue) availIdx() uint16   { return uint16(load32(f.avail, 0) >> 16) }

// available is how many buffers the driver offered that the device has
// not taken.
func (f *fakeQueue) available() int { return int(f.availIdx() - f.lastAvail) }

// take takes the next offered buffer: its descriptor, its bytes and
// whether the device may write them.
func (f *fakeQueue) take() (id uint16, buf []byte, writable bool) {
	f.t.Helper()
	if f.available() == 0 {
		f.t.Fatal("device: nothing available")
	}
	if f.available() > int(f.size) {
		f.t.Fatalf("device: %d buffers available in a ring of %d", f.available(), f.size)
	}
	slot := int(f.lastAvail & (f.size - 1))
	id = binary.LittleEndian.Uint16(f.avail[4+2*slot:])
	f.lastAvail++
	if id >= f.size {
		f.t.Fatalf("device: descriptor %d in a ring of %d", id, f.size)
	}
	d := f.desc[descSize*int(id):]
	addr := binary.LittleEndian.Uint64(d)
	length := binary.LittleEndian.Uint32(d[8:])
	flags := binary.LittleEndian.Uint16(d[12:])
	if flags&^descFlagWrite != 0 {
		f.t.Fatalf("device: descriptor %d has flags %#x (chained or indirect)", id, flags)
	}
	return id, f.mem.resolve(addr, int(length)), flags&descFlagWrite != 0
}

// complete hands descriptor id back having written written bytes.
func (f *fakeQueue) complete(id uint16, written uint32) {
	slot := 4 + 8*int(f.usedIdx&(f.size-1))
	store32(f.used, slot, uint32(id))
	store32(f.used, slot+4, written)
	f.usedIdx++
	f.publish()
}

func (f *fakeQueue) publish() { store32(f.used, 0, uint32(f.usedFlags)|uint32(f.usedIdx)<<16) }

func (f *fakeQueue) setNoNotify(on bool) {
	f.usedFlags = 0
	if on {
		f.usedFlags = usedFlagNoNotify
	}
	f.publish()
}
