package mem

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

const (
	P   = PageSize
	R   = PROT_READ
	RW  = PROT_READ | PROT_WRITE
	RX  = PROT_READ | PROT_EXEC
	RWX = PROT_READ | PROT_WRITE | PROT_EXEC
)

// v builds a VMA from page numbers.
func v(startPage, endPage uint64, prot, flags uint32) VMA {
	return VMA{Start: startPage * P, End: endPage * P, Prot: prot, Flags: flags}
}

// setOf builds a Set holding exactly vs, which must be canonical.
func setOf(t testing.TB, vs ...VMA) *Set {
	t.Helper()
	s := new(Set)
	s.n = copy(s.v[:], vs)
	checkSet(t, s)
	return s
}

func list(s *Set) []VMA {
	out := make([]VMA, s.Len())
	for i := range out {
		out[i] = s.At(i)
	}
	return out
}

// checkSet verifies the invariants every Set operation must preserve:
// aligned, non-empty, sorted, non-overlapping, canonical (no two touching
// VMAs with equal Prot and Flags) and unused slots zeroed.
func checkSet(t testing.TB, s *Set) {
	t.Helper()
	if p := setProblem(s); p != "" {
		t.Fatal(p)
	}
}

// setProblem describes the first broken invariant of s, "" if none.
func setProblem(s *Set) string {
	if s.n < 0 || s.n > MaxVMAs {
		return fmt.Sprintf("n = %d out of range", s.n)
	}
	for i := 0; i < s.n; i++ {
		x := s.v[i]
		if x.Start%P != 0 || x.End%P != 0 || x.Start >= x.End {
			return fmt.Sprintf("VMA %d %v: unaligned or empty", i, x)
		}
		if i > 0 {
			p := s.v[i-1]
			if p.End > x.Start {
				return fmt.Sprintf("VMAs %d %v and %d %v overlap or are unsorted", i-1, p, i, x)
			}
			if mergeable(p, x) {
				return fmt.Sprintf("VMAs %d %v and %d %v should have merged", i-1, p, i, x)
			}
		}
	}
	for i := s.n; i < MaxVMAs; i++ {
		if s.v[i] != (VMA{}) {
			return fmt.Sprintf("unused slot %d holds %v", i, s.v[i])
		}
	}
	return ""
}

// full returns a Set of count VMAs of three pages each, one page apart:
// VMA i is pages [4i, 4i+3), prot R, flags 0.
func full(t testing.TB, count int) *Set {
	var vs []VMA
	for i := uint64(0); i < uint64(count); i++ {
		vs = append(vs, v(4*i, 4*i+3, R, 0))
	}
	return setOf(t, vs...)
}

// alternating returns a Set of count touching two-page VMAs whose prot
// alternates R, RW, R, ... so no two merge.
func alternating(t testing.TB, count int) *Set {
	var vs []VMA
	for i := uint64(0); i < uint64(count); i++ {
		prot := uint32(R)
		if i%2 == 1 {
			prot = RW
		}
		vs = append(vs, v(2*i, 2*i+2, prot, 0))
	}
	return setOf(t, vs...)
}

type opCase struct {
	name  string
	init  []VMA
	op    func(s *Set) int
	want  int
	after []VMA // nil with want != 0: state unchanged
}

func runOpCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := setOf(t, tc.init...)
			if got := tc.op(s); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
			checkSet(t, s)
			want := tc.after
			if want == nil && tc.want != 0 {
				want = tc.init
			}
			if got := list(s); !slices.Equal(got, want) {
				t.Fatalf("after:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func mapOp(s, e uint64, prot, flags uint32) func(*Set) int {
	return func(set *Set) int { return set.Map(s*P, e*P, prot, flags) }
}

func mapBytes(s, e uint64) func(*Set) int {
	return func(set *Set) int { return set.Map(s, e, R, 0) }
}

func TestMap(t *testing.T) {
	runOpCases(t, []opCase{
		{"into empty", nil, mapOp(1, 3, R, 0), 0, []VMA{v(1, 3, R, 0)}},
		{"at zero", nil, mapOp(0, 1, R, 0), 0, []VMA{v(0, 1, R, 0)}},
		{"up to the top", nil, mapBytes(^uint64(0)-2*P+1, ^uint64(0)-P+1), 0,
			[]VMA{{^uint64(0) - 2*P + 1, ^uint64(0) - P + 1, R, 0}}},
		{"unaligned start", nil, mapBytes(P+1, 3*P), EINVAL, nil},
		{"unaligned end", nil, mapBytes(P, 3*P-1), EINVAL, nil},
		{"empty", []VMA{v(1, 2, R, 0)}, mapOp(3, 3, R, 0), EINVAL, nil},
		{"inverted", []VMA{v(1, 2, R, 0)}, mapOp(4, 3, R, 0), EINVAL, nil},
		{"disjoint before", []VMA{v(5, 8, R, 0)}, mapOp(1, 3, R, 0), 0,
			[]VMA{v(1, 3, R, 0), v(5, 8, R, 0)}},
		{"disjoint after", []VMA{v(5, 8, R, 0)}, mapOp(9, 10, R, 0), 0,
			[]VMA{v(5, 8, R, 0), v(9, 10, R, 0)}},
		{"merge left", []VMA{v(1, 3, R, 0)}, mapOp(3, 5, R, 0), 0, []VMA{v(1, 5, R, 0)}},
		{"merge right", []VMA{v(5, 8, R, 0)}, mapOp(3, 5, R, 0), 0, []VMA{v(3, 8, R, 0)}},
		{"merge both sides", []VMA{v(1, 3, R, 0), v(5, 8, R, 0)}, mapOp(3, 5, R, 0), 0,
			[]VMA{v(1, 8, R, 0)}},
		{"touching, other prot", []VMA{v(1, 3, R, 0), v(5, 8, R, 0)}, mapOp(3, 5, RW, 0), 0,
			[]VMA{v(1, 3, R, 0), v(3, 5, RW, 0), v(5, 8, R, 0)}},
		{"touching, other flags", []VMA{v(1, 3, R, 0)}, mapOp(3, 5, R, 1), 0,
			[]VMA{v(1, 3, R, 0), v(3, 5, R, 1)}},
		{"split in the middle", []VMA{v(0, 10, R, 0)}, mapOp(4, 6, RW, 0), 0,
			[]VMA{v(0, 4, R, 0), v(4, 6, RW, 0), v(6, 10, R, 0)}},
		{"middle, same attrs: no-op", []VMA{v(0, 10, R, 0)}, mapOp(4, 6, R, 0), 0,
			[]VMA{v(0, 10, R, 0)}},
		{"exact replace", []VMA{v(2, 4, R, 0)}, mapOp(2, 4, RX, 3), 0, []VMA{v(2, 4, RX, 3)}},
		{"head", []VMA{v(2, 8, R, 0)}, mapOp(2, 4, RW, 0), 0,
			[]VMA{v(2, 4, RW, 0), v(4, 8, R, 0)}},
		{"tail", []VMA{v(2, 8, R, 0)}, mapOp(6, 8, RW, 0), 0,
			[]VMA{v(2, 6, R, 0), v(6, 8, RW, 0)}},
		{"overhang left", []VMA{v(4, 8, R, 0)}, mapOp(2, 6, RW, 0), 0,
			[]VMA{v(2, 6, RW, 0), v(6, 8, R, 0)}},
		{"overhang right", []VMA{v(4, 8, R, 0)}, mapOp(6, 10, RW, 0), 0,
			[]VMA{v(4, 6, R, 0), v(6, 10, RW, 0)}},
		{"head, merges with left neighbour",
			[]VMA{v(0, 2, RW, 0), v(2, 8, R, 0)}, mapOp(2, 4, RW, 0), 0,
			[]VMA{v(0, 4, RW, 0), v(4, 8, R, 0)}},
		{"tail, merges with right neighbour",
			[]VMA{v(2, 8, R, 0), v(8, 9, RW, 0)}, mapOp(6, 8, RW, 0), 0,
			[]VMA{v(2, 6, R, 0), v(6, 9, RW, 0)}},
		{"fixed over several VMAs and holes",
			[]VMA{v(0, 2, R, 0), v(3, 5, RW, 0), v(5, 6, RX, 0), v(7, 9, R, 1), v(10, 12, R, 0)},
			mapOp(1, 11, RWX, 2), 0,
			[]VMA{v(0, 1, R, 0), v(1, 11, RWX, 2), v(11, 12, R, 0)}},
		{"fixed over several, merges with both remainders",
			[]VMA{v(0, 2, R, 0), v(3, 5, RW, 0), v(7, 9, R, 0)},
			mapOp(1, 8, R, 0), 0,
			[]VMA{v(0, 9, R, 0)}},
		{"fixed over several, merges with both neighbours",
			[]VMA{v(0, 2, R, 0), v(2, 3, RW, 0), v(4, 5, RX, 0), v(6, 7, R, 0)},
			mapOp(2, 6, R, 0), 0,
			[]VMA{v(0, 7, R, 0)}},
		{"covers everything",
			[]VMA{v(1, 2, R, 0), v(3, 4, RW, 0), v(5, 6, R, 0)},
			mapOp(0, 100, PROT_NONE, 0), 0,
			[]VMA{v(0, 100, PROT_NONE, 0)}},
	})
}

func TestUnmap(t *testing.T) {
	un := func(s, e uint64) func(*Set) int {
		return func(set *Set) int { return set.Unmap(s*P, e*P) }
	}
	base := []VMA{v(2, 4, R, 0), v(4, 6, RW, 0), v(8, 12, R, 0)}
	runOpCases(t, []opCase{
		{"hole", base, un(6, 8), 0, base},
		{"hole in empty set", nil, un(0, 100), 0, nil},
		{"hole before", base, un(0, 2), 0, base},
		{"hole after", base, un(12, 20), 0, base},
		{"exact", base, un(8, 12), 0, []VMA{v(2, 4, R, 0), v(4, 6, RW, 0)}},
		{"middle split", base, un(9, 11), 0,
			[]VMA{v(2, 4, R, 0), v(4, 6, RW, 0), v(8, 9, R, 0), v(11, 12, R, 0)}},
		{"head", base, un(8, 9), 0, []VMA{v(2, 4, R, 0), v(4, 6, RW, 0), v(9, 12, R, 0)}},
		{"tail", base, un(11, 12), 0, []VMA{v(2, 4, R, 0), v(4, 6, RW, 0), v(8, 11, R, 0)}},
		{"partly hole", base, un(5, 9), 0, []VMA{v(2, 4, R, 0), v(4, 5, RW, 0), v(9, 12, R, 0)}},
		{"across touching", base, un(3, 5), 0,
			[]VMA{v(2, 3, R, 0), v(5, 6, RW, 0), v(8, 12, R, 0)}},
		{"several", base, un(0, 10), 0, []VMA{v(10, 12, R, 0)}},
		{"everything", base, un(0, 1<<20), 0, []VMA{}},
		{"unaligned", base, func(s *Set) int { return s.Unmap(2*P+1, 4*P) }, EINVAL, nil},
		{"unaligned end", base, func(s *Set) int { return s.Unmap(2*P, 4*P+1) }, EINVAL, nil},
		{"empty", base, un(3, 3), EINVAL, nil},
		{"inverted", base, un(4, 3), EINVAL, nil},
	})
}

func TestProtect(t *testing.T) {
	pr := func(s, e uint64, prot uint32) func(*Set) int {
		return func(set *Set) int { return set.Protect(s*P, e*P, prot) }
	}
	base := []VMA{v(2, 4, R, 0), v(4, 6, RW, 0), v(6, 8, R, 1), v(10, 14, R, 0)}
	runOpCases(t, []opCase{
		{"exact", base, pr(10, 14, RW), 0,
			[]VMA{v(2, 4, R, 0), v(4, 6, RW, 0), v(6, 8, R, 1), v(10, 14, RW, 0)}},
		{"same prot: no-op", base, pr(10, 12, R), 0, base},
		{"head", base, pr(10, 11, RX), 0,
			[]VMA{v(2, 4, R, 0), v(4, 6, RW, 0), v(6, 8, R, 1), v(10, 11, RX, 0), v(11, 14, R, 0)}},
		{"tail", base, pr(13, 14, RX), 0,
			[]VMA{v(2, 4, R, 0), v(4, 6, RW, 0), v(6, 8, R, 1), v(10, 13, R, 0), v(13, 14, RX, 0)}},
		{"middle", base, pr(11, 13, RX), 0,
			[]VMA{v(2, 4, R, 0), v(4, 6, RW, 0), v(6, 8, R, 1),
				v(10, 11, R, 0), v(11, 13, RX, 0), v(13, 14, R, 0)}},
		{"merge with right neighbour", base, pr(2, 4, RW), 0,
			[]VMA{v(2, 6, RW, 0), v(6, 8, R, 1), v(10, 14, R, 0)}},
		{"merge with left neighbour", base, pr(4, 6, R), 0,
			[]VMA{v(2, 6, R, 0), v(6, 8, R, 1), v(10, 14, R, 0)}},
		{"tail merges into right neighbour", base, pr(3, 4, RW), 0,
			[]VMA{v(2, 3, R, 0), v(3, 6, RW, 0), v(6, 8, R, 1), v(10, 14, R, 0)}},
		{"head merges into left neighbour", base, pr(4, 5, R), 0,
			[]VMA{v(2, 5, R, 0), v(5, 6, RW, 0), v(6, 8, R, 1), v(10, 14, R, 0)}},
		{"across several, flags keep them apart", base, pr(3, 7, RX), 0,
			[]VMA{v(2, 3, R, 0), v(3, 6, RX, 0), v(6, 7, RX, 1), v(7, 8, R, 1), v(10, 14, R, 0)}},
		{"merge both sides",
			[]VMA{v(0, 2, R, 0), v(2, 4, RW, 0), v(4, 6, RX, 0), v(6, 8, R, 0)},
			pr(2, 6, R), 0, []VMA{v(0, 8, R, 0)}},
		{"hole inside", base, pr(6, 12, RW), ENOMEM, nil},
		{"hole at the end", base, pr(12, 16, RW), ENOMEM, nil},
		{"hole at the start", base, pr(0, 3, RW), ENOMEM, nil},
		{"all hole", base, pr(20, 30, RW), ENOMEM, nil},
		{"empty set", nil, pr(1, 2, RW), ENOMEM, nil},
		{"empty range", base, pr(3, 3, RW), 0, base},
		{"empty range in a hole", base, pr(9, 9, RW), 0, base},
		{"unaligned", base, func(s *Set) int { return s.Protect(2*P+1, 4*P, RW) }, EINVAL, nil},
		{"unaligned end", base, func(s *Set) int { return s.Protect(2*P, 4*P-1, RW) }, EINVAL, nil},
		{"inverted", base, pr(4, 3, RW), EINVAL, nil},
		{"keeps flags", []VMA{v(0, 4, R, 7)}, pr(0, 4, RWX), 0, []VMA{v(0, 4, RWX, 7)}},
	})
}

// A change that would need more than MaxVMAs VMAs fails with ENOMEM and
// leaves the set alone; one whose merges make room succeeds.
func TestOverflow(t *testing.T) {
	type build func(testing.TB, int) *Set
	for _, tc := range []struct {
		name  string
		build build
		count int
		op    func(s *Set) int
		want  int
		n     int // Len() afterwards when want == 0
	}{
		{"map far away", full, MaxVMAs, mapOp(1<<20, 1<<20+1, R, 0), ENOMEM, 0},
		{"map far away, room for one", full, MaxVMAs - 1, mapOp(1<<20, 1<<20+1, R, 0), 0, MaxVMAs},
		{"map fills a hole, merges both sides", full, MaxVMAs, mapOp(3, 4, R, 0), 0, MaxVMAs - 1},
		{"map touches one side", full, MaxVMAs, mapOp(3, 4, RW, 0), ENOMEM, 0},
		{"map extends one side", alternating, MaxVMAs, mapOp(1, 2, RW, 0), 0, MaxVMAs},
		{"map splits in the middle", full, MaxVMAs - 1, mapOp(5, 6, RW, 0), ENOMEM, 0},
		{"map splits in the middle, room", full, MaxVMAs - 2, mapOp(5, 6, RW, 0), 0, MaxVMAs},
		{"map middle, same attrs", full, MaxVMAs, mapOp(5, 6, R, 0), 0, MaxVMAs},
		{"map over many", full, MaxVMAs, mapOp(0, 4*100, RW, 0), 0, MaxVMAs - 99},
		{"unmap splits", full, MaxVMAs, func(s *Set) int { return s.Unmap(5*P, 6*P) }, ENOMEM, 0},
		{"unmap trims", full, MaxVMAs, func(s *Set) int { return s.Unmap(4*P, 5*P) }, 0, MaxVMAs},
		{"unmap whole", full, MaxVMAs, func(s *Set) int { return s.Unmap(4*P, 7*P) }, 0, MaxVMAs - 1},
		{"protect splits", full, MaxVMAs, func(s *Set) int { return s.Protect(4*P, 5*P, RW) }, ENOMEM, 0},
		{"protect splits twice", full, MaxVMAs - 1, func(s *Set) int { return s.Protect(5*P, 6*P, RW) }, ENOMEM, 0},
		{"protect splits twice, room", full, MaxVMAs - 2, func(s *Set) int { return s.Protect(5*P, 6*P, RW) }, 0, MaxVMAs},
		{"protect whole", full, MaxVMAs, func(s *Set) int { return s.Protect(4*P, 7*P, RW) }, 0, MaxVMAs},
		{"protect split and merge", alternating, MaxVMAs, func(s *Set) int { return s.Protect(1*P, 2*P, RW) }, 0, MaxVMAs},
		{"protect merges three", alternating, MaxVMAs, func(s *Set) int { return s.Protect(2*P, 4*P, R) }, 0, MaxVMAs - 2},
		{"protect no right split when prot matches", alternating, MaxVMAs,
			func(s *Set) int { return s.Protect(1*P, 3*P, RW) }, 0, MaxVMAs},
		{"protect two splits, one merge", alternating, MaxVMAs,
			func(s *Set) int { return s.Protect(1*P, 3*P, RX) }, ENOMEM, 0},
		{"protect two splits, one merge, room", alternating, MaxVMAs - 1,
			func(s *Set) int { return s.Protect(1*P, 3*P, RX) }, 0, MaxVMAs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.build(t, tc.count)
			before := list(s)
			if got := tc.op(s); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
			checkSet(t, s)
			if tc.want != 0 {
				if !slices.Equal(list(s), before) {
					t.Fatal("state changed on error")
				}
			} else if s.Len() != tc.n {
				t.Fatalf("Len() = %d, want %d", s.Len(), tc.n)
			}
		})
	}
}

func TestFindAndFirstOverlap(t *testing.T) {
	s := setOf(t, v(2, 4, R, 0), v(4, 6, RW, 0), v(8, 10, R, 0))
	for _, tc := range []struct {
		addr  uint64
		i     int
		ok    bool
		first int
	}{
		{0, 0, false, 0},
		{2*P - 1, 0, false, 0},
		{2 * P, 0, true, 0},
		{3*P + 5, 0, true, 0},
		{4*P - 1, 0, true, 0},
		{4 * P, 1, true, 1},
		{6*P - 1, 1, true, 1},
		{6 * P, 2, false, 2},
		{8 * P, 2, true, 2},
		{10*P - 1, 2, true, 2},
		{10 * P, 3, false, 3},
		{^uint64(0), 3, false, 3},
	} {
		i, ok := s.Find(tc.addr)
		if ok != tc.ok || (ok && i != tc.i) {
			t.Errorf("Find(%#x) = %d, %v, want %d, %v", tc.addr, i, ok, tc.i, tc.ok)
		}
		if got := s.FirstOverlap(tc.addr); got != tc.first {
			t.Errorf("FirstOverlap(%#x) = %d, want %d", tc.addr, got, tc.first)
		}
	}
	var empty Set
	if _, ok := empty.Find(0); ok || empty.FirstOverlap(123) != 0 || empty.Len() != 0 {
		t.Error("empty set: Find/FirstOverlap/Len")
	}
}

func TestAtAndReset(t *testing.T) {
	s := setOf(t, v(2, 4, R, 0), v(8, 10, RW, 1))
	if s.At(1) != v(8, 10, RW, 1) {
		t.Fatalf("At(1) = %v", s.At(1))
	}
	for _, i := range []int{-1, 2, MaxVMAs, MaxVMAs + 1} {
		if s.At(i) != (VMA{}) {
			t.Fatalf("At(%d) = %v, want zero", i, s.At(i))
		}
	}
	s.Reset()
	checkSet(t, s)
	if s.Len() != 0 {
		t.Fatalf("Len() after Reset = %d", s.Len())
	}
}

func TestCovered(t *testing.T) {
	s := setOf(t, v(2, 4, R, 0), v(4, 6, RW, 0), v(6, 7, RW, 1), v(8, 10, RX, 0), v(10, 11, PROT_NONE, 0))
	for _, tc := range []struct {
		start, end uint64
		want       uint32
		ok         bool
	}{
		{2 * P, 4 * P, 0, true},
		{2 * P, 4 * P, R, true},
		{2 * P, 4 * P, PROT_WRITE, false},
		{2 * P, 7 * P, R, true},
		{2 * P, 7 * P, RW, false},
		{4 * P, 7 * P, RW, true},
		{4*P + 1, 7*P - 1, RW, true},
		{2 * P, 8 * P, 0, false}, // hole [7, 8)
		{7*P - 1, 7 * P, 0, true},
		{7*P - 1, 7*P + 1, 0, false},
		{7 * P, 7*P + 1, 0, false},
		{8 * P, 11 * P, 0, true},
		{8 * P, 11 * P, R, false}, // PROT_NONE at the end
		{8 * P, 10 * P, PROT_EXEC, true},
		{0, P, 0, false},
		{11 * P, 12 * P, 0, false},
		{2*P - 1, 3 * P, 0, false},
		{5 * P, 5 * P, RWX, true}, // empty
		{9 * P, 0, RWX, true},     // inverted: empty
		{1 << 40, 1<<40 + 1, 0, false},
	} {
		if got := s.Covered(tc.start, tc.end, tc.want); got != tc.ok {
			t.Errorf("Covered(%#x, %#x, %d) = %v, want %v", tc.start, tc.end, tc.want, got, tc.ok)
		}
	}
}

func TestFindFree(t *testing.T) {
	base := []VMA{v(10, 12, R, 0), v(14, 15, R, 0), v(20, 30, R, 0), v(31, 40, R, 0)}
	for _, tc := range []struct {
		name              string
		init              []VMA
		hint, len, lo, hi uint64
		addr              uint64
		ok                bool
	}{
		{"empty set: top", nil, 0, 3 * P, 0, 100 * P, 97 * P, true},
		{"empty set: exact fit", nil, 0, 100 * P, 0, 100 * P, 0, true},
		{"empty set: too big", nil, 0, 101 * P, 0, 100 * P, 0, false},
		{"zero length", nil, 0, 0, 0, 100 * P, 0, false},
		{"lo == hi", nil, 0, P, 5 * P, 5 * P, 0, false},
		{"lo > hi", nil, 0, P, 6 * P, 5 * P, 0, false},
		{"top gap above all", base, 0, P, 0, 50 * P, 49 * P, true},
		{"hi inside a VMA", base, 0, P, 0, 35 * P, 30 * P, true},
		{"gap of exactly one page", base, 0, P, 0, 31 * P, 30 * P, true},
		{"too big for top gaps", base, 0, 3 * P, 0, 40 * P, 17 * P, true},
		{"top-down skips small gaps", base, 0, 6 * P, 0, 40 * P, 4 * P, true},
		{"exact gap between VMAs", base, 0, 5 * P, 12 * P, 20 * P, 15 * P, true},
		{"lo bounds the last gap", base, 0, 6 * P, 7 * P, 40 * P, 0, false},
		{"lo inside a VMA", base, 0, P, 11 * P, 14 * P, 13 * P, true},
		{"lo inside a VMA, gap too small", base, 0, 3 * P, 11 * P, 14 * P, 0, false},
		{"lo above everything", base, 0, P, 41 * P, 45 * P, 44 * P, true},
		{"no room at all", []VMA{v(0, 100, R, 0)}, 0, P, 0, 100 * P, 0, false},
		{"hint free", base, 16 * P, 2 * P, 0, 100 * P, 16 * P, true},
		{"hint free, exactly fits", base, 15 * P, 5 * P, 0, 100 * P, 15 * P, true},
		{"hint overlaps: top-down", base, 18 * P, 3 * P, 0, 100 * P, 97 * P, true},
		{"hint inside a VMA: top-down", base, 21 * P, P, 0, 100 * P, 99 * P, true},
		{"hint below lo: ignored", base, 2 * P, P, 5 * P, 100 * P, 99 * P, true},
		{"hint end above hi: ignored", base, 98 * P, 4 * P, 0, 100 * P, 96 * P, true},
		{"hint rounds up", base, 15*P + 1, P, 0, 100 * P, 16 * P, true},
		{"hint overflows", base, ^uint64(0), P, 0, 100 * P, 99 * P, true},
		{"hint + len overflows", nil, ^uint64(0) - P + 1, 2 * P, 0, ^uint64(0), ^uint64(0) - 2*P - P + 1, true},
		{"length rounds up", nil, 0, P + 1, 0, 10 * P, 8 * P, true},
		{"length overflows", nil, 0, ^uint64(0), 0, ^uint64(0), 0, false},
		{"lo rounds up, hi rounds down", nil, 0, P, P + 1, 3*P - 1, 0, false},
		{"lo and hi round inwards", nil, 0, P, P + 1, 4*P - 1, 2 * P, true},
		{"lo overflows", nil, 0, P, ^uint64(0), ^uint64(0), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := setOf(t, tc.init...)
			addr, ok := s.FindFree(tc.hint, tc.len, tc.lo, tc.hi)
			if ok != tc.ok || (ok && addr != tc.addr) {
				t.Fatalf("FindFree(%#x, %#x, %#x, %#x) = %#x, %v, want %#x, %v",
					tc.hint, tc.len, tc.lo, tc.hi, addr, ok, tc.addr, tc.ok)
			}
			if ok && (!s.fits(addr, (tc.len+P-1)&^(P-1), 0, ^uint64(0)) || addr%P != 0) {
				t.Fatalf("FindFree returned %#x, which is not a free aligned range", addr)
			}
		})
	}
}

// Mapping what FindFree returns, over and over, fills the space top-down.
func TestFindFreeTopDown(t *testing.T) {
	var s Set
	var prev uint64 = 1 << 30
	for i := 0; i < 100; i++ {
		a, ok := s.FindFree(0, 3*P, 1<<20, 1<<30)
		if !ok || a+3*P != prev {
			t.Fatalf("FindFree #%d = %#x, %v, want %#x", i, a, ok, prev-3*P)
		}
		if e := s.Map(a, a+3*P, uint32(i%2+1), 0); e != 0 {
			t.Fatalf("Map = %d", e)
		}
		prev = a
	}
	checkSet(t, &s)
	if s.Len() != 100 {
		t.Fatalf("Len() = %d, want 100", s.Len())
	}
}

func TestSetNoAllocs(t *testing.T) {
	s := new(Set)
	allocs := testing.AllocsPerRun(100, func() {
		s.Map(10*P, 20*P, R, 0)
		s.Map(12*P, 14*P, RW, 0)
		s.Protect(11*P, 19*P, RX)
		s.Find(15 * P)
		s.Covered(10*P, 20*P, R)
		s.FindFree(5*P, P, 0, 1<<30)
		s.Unmap(0, 1<<30)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

// ---------------------------------------------------------------------------
// Reference model: the same operations on a per-page array, checked against
// the Set after every step. Both FuzzVMA and TestVMAModel drive it.

const (
	mBase    = 1 << 20 // first address of the modelled window
	mPages   = 48      // pages in the window
	mEnd     = mBase + mPages*P
	ballastA = 1 << 32 // ballast VMAs live far above the window
)

type page struct {
	on          bool
	prot, flags uint32
}

type harness struct {
	t       testing.TB
	s       *Set
	m       [mPages]page
	ballast []VMA
	log     []string
}

// newHarness starts with an empty window and nballast VMAs far above it,
// so the window's operations run close to MaxVMAs.
func newHarness(t testing.TB, nballast int) *harness {
	h := &harness{t: t, s: new(Set)}
	for i := 0; i < nballast; i++ {
		b := VMA{Start: ballastA + uint64(2*i)*P, End: ballastA + uint64(2*i+1)*P, Prot: R}
		h.ballast = append(h.ballast, b)
	}
	h.s.n = copy(h.s.v[:], h.ballast)
	h.check()
	return h
}

func (h *harness) fatalf(format string, args ...any) {
	h.t.Fatalf("%s\nops:\n%s", fmt.Sprintf(format, args...), joinLines(h.log))
}

func joinLines(l []string) string {
	out := ""
	for _, s := range l {
		out += "  " + s + "\n"
	}
	return out
}

// rle is the canonical VMA list of a page array.
func rle(m *[mPages]page) []VMA {
	var out []VMA
	for i := 0; i < mPages; i++ {
		if !m[i].on {
			continue
		}
		a := mBase + uint64(i)*P
		if n := len(out); n > 0 && out[n-1].End == a && out[n-1].Prot == m[i].prot && out[n-1].Flags == m[i].flags {
			out[n-1].End += P
			continue
		}
		out = append(out, VMA{a, a + P, m[i].prot, m[i].flags})
	}
	return out
}

// pageAt returns the model's page for any address (outside the window:
// unmapped).
func (h *harness) pageAt(addr uint64) page {
	if addr < mBase || addr >= mEnd {
		return page{}
	}
	return h.m[(addr-mBase)/P]
}

// check compares the whole Set with the model: the exact VMA list (the
// canonical form is unique), the invariants, Find and FirstOverlap.
//
// It avoids t.Helper and copying the whole set: the fuzzer's minimizer runs
// it millions of times.
func (h *harness) check() {
	if p := setProblem(h.s); p != "" {
		h.fatalf("%s", p)
	}
	window := rle(&h.m)
	nw := len(window)
	if h.s.n != nw+len(h.ballast) || !slices.Equal(h.s.v[:nw], window) ||
		!slices.Equal(h.s.v[nw:h.s.n], h.ballast) {
		h.fatalf("set\n got %v\nwant %v", list(h.s), append(window, h.ballast...))
	}
	for a := uint64(mBase - 2*P); a < mEnd+2*P; a += P {
		for _, addr := range []uint64{a, a + P/2, a + P - 1} {
			pg := h.pageAt(addr)
			i, ok := h.s.Find(addr)
			if ok != pg.on {
				h.fatalf("Find(%#x) ok=%v, model %v", addr, ok, pg.on)
			}
			if ok {
				x := h.s.At(i)
				if addr < x.Start || addr >= x.End || x.Prot != pg.prot || x.Flags != pg.flags {
					h.fatalf("Find(%#x) = %v, model %+v", addr, x, pg)
				}
			}
			first := len(window) // ballast: far above, End > addr
			for j, x := range window {
				if x.End > addr {
					first = j
					break
				}
			}
			if got := h.s.FirstOverlap(addr); got != first {
				h.fatalf("FirstOverlap(%#x) = %d, want %d", addr, got, first)
			}
		}
	}
}

// commit applies a model change if it fits, and returns the errno the Set
// must have returned.
func (h *harness) commit(m *[mPages]page) int {
	if len(rle(m))+len(h.ballast) > MaxVMAs {
		return ENOMEM
	}
	h.m = *m
	return 0
}

// step decodes one operation from four bytes, runs it on both the Set and
// the model, and checks them.
//
//	op%8: 0,1 Map; 2 Unmap; 3 Protect; 4 Covered; 5 FindFree; 6 Map+Unmap
//	      pair (must undo exactly if the range was a hole); 7 Protect whole
//	      window
//	a, b: page numbers in the window (0..mPages), swapped into order unless
//	      c&0x40; c&7 prot, (c>>3)&1 flags, c>>4 == 0xf: misalign by a byte.
func (h *harness) step(op, a, b, c byte) {
	pa, pb := uint64(a)%(mPages+1), uint64(b)%(mPages+1)
	if pa > pb && c&0x40 == 0 {
		pa, pb = pb, pa
	}
	start, end := mBase+pa*P, mBase+pb*P
	if c>>4 == 0xf {
		if op&0x80 != 0 {
			start++
		} else {
			end--
		}
	}
	prot, flags := uint32(c&7), uint32(c>>3&1)
	aligned := start%P == 0 && end%P == 0
	m := h.m
	var got, want int
	switch op % 8 {
	case 0, 1:
		h.log = append(h.log, fmt.Sprintf("Map(%#x, %#x, %d, %d)", start, end, prot, flags))
		got = h.s.Map(start, end, prot, flags)
		if !aligned || start >= end {
			want = EINVAL
		} else {
			for p := pa; p < pb; p++ {
				m[p] = page{true, prot, flags}
			}
			want = h.commit(&m)
		}
	case 2:
		h.log = append(h.log, fmt.Sprintf("Unmap(%#x, %#x)", start, end))
		got = h.s.Unmap(start, end)
		if !aligned || start >= end {
			want = EINVAL
		} else {
			for p := pa; p < pb; p++ {
				m[p] = page{}
			}
			want = h.commit(&m)
		}
	case 3, 7:
		if op%8 == 7 {
			start, end, pa, pb, aligned = mBase, mEnd, 0, mPages, true
		}
		h.log = append(h.log, fmt.Sprintf("Protect(%#x, %#x, %d)", start, end, prot))
		got = h.s.Protect(start, end, prot)
		switch {
		case !aligned || start > end:
			want = EINVAL
		case start == end:
			want = 0
		default:
			for p := pa; p < pb; p++ {
				if !m[p].on {
					want = ENOMEM
				}
				m[p].prot = prot
			}
			if want == 0 {
				want = h.commit(&m)
			}
		}
	case 4:
		// Byte ranges over [mBase-4P, mBase+60P), any alignment.
		s := mBase - 4*P + uint64(a)*(P/4) + uint64(op>>3)
		e := mBase - 4*P + uint64(b)*(P/4) + uint64(c>>3)
		wantProt := uint32(c & 7)
		h.log = append(h.log, fmt.Sprintf("Covered(%#x, %#x, %d)", s, e, wantProt))
		ok := true
		for p := s &^ (P - 1); s < e && p < e; p += P {
			pg := h.pageAt(p)
			if !pg.on || pg.prot&wantProt != wantProt {
				ok = false
			}
		}
		if got := h.s.Covered(s, e, wantProt); got != ok {
			h.fatalf("Covered(%#x, %#x, %d) = %v, model %v", s, e, wantProt, got, ok)
		}
		return
	case 5:
		length := uint64(c%8+1) * P
		var hint uint64
		if op>>3 != 0 {
			hint = mBase + uint64(op>>3-1)*P
		}
		h.log = append(h.log, fmt.Sprintf("FindFree(%#x, %#x, %#x, %#x)", hint, length, start, end))
		addr, ok := h.s.FindFree(hint, length, start, end)
		wantAddr, wantOK := h.findFree(hint, length, start, end)
		if ok != wantOK || addr != wantAddr {
			h.fatalf("FindFree(%#x, %#x, %#x, %#x) = %#x, %v, model %#x, %v",
				hint, length, start, end, addr, ok, wantAddr, wantOK)
		}
		return
	case 6:
		// Map then Unmap the same range: when the range was a hole this
		// must restore the set exactly (splits and merges undone).
		h.log = append(h.log, fmt.Sprintf("Map+Unmap(%#x, %#x, %d, %d)", start, end, prot, flags))
		hole := aligned && start < end
		for p := pa; p < pb && hole; p++ {
			hole = !m[p].on
		}
		if !hole {
			return
		}
		before := list(h.s)
		if e := h.s.Map(start, end, prot, flags); e != 0 {
			if e != ENOMEM || !slices.Equal(list(h.s), before) {
				h.fatalf("Map = %d, state changed=%v", e, !slices.Equal(list(h.s), before))
			}
			return // no room near the limit
		}
		if e := h.s.Unmap(start, end); e != 0 {
			h.fatalf("Unmap after Map = %d", e)
		}
		if !slices.Equal(list(h.s), before) {
			h.fatalf("Map+Unmap of a hole changed the set")
		}
		h.check()
		return
	}
	if got != want {
		h.fatalf("got %d, want %d", got, want)
	}
	h.check()
}

// findFree is the brute-force FindFree: the hint if its range is free and
// inside [lo, hi), else the highest free range. Only for aligned lo, hi.
func (h *harness) findFree(hint, length, lo, hi uint64) (uint64, bool) {
	lo = (lo + P - 1) &^ (P - 1)
	hi &^= P - 1
	free := func(a uint64) bool {
		for p := a; p < a+length; p += P {
			if h.pageAt(p).on {
				return false
			}
		}
		return true
	}
	if hint != 0 && hint >= lo && hint+length <= hi && free(hint) {
		return hint, true
	}
	if hi < lo+length {
		return 0, false
	}
	for a := hi - length; ; a -= P {
		if free(a) {
			return a, true
		}
		if a < lo+P {
			return 0, false
		}
	}
}

// maxFuzzOps bounds the work per fuzz input (the rest is ignored), which
// keeps the fuzzer's minimization of long inputs fast.
const maxFuzzOps = 64

// runBytes drives a harness from a fuzz input: byte 0 picks the ballast,
// then four bytes per operation.
func runBytes(t testing.TB, data []byte) {
	if len(data) == 0 {
		return
	}
	if len(data) > 1+4*maxFuzzOps {
		data = data[:1+4*maxFuzzOps]
	}
	nb := 0
	if data[0]&0x80 != 0 {
		nb = MaxVMAs - int(data[0]&0x3f)
	}
	h := newHarness(t, nb)
	for data = data[1:]; len(data) >= 4; data = data[4:] {
		h.step(data[0], data[1], data[2], data[3])
	}
}

func TestVMAModel(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for round := 0; round < 300; round++ {
		nb := 0
		if round%2 == 1 {
			nb = MaxVMAs - rng.Intn(40)
		}
		h := newHarness(t, nb)
		for step := 0; step < 300; step++ {
			var b [4]byte
			rng.Read(b[:])
			if rng.Intn(4) != 0 {
				b[3] &= 0x3f // mostly aligned, ordered ranges
			}
			h.step(b[0], b[1], b[2], b[3])
		}
	}
}

func FuzzVMA(f *testing.F) {
	f.Add([]byte{0, 0, 2, 10, 1, 0, 5, 7, 2, 3, 4, 6, 0})
	f.Add([]byte{0x80 | 20, 0, 0, 48, 1, 3, 10, 20, 2, 5, 0, 48, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		runBytes(t, data)
	})
}

func BenchmarkVMAMap(b *testing.B) {
	s := new(Set)
	rng := rand.New(rand.NewSource(1))
	for s.Len() < 500 {
		a := uint64(rng.Intn(1<<16)) * P
		s.Map(a, a+uint64(1+rng.Intn(8))*P, uint32(rng.Intn(4)), 0)
	}
	type op struct{ a, e uint64 }
	ops := make([]op, 1024)
	for i := range ops {
		a := uint64(rng.Intn(1<<16)) * P
		ops[i] = op{a, a + uint64(1+rng.Intn(8))*P}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := ops[i%len(ops)]
		s.Map(o.a, o.e, uint32(i%4), 0)
	}
}

func BenchmarkVMAFind(b *testing.B) {
	s := new(Set)
	for i := uint64(0); i < 1000; i++ {
		s.Map(i*3*P, (i*3+2)*P, R, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Find(uint64(i%3000) * P)
	}
}
