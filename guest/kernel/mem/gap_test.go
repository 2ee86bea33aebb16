package mem

import (
	"math/rand"
	"testing"
)

func TestFindGap(t *testing.T) {
	const M = 1 << 20
	cases := []struct {
		name     string
		avail    []Range
		reserved []Range
		size     uint64
		limit    uint64
		want     uint64
		ok       bool
	}{
		{"empty map", nil, nil, 4096, 1 << 32, 0, false},
		{"first fit", []Range{{0, 16 * M}}, []Range{{0, M}, {4 * M, 6 * M}}, 8192, 1 << 32, M, true},
		{"skips reserved", []Range{{M, 16 * M}}, []Range{{M, 7*M + 5}}, 3 * M, 1 << 32, 7*M + 4096, true},
		{"too big between", []Range{{0, 8 * M}}, []Range{{0, M}, {2 * M, 3 * M}}, 2 * M, 1 << 32, 3 * M, true},
		{"unaligned region", []Range{{M + 1, 2 * M}}, nil, 4096, 1 << 32, M + 4096, true},
		{"unsorted regions, lowest wins", []Range{{64 * M, 128 * M}, {M, 2 * M}}, nil, 4096, 1 << 32, M, true},
		{"overlapping regions", []Range{{M, 4 * M}, {2 * M, 8 * M}}, []Range{{M, 3 * M}}, 4 * M, 1 << 32, 3 * M, true},
		{"inverted and empty ignored", []Range{{8 * M, M}, {2 * M, 2 * M}, {16 * M, 17 * M}}, nil, 4096, 1 << 32, 16 * M, true},
		{"limit", []Range{{0, 8 << 30}}, []Range{{0, 4<<30 - 4096}}, 8192, 4 << 30, 0, false},
		{"reserved to the top", []Range{{0, ^uint64(0)}}, []Range{{0, ^uint64(0)}}, 4096, ^uint64(0), 0, false},
		{"huge size", []Range{{0, 1 << 40}}, nil, ^uint64(0), ^uint64(0), 0, false},
		{"zero size", []Range{{0, M}}, nil, 0, 1 << 32, 0, false},
		{"inverted reserved ignored", []Range{{0, M}}, []Range{{M, 0}}, 4096, 1 << 32, 0, true},
	}
	for _, c := range cases {
		got, ok := FindGap(c.avail, c.reserved, c.size, c.limit)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: FindGap = %#x, %v; want %#x, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestFindGapModel checks random maps against a page-by-page search.
func TestFindGapModel(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	const pages = 64
	for iter := 0; iter < 20000; iter++ {
		var avail, res []Range
		for i := r.Intn(4); i >= 0; i-- {
			a, b := uint64(r.Intn(pages*PageSize)), uint64(r.Intn(pages*PageSize))
			avail = append(avail, Range{a, b})
		}
		for i := r.Intn(5); i > 0; i-- {
			a := uint64(r.Intn(pages * PageSize))
			res = append(res, Range{a, a + uint64(r.Intn(8*PageSize))})
		}
		size := uint64(1 + r.Intn(6*PageSize))
		limit := uint64(r.Intn(pages+8) * PageSize)
		got, ok := FindGap(avail, res, size, limit)
		want, wok := model(avail, res, size, limit)
		if got != want || ok != wok {
			t.Fatalf("avail %v reserved %v size %d limit %#x: got %#x %v, model %#x %v", avail, res, size, limit, got, ok, want, wok)
		}
	}
}

func model(avail, res []Range, size, limit uint64) (uint64, bool) {
	size = (size + PageSize - 1) &^ (PageSize - 1)
	for at := uint64(0); at+size <= limit && at < 1<<24; at += PageSize {
		inOne := false
		for _, a := range avail {
			if a.End > a.Start && at >= a.Start && at+size <= a.End {
				inOne = true
			}
		}
		clear := true
		for _, s := range res {
			if s.End > s.Start && at < s.End && s.Start < at+size {
				clear = false
			}
		}
		if inOne && clear {
			return at, true
		}
	}
	return 0, false
}
