package virtionet

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"rt0/guest/net/pcidev"
)

// pageSize is the unit in which DMA memory is allocated and in which its
// physical addresses are known: only within one page are consecutive
// bytes at consecutive physical addresses.
const pageSize = 4096

// dmaRegion is memory the device reaches: the bytes the driver touches
// and, for each byte, the physical address the device must be given. On
// the hardware it is a pcidev.DMA; the host tests give fake addresses
// that their fake device resolves back to the same bytes.
type dmaRegion struct {
	buf  []byte
	phys func(off int) uint64
}

// dmaAllocator returns size bytes (a whole number of pages, page-aligned)
// of DMA memory.
type dmaAllocator func(size int) (dmaRegion, error)

// pciAlloc allocates through pcidev: anonymous pages whose frames
// /proc/self/pagemap names.
func pciAlloc(size int) (dmaRegion, error) {
	d, err := pcidev.AllocDMA(size)
	if err != nil {
		return dmaRegion{}, err
	}
	return dmaRegion{buf: d.Buf, phys: d.Phys}, nil
}

// The accessors below are how the driver reads and writes memory the
// device reads and writes concurrently (the rings). Virtio 1.0 fields
// are little-endian ("Structure Size and Alignment"), as x86-64 is, so
// they are native accesses of the field's width.
//
// Two things matter. The CPU must not reorder them: x86 is TSO (stores
// leave in program order, loads are not passed by later loads), and the
// one store that must also be ordered before later loads (publishing the
// available index, then reading the used ring's NO_NOTIFY flag, "Virtqueue
// Notification Suppression") is an atomic store, an XCHG, a full fence.
// And the compiler must not reorder, merge, split or drop them: the
// 32- and 64-bit accesses are sync/atomic operations, which it keeps as
// they are, in order with every other atomic; the 16-bit ones, which have
// no atomic of their width (and the neighbouring 16 bits can belong to
// the device), are plain accesses through a pointer a non-inlined
// function returns, followed by an atomic load as a compiler fence.

func at(b []byte, off, n int) unsafe.Pointer {
	if off < 0 || off+n > len(b) || off%n != 0 {
		panic(fmt.Sprintf("virtionet: %d-byte DMA access at %#x of %#x bytes (misaligned or beyond)", n, off, len(b)))
	}
	return unsafe.Pointer(&b[off])
}

func load32(b []byte, off int) uint32     { return atomic.LoadUint32((*uint32)(at(b, off, 4))) }
func store32(b []byte, off int, v uint32) { atomic.StoreUint32((*uint32)(at(b, off, 4)), v) }
func store64(b []byte, off int, v uint64) { atomic.StoreUint64((*uint64)(at(b, off, 8)), v) }

func store16(b []byte, off int, v uint16) {
	*(*uint16)(opaque(at(b, off, 2))) = v
	atomic.LoadUint32(&compilerFence)
}

var compilerFence uint32

//go:noinline
func opaque(p unsafe.Pointer) unsafe.Pointer { return p }
