package kernel

import (
	"rt0/guest/kernel/mem"
	"rt0/guest/linux"
)

// Memory syscalls: mmap, munmap, mprotect, madvise over the VMA set
// (kernel/mem) and the page tables (paging.go).
//
// Anonymous private memory only. A mapping costs nothing until it is
// touched: the page-fault handler backs each page with a zeroed frame the
// first time. munmap and MADV_DONTNEED give the frames back, so the next
// touch sees zeros again, as Linux's do.

var vmas mem.Set

const (
	// VMA flags of the kernel's own (mem.VMA.Flags).
	vmaAnon  = 1
	vmaStack = 2

	// mmapTop is where mmap(NULL) starts searching down from: below the
	// main stack, as on Linux.
	mmapTop = stackTop - stackSize - 1<<30
)

func pageRound(n uint64) (uint64, bool) {
	r := (n + mem.PageSize - 1) &^ (mem.PageSize - 1)
	return r, r >= n
}

func inUserRange(addr, n uint64) bool {
	return addr >= userBase && addr <= userTop && n <= userTop-addr
}

func sysMmap(addr, length, prot, flags, fd, off uint64) int64 {
	if flags&linux.MAP_ANONYMOUS == 0 {
		// Of files, only the framebuffer can be mapped.
		f := getFile(fd)
		if f == nil {
			return -linux.EBADF
		}
		if f.kind != fdFile || ino(f.ino).kind != iDev || length == 0 {
			return -linux.ENODEV
		}
		if n := ino(f.ino); n.dev == devPCIResource {
			return pciMmap(n.data, length, flags, off)
		}
		return screenMmap(ino(f.ino).dev, length, flags, off)
	}
	if flags&(linux.MAP_SHARED|linux.MAP_PRIVATE) == 0 || length == 0 || addr%mem.PageSize != 0 {
		return -linux.EINVAL
	}
	n, ok := pageRound(length)
	if !ok {
		return -linux.ENOMEM
	}
	prot &= mem.PROT_READ | mem.PROT_WRITE | mem.PROT_EXEC
	if flags&(linux.MAP_FIXED|linux.MAP_FIXED_NOREPLACE) != 0 {
		if !inUserRange(addr, n) {
			return -linux.ENOMEM
		}
		if flags&linux.MAP_FIXED_NOREPLACE != 0 && vmas.FirstOverlap(addr) < vmas.Len() && vmas.At(vmas.FirstOverlap(addr)).Start < addr+n {
			return -linux.EEXIST
		}
	} else {
		hint := addr
		if !inUserRange(hint, n) {
			hint = 0
		}
		a, ok := vmas.FindFree(hint, n, userBase, mmapTop)
		if !ok {
			return -linux.ENOMEM
		}
		addr = a
	}
	if flags&(linux.MAP_FIXED|linux.MAP_FIXED_NOREPLACE) != 0 && prot&mem.PROT_WRITE != 0 && !canCommit(n) {
		return -linux.ENOMEM
	}
	// Replace whatever was there (MAP_FIXED), then record the new area.
	unmapRange(addr, addr+n)
	if e := vmas.Map(addr, addr+n, uint32(prot), vmaAnon); e != 0 {
		return -int64(e)
	}
	return int64(addr)
}

// canCommit is rt0's overcommit policy. Mappings cost nothing until
// touched, so mmap succeeds even when memory is short, like Linux's. But
// when the Go runtime grows its heap it commits reserved address space with
// mmap(MAP_FIXED, PROT_READ|PROT_WRITE) and then really uses it; failing
// that call with ENOMEM is what makes the runtime stop with its own "fatal
// error: runtime: out of memory" (exit status 2) instead of the machine
// running out of frames in a page fault later. So a writable MAP_FIXED
// mapping succeeds only while the free frames cover it, plus a reserve
// for what else the program touches before its next commit (GC metadata,
// stacks): 1/32 of RAM, at least 256 KiB.
func canCommit(n uint64) bool {
	reserve := frames.Total() * mem.PageSize / 32
	if reserve < 256<<10 {
		reserve = 256 << 10
	}
	return frames.FreeCount()*mem.PageSize >= n+reserve
}

func sysMunmap(addr, length uint64) int64 {
	n, ok := pageRound(length)
	if addr%mem.PageSize != 0 || length == 0 || !ok {
		return -linux.EINVAL
	}
	if !inUserRange(addr, n) {
		return 0 // nothing of ours is there
	}
	if e := vmas.Unmap(addr, addr+n); e != 0 {
		return -int64(e)
	}
	unmapRange(addr, addr+n)
	return 0
}

func sysMprotect(addr, length, prot uint64) int64 {
	n, ok := pageRound(length)
	if addr%mem.PageSize != 0 || !ok {
		return -linux.EINVAL
	}
	if n == 0 {
		return 0
	}
	if !inUserRange(addr, n) {
		return -linux.ENOMEM
	}
	prot &= mem.PROT_READ | mem.PROT_WRITE | mem.PROT_EXEC
	if e := vmas.Protect(addr, addr+n, uint32(prot)); e != 0 {
		return -int64(e)
	}
	if prot == mem.PROT_NONE {
		// Pages of a PROT_NONE area cannot be touched: drop them (their
		// contents would be lost on Linux only by munmap; nothing in Go
		// reads memory it made PROT_NONE).
		unmapRange(addr, addr+n)
	} else {
		protectRange(addr, addr+n, prot&mem.PROT_WRITE != 0)
	}
	return 0
}

func sysMadvise(addr, length, advice uint64) int64 {
	n, ok := pageRound(length)
	if addr%mem.PageSize != 0 || !ok {
		return -linux.EINVAL
	}
	if !inUserRange(addr, n) || !vmas.Covered(addr, addr+n, 0) {
		return -linux.ENOMEM
	}
	switch advice {
	case linux.MADV_DONTNEED, linux.MADV_FREE, linux.MADV_REMOVE:
		unmapRange(addr, addr+n) // next touch: a fresh zero page
	}
	return 0
}
