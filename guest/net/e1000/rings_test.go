package e1000

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
)

// frame returns a distinct test frame of n bytes: an Ethernet header
// whose type field carries seq, then a pattern.
func frame(seq, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seq*7 + i)
	}
	b[12], b[13] = byte(seq>>8), byte(seq)
	return b
}

// smallRings sets a fake up with rings of n descriptors, transmitter and
// receiver enabled, as start would.
func smallRings(t *testing.T, n int) (*fakeNIC, *txRing, *rxRing) {
	f := newFakeNIC(t, chips[0x100e], [6]byte{2, 0, 0, 0, 0, 1}, true)
	mem := f.memory()
	tx, err := newTXRing(f, mem.txDesc, mem.txBufs, n)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := newRXRing(f, mem.rxDesc, mem.rxBufs, n)
	if err != nil {
		t.Fatal(err)
	}
	f.Write32(regTCTL, tctlEN)
	f.Write32(regRCTL, rctlEN)
	return f, tx, rx
}

func TestTXRingRegisters(t *testing.T) {
	f, _, _ := smallRings(t, 8)
	mem := f.memory()
	base := mem.txDesc.phys(0)
	for _, c := range []struct {
		reg  uintptr
		want uint32
	}{
		{regTDBAL, uint32(base)}, {regTDBAH, uint32(base >> 32)}, {regTDLEN, 8 * descSize},
		{regTDH, 0}, {regTDT, 0},
	} {
		if got := f.get(c.reg); got != c.want {
			t.Errorf("register %#x = %#x, want %#x", c.reg, got, c.want)
		}
	}
}

func TestTXPostAndReclaim(t *testing.T) {
	f, tx, _ := smallRings(t, 8)
	if tx.free() != 7 {
		t.Fatalf("empty ring of 8: free %d, want 7", tx.free())
	}
	for i := 0; i < 3; i++ {
		tx.post(frame(i, 60+i))
		tx.kick()
	}
	if got := f.get(regTDT); got != 3 {
		t.Errorf("TDT %d after 3 posts, want 3", got)
	}
	if k := tx.reclaim(); k != 0 {
		t.Errorf("reclaimed %d before the device sent anything", k)
	}
	if k := f.transmit(2); k != 2 {
		t.Fatalf("device sent %d, want 2", k)
	}
	if k := tx.reclaim(); k != 2 {
		t.Errorf("reclaimed %d after the device sent 2", k)
	}
	f.transmit(10)
	if k := tx.reclaim(); k != 1 || tx.free() != 7 {
		t.Errorf("reclaimed %d, free %d; want 1 and 7", k, tx.free())
	}
	sent := f.sentFrames()
	for i, s := range sent {
		if !bytes.Equal(s, frame(i, 60+i)) {
			t.Errorf("frame %d went out as % x", i, s)
		}
	}
}

// TestTXFull fills the ring to its n-1 limit (TDT catching TDH would read
// as empty to the device), frees some and posts across the wrap.
func TestTXFull(t *testing.T) {
	f, tx, _ := smallRings(t, 8)
	for i := 0; i < 7; i++ {
		tx.post(frame(i, 100))
		tx.kick()
	}
	if tx.free() != 0 {
		t.Fatalf("free %d after 7 posts to a ring of 8", tx.free())
	}
	if tdt, tdh := f.get(regTDT), f.get(regTDH); tdt != 7 || tdh != 0 {
		t.Errorf("full ring: TDT %d TDH %d, want 7 and 0", tdt, tdh)
	}
	f.transmit(3)
	if k := tx.reclaim(); k != 3 || tx.free() != 3 {
		t.Fatalf("reclaimed %d, free %d; want 3 and 3", k, tx.free())
	}
	for i := 7; i < 10; i++ {
		tx.post(frame(i, 100))
		tx.kick()
	}
	if tdt := f.get(regTDT); tdt != 2 {
		t.Errorf("TDT %d after wrapping, want 2", tdt)
	}
	f.transmit(100)
	tx.reclaim()
	sent := f.sentFrames()
	if len(sent) != 10 {
		t.Fatalf("device sent %d frames, want 10", len(sent))
	}
	for i, s := range sent {
		if !bytes.Equal(s, frame(i, 100)) {
			t.Errorf("frame %d out of order or damaged", i)
		}
	}
}

// TestTXLaps runs the ring many times round with the device finishing at
// random, checking order and the free count's bookkeeping.
func TestTXLaps(t *testing.T) {
	f, tx, _ := smallRings(t, 16)
	rng := rand.New(rand.NewSource(1))
	posted := 0
	for posted < 500 {
		for k := rng.Intn(20); k > 0 && tx.free() > 0; k-- {
			tx.post(frame(posted, 14+rng.Intn(maxFrame-13)))
			tx.kick()
			posted++
		}
		f.transmit(rng.Intn(20))
		tx.reclaim()
		if inFlight := int(f.get(regTDT)+16-f.get(regTDH)) % 16; tx.busy < inFlight || tx.busy > 15 {
			t.Fatalf("busy %d with %d still at the device", tx.busy, inFlight)
		}
	}
	f.transmit(100)
	tx.reclaim()
	if tx.free() != 15 {
		t.Errorf("free %d at the end, want 15", tx.free())
	}
	sent := f.sentFrames()
	if len(sent) != posted {
		t.Fatalf("device sent %d of %d", len(sent), posted)
	}
	for i, s := range sent {
		if s[12] != byte(i>>8) || s[13] != byte(i) {
			t.Fatalf("frame %d came out as frame %d", i, int(s[12])<<8|int(s[13]))
		}
	}
}

func TestRXRingRegisters(t *testing.T) {
	f, _, _ := smallRings(t, 8)
	base := f.memory().rxDesc.phys(0)
	for _, c := range []struct {
		reg  uintptr
		want uint32
	}{
		{regRDBAL, uint32(base)}, {regRDBAH, uint32(base >> 32)}, {regRDLEN, 8 * descSize},
		{regRDH, 0}, {regRDT, 7},
	} {
		if got := f.get(c.reg); got != c.want {
			t.Errorf("register %#x = %#x, want %#x", c.reg, got, c.want)
		}
	}
}

// collect returns a deliver function appending copies of the frames.
func collect(into *[][]byte) func([]byte) {
	return func(b []byte) { *into = append(*into, append([]byte(nil), b...)) }
}

// TestRXFullAndWrap: the device may fill n-1 descriptors, then drops;
// drain gives them all back and RDT stays one behind the next.
func TestRXFullAndWrap(t *testing.T) {
	f, _, rx := smallRings(t, 8)
	for i := 0; i < 7; i++ {
		if !f.receive(frame(i, 64), 0) {
			t.Fatalf("device refused frame %d of the first 7", i)
		}
	}
	if f.receive(frame(99, 64), 0) {
		t.Fatal("device took an 8th frame into a ring of 8")
	}
	if f.get(regICR)&intRXO == 0 {
		t.Error("no RXO for the dropped frame")
	}
	var got [][]byte
	if k := rx.drain(collect(&got)); k != 7 {
		t.Fatalf("drained %d, want 7", k)
	}
	if rdt := f.get(regRDT); rdt != 6 {
		t.Errorf("RDT %d after draining 7, want 6", rdt)
	}
	for i := 7; i < 14; i++ {
		if !f.receive(frame(i, 64), 0) {
			t.Fatalf("device refused frame %d after the drain", i)
		}
	}
	rx.drain(collect(&got))
	if len(got) != 14 {
		t.Fatalf("delivered %d frames, want 14", len(got))
	}
	for i, g := range got {
		if !bytes.Equal(g, frame(i, 64)) {
			t.Errorf("frame %d delivered as % x", i, g)
		}
	}
	if k := rx.drain(collect(&got)); k != 0 {
		t.Errorf("drained %d from an empty ring", k)
	}
}

func TestRXLaps(t *testing.T) {
	f, _, rx := smallRings(t, 16)
	rng := rand.New(rand.NewSource(2))
	var got [][]byte
	sent := 0
	for sent < 1000 {
		for k := rng.Intn(20); k > 0; k-- {
			if f.receive(frame(sent, 14+rng.Intn(maxFrame-13)), 0) {
				sent++
			}
		}
		rx.drain(collect(&got))
		if rdt, next := f.get(regRDT), uint32(rx.next); (rdt+1)%16 != next {
			t.Fatalf("RDT %d, next %d: want RDT one behind", rdt, next)
		}
	}
	if len(got) != sent {
		t.Fatalf("delivered %d of %d", len(got), sent)
	}
	for i, g := range got {
		if g[12] != byte(i>>8) || g[13] != byte(i) {
			t.Fatalf("frame %d delivered as frame %d", i, int(g[12])<<8|int(g[13]))
		}
	}
}

// TestRXDropsBadFrames: a frame with a wire error, and one spanning two
// buffers (which the device would not write with RCTL.LPE clear) are
// dropped; the descriptors still come back.
func TestRXDropsBadFrames(t *testing.T) {
	f, _, rx := smallRings(t, 8)
	f.receive(frame(0, 60), 0)
	f.receive(frame(1, 60), 1<<0) // CE: CRC error
	f.receive(frame(2, 3000), 0)  // two descriptors
	f.receive(frame(3, 60), 1<<5) // TCPE: the stack's to judge
	var got [][]byte
	if k := rx.drain(collect(&got)); k != 5 {
		t.Errorf("drained %d descriptors, want 5", k)
	}
	want := [][]byte{frame(0, 60), frame(3, 60)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delivered %d frames %v, want frames 0 and 3", len(got), got)
	}
}

func TestCheckRing(t *testing.T) {
	f := newFakeNIC(t, chips[0x100e], [6]byte{2}, true)
	mem := f.memory()
	for _, n := range []int{0, 4, 12, 512} {
		if _, err := newTXRing(f, mem.txDesc, mem.txBufs, n); err == nil {
			t.Errorf("a transmit ring of %d descriptors was accepted", n)
		}
	}
	odd := mem.rxDesc
	odd.buf = odd.buf[16:]
	odd.phys = func(o int) uint64 { return mem.rxDesc.phys(16 + o) }
	if _, err := newRXRing(f, odd, mem.rxBufs, 8); err == nil {
		t.Error("a ring not 128-byte aligned was accepted")
	}
}
