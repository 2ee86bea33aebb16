// Package mem keeps the kernel's two books of memory: which 4 KiB physical
// page frames are free (Frames, this file) and which ranges of the single
// virtual address space are mapped and how (Set, vma.go).
//
// The story of Frames. The boot loader hands the kernel a memory map: a few
// ranges of usable RAM between holes (legacy VGA, ACPI tables, MMIO). The
// kernel wants one thing from that map for the rest of its life: "give me a
// free 4 KiB frame" and "take this frame back", fast, from inside page-fault
// and syscall handlers where the Go runtime cannot help (no heap, maybe no P,
// maybe before the runtime has even started). A bitmap fits those rules: one
// bit per frame of physical memory, 1 = used, 0 = free, in storage the
// caller carves out of RAM once (BitmapWords says how much).
//
// Boot fills it in three steps. Init marks every frame used, so holes in the
// memory map, which nobody ever mentions again, stay used forever. AddFree
// then frees each usable range the loader reported, rounding inwards so a
// partial page is never handed out. Reserve finally takes back what is
// already in use inside those ranges: the kernel image, the boot info, the
// bitmap itself. From then on Alloc and Free move single frames between the
// two states.
//
// Alloc is next-fit: it starts scanning where the previous allocation ended
// (the hint) and wraps around, looking at 64 frames per step and skipping
// full words, so a long run of used memory costs one compare per 256 KiB.
// Free moves the hint back to a frame it frees below it, so freed frames
// are used again first, lowest first. (It used to rotate through all of
// memory instead, which under TCG made a program that maps, touches and
// unmaps 64 MiB 1.7x slower at -m 512M and 2.2x at -m 1G than at -m 256M:
// every frame not touched for long, or ever, is a page fault in the host
// process behind the guest's RAM. On a real machine a frame just freed may
// still be in the cache.)
//
// Nothing here allocates, panics on purpose or writes a pointer after Init,
// and all fields are plain integers except the bitmap slice, which Init sets
// once. Frames does no locking: callers serialize (the kernel lock, interrupts off,
// or their own lock).
package mem

import "math/bits"

// PageSize is the size of a page frame and of a virtual page: 4 KiB, the
// smallest page x86-64 maps. Every address Frames hands out and every VMA
// boundary is a multiple of it.
const PageSize = 4096

// pageShift is log2(PageSize): frame index = physical address >> pageShift.
const pageShift = 12

// Frames allocates 4 KiB physical frames from a bitmap, 1 bit per frame,
// 1 = used. Frame i covers physical addresses [i*PageSize, (i+1)*PageSize).
// The zero value is an empty allocator (no frames, Alloc always fails) until
// Init gives it storage.
type Frames struct {
	bitmap  []uint64 // bit i%64 of word i/64 is frame i; set once by Init
	nframes uint64   // frames the bitmap describes, physical [0, nframes*PageSize)
	free    uint64   // frames whose bit is 0
	total   uint64   // frames in the pool: freed by AddFree, not taken back by Reserve
	hint    uint64   // frame index where the next Alloc starts looking
}

// BitmapWords returns how many uint64 words a bitmap for nframes frames
// needs: one bit per frame, rounded up to whole words. Boot calls it to size
// the storage it carves out of RAM before a Frames exists, which is why it
// is a plain function and not a method.
func BitmapWords(nframes uint64) uint64 {
	w := nframes / 64
	if nframes%64 != 0 {
		w++
	}
	return w
}

// Init hands the allocator its bitmap storage, which must hold at least
// BitmapWords(nframes) words, and marks every frame used: a frame becomes
// allocatable only when AddFree says it is RAM, so the holes of the memory
// map are never handed out. If bitmap is too short, nframes is cut down to
// what it can describe rather than indexing past its end. Init may be
// called again to start over; the allocator keeps only bitmap[:words].
func (f *Frames) Init(bitmap []uint64, nframes uint64) {
	words := BitmapWords(nframes)
	if words > uint64(len(bitmap)) {
		words = uint64(len(bitmap))
		nframes = words * 64
	}
	f.bitmap = bitmap[:words]
	for i := range f.bitmap {
		f.bitmap[i] = ^uint64(0)
	}
	f.nframes = nframes
	f.free = 0
	f.total = 0
	f.hint = 0
}

// AddFree marks the frames of the physical range [start, end) free. It
// rounds start up and end down to page boundaries, so only frames that lie
// entirely inside the range are freed: memory maps list byte ranges, and a
// frame that is only partly RAM must never be handed out. Frames at or
// beyond nframes are ignored. Frames that are already free stay free and are
// not counted twice, so overlapping or repeated ranges are harmless.
func (f *Frames) AddFree(start, end uint64) {
	s := start >> pageShift
	if start%PageSize != 0 {
		s++
	}
	e := end >> pageShift
	n := f.setRange(s, e, false)
	f.free += n
	f.total += n
}

// Reserve marks the frames of [start, end) used, rounding start down and end
// up so every frame that holds even one byte of the range is covered. Boot
// uses it for memory that lies inside the usable ranges but is already
// taken: the kernel image, the boot information, the bitmap itself. Those
// frames leave the pool, so Total drops by the number of free frames taken.
// Frames that are already used (allocated, reserved or never added) are left
// alone, so Reserve never disturbs an allocation.
func (f *Frames) Reserve(start, end uint64) {
	s := start >> pageShift
	e := end >> pageShift
	if end%PageSize != 0 {
		e++
	}
	n := f.setRange(s, e, true)
	f.free -= n
	f.total -= n
}

// setRange sets (used) or clears (!used) the bits of frames [s, e), clipped
// to nframes, a word at a time, and returns how many bits changed. Counting
// the changes is what keeps free and total exact when ranges overlap.
func (f *Frames) setRange(s, e uint64, used bool) uint64 {
	if e > f.nframes {
		e = f.nframes
	}
	var changed uint64
	for s < e {
		w := s / 64
		if w >= uint64(len(f.bitmap)) {
			break
		}
		b := s % 64
		n := 64 - b
		if e-s < n {
			n = e - s
		}
		mask := ^uint64(0) << b
		if n < 64 {
			mask = (uint64(1)<<n - 1) << b
		}
		old := f.bitmap[w]
		if used {
			changed += uint64(bits.OnesCount64(^old & mask))
			f.bitmap[w] = old | mask
		} else {
			changed += uint64(bits.OnesCount64(old & mask))
			f.bitmap[w] = old &^ mask
		}
		s += n
	}
	return changed
}

// Alloc returns the physical address of a free frame and marks it used, or
// ok=false when no free frame is left (the caller turns that into ENOMEM or
// an out-of-memory kill). The frame's contents are whatever was there: the
// caller zeroes it if it needs to.
//
// The scan is next-fit: it starts at the hint (just past the previous
// allocation, or the lowest frame freed since), walks the bitmap a word at a time skipping words with all 64
// bits set, wraps around at the end and finally rechecks the bits of the
// first word that lie below the hint. The free count makes the common
// out-of-memory case O(1).
func (f *Frames) Alloc() (pa uint64, ok bool) {
	nw := uint64(len(f.bitmap))
	if f.free == 0 || nw == 0 {
		return 0, false
	}
	h := f.hint
	if h >= f.nframes {
		h = 0
	}
	w := h / 64
	mask := ^uint64(0) << (h % 64) // first word: only bits at or after the hint
	for k := uint64(0); k <= nw; k++ {
		if w >= nw {
			w = 0
		}
		word := f.bitmap[w]
		if avail := ^word & mask; avail != 0 {
			b := uint64(bits.TrailingZeros64(avail))
			idx := w*64 + b
			if idx < f.nframes {
				f.bitmap[w] = word | uint64(1)<<b
				f.free--
				f.hint = idx + 1
				return idx << pageShift, true
			}
		}
		mask = ^uint64(0)
		w++
	}
	return 0, false
}

// Free returns the frame at physical address pa to the pool. An unaligned
// address, an address beyond the last frame or a frame that is already free
// means the caller has a bug (a double free would later hand one frame to
// two owners): Free then returns false and changes nothing, so the caller
// can report it. The bitmap cannot tell an allocated frame from a reserved
// one or from a hole in the memory map; freeing those is a bug Free cannot
// catch.
func (f *Frames) Free(pa uint64) bool {
	if pa%PageSize != 0 {
		return false
	}
	idx := pa >> pageShift
	w := idx / 64
	if idx >= f.nframes || w >= uint64(len(f.bitmap)) {
		return false
	}
	bit := uint64(1) << (idx % 64)
	if f.bitmap[w]&bit == 0 {
		return false
	}
	f.bitmap[w] &^= bit
	f.free++
	if idx < f.hint {
		// The next Alloc starts here: freed frames are used again
		// first, lowest first, instead of the search going on through
		// frames not touched for long (or ever: under emulation a guest
		// frame's first touch is a page fault in the host, and on a real
		// machine a recently freed frame may still be in the cache).
		f.hint = idx
	}
	return true
}

// IsFree reports whether the frame containing physical address pa is free.
// Addresses beyond the last frame are reported as not free. It exists for
// checks and debugging: code that wants a frame calls Alloc.
func (f *Frames) IsFree(pa uint64) bool {
	idx := pa >> pageShift
	w := idx / 64
	if idx >= f.nframes || w >= uint64(len(f.bitmap)) {
		return false
	}
	return f.bitmap[w]&(uint64(1)<<(idx%64)) == 0
}

// FreeCount returns the number of free frames: what Alloc can still hand
// out, and what sysinfo and /proc/meminfo report as free memory.
func (f *Frames) FreeCount() uint64 { return f.free }

// Total returns the number of frames in the pool: frames AddFree made free,
// less the free frames Reserve later took back. It is the usable RAM, in
// frames, that the allocator manages (Linux's totalram), and it does not
// change with Alloc and Free: Total() - FreeCount() frames are in use.
func (f *Frames) Total() uint64 { return f.total }
