package kernel

import (
	"unsafe"

	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/mem"
)

// Page tables. There is one address space, as in a Linux process:
//
//   - [0, physTop) is an identity map of physical memory in 2 MiB pages
//     (PML4 slot 0). The kernel image (where the runtime's text, data and
//     bss live) is in it, and so is every frame, so the kernel reaches a
//     frame at its physical address. host/image wrote the first 4 GiB of
//     it; initPaging extends it over RAM above 4 GiB.
//   - [userBase, userTop) is where mmap puts memory: 4 KiB pages, filled on
//     first touch (demand-zero) by the page-fault handler from the VMAs.
//
// Everything runs in ring 0, so the U/S bit means nothing; CR0.WP makes
// read-only pages read-only for ring 0 too.

const (
	ptePresent = 1 << 0
	pteWrite   = 1 << 1
	pteUser    = 1 << 2
	ptePWT     = 1 << 3
	ptePCD     = 1 << 4
	pteHuge    = 1 << 7
	pteNX      = 1 << 63
	pteAddr    = 0x000FFFFFFFFFF000

	userBase = 1 << 39 // PML4 slot 1: above any identity-mapped RAM
	userTop  = 1 << 47 // the canonical lower half ends here
)

var pml4 uintptr

func initPaging() {
	pml4 = uintptr(amd64.ReadCR3() &^ 4095)
	amd64.WriteCR0(amd64.ReadCR0() | amd64.CR0_WP)
	// Identity-map RAM above 4 GiB, in 2 MiB pages, up to 512 GiB.
	pdpt := uintptr(*amd64.U64(pml4) & pteAddr)
	if top := min(bootInfo.MaxAddr(), userBase); top > 4<<30 && !mapIdentity(4<<30, top, 0) {
		panicMsg("out of memory building the identity map")
	}
	unmapNullPage(pdpt)
	protectImage()
	noExecute()
	amd64.WriteCR3(uint64(pml4))
}

// protectImage maps the image's read-only segments (text, rodata,
// pclntab) read-only, in 4 KiB pages, as Linux's loader does: a program
// that writes to a string constant faults (SIGSEGV), and a kernel bug
// cannot overwrite code.
func protectImage() {
	li := links()
	start, end := li.ImageStart&^4095, li.ROEnd
	if end <= start || end > 1<<30 {
		return
	}
	for a := start; a < end; a += 4096 {
		if e, ok := identityLeaf(a); ok {
			*e &^= pteWrite
		}
	}
}

// identityLeaf returns the 4 KiB entry that maps identity-mapped address
// va, splitting the 2 MiB page that holds it first (the new table keeps
// its flags). The caller reloads CR3 (or invalidates) after changing it.
func identityLeaf(va uint64) (*uint64, bool) {
	pdpt := uintptr(*amd64.U64(pml4) & pteAddr)
	pdpte := *amd64.U64(pdpt + uintptr(va>>30&511)*8)
	if va >= userBase || pdpte&ptePresent == 0 || pdpte&pteHuge != 0 {
		return nil, false
	}
	pde := amd64.U64(uintptr(pdpte&pteAddr) + uintptr(va>>21&511)*8)
	if *pde&ptePresent == 0 {
		return nil, false
	}
	if *pde&pteHuge != 0 {
		pt, ok := allocZeroed()
		if !ok {
			return nil, false
		}
		base := *pde & pteAddr &^ (2<<20 - 1)
		flags := *pde & (ptePresent | pteWrite | pteNX)
		for i := uint64(0); i < 512; i++ {
			*amd64.U64(uintptr(pt) + uintptr(i)*8) = base + i<<12 | flags
		}
		*pde = pt | ptePresent | pteWrite
	}
	return amd64.U64(uintptr(*pde&pteAddr) + uintptr(va>>12&511)*8), true
}

// identityMapped reports whether identity-mapped address va is mapped.
func identityMapped(va uint64) bool {
	pdpt := uintptr(*amd64.U64(pml4) & pteAddr)
	pdpte := *amd64.U64(pdpt + uintptr(va>>30&511)*8)
	switch {
	case va >= userBase || pdpte&ptePresent == 0:
		return false
	case pdpte&pteHuge != 0:
		return true
	}
	return *amd64.U64(uintptr(pdpte&pteAddr) + uintptr(va>>21&511)*8)&ptePresent != 0
}

// mapIdentity makes sure the identity map covers [start, end): a GiB it
// lacks (device memory above RAM: a framebuffer, a 64-bit BAR) gets 2 MiB
// pages, no-execute, with the caching flags given (uncached, PCD|PWT, for
// device registers). The first 4 GiB are mapped already (host/image).
func mapIdentity(start, end, caching uint64) bool {
	if end > userBase || start >= end {
		return false
	}
	pdpt := uintptr(*amd64.U64(pml4) & pteAddr)
	for gb := start >> 30; gb<<30 < end; gb++ {
		e := amd64.U64(pdpt + uintptr(gb)*8)
		if *e&ptePresent != 0 {
			continue
		}
		pd, ok := allocZeroed()
		if !ok {
			return false
		}
		for i := uint64(0); i < 512; i++ {
			*amd64.U64(uintptr(pd) + uintptr(i)*8) = (gb<<30 + i<<21) | ptePresent | pteWrite | pteHuge | caching | pteNX
		}
		*e = pd | ptePresent | pteWrite
	}
	return true
}

// noExecute makes every page of the identity map no-execute but the
// image's text and the first MiB (where firmware code and the APs'
// real-mode trampoline run): kernel data, stacks, page tables, the heap
// and every frame can then hold no code, so a kernel bug that jumps into
// data faults instead of running it. (The kernel heap's own pages get NX
// when kalloc maps them.) Needs EFER.NXE, which the APs copy.
func noExecute() {
	if _, _, _, d := amd64.Cpuid(0x80000001, 0); d&(1<<20) == 0 {
		kprint("rt0: the CPU has no NX bit: kernel data stays executable\n")
		return
	}
	amd64.Wrmsr(amd64.MSR_EFER, amd64.Rdmsr(amd64.MSR_EFER)|amd64.EFER_NXE)
	nxe = true
	li := links()
	exec := func(lo, hi uint64) bool { // [lo, hi) holds code
		return lo < 1<<20 || lo < li.TextEnd && hi > li.ImageStart&^4095
	}
	pdpt := uintptr(*amd64.U64(pml4) & pteAddr)
	for gb := uint64(0); gb < 512; gb++ {
		pdpte := *amd64.U64(pdpt + uintptr(gb)*8)
		if pdpte&ptePresent == 0 || pdpte&pteHuge != 0 {
			continue
		}
		for i := uint64(0); i < 512; i++ {
			pde := amd64.U64(uintptr(pdpte&pteAddr) + uintptr(i)*8)
			big := gb<<30 | i<<21
			switch {
			case *pde&ptePresent == 0:
			case *pde&pteHuge != 0:
				if !exec(big, big+2<<20) {
					*pde |= pteNX
				}
			default:
				for j := uint64(0); j < 512; j++ {
					if a := big | j<<12; !exec(a, a+4096) {
						*amd64.U64(uintptr(*pde&pteAddr) + uintptr(j)*8) |= pteNX
					}
				}
			}
		}
	}
}

// nxe is set once EFER.NXE is on: the NX bit may be used.
var nxe bool

// guardStacks unmaps the guard page under each of CPU id's kernel stacks
// (amd64.StackGuard). The boot CPU's are in the image's bss (identity
// map), the APs' in the kernel heap; a guard's frame stays allocated.
func guardStacks(id int) {
	c := amd64.CPUs(id)
	for i := 0; i < amd64.NumStacks; i++ {
		g := uint64(amd64.StackGuard(uintptr(c.Stacks), i))
		var e *uint64
		if g >= kheapBase {
			e = pte(g, false)
		} else {
			e, _ = identityLeaf(g)
		}
		if e != nil {
			*e &^= ptePresent
			amd64.Invlpg(uintptr(g))
		}
	}
}

// stackNames name the kernel stacks in reports (amd64.Stack*).
var stackNames = [amd64.NumStacks]string{"system call", "exception", "page fault", "double fault", "NMI", "interrupt", "debug"}

// guardHit reports which CPU's which kernel stack overflowed into the
// guard page that holds addr, if any.
func guardHit(addr uint64) (cpu, stack int, ok bool) {
	for id := 0; id < amd64.MaxCPUs; id++ {
		c := amd64.CPUs(id)
		if c.Stacks == 0 {
			continue
		}
		for i := 0; i < amd64.NumStacks; i++ {
			if g := uint64(amd64.StackGuard(uintptr(c.Stacks), i)); addr >= g && addr < g+amd64.GuardBytes {
				return id, i, true
			}
		}
	}
	return 0, 0, false
}

// unmapNullPage splits the first 2 MiB of the identity map into 4 KiB pages
// and leaves page 0 out, so that a nil pointer dereference faults — in the
// kernel too, where it would otherwise read the real-mode interrupt table.
func unmapNullPage(pdpt uintptr) {
	pd := uintptr(*amd64.U64(pdpt) & pteAddr)
	pt, ok := allocZeroed()
	if !ok {
		panicMsg("out of memory building the identity map")
	}
	for i := uint64(1); i < 512; i++ {
		*amd64.U64(uintptr(pt) + uintptr(i)*8) = i<<12 | ptePresent | pteWrite
	}
	*amd64.U64(pd) = pt | ptePresent | pteWrite
}

// allocZeroed returns a zeroed frame.
func allocZeroed() (uint64, bool) {
	pa, ok := frames.Alloc()
	if !ok {
		return 0, false
	}
	clear(amd64.Bytes(uintptr(pa), mem.PageSize))
	return pa, true
}

// pte returns the page-table entry of user address va, creating the tables
// on the way if create is set (nil if absent, or out of memory).
func pte(va uint64, create bool) *uint64 {
	table := pml4
	for level := 3; level > 0; level-- {
		idx := (va >> (12 + 9*uint(level))) & 511
		e := amd64.U64(table + uintptr(idx)*8)
		if *e&ptePresent == 0 {
			if !create {
				return nil
			}
			pa, ok := allocZeroed()
			if !ok {
				return nil
			}
			*e = pa | ptePresent | pteWrite | pteUser
		}
		if *e&pteHuge != 0 {
			return nil // identity map: not user memory
		}
		table = uintptr(*e & pteAddr)
	}
	return amd64.U64(table + uintptr((va>>12)&511)*8)
}

// mapZeroPage backs user page va with a fresh zeroed frame.
func mapZeroPage(va uint64, writable bool) bool {
	e := pte(va, true)
	if e == nil {
		return false
	}
	if *e&ptePresent != 0 {
		return true
	}
	pa, ok := allocZeroed()
	if !ok {
		return false
	}
	flags := uint64(ptePresent | pteUser)
	if writable {
		flags |= pteWrite
	}
	*e = pa | flags
	return true
}

// unmapRange drops the pages of [start, end) and frees their frames, and
// has every CPU forget them (shootdown, smp.go) before the system call
// returns. (The freed frames cannot be reused before that: only the lock's
// holder allocates.)
func unmapRange(start, end uint64) {
	changed := false
	for va := start; va < end; {
		e := pte(va, false)
		if e == nil {
			// Skip to the next page table (2 MiB) when there is none.
			va = (va + 2<<20) &^ (2<<20 - 1)
			continue
		}
		if *e&ptePresent != 0 {
			frames.Free(*e & pteAddr)
			*e = 0
			amd64.Invlpg(uintptr(va))
			changed = true
		}
		va += mem.PageSize
	}
	if changed {
		shootdown()
	}
}

// protectRange sets the writable bit of the present pages of [start, end).
// Taking it away is shot down on every CPU; granting it is not (a CPU that
// still holds the read-only entry faults, and pageFault sees the page
// allows the access now).
func protectRange(start, end uint64, writable bool) {
	changed := false
	for va := start; va < end; {
		e := pte(va, false)
		if e == nil {
			va = (va + 2<<20) &^ (2<<20 - 1)
			continue
		}
		if *e&ptePresent != 0 {
			if writable {
				*e |= pteWrite
			} else {
				changed = changed || *e&pteWrite != 0
				*e &^= pteWrite
			}
			amd64.Invlpg(uintptr(va))
		}
		va += mem.PageSize
	}
	if changed {
		shootdown()
	}
}

func unsafeU64s(b []byte) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
}
