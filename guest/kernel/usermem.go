package kernel

import (
	"rt0/contract"
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/mem"
	"rt0/guest/linux"
)

// User memory, as syscalls see it. The program and the kernel share one
// address space, so a user pointer is dereferenced directly — after the
// kernel checks it against what the program may really touch:
//
//   - the program's image, where the page tables allow the access (text
//     and read-only data are readable, not writable: a read(2) into a
//     string constant fails) and the range holds none of the kernel's own
//     variables (kernelVars: the image's data and bss are shared by the
//     kernel, the runtime and the program);
//   - or a VMA with the needed protection.
//
// Everything else — the identity map of physical memory (page tables,
// frames, firmware), the kernel heap and its stacks, the kernel half — is
// not the program's. A bad pointer returns EFAULT like Linux, and the
// program goes on.
//
// The kernel never takes a page fault on user memory: userOK backs every
// page of a checked range before the kernel touches it. A fault inside the
// kernel would arrive on the #PF stack — the very stack the kernel is on
// when it delivers a signal for a page fault — and overwrite the frame of
// the fault being served.

func userOK(addr, n uint64, write bool) bool {
	if n == 0 {
		return true
	}
	if addr+n < addr {
		return false
	}
	li := links()
	if addr >= li.ImageStart && addr+n <= li.ImageEnd {
		if kernelVars(addr, n) {
			return false
		}
		for va := addr &^ (mem.PageSize - 1); va < addr+n; va += mem.PageSize {
			if !identityAllows(va, write) {
				return false
			}
		}
		return true
	}
	if !inUserRange(addr, n) {
		return false
	}
	want := uint32(mem.PROT_READ)
	if write {
		want = mem.PROT_WRITE
	}
	start, end := addr&^(mem.PageSize-1), (addr+n+mem.PageSize-1)&^(mem.PageSize-1)
	if !vmas.Covered(start, end, want) {
		return false
	}
	for va := start; va < end; va += mem.PageSize {
		if e := pte(va, false); e != nil && *e&ptePresent != 0 {
			continue
		}
		i, _ := vmas.Find(va)
		if !mapZeroPage(va, vmas.At(i).Prot&mem.PROT_WRITE != 0) {
			panicMsg("out of memory: no free page frame for a user buffer (give the machine more memory: rt0 run -m)")
		}
		stats.pageFaults++
	}
	return true
}

func kernelDataAddr() uintptr

// kernelVars reports whether [addr, addr+n) overlaps a run of the kernel's
// variables in the image, from the sorted table host/image wrote
// (kerneldata.go there): a binary search for the first run that ends after
// addr.
func kernelVars(addr, n uint64) bool {
	t := kernelDataAddr()
	cnt := int(min(*amd64.U64(t), contract.KernelDataEntries))
	span := func(i int) (uint64, uint64) {
		return uint64(*amd64.U32(t + 8 + uintptr(i)*8)), uint64(*amd64.U32(t + 12 + uintptr(i)*8))
	}
	lo, hi := 0, cnt
	for lo < hi {
		mid := (lo + hi) / 2
		if _, end := span(mid); end <= addr {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == cnt {
		return false
	}
	start, _ := span(lo)
	return start < addr+n
}

// identityAllows reports whether the page tables let an access to the page
// of va through: present at every level, and writable at every level for a
// write. (CR0.WP makes the write bit bind ring 0 too.)
func identityAllows(va uint64, write bool) bool {
	table := pml4
	for level := 3; level >= 0; level-- {
		e := *amd64.U64(table + uintptr((va>>(12+9*uint(level)))&511)*8)
		if e&ptePresent == 0 || write && e&pteWrite == 0 {
			return false
		}
		if level == 0 || e&pteHuge != 0 {
			return true
		}
		table = uintptr(e & pteAddr)
	}
	return true
}

// userBytes returns the user buffer [addr, addr+n) or ok=false (EFAULT).
func userBytes(addr, n uint64, write bool) ([]byte, bool) {
	if !userOK(addr, n, write) {
		return nil, false
	}
	if n == 0 {
		return nil, true
	}
	return amd64.Bytes(uintptr(addr), int(n)), true
}

// userU64 returns a pointer to a user word.
func userU64(addr uint64, write bool) (*uint64, bool) {
	if addr%8 != 0 || !userOK(addr, 8, write) {
		return nil, false
	}
	return amd64.U64(uintptr(addr)), true
}

// userU32 returns a pointer to a 4-byte aligned user word.
func userU32(addr uint64, write bool) (*uint32, bool) {
	if addr%4 != 0 || !userOK(addr, 4, write) {
		return nil, false
	}
	return amd64.U32(uintptr(addr)), true
}

// readTimespec reads a struct timespec {tv_sec, tv_nsec int64} as
// nanoseconds, or returns Linux's errno: EFAULT for a bad pointer, EINVAL
// for a value out of range.
func readTimespec(addr uint64) (int64, int64) {
	p, ok := userBytes(addr, 16, false)
	if !ok {
		return 0, -linux.EFAULT
	}
	sec := int64(le64(p[0:]))
	nsec := int64(le64(p[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, -linux.EINVAL
	}
	if sec > (1<<62)/1_000_000_000 {
		sec = (1 << 62) / 1_000_000_000
	}
	return sec*1e9 + nsec, 0
}

func writeTimespec(addr uint64, ns int64) bool {
	p, ok := userBytes(addr, 16, true)
	if !ok {
		return false
	}
	put64(p[0:], uint64(ns/1e9))
	put64(p[8:], uint64(ns%1e9))
	return true
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func put64(b []byte, v uint64) {
	_ = b[7]
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func put32(b []byte, v uint32) {
	_ = b[3]
	for i := 0; i < 4; i++ {
		b[i] = byte(v >> (8 * i))
	}
}
