package virtionet

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func newTestQueue(t *testing.T, size uint16, deviceWrites bool) (*virtqueue, *fakeQueue) {
	t.Helper()
	mem := newFakeMemory(t)
	q, err := newVirtqueue(mem.alloc, 1, size, testBufSize, deviceWrites)
	if err != nil {
		t.Fatal(err)
	}
	return q, newFakeQueue(t, mem, q)
}

func TestQueueSizes(t *testing.T) {
	mem := newFakeMemory(t)
	for _, size := range []uint16{0, 3, 100, 512} {
		if _, err := newVirtqueue(mem.alloc, 0, size, testBufSize, false); err == nil {
			t.Errorf("size %d accepted", size)
		}
	}
	if _, err := newVirtqueue(mem.alloc, 0, 8, 1536, false); err == nil {
		t.Error("a buffer size not dividing the page accepted")
	}
	// The largest queue's structures each fit their page, and every
	// buffer lies within one page (resolve checks both).
	q, dev := newTestQueue(t, maxQueueSize, true)
	for {
		id, ok := q.get()
		if !ok {
			break
		}
		q.offer(id, testBufSize)
	}
	q.publish()
	for dev.available() > 0 {
		if _, buf, _ := dev.take(); len(buf) != testBufSize {
			t.Fatalf("buffer of %d bytes", len(buf))
		}
	}
}

// A transmit-style buffer goes out with its bytes and length, read-only
// for the device, and comes back.
func TestOfferAndTakeUsed(t *testing.T) {
	q, dev := newTestQueue(t, 8, false)
	id, ok := q.get()
	if !ok {
		t.Fatal("no descriptor in a new queue")
	}
	copy(q.buffer(id), "hello, device")
	q.offer(id, 13)
	if dev.available() != 0 {
		t.Fatal("the device saw a buffer before publish")
	}
	q.publish()
	if dev.available() != 1 {
		t.Fatalf("%d available after publish, want 1", dev.available())
	}
	gotID, buf, writable := dev.take()
	if gotID != id || string(buf) != "hello, device" || writable {
		t.Fatalf("device took %d %q writable=%v", gotID, buf, writable)
	}
	if q.usedPending() {
		t.Fatal("used pending before the device completed")
	}
	dev.complete(id, 0)
	if !q.usedPending() {
		t.Fatal("not pending after completion")
	}
	back, _, ok, err := q.takeUsed()
	if err != nil || !ok || back != id {
		t.Fatalf("takeUsed = %d, %v, %v", back, ok, err)
	}
	if _, _, ok, _ := q.takeUsed(); ok {
		t.Fatal("a second used entry out of one")
	}
}

// Both indices run past 65535 several times, with the device returning
// buffers out of order, in batches that leave the ring in every
// position.
func TestWraparound(t *testing.T) {
	const size = 4
	q, dev := newTestQueue(t, size, false)
	sent, received := uint32(0), uint32(0)
	for round := 0; sent < 3*65536+5; round++ {
		batch := 1 + round%size
		for i := 0; i < batch; i++ {
			id, ok := q.get()
			if !ok {
				t.Fatalf("round %d: no descriptor", round)
			}
			binary.LittleEndian.PutUint32(q.buffer(id), sent)
			q.offer(id, 4)
			sent++
		}
		q.publish()
		ids := make([]uint16, 0, batch)
		for dev.available() > 0 {
			id, buf, _ := dev.take()
			if got := binary.LittleEndian.Uint32(buf); got != received {
				t.Fatalf("device got packet %d, want %d", got, received)
			}
			received++
			ids = append(ids, id)
		}
		for i := len(ids) - 1; i >= 0; i-- { // out of order
			dev.complete(ids[i], 0)
		}
		for i := 0; i < batch; i++ {
			id, _, ok, err := q.takeUsed()
			if err != nil || !ok {
				t.Fatalf("round %d: takeUsed %v %v", round, ok, err)
			}
			if id != ids[batch-1-i] {
				t.Fatalf("round %d: used %d, want %d", round, id, ids[batch-1-i])
			}
			q.put(id)
		}
	}
	if received != sent {
		t.Fatalf("received %d of %d", received, sent)
	}
	if got := dev.availIdx(); got != uint16(sent) {
		t.Fatalf("available idx %d, want %d (mod 65536)", got, uint16(sent))
	}
	if q.usedIdx != uint16(sent) {
		t.Fatalf("used idx %d, want %d", q.usedIdx, uint16(sent))
	}
}

// A full ring has no descriptor to give until the device returns one.
func TestFullRing(t *testing.T) {
	const size = 8
	q, dev := newTestQueue(t, size, false)
	for i := 0; i < size; i++ {
		id, ok := q.get()
		if !ok {
			t.Fatalf("descriptor %d of %d missing", i, size)
		}
		q.offer(id, 60)
	}
	q.publish()
	if _, ok := q.get(); ok {
		t.Fatal("a descriptor beyond the ring's size")
	}
	if dev.available() != size {
		t.Fatalf("%d available, want %d", dev.available(), size)
	}
	id, _, _ := dev.take()
	dev.complete(id, 0)
	back, _, ok, err := q.takeUsed()
	if !ok || err != nil || back != id {
		t.Fatalf("takeUsed = %d %v %v", back, ok, err)
	}
	q.put(back)
	if got, ok := q.get(); !ok || got != id {
		t.Fatalf("get after return = %d %v, want %d", got, ok, id)
	}
}

// Receive-style: all buffers posted, writable, each reposted after the
// device fills it; the device always sees the ring full again.
func TestReceiveRepost(t *testing.T) {
	const size = 8
	q, dev := newTestQueue(t, size, true)
	for {
		id, ok := q.get()
		if !ok {
			break
		}
		q.offer(id, testBufSize)
	}
	q.publish()
	for frame := 0; frame < 20000; frame++ {
		if dev.available() != size {
			t.Fatalf("frame %d: %d buffers posted, want %d", frame, dev.available(), size)
		}
		id, buf, writable := dev.take()
		if !writable || len(buf) != testBufSize {
			t.Fatalf("receive buffer writable=%v %d bytes", writable, len(buf))
		}
		msg := []byte{byte(frame), byte(frame >> 8), 0xAB}
		copy(buf, msg)
		dev.complete(id, uint32(len(msg)))
		got, n, ok, err := q.takeUsed()
		if !ok || err != nil || got != id || !bytes.Equal(q.buffer(got)[:n], msg) {
			t.Fatalf("frame %d: takeUsed %d %d %v %v", frame, got, n, ok, err)
		}
		q.offer(got, testBufSize)
		q.publish()
	}
}

// A device handing back what it does not hold, or claiming to have
// written more than the buffer, is an error, not a crash.
func TestBadUsedEntries(t *testing.T) {
	q, dev := newTestQueue(t, 4, true)
	dev.complete(2, 10) // never offered
	if _, _, _, err := q.takeUsed(); err == nil {
		t.Error("a descriptor the device does not hold accepted")
	}

	q, dev = newTestQueue(t, 4, true)
	id, _ := q.get()
	q.offer(id, testBufSize)
	q.publish()
	dev.take()
	dev.complete(id, testBufSize+1)
	if _, _, _, err := q.takeUsed(); err == nil {
		t.Error("an overlong write accepted")
	}

	q, dev = newTestQueue(t, 4, true)
	dev.complete(9, 0) // beyond the ring
	if _, _, _, err := q.takeUsed(); err == nil {
		t.Error("a descriptor beyond the ring accepted")
	}
}

// The suppression flags go both ways: the driver's NO_INTERRUPT reaches
// the device, the device's NO_NOTIFY reaches the driver.
func TestSuppressionFlags(t *testing.T) {
	q, dev := newTestQueue(t, 4, false)
	q.setInterrupts(false)
	if dev.availFlags()&availFlagNoInterrupt == 0 {
		t.Error("NO_INTERRUPT not seen by the device")
	}
	q.setInterrupts(true)
	if dev.availFlags()&availFlagNoInterrupt != 0 {
		t.Error("NO_INTERRUPT still set")
	}
	if !q.needsNotify() {
		t.Error("no notification wanted by a fresh device")
	}
	dev.setNoNotify(true)
	if q.needsNotify() {
		t.Error("NO_NOTIFY ignored")
	}
	dev.setNoNotify(false)
	if !q.needsNotify() {
		t.Error("NO_NOTIFY stuck")
	}
}

// testBufSize is the driver's buffer size, 2048: two buffers a page.
const testBufSize = 2048
