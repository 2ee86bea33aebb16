// The story of Set. rt0 runs one program in one address space, and the
// program manages that space the Linux way: mmap, munmap, mprotect and
// madvise name ranges of virtual addresses and say what they should be.
// The kernel does not build page tables for those ranges up front. It writes
// the ranges down as virtual memory areas (VMAs) and fills in pages lazily:
// when the program touches an address with no page behind it, the page-fault
// handler looks the address up here, and if a VMA covers it with a
// protection that allows the access, it allocates a frame (frames.go), maps
// it and returns; otherwise the fault becomes SIGSEGV.
//
// A Set is the list of VMAs, kept sorted by address, non-overlapping and in
// canonical form: two VMAs that touch and have the same Prot and Flags are
// always merged into one. Canonical form means the list is exactly the
// run-length encoding of "what is each page", so it stays as short as the
// program's mappings allow, and equal address spaces have equal lists.
//
// Everything lives in one fixed array, because the page-fault handler runs
// below the Go runtime: it may not allocate, and must not take a write
// barrier, so a Set holds no pointers and grows no slices. Lookups are
// binary searches. Changes rewrite a window of the array and move the tail
// with copy, O(number of VMAs), which is cheap next to the page-table work
// that follows every mmap or munmap. Every change first works out exactly
// how many VMAs the result will have, splits and merges included, and
// fails with ENOMEM without touching anything if that does not fit, the way
// Linux fails when a split would exceed vm.max_map_count.
//
// The operations follow Linux semantics: Map is mmap with MAP_FIXED (what
// was there is replaced), Unmap is munmap (holes are fine), Protect is
// mprotect (every page of the range must be mapped), FindFree is the
// search mmap(NULL) does for a free range, top-down, and Covered is what the
// fault handler and syscalls that read or write user memory ask.
package mem

// Linux errno values that Set returns. Functions here return a plain int,
// 0 for success, because an error interface would allocate; the syscall
// layer negates it into the return register.
const (
	// ENOMEM: the range is not mapped (Protect), or the change would need
	// more than MaxVMAs VMAs.
	ENOMEM = 12
	// EEXIST: a mapping is in the way; for callers that implement
	// MAP_FIXED_NOREPLACE on top of Covered and FindFree.
	EEXIST = 17
	// EINVAL: an address is not page aligned or a range is empty or
	// inverted.
	EINVAL = 22
)

// Protection bits, the values of Linux's PROT_* so the syscall layer can
// store mmap's and mprotect's argument unchanged. The page-fault handler
// checks an access against them; a VMA with PROT_NONE is mapped (its range
// is reserved) but every access faults.
const (
	PROT_NONE  = 0x0
	PROT_READ  = 0x1
	PROT_WRITE = 0x2
	PROT_EXEC  = 0x4
)

// VMA is one virtual memory area: the pages [Start, End) share one
// protection and one set of flags. Start and End are page aligned and
// Start < End.
type VMA struct {
	Start, End uint64 // [Start, End), page aligned
	Prot       uint32 // PROT_* bits: what accesses the fault handler allows
	// Flags is free for the kernel's use, e.g. MAP_* bits (private,
	// anonymous, stack, ...). The Set only compares it: two touching VMAs
	// merge only if both Prot and Flags are equal, so anything the fault
	// handler must distinguish belongs here.
	Flags uint32
}

// MaxVMAs is the capacity of a Set: the most VMAs the address space can be
// split into. Linux's default vm.max_map_count is 65530, but a Go program
// keeps a handful of large mappings (heap arenas, stacks, the binary), so
// 1024 (24 KiB of VMAs) is plenty; past it Map, Unmap and Protect fail with
// ENOMEM, as Linux does past its limit.
const MaxVMAs = 1024

// Set is the sorted, non-overlapping, canonical (fully merged) array of VMAs
// of the address space, in fixed storage. The zero value is an empty address
// space, so a Set can be a package variable that is usable before any
// package initialization has run.
type Set struct {
	n int // v[:n] are the VMAs, sorted by Start
	v [MaxVMAs]VMA
}

// Len returns the number of VMAs, for iterating with At.
func (s *Set) Len() int { return s.n }

// At returns the i-th VMA in address order. An index outside [0, Len())
// returns the zero VMA (an empty range) instead of panicking, because a
// panic inside a trap handler has nowhere to go.
func (s *Set) At(i int) VMA {
	if i < 0 || i >= s.n {
		return VMA{}
	}
	return s.v[i]
}

// Reset empties the set, as execve does with the old address space.
func (s *Set) Reset() {
	clear(s.v[:s.n])
	s.n = 0
}

// Find returns the index of the VMA containing addr, ok=false if addr lies in
// a hole. This is the page-fault handler's question: is there a mapping
// here, and with what protection.
func (s *Set) Find(addr uint64) (i int, ok bool) {
	i = s.FirstOverlap(addr)
	if i < s.n && s.v[i].Start <= addr {
		return i, true
	}
	return i, false
}

// FirstOverlap returns the index of the first VMA with End > start: the
// first VMA that can overlap a range beginning at start, so a scan of
// [start, end) begins there and stops at the first VMA with Start >= end.
// It returns Len() if every VMA ends at or before start. Binary search, no
// closures (sort.Search's callback could escape).
func (s *Set) FirstOverlap(start uint64) int {
	lo, hi := 0, s.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.v[mid].End > start {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// firstFrom returns the index of the first VMA with Start >= addr (Len() if
// none): with FirstOverlap it brackets the VMAs that overlap a range.
func (s *Set) firstFrom(addr uint64) int {
	lo, hi := 0, s.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.v[mid].Start >= addr {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// bad reports whether [start, end) is not a valid non-empty page range.
func bad(start, end uint64) bool {
	return start%PageSize != 0 || end%PageSize != 0 || start >= end
}

// mergeable reports whether b starts where a ends with the same attributes,
// i.e. whether canonical form requires a and b to be one VMA.
func mergeable(a, b VMA) bool {
	return a.End == b.Start && a.Prot == b.Prot && a.Flags == b.Flags
}

// Map makes [start, end) one mapping with prot and flags, replacing whatever
// was there, like mmap with MAP_FIXED: VMAs inside the range disappear,
// VMAs that straddle its edges are trimmed (one straddling both edges is
// split in two), and the new VMA merges with neighbours or remainders that
// have equal Prot and Flags. It returns 0, EINVAL if start or end is not
// page aligned or the range is empty, or ENOMEM if the result would need
// more than MaxVMAs VMAs; on error nothing changes.
//
// Map does not touch page tables: unmapping the frames of the replaced
// range is the caller's job, before or after.
func (s *Set) Map(start, end uint64, prot, flags uint32) int {
	if bad(start, end) {
		return EINVAL
	}
	i := s.FirstOverlap(start)
	j := s.firstFrom(end)
	var rep [3]VMA
	k := 0
	if i < j && s.v[i].Start < start {
		rep[k] = s.v[i]
		rep[k].End = start
		k++
	}
	nv := VMA{Start: start, End: end, Prot: prot, Flags: flags}
	if k > 0 && mergeable(rep[k-1], nv) {
		rep[k-1].End = end
	} else {
		rep[k] = nv
		k++
	}
	if i < j && s.v[j-1].End > end {
		r := s.v[j-1]
		r.Start = end
		if mergeable(rep[k-1], r) {
			rep[k-1].End = r.End
		} else {
			rep[k] = r
			k++
		}
	}
	a, b := s.mergeEdges(i, j, &rep, k)
	return s.splice(a, b, &rep, k)
}

// mergeEdges widens the window [a, b) that rep[:k] replaces to swallow the
// VMAs on either side that rep's first and last pieces merge with, and
// extends those pieces to cover them.
func (s *Set) mergeEdges(a, b int, rep *[3]VMA, k int) (int, int) {
	if k < 1 || k > len(rep) {
		return a, b
	}
	if a > 0 && a <= s.n && mergeable(s.v[a-1], rep[0]) {
		rep[0].Start = s.v[a-1].Start
		a--
	}
	if b >= 0 && b < s.n && mergeable(rep[k-1], s.v[b]) {
		rep[k-1].End = s.v[b].End
		b++
	}
	return a, b
}

// splice replaces v[a:b] with rep[:k] and moves the tail, or returns ENOMEM
// and changes nothing if the result would not fit. rep is a copy on the
// caller's stack, so the window may be overwritten freely.
func (s *Set) splice(a, b int, rep *[3]VMA, k int) int {
	if a < 0 || a > b || b > s.n || k < 0 || k > len(rep) {
		return EINVAL // unreachable: callers pass a valid window
	}
	n := s.n - (b - a) + k
	if n > MaxVMAs {
		return ENOMEM
	}
	copy(s.v[a+k:], s.v[b:s.n])
	copy(s.v[a:a+k], rep[:k])
	if n < s.n {
		clear(s.v[n:s.n])
	}
	s.n = n
	return 0
}

// Unmap removes [start, end) from the address space, like munmap: VMAs
// inside it disappear and VMAs straddling its edges are trimmed or split.
// Unmapping a hole, or a range that is partly a hole, is fine and unmaps
// what is mapped. It returns 0, EINVAL for an unaligned or empty range, or
// ENOMEM if splitting one VMA in two would exceed MaxVMAs; on error nothing
// changes.
func (s *Set) Unmap(start, end uint64) int {
	if bad(start, end) {
		return EINVAL
	}
	i := s.FirstOverlap(start)
	j := s.firstFrom(end)
	if i >= j {
		return 0 // a hole: nothing to do
	}
	var rep [3]VMA
	k := 0
	if s.v[i].Start < start {
		rep[k] = s.v[i]
		rep[k].End = start
		k++
	}
	if s.v[j-1].End > end {
		rep[k] = s.v[j-1]
		rep[k].Start = end
		k++
	}
	return s.splice(i, j, &rep, k)
}

// Protect sets the protection of [start, end) to prot, like mprotect,
// keeping each VMA's Flags: VMAs straddling the edges are split, and pieces
// that end up equal to their neighbours merge. Every page of the range must
// be mapped: if any is not, Protect returns ENOMEM, as Linux does, and
// changes nothing. It also returns ENOMEM if the result would need more than
// MaxVMAs VMAs, EINVAL if start or end is unaligned or end < start, and 0
// (doing nothing) for an empty range, which Linux accepts.
//
// The work is done in place because the range can span many VMAs: count
// the result first, then set prot, coalesce, and put back the remainders
// of split VMAs. The count only shrinks until the remainders go back in,
// so the array never holds more than the final number of VMAs.
func (s *Set) Protect(start, end uint64, prot uint32) int {
	if start%PageSize != 0 || end%PageSize != 0 || start > end {
		return EINVAL
	}
	if start == end {
		return 0
	}
	if !s.Covered(start, end, 0) {
		return ENOMEM
	}
	i := s.FirstOverlap(start)
	j := s.firstFrom(end)
	if i >= j || j > s.n {
		return ENOMEM // unreachable: Covered found VMAs
	}
	first, last := s.v[i], s.v[j-1]
	left := first.Start < start && first.Prot != prot // split off [first.Start, start)
	right := last.End > end && last.Prot != prot      // split off [end, last.End)
	lo, hi := i, j
	if lo > 0 {
		lo--
	}
	if hi < s.n {
		hi++
	}
	n := s.n - s.protectMerges(lo, hi, i, j, start, end, prot)
	if left {
		n++
	}
	if right {
		n++
	}
	if n > MaxVMAs {
		return ENOMEM
	}
	for x := i; x < j; x++ {
		s.v[x].Prot = prot
	}
	if left {
		s.v[i].Start = start
	}
	if right {
		s.v[j-1].End = end
	}
	s.coalesce(lo, hi)
	if left {
		first.End = start
		s.insertHole(first)
	}
	if right {
		last.Start = end
		s.insertHole(last)
	}
	return 0
}

// protected returns v[x] as Protect will leave it before coalescing: VMAs
// in [i, j) get prot, and the edge VMAs are clipped to [start, end) when
// they will be split (their prot differs).
func (s *Set) protected(x, i, j int, start, end uint64, prot uint32) VMA {
	v := s.v[x]
	if x < i || x >= j {
		return v
	}
	if x == i && v.Start < start && v.Prot != prot {
		v.Start = start
	}
	if x == j-1 && v.End > end && v.Prot != prot {
		v.End = end
	}
	v.Prot = prot
	return v
}

// protectMerges counts how many merges coalescing v[lo:hi] will perform
// once Protect has changed v[i:j], without changing anything: the dry run
// that lets Protect fail cleanly with ENOMEM.
func (s *Set) protectMerges(lo, hi, i, j int, start, end uint64, prot uint32) int {
	if lo < 0 || hi > s.n || lo >= hi {
		return 0
	}
	merges := 0
	prev := s.protected(lo, i, j, start, end, prot)
	for x := lo + 1; x < hi; x++ {
		cur := s.protected(x, i, j, start, end, prot)
		if mergeable(prev, cur) {
			prev.End = cur.End
			merges++
		} else {
			prev = cur
		}
	}
	return merges
}

// coalesce merges runs of mergeable VMAs within v[lo:hi] in place and
// closes the gap it leaves in the array.
func (s *Set) coalesce(lo, hi int) {
	if lo < 0 || hi > s.n || lo >= hi {
		return
	}
	w := lo
	for r := lo + 1; r < hi; r++ {
		if mergeable(s.v[w], s.v[r]) {
			s.v[w].End = s.v[r].End
		} else {
			w++
			s.v[w] = s.v[r]
		}
	}
	if w+1 < hi {
		n := s.n - (hi - (w + 1))
		copy(s.v[w+1:], s.v[hi:s.n])
		clear(s.v[n:s.n])
		s.n = n
	}
}

// insertHole inserts v into a hole of the set that it fits exactly into
// without overlapping or merging (Protect's split remainders), keeping the
// array sorted. The caller has checked there is room.
func (s *Set) insertHole(v VMA) {
	if s.n >= MaxVMAs {
		return // unreachable: Protect counted the room
	}
	p := s.FirstOverlap(v.Start)
	copy(s.v[p+1:s.n+1], s.v[p:s.n])
	s.v[p] = v
	s.n++
}

// FindFree returns the start of a free (unmapped) range of length bytes
// inside [lo, hi), the way mmap(NULL, length) picks an address. With a
// nonzero hint, mmap's first argument, it returns hint itself if
// [hint, hint+length) is free and inside [lo, hi). Otherwise it searches
// top-down from hi and returns the highest address that fits, as Linux does,
// so mappings grow down from the top of the user range and leave the space
// above the program's binary and heap untouched. lo and hint are rounded up
// and hi is rounded down to pages, and length is rounded up to pages;
// ok=false if length is 0 or no gap is large enough (mmap's ENOMEM).
//
// FindFree only looks: the caller then Maps the range.
func (s *Set) FindFree(hint, length, lo, hi uint64) (addr uint64, ok bool) {
	var good bool
	if length, good = roundUp(length); !good || length == 0 {
		return 0, false
	}
	if lo, good = roundUp(lo); !good {
		return 0, false
	}
	hi &^= PageSize - 1
	if lo >= hi || hi-lo < length {
		return 0, false
	}
	if h, good := roundUp(hint); good && h != 0 && s.fits(h, length, lo, hi) {
		return h, true
	}
	top := hi
	k := s.FirstOverlap(hi)
	if k < s.n && s.v[k].Start < top {
		top = s.v[k].Start // a VMA straddles hi: the space below it is next
	}
	for k >= 0 && k <= s.n {
		bottom := lo
		below := k > 0 && s.v[k-1].End > lo
		if below {
			bottom = s.v[k-1].End
		}
		if top > bottom && top-bottom >= length {
			return top - length, true
		}
		if !below {
			return 0, false
		}
		k--
		top = s.v[k].Start
	}
	return 0, false
}

// fits reports whether [addr, addr+length) lies inside [lo, hi) and is free.
func (s *Set) fits(addr, length, lo, hi uint64) bool {
	if addr < lo || addr > hi || hi-addr < length {
		return false
	}
	i := s.FirstOverlap(addr)
	return i >= s.n || s.v[i].Start >= addr+length
}

// roundUp rounds x up to a page boundary; ok=false if that overflows.
func roundUp(x uint64) (uint64, bool) {
	r := (x + PageSize - 1) &^ (PageSize - 1)
	return r, r >= x
}

// Covered reports whether every byte of [start, end) lies inside VMAs whose
// Prot includes every bit of want; want=0 asks only whether the range is
// mapped. The fault handler asks it for one page, and syscalls that copy to
// or from user memory ask it for their buffer (PROT_READ to read it,
// PROT_WRITE to write it). start and end need not be aligned. An empty range
// is covered.
func (s *Set) Covered(start, end uint64, want uint32) bool {
	cur := start
	for i := s.FirstOverlap(start); cur < end; i++ {
		if i >= s.n || s.v[i].Start > cur || s.v[i].Prot&want != want {
			return false
		}
		cur = s.v[i].End
	}
	return true
}
