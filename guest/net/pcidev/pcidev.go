// Package pcidev reaches a PCI function from above the runtime through
// Linux's own interfaces for drivers in user space, the ones DPDK and
// uio_pci_generic drivers use on Linux, which rt0's kernel serves:
//
//	/sys/bus/pci/devices/0000:BB:DD.F/vendor, device, class, irq
//	                                  config     the configuration space (pread, pwrite)
//	                                  resource   the BARs: "start end flags" lines
//	                                  resourceN  BAR N: mmap (memory BARs, uncached),
//	                                             pread/pwrite of 1, 2 or 4 bytes (I/O BARs)
//	                                  uio/uioN   the device's interrupt is /dev/uioN
//	/dev/uioN        read: wait for the interrupt, 4 bytes, the count so far;
//	                 write a 4-byte 1: let it interrupt again (the kernel sets
//	                 the function's INTx-disable bit when it fires, as
//	                 uio_pci_generic does)
//	/proc/self/pagemap   the physical frame behind each page of memory
//
// So a NIC driver is ordinary Go: it maps its registers, allocates DMA
// memory as anonymous pages it touches once (rt0 never moves or swaps a
// page) and learns their physical addresses, and waits for interrupts
// with a read. The kernel knows nothing of the device.
package pcidev

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Dir is where Linux lists PCI functions.
const Dir = "/sys/bus/pci/devices"

// Dev is one PCI function.
type Dev struct {
	Name           string // 0000:00:03.0
	Vendor, Device uint16
	Class          uint32 // class<<16 | subclass<<8 | programming interface
	config         *os.File
}

// List returns the PCI functions in Dir.
func List() ([]*Dev, error) {
	ents, err := os.ReadDir(Dir)
	if err != nil {
		return nil, err
	}
	var ds []*Dev
	for _, e := range ents {
		d := &Dev{Name: e.Name()}
		v, err1 := d.hexFile("vendor")
		id, err2 := d.hexFile("device")
		cl, err3 := d.hexFile("class")
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, err
		}
		d.Vendor, d.Device, d.Class = uint16(v), uint16(id), uint32(cl)
		ds = append(ds, d)
	}
	return ds, nil
}

func (d *Dev) path(name string) string { return Dir + "/" + d.Name + "/" + name }

func (d *Dev) hexFile(name string) (uint64, error) {
	b, err := os.ReadFile(d.path(name))
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"), 16, 64)
}

func (d *Dev) String() string {
	return fmt.Sprintf("%s %04x:%04x", d.Name, d.Vendor, d.Device)
}

func (d *Dev) cfg() (*os.File, error) {
	if d.config != nil {
		return d.config, nil
	}
	f, err := os.OpenFile(d.path("config"), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	d.config = f
	return f, nil
}

// ReadConfig reads n = 1, 2 or 4 bytes of configuration space at off.
func (d *Dev) ReadConfig(off int64, n int) (uint32, error) {
	f, err := d.cfg()
	if err != nil {
		return 0, err
	}
	var b [4]byte
	if _, err := f.ReadAt(b[:n], off); err != nil {
		return 0, fmt.Errorf("%s: config %#x: %w", d.Name, off, err)
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, nil
}

// WriteConfig writes n = 1, 2 or 4 bytes of configuration space at off.
func (d *Dev) WriteConfig(off int64, n int, v uint32) error {
	f, err := d.cfg()
	if err != nil {
		return err
	}
	b := [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	if _, err := f.WriteAt(b[:n], off); err != nil {
		return fmt.Errorf("%s: config %#x: %w", d.Name, off, err)
	}
	return nil
}

// Configuration-space registers and command bits.
const (
	CfgCommand   = 0x04
	CfgStatus    = 0x06
	CfgCapPtr    = 0x34
	CmdIO        = 1 << 0
	CmdMemory    = 1 << 1
	CmdBusMaster = 1 << 2
	CmdIntxOff   = 1 << 10
	StatusCaps   = 1 << 4
)

// Enable turns on the function's I/O and memory decoding and bus
// mastering (its DMA), as pci_enable_device and pci_set_master do.
func (d *Dev) Enable() error {
	c, err := d.ReadConfig(CfgCommand, 2)
	if err != nil {
		return err
	}
	return d.WriteConfig(CfgCommand, 2, c|CmdIO|CmdMemory|CmdBusMaster)
}

// Capabilities returns the offsets of the function's capabilities with
// ID id (0x09: vendor-specific, 0x05: MSI, 0x11: MSI-X), in list order.
func (d *Dev) Capabilities(id uint8) ([]int64, error) {
	st, err := d.ReadConfig(CfgStatus, 2)
	if err != nil || st&StatusCaps == 0 {
		return nil, err
	}
	p, err := d.ReadConfig(CfgCapPtr, 1)
	var offs []int64
	for n := 0; err == nil && p >= 0x40 && n < 48; n++ {
		var w uint32
		if w, err = d.ReadConfig(int64(p&^3), 2); err != nil {
			break
		}
		if uint8(w) == id {
			offs = append(offs, int64(p&^3))
		}
		p = w >> 8 & 0xFF
	}
	return offs, err
}

// BAR is one base address register's window, from the resource file.
type BAR struct {
	Start, Size uint64
	IO          bool // I/O ports, not memory
}

// BARs returns the function's six BARs (Size 0: not implemented).
func (d *Dev) BARs() ([6]BAR, error) {
	var bars [6]BAR
	b, err := os.ReadFile(d.path("resource"))
	if err != nil {
		return bars, err
	}
	for i, line := range strings.SplitN(string(b), "\n", 7)[:min(6, strings.Count(string(b), "\n"))] {
		f := strings.Fields(line)
		if len(f) != 3 {
			return bars, fmt.Errorf("%s: resource line %q", d.Name, line)
		}
		start, err1 := strconv.ParseUint(f[0], 0, 64)
		end, err2 := strconv.ParseUint(f[1], 0, 64)
		flags, err3 := strconv.ParseUint(f[2], 0, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return bars, err
		}
		if end > start {
			bars[i] = BAR{Start: start, Size: end - start + 1, IO: flags&0x100 != 0} // IORESOURCE_IO
		}
	}
	return bars, nil
}

// MMIO is a memory BAR mapped uncached.
type MMIO struct {
	base unsafe.Pointer
	size uintptr
}

// MapBAR maps memory BAR bar whole.
func (d *Dev) MapBAR(bar int) (*MMIO, error) {
	bars, err := d.BARs()
	if err != nil {
		return nil, err
	}
	if bar < 0 || bar > 5 || bars[bar].Size == 0 || bars[bar].IO {
		return nil, fmt.Errorf("%s: BAR %d is not a memory BAR", d.Name, bar)
	}
	f, err := os.OpenFile(d.path("resource"+strconv.Itoa(bar)), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := (bars[bar].Size + 4095) &^ 4095
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap BAR %d: %w", d.Name, bar, err)
	}
	return &MMIO{base: unsafe.Pointer(&b[0]), size: uintptr(bars[bar].Size)}, nil
}

func (m *MMIO) at(off uintptr, n uintptr) unsafe.Pointer {
	if off > m.size || n > m.size-off {
		panic(fmt.Sprintf("pcidev: MMIO access at %#x beyond the BAR's %#x bytes", off, m.size))
	}
	return unsafe.Add(m.base, off)
}

// Register accesses. The atomic loads and stores are single MOVs (XCHG for
// a store) of exactly the width asked, which the compiler neither merges,
// splits, reorders with other atomics nor drops: what device registers
// need.

func (m *MMIO) Read32(off uintptr) uint32 { return atomic.LoadUint32((*uint32)(m.at(off, 4))) }
func (m *MMIO) Write32(off uintptr, v uint32) {
	atomic.StoreUint32((*uint32)(m.at(off, 4)), v)
}
func (m *MMIO) Read64(off uintptr) uint64 { return atomic.LoadUint64((*uint64)(m.at(off, 8))) }
func (m *MMIO) Write64(off uintptr, v uint64) {
	atomic.StoreUint64((*uint64)(m.at(off, 8)), v)
}

// Read16, Write16, Read8 and Write8 have no atomic of their width (and
// going through the enclosing word would touch the neighbouring
// registers): they are plain accesses through a pointer that a
// non-inlined function returns, so the compiler can neither merge nor
// drop them, followed by an atomic load that orders what comes after.
func (m *MMIO) Read16(off uintptr) uint16 {
	v := *(*uint16)(opaque(m.at(off, 2)))
	atomic.LoadUint32(&fence)
	return v
}
func (m *MMIO) Write16(off uintptr, v uint16) {
	*(*uint16)(opaque(m.at(off, 2))) = v
	atomic.LoadUint32(&fence) // keep later accesses after it
}
func (m *MMIO) Read8(off uintptr) uint8 {
	v := *(*uint8)(opaque(m.at(off, 1)))
	atomic.LoadUint32(&fence)
	return v
}
func (m *MMIO) Write8(off uintptr, v uint8) {
	*(*uint8)(opaque(m.at(off, 1))) = v
	atomic.LoadUint32(&fence)
}

var fence uint32

//go:noinline
func opaque(p unsafe.Pointer) unsafe.Pointer { return p }

// Ports is an I/O BAR, reached through pread and pwrite of its resource
// file (Linux serves these for I/O BARs as in and out instructions).
type Ports struct{ f *os.File }

// PortBAR opens I/O BAR bar.
func (d *Dev) PortBAR(bar int) (*Ports, error) {
	f, err := os.OpenFile(d.path("resource"+strconv.Itoa(bar)), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return &Ports{f}, nil
}

func (p *Ports) in(off int64, n int) uint32 {
	var b [4]byte
	if _, err := p.f.ReadAt(b[:n], off); err != nil {
		panic("pcidev: port read: " + err.Error())
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func (p *Ports) out(off int64, n int, v uint32) {
	b := [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	if _, err := p.f.WriteAt(b[:n], off); err != nil {
		panic("pcidev: port write: " + err.Error())
	}
}

func (p *Ports) In8(off int64) uint8       { return uint8(p.in(off, 1)) }
func (p *Ports) In16(off int64) uint16     { return uint16(p.in(off, 2)) }
func (p *Ports) In32(off int64) uint32     { return p.in(off, 4) }
func (p *Ports) Out8(off int64, v uint8)   { p.out(off, 1, uint32(v)) }
func (p *Ports) Out16(off int64, v uint16) { p.out(off, 2, uint32(v)) }
func (p *Ports) Out32(off int64, v uint32) { p.out(off, 4, v) }

// IRQ is the function's interrupt, as a uio device.
type IRQ struct{ f *os.File }

// OpenIRQ opens /dev/uioN for the function.
func (d *Dev) OpenIRQ() (*IRQ, error) {
	ents, err := os.ReadDir(d.path("uio"))
	if err != nil {
		return nil, fmt.Errorf("%s has no interrupt: %w", d.Name, err)
	}
	if len(ents) != 1 {
		return nil, fmt.Errorf("%s: %d uio devices", d.Name, len(ents))
	}
	f, err := os.OpenFile("/dev/"+ents[0].Name(), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return &IRQ{f}, nil
}

// Wait blocks until the function interrupts (or has interrupted since the
// last Wait) and returns the count of its interrupts so far. The
// interrupt stays off until Enable.
func (q *IRQ) Wait() (uint32, error) {
	var b [4]byte
	if _, err := q.f.Read(b[:]); err != nil {
		return 0, err
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, nil
}

// Enable lets the function interrupt again.
func (q *IRQ) Enable() error {
	_, err := q.f.Write([]byte{1, 0, 0, 0})
	return err
}

// DMA is memory a device can read and write: anonymous pages, touched so
// that each has its frame, whose physical addresses /proc/self/pagemap
// gives. A buffer a device reads in one piece must lie within one page,
// or in pages Contiguous says are adjacent.
type DMA struct {
	Buf  []byte
	phys []uint64 // each page's physical address
}

// AllocDMA returns size bytes (rounded up to pages) of DMA memory.
func AllocDMA(size int) (*DMA, error) {
	size = (size + 4095) &^ 4095
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("DMA memory: %w", err)
	}
	for i := 0; i < size; i += 4096 {
		b[i] = 0 // give the page its frame, whatever MAP_POPULATE did
	}
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &DMA{Buf: b, phys: make([]uint64, size/4096)}
	ents := make([]byte, 8*len(m.phys))
	base := uintptr(unsafe.Pointer(&b[0]))
	if _, err := f.ReadAt(ents, int64(base/4096*8)); err != nil {
		return nil, fmt.Errorf("pagemap: %w", err)
	}
	for i := range m.phys {
		e := uint64(0)
		for k := 7; k >= 0; k-- {
			e = e<<8 | uint64(ents[8*i+k])
		}
		if e&(1<<63) == 0 || e&(1<<55-1) == 0 {
			return nil, errors.New("pagemap: a DMA page has no frame (no permission to see frames?)")
		}
		m.phys[i] = (e & (1<<55 - 1)) * 4096
	}
	return m, nil
}

// Phys is the physical address of byte off of the buffer.
func (m *DMA) Phys(off int) uint64 { return m.phys[off/4096] + uint64(off%4096) }

// Contiguous says whether [off, off+n) lies in physically adjacent pages.
func (m *DMA) Contiguous(off, n int) bool {
	for p := off / 4096; p < (off+n-1)/4096; p++ {
		if m.phys[p+1] != m.phys[p]+4096 {
			return false
		}
	}
	return true
}
