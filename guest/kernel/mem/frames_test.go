package mem

import (
	"math/rand"
	"slices"
	"testing"
)

// newFrames returns an allocator over nframes frames, all used.
func newFrames(nframes uint64) *Frames {
	f := new(Frames)
	f.Init(make([]uint64, BitmapWords(nframes)), nframes)
	return f
}

// freeFrames lists the indices of the free frames by probing every frame.
func freeFrames(f *Frames) []uint64 {
	var out []uint64
	for i := uint64(0); i < f.nframes; i++ {
		if f.IsFree(i * PageSize) {
			out = append(out, i)
		}
	}
	return out
}

// checkFrames verifies the counters against the bitmap and that padding bits
// past nframes are set (so Alloc can never return them).
func checkFrames(t *testing.T, f *Frames) {
	t.Helper()
	if got := uint64(len(freeFrames(f))); got != f.FreeCount() {
		t.Fatalf("FreeCount() = %d, bitmap has %d free frames", f.FreeCount(), got)
	}
	if f.FreeCount() > f.Total() {
		t.Fatalf("FreeCount() = %d > Total() = %d", f.FreeCount(), f.Total())
	}
	for i := f.nframes; i < uint64(len(f.bitmap))*64; i++ {
		if f.bitmap[i/64]&(1<<(i%64)) == 0 {
			t.Fatalf("padding bit %d (nframes=%d) is clear", i, f.nframes)
		}
	}
}

// snapshot copies the allocator, bitmap included, to check "state unchanged".
func snapshot(f *Frames) (Frames, []uint64) {
	return *f, slices.Clone(f.bitmap)
}

func sameFrames(t *testing.T, f *Frames, want Frames, wantBits []uint64) {
	t.Helper()
	if f.nframes != want.nframes || f.free != want.free || f.total != want.total || f.hint != want.hint {
		t.Fatalf("state changed: got %+v, want %+v", *f, want)
	}
	if !slices.Equal(f.bitmap, wantBits) {
		t.Fatalf("bitmap changed")
	}
}

func seq(lo, hi uint64) []uint64 {
	var out []uint64
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func TestBitmapWords(t *testing.T) {
	for _, tc := range []struct{ n, want uint64 }{
		{0, 0}, {1, 1}, {63, 1}, {64, 1}, {65, 2}, {128, 2}, {129, 3},
		{1 << 20, 1 << 14},
		{^uint64(0), 1 << 58}, // must not overflow
	} {
		if got := BitmapWords(tc.n); got != tc.want {
			t.Errorf("BitmapWords(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestFramesZeroValue(t *testing.T) {
	var f Frames
	if pa, ok := f.Alloc(); ok {
		t.Fatalf("zero Frames: Alloc() = %#x, true", pa)
	}
	if f.Free(0) || f.IsFree(0) {
		t.Fatal("zero Frames: Free/IsFree(0) = true")
	}
	f.AddFree(0, 1<<20)
	f.Reserve(0, 1<<20)
	if f.FreeCount() != 0 || f.Total() != 0 {
		t.Fatalf("zero Frames: counts %d/%d", f.FreeCount(), f.Total())
	}
}

func TestFramesInit(t *testing.T) {
	for _, n := range []uint64{0, 1, 63, 64, 65, 200} {
		bm := make([]uint64, BitmapWords(n)+2)
		for i := range bm {
			bm[i] = 0x5555 // garbage Init must overwrite
		}
		var f Frames
		f.Init(bm, n)
		if f.FreeCount() != 0 || f.Total() != 0 {
			t.Fatalf("n=%d: counts %d/%d after Init", n, f.FreeCount(), f.Total())
		}
		if uint64(len(f.bitmap)) != BitmapWords(n) {
			t.Fatalf("n=%d: bitmap has %d words, want %d", n, len(f.bitmap), BitmapWords(n))
		}
		if pa, ok := f.Alloc(); ok {
			t.Fatalf("n=%d: Alloc() after Init = %#x, want none", n, pa)
		}
		checkFrames(t, &f)
		if bm[len(bm)-1] != 0x5555 {
			t.Fatalf("n=%d: Init wrote past BitmapWords", n)
		}
	}
}

func TestFramesInitShortBitmap(t *testing.T) {
	var f Frames
	f.Init(make([]uint64, 2), 1000) // room for 128 frames only
	if f.nframes != 128 {
		t.Fatalf("nframes = %d, want 128", f.nframes)
	}
	f.AddFree(0, 1000*PageSize)
	if f.FreeCount() != 128 || f.Total() != 128 {
		t.Fatalf("counts %d/%d, want 128/128", f.FreeCount(), f.Total())
	}
	checkFrames(t, &f)
	f.Init(nil, 10)
	if f.nframes != 0 {
		t.Fatalf("nil bitmap: nframes = %d", f.nframes)
	}
	if _, ok := f.Alloc(); ok {
		t.Fatal("nil bitmap: Alloc succeeded")
	}
}

func TestFramesAddFree(t *testing.T) {
	const n = 200
	P := uint64(PageSize)
	for _, tc := range []struct {
		name       string
		start, end uint64
		want       []uint64
	}{
		{"aligned", 2 * P, 5 * P, seq(2, 5)},
		{"start rounds up", 2*P + 1, 5 * P, seq(3, 5)},
		{"end rounds down", 2 * P, 5*P - 1, seq(2, 4)},
		{"both round", 2*P - 1, 5*P + 1, seq(2, 5)},
		{"inside one page", 2*P + 1, 3*P - 1, nil},
		{"one page", 7 * P, 8 * P, seq(7, 8)},
		{"empty", 7 * P, 7 * P, nil},
		{"inverted", 9 * P, 7 * P, nil},
		{"from zero", 0, 3 * P, seq(0, 3)},
		{"across words", 60 * P, 70 * P, seq(60, 70)},
		{"whole words", 64 * P, 192 * P, seq(64, 192)},
		{"clipped at nframes", 190 * P, 500 * P, seq(190, 200)},
		{"beyond nframes", 300 * P, 500 * P, nil},
		{"everything", 0, ^uint64(0), seq(0, 200)},
		{"start overflows rounding", ^uint64(0) - 10, ^uint64(0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFrames(n)
			f.AddFree(tc.start, tc.end)
			if got := freeFrames(f); !slices.Equal(got, tc.want) {
				t.Fatalf("free frames %v, want %v", got, tc.want)
			}
			if f.Total() != uint64(len(tc.want)) {
				t.Fatalf("Total() = %d, want %d", f.Total(), len(tc.want))
			}
			checkFrames(t, f)
		})
	}
}

func TestFramesAddFreeOverlap(t *testing.T) {
	f := newFrames(100)
	f.AddFree(0, 50*PageSize)
	f.AddFree(40*PageSize, 60*PageSize) // overlaps: 10 new frames
	f.AddFree(0, 60*PageSize)           // repeated: nothing new
	if f.FreeCount() != 60 || f.Total() != 60 {
		t.Fatalf("counts %d/%d, want 60/60", f.FreeCount(), f.Total())
	}
	checkFrames(t, f)
}

func TestFramesReserve(t *testing.T) {
	const n = 200
	P := uint64(PageSize)
	for _, tc := range []struct {
		name       string
		start, end uint64
		want       []uint64 // free frames left of [10, 150)
	}{
		{"aligned", 20 * P, 30 * P, append(seq(10, 20), seq(30, 150)...)},
		{"start rounds down", 20*P + 5, 30 * P, append(seq(10, 20), seq(30, 150)...)},
		{"end rounds up", 20 * P, 30*P + 1, append(seq(10, 20), seq(31, 150)...)},
		{"one byte", 20*P + 7, 20*P + 8, append(seq(10, 20), seq(21, 150)...)},
		{"empty", 20 * P, 20 * P, seq(10, 150)},
		{"overlaps free start", 0, 15 * P, seq(15, 150)},
		{"overlaps free end", 140 * P, 180 * P, seq(10, 140)},
		{"covers all", 0, n * P, nil},
		{"beyond nframes", 300 * P, 400 * P, seq(10, 150)},
		{"up to the top", 100 * P, ^uint64(0), seq(10, 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFrames(n)
			f.AddFree(10*P, 150*P)
			f.Reserve(tc.start, tc.end)
			if got := freeFrames(f); !slices.Equal(got, tc.want) {
				t.Fatalf("free frames %v, want %v", got, tc.want)
			}
			if f.Total() != uint64(len(tc.want)) || f.FreeCount() != uint64(len(tc.want)) {
				t.Fatalf("counts %d/%d, want %d", f.FreeCount(), f.Total(), len(tc.want))
			}
			checkFrames(t, f)
		})
	}
}

// Reserving a frame that is already allocated leaves the allocation (and
// the counts) alone: Total - FreeCount is still the number in use.
func TestFramesReserveAllocated(t *testing.T) {
	f := newFrames(64)
	f.AddFree(0, 4*PageSize)
	pa, ok := f.Alloc()
	if !ok || pa != 0 {
		t.Fatalf("Alloc() = %#x, %v", pa, ok)
	}
	f.Reserve(0, 2*PageSize) // frame 0 allocated, frame 1 free
	if f.FreeCount() != 2 || f.Total() != 3 {
		t.Fatalf("counts %d/%d, want 2/3", f.FreeCount(), f.Total())
	}
	if !f.Free(0) {
		t.Fatal("Free(0) of the allocated frame failed")
	}
	if f.FreeCount() != 3 || f.Total() != 3 {
		t.Fatalf("counts %d/%d, want 3/3", f.FreeCount(), f.Total())
	}
	checkFrames(t, f)
}

func TestFramesExhaustion(t *testing.T) {
	for _, n := range []uint64{1, 63, 64, 65, 130, 1000} {
		f := newFrames(n)
		f.AddFree(0, n*PageSize)
		seen := map[uint64]bool{}
		for i := uint64(0); i < n; i++ {
			pa, ok := f.Alloc()
			if !ok {
				t.Fatalf("n=%d: Alloc #%d failed with %d free", n, i, f.FreeCount())
			}
			if pa%PageSize != 0 || pa >= n*PageSize || seen[pa] {
				t.Fatalf("n=%d: Alloc #%d = %#x (aligned, in range, new?)", n, i, pa)
			}
			seen[pa] = true
		}
		if f.FreeCount() != 0 || f.Total() != n {
			t.Fatalf("n=%d: counts %d/%d", n, f.FreeCount(), f.Total())
		}
		want, wantBits := snapshot(f)
		if pa, ok := f.Alloc(); ok {
			t.Fatalf("n=%d: Alloc on empty pool = %#x", n, pa)
		}
		sameFrames(t, f, want, wantBits)
		// One frame back: the next Alloc must find it wherever it is.
		back := (n / 2) * PageSize
		if !f.Free(back) {
			t.Fatalf("n=%d: Free(%#x) failed", n, back)
		}
		if pa, ok := f.Alloc(); !ok || pa != back {
			t.Fatalf("n=%d: Alloc() = %#x, %v, want %#x", n, pa, ok, back)
		}
		checkFrames(t, f)
	}
}

func TestFramesFreeErrors(t *testing.T) {
	f := newFrames(100)
	f.AddFree(0, 50*PageSize)
	pa, _ := f.Alloc()
	for _, tc := range []struct {
		name string
		pa   uint64
	}{
		{"double free", 10 * PageSize}, // free, never allocated
		{"unaligned", pa + 8},
		{"beyond nframes", 100 * PageSize},
		{"beyond bitmap", 1 << 40},
		{"top", ^uint64(0) &^ (PageSize - 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantBits := snapshot(f)
			if f.Free(tc.pa) {
				t.Fatalf("Free(%#x) = true", tc.pa)
			}
			sameFrames(t, f, want, wantBits)
		})
	}
	if !f.Free(pa) {
		t.Fatalf("Free(%#x) failed", pa)
	}
	want, wantBits := snapshot(f)
	if f.Free(pa) {
		t.Fatal("second Free of the same frame = true")
	}
	sameFrames(t, f, want, wantBits)
	checkFrames(t, f)
}

// Next-fit with reuse first: allocation continues after the previous one,
// but a freed frame below the hint moves the hint back to it, so what was
// freed is used again first, lowest first.
func TestFramesReuseFreed(t *testing.T) {
	f := newFrames(10)
	f.AddFree(0, 10*PageSize)
	for i := 0; i < 3; i++ {
		pa, ok := f.Alloc()
		if !ok || pa != 0 {
			t.Fatalf("Alloc #%d = %#x, %v, want frame 0 again (freed at once)", i, pa, ok)
		}
		f.Free(pa)
	}
	for i := uint64(0); i < 5; i++ {
		if pa, _ := f.Alloc(); pa != i*PageSize {
			t.Fatalf("Alloc = %#x, want frame %d", pa, i)
		}
	}
	f.Free(3 * PageSize)
	f.Free(1 * PageSize)
	for _, want := range []uint64{1, 3, 5, 6} {
		if pa, ok := f.Alloc(); !ok || pa != want*PageSize {
			t.Fatalf("Alloc = %#x, %v, want frame %d", pa, ok, want)
		}
	}
	// Without frees, the scan goes on and wraps around at the end.
	for _, want := range []uint64{7, 8, 9} {
		if pa, _ := f.Alloc(); pa != want*PageSize {
			t.Fatalf("Alloc = %#x, want frame %d", pa, want)
		}
	}
	if _, ok := f.Alloc(); ok {
		t.Fatal("Alloc succeeded on a full pool")
	}
	f.Free(0)
	if pa, ok := f.Alloc(); !ok || pa != 0 {
		t.Fatalf("after wrap Alloc = %#x, %v, want frame 0", pa, ok)
	}
	// Hint in the middle of a word, free frames only below it in that word.
	f = newFrames(64)
	f.AddFree(0, 64*PageSize)
	for range 40 {
		f.Alloc()
	}
	f.Free(3 * PageSize)
	f.Free(5 * PageSize)
	f.Reserve(40*PageSize, 64*PageSize)
	for _, want := range []uint64{3, 5} {
		if pa, ok := f.Alloc(); !ok || pa != want*PageSize {
			t.Fatalf("Alloc = %#x, %v, want frame %d", pa, ok, want)
		}
	}
	if _, ok := f.Alloc(); ok {
		t.Fatal("Alloc succeeded on a full pool")
	}
	checkFrames(t, f)
}

// The scan skips full words and crosses many of them, wrapping past the end.
func TestFramesWordScan(t *testing.T) {
	const n = 64 * 100
	f := newFrames(n)
	f.AddFree(0, n*PageSize)
	f.Reserve(0, n*PageSize)
	f.AddFree(5*PageSize, 6*PageSize)             // word 0
	f.AddFree(6400*PageSize-PageSize, ^uint64(0)) // last frame
	f.hint = 3000
	for _, want := range []uint64{6399, 5} {
		if pa, ok := f.Alloc(); !ok || pa != want*PageSize {
			t.Fatalf("Alloc = %#x, %v, want frame %d", pa, ok, want)
		}
	}
	if _, ok := f.Alloc(); ok {
		t.Fatal("Alloc succeeded on a full pool")
	}
	f.hint = n + 100 // stale hint beyond the end: starts over at 0
	f.Free(6399 * PageSize)
	if pa, ok := f.Alloc(); !ok || pa != 6399*PageSize {
		t.Fatalf("Alloc = %#x, %v", pa, ok)
	}
	checkFrames(t, f)
}

// Frames past nframes in the last word are never handed out.
func TestFramesPartialLastWord(t *testing.T) {
	f := newFrames(70)
	f.AddFree(0, 1<<30)
	for i := 0; i < 70; i++ {
		if _, ok := f.Alloc(); !ok {
			t.Fatalf("Alloc #%d failed", i)
		}
	}
	if pa, ok := f.Alloc(); ok {
		t.Fatalf("Alloc past nframes = %#x", pa)
	}
	checkFrames(t, f)
}

// A random mix of every operation checked against a map of free frames.
func TestFramesModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 50; round++ {
		n := uint64(1 + rng.Intn(300))
		f := newFrames(n)
		free := map[uint64]bool{} // model: free frame indices
		var total uint64
		for step := 0; step < 400; step++ {
			addr := func() uint64 { return uint64(rng.Intn(int(n+10)*PageSize + 1)) }
			switch rng.Intn(5) {
			case 0:
				s, e := addr(), addr()
				f.AddFree(s, e)
				for i := (s + PageSize - 1) / PageSize; i < e/PageSize && i < n; i++ {
					if !free[i] {
						free[i] = true
						total++
					}
				}
			case 1:
				s, e := addr(), addr()
				f.Reserve(s, e)
				for i := s / PageSize; i < (e+PageSize-1)/PageSize && i < n; i++ {
					if free[i] {
						delete(free, i)
						total--
					}
				}
			case 2, 3:
				pa, ok := f.Alloc()
				if ok != (len(free) > 0) {
					t.Fatalf("Alloc ok=%v with %d free in model", ok, len(free))
				}
				if ok {
					if !free[pa/PageSize] || pa%PageSize != 0 {
						t.Fatalf("Alloc = %#x, not free in model", pa)
					}
					delete(free, pa/PageSize)
				}
			case 4:
				pa := uint64(rng.Intn(int(n+2))) * PageSize
				if rng.Intn(8) == 0 {
					pa++
				}
				want := pa%PageSize == 0 && pa/PageSize < n && !free[pa/PageSize]
				if got := f.Free(pa); got != want {
					t.Fatalf("Free(%#x) = %v, want %v", pa, got, want)
				}
				if want {
					free[pa/PageSize] = true
				}
			}
			if f.FreeCount() != uint64(len(free)) || f.Total() != total {
				t.Fatalf("counts %d/%d, model %d/%d", f.FreeCount(), f.Total(), len(free), total)
			}
			for i := uint64(0); i < n; i++ {
				if f.IsFree(i*PageSize) != free[i] {
					t.Fatalf("frame %d: IsFree=%v, model %v", i, !free[i], free[i])
				}
			}
		}
		checkFrames(t, f)
	}
}

func TestFramesNoAllocs(t *testing.T) {
	f := newFrames(4096)
	allocs := testing.AllocsPerRun(100, func() {
		f.AddFree(0, 4096*PageSize)
		pa, _ := f.Alloc()
		f.Free(pa)
		f.Reserve(0, 100*PageSize)
		_ = f.IsFree(pa) && f.FreeCount() > f.Total()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

func BenchmarkFramesAlloc(b *testing.B) {
	const n = 1 << 18 // 1 GiB
	f := newFrames(n)
	f.AddFree(0, n*PageSize)
	for f.FreeCount() > 0 {
		f.Alloc()
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < n; i++ { // about half the frames free again, scattered
		if rng.Intn(2) == 0 {
			f.Free(uint64(i) * PageSize)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pa, ok := f.Alloc()
		if !ok {
			b.Fatal("out of frames")
		}
		f.Free(pa)
	}
}
