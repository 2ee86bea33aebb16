package kernel

import (
	"math/bits"

	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/mem"
)

// The kernel heap: memory for kernel tables whose size depends on the
// program (the filesystem's inodes, names and file contents). It lives in
// its own virtual range, above any RAM of the identity map and below the
// user range, so it never collides with what mmap hands out.
//
// Blocks come in power-of-two sizes. Small ones (under a page) are carved
// out of pages kept per size; a freed small block goes on its size's free
// list (linked through its first word). Large ones are runs of pages,
// mapped when allocated and unmapped (frames freed) when freed; their
// virtual range is kept on a per-size stack for reuse. Memory from kalloc
// is always zeroed. Nothing here allocates Go memory.

const (
	kheapBase = 256 << 30 // PML4 slot 0, above the identity map of RAM
	kheapTop  = userBase
	minClass  = 4  // 16 bytes
	maxClass  = 34 // 16 GiB
)

var kheap struct {
	next     uint64                   // next unused virtual address
	free     [maxClass + 1]uint64     // small classes: free list heads
	freeVA   [maxClass + 1][32]uint64 // large classes: reusable ranges
	nfreeVA  [maxClass + 1]int
	inUse    uint64 // bytes handed out (rounded sizes)
	capacity uint64 // bytes of physical memory mapped for the heap
}

// sizeClass returns the class of an n-byte block: the smallest k with
// 1<<k >= n (at least minClass).
func sizeClass(n uint64) (int, bool) {
	if n <= 1<<minClass {
		return minClass, true
	}
	k := bits.Len64(n - 1)
	return k, k <= maxClass
}

// kalloc returns the address of n zeroed bytes, or ok=false when memory
// (physical or the heap's virtual range) has run out.
func kalloc(n uint64) (uint64, bool) {
	k, ok := sizeClass(n)
	if !ok {
		return 0, false
	}
	size := uint64(1) << k
	if size < mem.PageSize {
		if kheap.free[k] == 0 && !refillSmall(k) {
			return 0, false
		}
		a := kheap.free[k]
		kheap.free[k] = *amd64.U64(uintptr(a))
		clear(amd64.Bytes(uintptr(a), int(size)))
		kheap.inUse += size
		return a, true
	}
	var a uint64
	if kheap.nfreeVA[k] > 0 {
		kheap.nfreeVA[k]--
		a = kheap.freeVA[k][kheap.nfreeVA[k]]
	} else {
		if kheap.next == 0 {
			kheap.next = kheapBase
		}
		if kheap.next+size > kheapTop || kheap.next+size < kheap.next {
			return 0, false
		}
		a = kheap.next
		kheap.next += size
	}
	for off := uint64(0); off < size; off += mem.PageSize {
		if !mapZeroPage(a+off, true) {
			unmapRange(a, a+off)
			pushFreeVA(k, a)
			return 0, false
		}
		if nxe {
			*pte(a+off, false) |= pteNX // heap data is never code
		}
	}
	kheap.inUse += size
	kheap.capacity += size
	return a, true
}

// refillSmall carves a fresh page into blocks of class k.
func refillSmall(k int) bool {
	page, ok := kalloc(mem.PageSize)
	if !ok {
		return false
	}
	kheap.inUse -= mem.PageSize
	size := uint64(1) << k
	for off := mem.PageSize - size; ; off -= size {
		*amd64.U64(uintptr(page + off)) = kheap.free[k]
		kheap.free[k] = page + off
		if off == 0 {
			break
		}
	}
	return true
}

func pushFreeVA(k int, a uint64) {
	if kheap.nfreeVA[k] < len(kheap.freeVA[k]) {
		kheap.freeVA[k][kheap.nfreeVA[k]] = a
		kheap.nfreeVA[k]++
	} // else: the range is leaked; the heap's virtual space is vast
}

// kfree returns the n-byte block at a (n as given to kalloc).
func kfree(a, n uint64) {
	if a == 0 {
		return
	}
	k, ok := sizeClass(n)
	if !ok {
		return
	}
	size := uint64(1) << k
	kheap.inUse -= size
	if size < mem.PageSize {
		*amd64.U64(uintptr(a)) = kheap.free[k]
		kheap.free[k] = a
		return
	}
	unmapRange(a, a+size)
	kheap.capacity -= size
	pushFreeVA(k, a)
}

// krealloc grows or shrinks the block at a from old to n bytes, keeping the
// first min(old, n) bytes; a may be 0. The new tail is zeroed.
func krealloc(a, old, n uint64) (uint64, bool) {
	ko, _ := sizeClass(old)
	kn, ok := sizeClass(n)
	if !ok {
		return 0, false
	}
	if a != 0 && ko == kn {
		if n < old {
			clear(amd64.Bytes(uintptr(a+n), int(old-n)))
		}
		return a, true
	}
	b, ok := kalloc(n)
	if !ok {
		return 0, false
	}
	if a != 0 {
		copy(amd64.Bytes(uintptr(b), int(min(old, n))), amd64.Bytes(uintptr(a), int(min(old, n))))
		kfree(a, old)
	}
	return b, true
}
