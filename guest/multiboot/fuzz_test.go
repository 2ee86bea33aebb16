// Fuzz tests: Parse on arbitrary bytes must return, never panic, and leave
// an Info that satisfies checkConsistent. The seeds are the well-formed
// examples of the other tests; testdata/fuzz holds them as corpus files
// (regenerate with RT0_WRITE_SEEDS=1 go test -run TestWriteSeeds).

package multiboot

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Physical addresses the fuzzers' windows start at.
const (
	fuzzBaseV1 = 0x10000
	fuzzBaseV2 = 0x200000
)

// fuzzSeedsV1 are (window, offset of the info in it) pairs.
func fuzzSeedsV1() [][2]any {
	var seeds [][2]any
	m, addr, _ := grubV1()
	seeds = append(seeds, [2]any{m.b[:m.next], uint16(addr - m.base)})
	mem, addr := v1Hostile(func(*phys, uint64) {})
	seeds = append(seeds, [2]any{mem.Bytes[:256], uint16(addr - mem.Base)})
	m = newPhys(fuzzBaseV1, 256)
	fb := Framebuffer{Addr: 0xa0000, Pitch: 320, Width: 320, Height: 200, BPP: 8, Type: FBIndexed, PaletteColors: 16}
	addr = v1Spec{fb: &fb, hasMem: true, hasMmap: true, mmap: []Region{{0, 0x1000, 1}}}.build(m)
	seeds = append(seeds, [2]any{m.b[:m.next], uint16(addr - m.base)})
	return seeds
}

// fuzzSeedsV2 are multiboot2 blobs.
func fuzzSeedsV2() [][]byte {
	blob, _ := grubV2()
	v := newV2()
	v.tag(tagFramebuffer, le(nil).u64(0xa0000).u32(320).u32(320).u32(200).u8(8).u8(FBIndexed).u16(0).
		u16(2).u8(1).u8(2).u8(3).u8(4).u8(5).u8(6))
	v.tag(tagEFI32, le(nil).u32(0x1234))
	v.tag(tagACPIOld, make([]byte, 20))
	return [][]byte{blob, v.finish(), newV2().finish()}
}

func FuzzParseV1(f *testing.F) {
	for _, s := range fuzzSeedsV1() {
		f.Add(s[0].([]byte), s[1].(uint16))
	}
	f.Fuzz(func(t *testing.T, data []byte, off uint16) {
		// The seeds' pointers assume the window starts at fuzzBaseV1.
		mem := &Memory{Base: fuzzBaseV1, Bytes: data}
		var info Info
		err := Parse(MagicV1, fuzzBaseV1+uint64(off), mem, &info)
		if (int(off)+4 > len(data)) != (info.Version == 0) || (info.Version == 0 && err != ErrRange) {
			t.Fatalf("flags at %d of %d bytes: version %d err %v", off, len(data), info.Version, err)
		}
		checkConsistent(t, mem, &info)
		for i := 0; i < info.NModules; i++ {
			if info.Modules[i].CmdlineAddr != 0 && info.Modules[i].CmdlineLen >= MaxString {
				t.Fatalf("module string longer than MaxString")
			}
		}
	})
}

func FuzzParseV2(f *testing.F) {
	for _, s := range fuzzSeedsV2() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := &Memory{Base: fuzzBaseV2, Bytes: data}
		var info Info
		err := Parse(MagicV2, fuzzBaseV2, mem, &info)
		checkConsistent(t, mem, &info)
		if err == OK && info.Version != 2 {
			t.Fatalf("OK without version")
		}
		// Everything reported lies inside the blob, within total_size.
		if len(data) >= 8 {
			total := uint64(data[0]) | uint64(data[1])<<8 | uint64(data[2])<<16 | uint64(data[3])<<24
			lim := fuzzBaseV2 + total
			in := func(a, n uint64) bool { return a >= fuzzBaseV2 && a+n <= lim }
			if info.HasCmdline && !in(info.CmdlineAddr, info.CmdlineLen+1) ||
				info.HasLoaderName && !in(info.LoaderNameAddr, info.LoaderNameLen+1) ||
				info.RSDPLen != 0 && !in(info.RSDPAddr, info.RSDPLen) {
				t.Fatalf("address past total_size")
			}
		}
		// Normalize keeps the multiset of regions and sorts them.
		before := info
		info.Normalize()
		if info.NRegions != before.NRegions {
			t.Fatal("Normalize changed the count")
		}
		for i := 1; i < info.NRegions; i++ {
			if info.Regions[i-1].Base > info.Regions[i].Base {
				t.Fatal("not sorted")
			}
		}
		if info.TotalAvailable() != before.TotalAvailable() || info.MaxAddr() != before.MaxAddr() {
			t.Fatal("Normalize changed the totals")
		}
	})
}

// TestWriteSeeds writes the seeds into testdata/fuzz when RT0_WRITE_SEEDS
// is set; otherwise it does nothing.
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("RT0_WRITE_SEEDS") == "" {
		t.Skip("set RT0_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	write := func(fuzzer string, i int, body string) {
		dir := filepath.Join("testdata", "fuzz", fuzzer)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, fmt.Sprintf("seed%d", i))
		if err := os.WriteFile(name, []byte("go test fuzz v1\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range fuzzSeedsV1() {
		write("FuzzParseV1", i, fmt.Sprintf("[]byte(%q)\nuint16(%d)\n", s[0].([]byte), s[1].(uint16)))
	}
	for i, s := range fuzzSeedsV2() {
		write("FuzzParseV2", i, fmt.Sprintf("[]byte(%q)\n", s))
	}
}
