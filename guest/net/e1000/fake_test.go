package e1000

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// fakeNIC is a model of the controller, enough for the rings and the
// setup: a register file with the side effects the driver relies on
// (self-clearing RST, EERD reads, ICR clear-on-read, IMS/IMC), the
// descriptor rings walked as the device walks them, and a level-triggered
// interrupt line behind a uio-like fakeIRQ. DMA memory is an arena whose
// byte i has the made-up bus address arenaBase+i.
type fakeNIC struct {
	t    *testing.T
	chip chip

	mu       sync.Mutex
	reg      map[uintptr]uint32
	eeprom   [64]uint16
	autoload bool // reset loads the address into RAL0/RAH0
	resets   int
	sent     [][]byte
	irq      *fakeIRQ
	// beforeICR, if set, runs before each ICR read, outside the lock:
	// a test's way to make a frame arrive at that very moment.
	beforeICR func()

	arena []byte
}

// arenaBase is above 4 GiB so the high halves of the base registers count.
const arenaBase = 0x1_2340_0000

func newFakeNIC(t *testing.T, c chip, mac [6]byte, autoload bool) *fakeNIC {
	words := make([]uint64, (2*4096+2*ringLen*bufSize)/8)
	f := &fakeNIC{
		t:        t,
		chip:     c,
		reg:      map[uintptr]uint32{},
		autoload: autoload,
		arena:    unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8),
		irq:      newFakeIRQ(),
	}
	for i := 0; i < 3; i++ {
		f.eeprom[i] = uint16(mac[2*i]) | uint16(mac[2*i+1])<<8
	}
	// Power-on values that the driver must not rely on.
	f.reg[regIMS] = 0
	f.reg[regCTRL] = ctrlLRST | ctrlPHYRST
	f.reg[regRDTR] = 0x55
	f.reg[regMTA+4*7] = 0xdead
	return f
}

// memory carves the arena into the rings' regions, each ring's
// descriptors first (one page each), then the buffers.
func (f *fakeNIC) memory() ringMemory {
	r := func(off, size int) dmaRegion {
		return dmaRegion{buf: f.arena[off : off+size], phys: func(o int) uint64 { return arenaBase + uint64(off+o) }}
	}
	return ringMemory{
		rxDesc: r(0, 4096),
		txDesc: r(4096, 4096),
		rxBufs: r(8192, ringLen*bufSize),
		txBufs: r(8192+ringLen*bufSize, ringLen*bufSize),
	}
}

// dma is the n bytes the device reaches at bus address addr.
func (f *fakeNIC) dma(addr uint64, n int) []byte {
	off := addr - arenaBase
	if addr < arenaBase || off+uint64(n) > uint64(len(f.arena)) {
		f.t.Fatalf("device access at %#x, %d bytes, is outside DMA memory", addr, n)
	}
	return f.arena[off : off+uint64(n)]
}

func (f *fakeNIC) Read32(off uintptr) uint32 {
	if off == regICR && f.beforeICR != nil {
		f.beforeICR()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.reg[off]
	if off == regICR {
		f.reg[regICR] = 0
		f.updateLine()
	}
	return v
}

func (f *fakeNIC) Write32(off uintptr, v uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch off {
	case regCTRL:
		if v&ctrlRST != 0 {
			f.reset()
			v &^= ctrlRST
		}
		f.reg[regCTRL] = v
	case regEERD:
		if v&eerdStart == 0 {
			f.reg[regEERD] = v
			break
		}
		addr := v >> f.chip.eerdAddrShift & 0x3f
		f.reg[regEERD] = f.chip.eerdDone | addr<<f.chip.eerdAddrShift | uint32(f.eeprom[addr])<<eerdDataShift
	case regIMS:
		f.reg[regIMS] |= v
		f.updateLine()
	case regIMC:
		f.reg[regIMS] &^= v
		f.updateLine()
	case regICR, regSTATUS:
		f.t.Errorf("driver wrote read-only register %#x", off)
	default:
		f.reg[off] = v
	}
}

// reset: the MAC's registers to their defaults and, with autoload, the
// station address from the EEPROM into entry 0.
func (f *fakeNIC) reset() {
	f.resets++
	for k := range f.reg {
		if k != regCTRL && !(k >= regMTA && k < regMTA+4*multicastTableWords) {
			delete(f.reg, k)
		}
	}
	f.reg[regSTATUS] = statusLU
	if f.autoload {
		e := f.eeprom
		f.reg[regRAL0] = uint32(e[0]) | uint32(e[1])<<16
		f.reg[regRAH0] = uint32(e[2]) | rahAV
	}
}

func (f *fakeNIC) cause(c uint32) {
	f.reg[regICR] |= c
	f.updateLine()
}

func (f *fakeNIC) updateLine() {
	f.irq.level(f.reg[regICR]&f.reg[regIMS] != 0)
}

func (f *fakeNIC) ring(bal, bah, length uintptr) (base uint64, n uint32) {
	base = uint64(f.reg[bah])<<32 | uint64(f.reg[bal])
	n = f.reg[length] / descSize
	if n == 0 {
		f.t.Fatalf("ring at %#x has no descriptors", base)
	}
	return base, n
}

// transmit sends up to max of the frames posted (TDH up to TDT), writing
// each descriptor's DD back, and returns how many it sent.
func (f *fakeNIC) transmit(max int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reg[regTCTL]&tctlEN == 0 {
		return 0
	}
	base, n := f.ring(regTDBAL, regTDBAH, regTDLEN)
	k := 0
	for ; k < max && f.reg[regTDH] != f.reg[regTDT]; k++ {
		d := f.dma(base+uint64(f.reg[regTDH])*descSize, descSize)
		addr := binary.LittleEndian.Uint64(d[0:])
		lenWord := binary.LittleEndian.Uint32(d[8:])
		length, cmd := int(uint16(lenWord)), lenWord>>24
		if cmd != cmdEOP|cmdIFCS|cmdRS {
			f.t.Errorf("transmit descriptor %d: CMD %#x, want EOP|IFCS|RS", f.reg[regTDH], cmd)
		}
		if addr/4096 != (addr+uint64(length)-1)/4096 {
			f.t.Errorf("transmit buffer %#x+%d crosses a page", addr, length)
		}
		f.sent = append(f.sent, append([]byte(nil), f.dma(addr, length)...))
		atomic.StoreUint32((*uint32)(unsafe.Pointer(&d[descStatWord])), statDD)
		f.reg[regTDH] = (f.reg[regTDH] + 1) % n
	}
	if k > 0 {
		f.cause(intTXDW)
	}
	return k
}

// receive writes frame into the descriptors at RDH, as many as it takes
// at bufSize bytes each, with errs in the last one's errors. It reports
// false (and RXO) when the device owns too few descriptors.
func (f *fakeNIC) receive(frame []byte, errs uint8) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reg[regRCTL]&rctlEN == 0 {
		return false
	}
	base, n := f.ring(regRDBAL, regRDBAH, regRDLEN)
	pieces := (len(frame) + bufSize - 1) / bufSize
	owned := (f.reg[regRDT] + n - f.reg[regRDH]) % n
	if uint32(pieces) > owned {
		f.cause(intRXO)
		return false
	}
	for p := 0; p < pieces; p++ {
		piece := frame[p*bufSize : min(len(frame), (p+1)*bufSize)]
		d := f.dma(base+uint64(f.reg[regRDH])*descSize, descSize)
		addr := binary.LittleEndian.Uint64(d[0:])
		if addr%bufSize != 0 {
			f.t.Errorf("receive buffer %#x is not %d-aligned", addr, bufSize)
		}
		copy(f.dma(addr, bufSize), piece)
		status := uint32(statDD)
		if p == pieces-1 {
			status |= statEOP | uint32(errs)<<8
		}
		atomic.StoreUint32((*uint32)(unsafe.Pointer(&d[descLenWord])), uint32(len(piece)))
		atomic.StoreUint32((*uint32)(unsafe.Pointer(&d[descStatWord])), status)
		f.reg[regRDH] = (f.reg[regRDH] + 1) % n
	}
	f.cause(intRXT0)
	return true
}

func (f *fakeNIC) get(off uintptr) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reg[off]
}

func (f *fakeNIC) sentFrames() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.sent...)
}

// fakeIRQ is the interrupt as the kernel's uio file serves it: when the
// line is asserted and the interrupt enabled, it fires once, counts, and
// disables itself (the INTx-disable bit) until Enable.
type fakeIRQ struct {
	mu       sync.Mutex
	cond     *sync.Cond
	asserted bool
	enabled  bool
	pending  bool
	count    uint32
	closed   bool
}

func newFakeIRQ() *fakeIRQ {
	q := &fakeIRQ{enabled: true}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *fakeIRQ) fireLocked() {
	if q.asserted && q.enabled {
		q.enabled = false
		q.pending = true
		q.count++
		q.cond.Broadcast()
	}
}

func (q *fakeIRQ) level(asserted bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.asserted = asserted
	q.fireLocked()
}

func (q *fakeIRQ) Enable() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.enabled = true
	q.fireLocked()
	return nil
}

var errIRQClosed = errIRQ("interrupt closed")

type errIRQ string

func (e errIRQ) Error() string { return string(e) }

func (q *fakeIRQ) Wait() (uint32, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.pending && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return 0, errIRQClosed
	}
	q.pending = false
	return q.count, nil
}

func (q *fakeIRQ) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}
