package mem

// Range is a physical address range [Start, End).
type Range struct{ Start, End uint64 }

// FindGap returns the lowest page-aligned address at which size bytes fit
// inside one of the available ranges, below limit, overlapping none of the
// reserved ranges. The boot code uses it to place the frame bitmap before
// any allocator exists. Ranges may come straight from firmware: unsorted,
// overlapping, empty or inverted ones are tolerated (an inverted or empty
// range is ignored). ok is false when nothing fits.
func FindGap(avail, reserved []Range, size, limit uint64) (addr uint64, ok bool) {
	size, ok = roundUp(size)
	if !ok || size == 0 {
		return 0, false
	}
	best, found := uint64(0), false
	for _, r := range avail {
		if r.End <= r.Start {
			continue
		}
		at, ok := roundUp(r.Start)
		if !ok {
			continue
		}
		end := r.End
		if end > limit {
			end = limit
		}
		// Each pass either finds a place or moves past one reserved
		// range, so this ends after at most len(reserved)+1 passes.
		for pass := 0; pass <= len(reserved) && at <= end && end-at >= size; pass++ {
			moved := false
			for _, s := range reserved {
				if s.End > s.Start && at < s.End && s.Start < at+size {
					next, ok := roundUp(s.End)
					if !ok {
						at = end // nothing fits above
					} else {
						at = next
					}
					moved = true
					break
				}
			}
			if !moved {
				if !found || at < best {
					best, found = at, true
				}
				break
			}
		}
	}
	return best, found
}
