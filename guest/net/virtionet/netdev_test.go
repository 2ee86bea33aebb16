package virtionet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTransport is the bus: it counts notifications and carries the
// device's interrupt the way /dev/uioN does (a wait returns if the
// device interrupted since the last one).
type fakeTransport struct {
	notifications [2]atomic.Int32
	isr           atomic.Uint32
	irq           chan struct{}
	closed        chan struct{}
	linkStatus    atomic.Uint32
	resetNeeded   atomic.Bool
	// onAcknowledge, if set, runs as the driver reads the ISR, before the
	// read clears it: a frame arriving just then.
	onAcknowledge func()
}

func newFakeTransport() *fakeTransport {
	return &fakeTransport{irq: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (f *fakeTransport) notify(queue uint16) { f.notifications[queue].Add(1) }

func (f *fakeTransport) interruptStatus() uint8 {
	if f.onAcknowledge != nil {
		f.onAcknowledge()
	}
	return uint8(f.isr.Swap(0))
}

// interrupt sets ISR bits and raises the interrupt.
func (f *fakeTransport) interrupt(bits uint32) {
	f.isr.Or(bits)
	select {
	case f.irq <- struct{}{}:
	default:
	}
}

func (f *fakeTransport) enableInterrupt() error { return nil }

var errClosed = errors.New("fake transport closed")

func (f *fakeTransport) waitInterrupt() error {
	select {
	case <-f.irq:
		return nil
	case <-f.closed:
		return errClosed
	}
}

func (f *fakeTransport) deviceConfig16(off uintptr) uint16 {
	if off != netConfigStatus {
		panic("fake transport: unexpected config read")
	}
	return uint16(f.linkStatus.Load())
}

func (f *fakeTransport) needsReset() bool { return f.resetNeeded.Load() }

// testDevice is a netDevice over fake memory, queues and transport, as
// Open leaves it (every receive buffer posted, transmit interrupts off).
type testDevice struct {
	*netDevice
	bus    *fakeTransport
	rxDev  *fakeQueue
	txDev  *fakeQueue
	result chan error // Receive's, once started
	frames chan []byte
}

func newTestDevice(t *testing.T, rxSize, txSize uint16) *testDevice {
	t.Helper()
	mem := newFakeMemory(t)
	bus := newFakeTransport()
	n := &netDevice{hw: bus, features: wantedFeatures, txReturned: make(chan struct{})}
	var err error
	if n.rx, err = newVirtqueue(mem.alloc, receiveQueue, rxSize, bufSize, true); err != nil {
		t.Fatal(err)
	}
	if n.tx, err = newVirtqueue(mem.alloc, transmitQueue, txSize, bufSize, false); err != nil {
		t.Fatal(err)
	}
	n.start()
	return &testDevice{netDevice: n, bus: bus,
		rxDev: newFakeQueue(t, mem, n.rx), txDev: newFakeQueue(t, mem, n.tx)}
}

// startReceive runs Receive, sending a copy of each frame to d.frames,
// until the test ends.
func (d *testDevice) startReceive(t *testing.T) {
	d.result = make(chan error, 1)
	d.frames = make(chan []byte, 1024)
	go func() {
		d.result <- d.Receive(func(frame []byte) { d.frames <- append([]byte(nil), frame...) }, nil)
	}()
	t.Cleanup(func() {
		close(d.bus.closed)
		if err := <-d.result; err != errClosed {
			t.Errorf("Receive ended with %v", err)
		}
	})
}

// inject is the device receiving frame: into the next posted buffer,
// after a header, then an interrupt. It waits for a posted buffer.
func (d *testDevice) inject(t *testing.T, frame []byte) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for d.rxDev.available() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no receive buffer reposted")
		}
		time.Sleep(10 * time.Microsecond)
	}
	d.injectNow(t, frame)
	d.bus.interrupt(1)
}

func (d *testDevice) injectNow(t *testing.T, frame []byte) {
	id, buf, writable := d.rxDev.take()
	if !writable {
		t.Error("receive buffer not device-writable")
	}
	clear(buf[:netHdrSize])
	buf[10] = 1 // num_buffers
	copy(buf[netHdrSize:], frame)
	d.rxDev.complete(id, uint32(netHdrSize+len(frame)))
}

func (d *testDevice) nextFrame(t *testing.T) []byte {
	t.Helper()
	select {
	case f := <-d.frames:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no frame delivered")
		return nil
	}
}

func testFrame(seq, length int) []byte {
	f := make([]byte, length)
	for i := range f {
		f[i] = byte(seq*7 + i)
	}
	binary.BigEndian.PutUint32(f, uint32(seq))
	return f
}

// A short frame goes out after a zeroed header, padded to 60 bytes, and
// the device is notified on the transmit queue.
func TestSendFrame(t *testing.T) {
	d := newTestDevice(t, 8, 8)
	arp := testFrame(1, 42)
	if err := d.Send(arp); err != nil {
		t.Fatal(err)
	}
	if got := d.bus.notifications[transmitQueue].Load(); got != 1 {
		t.Fatalf("%d transmit notifications, want 1", got)
	}
	_, buf, writable := d.txDev.take()
	if writable {
		t.Error("transmit buffer device-writable")
	}
	want := append(make([]byte, netHdrSize), arp...)
	want = append(want, make([]byte, minFrame-len(arp))...)
	if !bytes.Equal(buf, want) {
		t.Fatalf("device read\n% x\nwant\n% x", buf, want)
	}

	full := testFrame(2, maxFrame)
	if err := d.Send(full); err != nil {
		t.Fatal(err)
	}
	if _, buf, _ := d.txDev.take(); !bytes.Equal(buf[netHdrSize:], full) || len(buf) != netHdrSize+maxFrame {
		t.Fatal("full-size frame altered")
	}

	d.txDev.setNoNotify(true)
	if err := d.Send(arp); err != nil {
		t.Fatal(err)
	}
	if got := d.bus.notifications[transmitQueue].Load(); got != 2 {
		t.Fatalf("notified despite NO_NOTIFY (%d notifications)", got)
	}
}

// A batch is one notification, its frames in order; a batch larger than
// the ring is published (and notified) before Send waits for room.
func TestSendBatch(t *testing.T) {
	d := newTestDevice(t, 8, 8)
	var frames [][]byte
	for i := range 5 {
		frames = append(frames, testFrame(i, 100+i))
	}
	if err := d.SendBatch(frames); err != nil {
		t.Fatal(err)
	}
	if got := d.bus.notifications[transmitQueue].Load(); got != 1 {
		t.Fatalf("%d transmit notifications for a batch of 5, want 1", got)
	}
	for i, f := range frames {
		_, buf, _ := d.txDev.take()
		if !bytes.Equal(buf[netHdrSize:], f) {
			t.Fatalf("frame %d altered or out of order", i)
		}
	}
	d.startReceive(t) // takes the interrupts that return buffers
	var many [][]byte
	for i := range 20 {
		many = append(many, testFrame(100+i, 60))
	}
	done := make(chan error, 1)
	go func() { done <- d.SendBatch(many) }()
	for i := range many {
		// The device takes each buffer once the driver has published it
		// (it must, before it waits for room) and hands it back.
		deadline := time.Now().Add(5 * time.Second)
		for d.txDev.available() == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("frame %d of a batch larger than the ring never published", i)
			}
			time.Sleep(10 * time.Microsecond)
		}
		id, buf, _ := d.txDev.take()
		if !bytes.Equal(buf[netHdrSize:], many[i]) {
			t.Fatalf("frame %d of a batch larger than the ring altered or out of order", i)
		}
		d.txDev.complete(id, 0)
		d.bus.interrupt(1)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSendBadLengths(t *testing.T) {
	d := newTestDevice(t, 8, 8)
	for _, n := range []int{0, 13, maxFrame + 1} {
		if err := d.Send(make([]byte, n)); err == nil {
			t.Errorf("a %d-byte frame accepted", n)
		}
	}
}

// With the ring full, Send asks for a transmit interrupt and waits; the
// interrupt (taken by Receive) wakes it, not the timer.
func TestSendWaitsForFullRing(t *testing.T) {
	defer func(w time.Duration) { txRetryWait = w }(txRetryWait)
	txRetryWait = time.Hour
	const size = 4
	d := newTestDevice(t, 8, size)
	d.startReceive(t)
	if d.txDev.availFlags()&availFlagNoInterrupt == 0 {
		t.Fatal("transmit interrupts wanted with no sender waiting")
	}
	for i := 0; i < size; i++ {
		if err := d.Send(testFrame(i, 60)); err != nil {
			t.Fatal(err)
		}
	}
	sent := make(chan error)
	go func() { sent <- d.Send(testFrame(size, 60)) }()
	deadline := time.Now().Add(5 * time.Second)
	for d.txDev.availFlags()&availFlagNoInterrupt != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a waiting sender did not ask for transmit interrupts")
		}
		time.Sleep(10 * time.Microsecond)
	}
	select {
	case err := <-sent:
		t.Fatalf("Send returned (%v) with the ring full", err)
	case <-time.After(20 * time.Millisecond):
	}
	id, _, _ := d.txDev.take()
	d.txDev.complete(id, 0)
	d.bus.interrupt(1)
	select {
	case err := <-sent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the transmit interrupt did not wake the sender")
	}
	if d.txDev.availFlags()&availFlagNoInterrupt == 0 {
		t.Error("transmit interrupts still wanted after the wait")
	}
	for i := 1; i <= size; i++ {
		_, buf, _ := d.txDev.take()
		if got := binary.BigEndian.Uint32(buf[netHdrSize:]); got != uint32(i) {
			t.Fatalf("frame %d went out as %d", i, got)
		}
	}
}

// Without Receive running and without interrupts, a sender at a full
// ring still gets going once the device returns buffers: it looks again
// every txRetryWait.
func TestSendFullRingWithoutReceive(t *testing.T) {
	const size = 2
	d := newTestDevice(t, 8, size)
	for i := 0; i < size; i++ {
		if err := d.Send(testFrame(i, 60)); err != nil {
			t.Fatal(err)
		}
	}
	sent := make(chan error)
	go func() { sent <- d.Send(testFrame(size, 60)) }()
	time.Sleep(20 * time.Millisecond)
	id, _, _ := d.txDev.take()
	d.txDev.complete(id, 0)
	select {
	case err := <-sent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the sender never looked again")
	}
}

// Several senders at once through a small ring, the device consuming as
// it goes: every frame goes out once, each sender's in its order.
func TestConcurrentSenders(t *testing.T) {
	const senders, perSender = 4, 500
	d := newTestDevice(t, 8, 4)
	d.startReceive(t)
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perSender; i++ {
				if err := d.Send(testFrame(s<<16|i, 100)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	next := make([]int, senders)
	deadline := time.Now().Add(20 * time.Second)
	for got := 0; got < senders*perSender; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d frames sent", got)
		}
		if d.txDev.available() == 0 {
			time.Sleep(10 * time.Microsecond)
			continue
		}
		id, buf, _ := d.txDev.take()
		seq := int(binary.BigEndian.Uint32(buf[netHdrSize:]))
		s, i := seq>>16, seq&0xFFFF
		if s >= senders || i != next[s] {
			t.Fatalf("sender %d's frame %d, want %d", s, i, next[s])
		}
		if !bytes.Equal(buf[netHdrSize:], testFrame(seq, 100)) {
			t.Fatalf("frame %#x corrupted", seq)
		}
		next[s]++
		got++
		d.txDev.complete(id, 0)
		if got%3 == 0 {
			d.bus.interrupt(1)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Frames come up in order without their header, each buffer reposted,
// through enough frames to wrap both receive indices.
func TestReceiveDelivers(t *testing.T) {
	const size = 4
	d := newTestDevice(t, size, 8)
	if d.rxDev.available() != size {
		t.Fatalf("%d receive buffers posted, want %d", d.rxDev.available(), size)
	}
	d.startReceive(t)
	const frames = 65536 + 1000
	for i := 0; i < frames; i++ {
		d.inject(t, testFrame(i, 60+i%1400))
		if i%size == size-1 || i == frames-1 {
			for j := i - i%size; j <= i; j++ {
				if got := d.nextFrame(t); !bytes.Equal(got, testFrame(j, 60+j%1400)) {
					t.Fatalf("frame %d delivered as % x…", j, got[:8])
				}
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for d.rxDev.available() != size {
		if time.Now().After(deadline) {
			t.Fatalf("%d receive buffers posted after the frames, want %d", d.rxDev.available(), size)
		}
		time.Sleep(10 * time.Microsecond)
	}
}

// The lost wakeup: a frame the device uses while the interrupt is off,
// whose INTx the ISR read then clears, must still be delivered: Receive
// looks at the ring again after the read and before it waits.
func TestReceiveFrameDuringAcknowledge(t *testing.T) {
	d := newTestDevice(t, 8, 8)
	var once sync.Once
	d.bus.onAcknowledge = func() {
		once.Do(func() {
			d.injectNow(t, testFrame(7, 64))
			d.bus.isr.Or(1) // raised, but the read below clears it: no interrupt
		})
	}
	d.startReceive(t)
	if got := d.nextFrame(t); !bytes.Equal(got, testFrame(7, 64)) {
		t.Fatal("wrong frame")
	}
}

func TestReceiveNeedsReset(t *testing.T) {
	d := newTestDevice(t, 8, 8)
	d.bus.resetNeeded.Store(true)
	d.bus.interrupt(isrConfigChanged)
	if err := d.Receive(func([]byte) {}, nil); err == nil || err == errClosed {
		t.Fatalf("Receive = %v, want the reset error", err)
	}
}

func TestLinkUp(t *testing.T) {
	d := newTestDevice(t, 8, 8)
	if d.LinkUp() {
		t.Error("link up with status 0")
	}
	d.bus.linkStatus.Store(netStatusLinkUp)
	if !d.LinkUp() {
		t.Error("link down with LINK_UP")
	}
	d.features &^= featureNetStatus
	d.bus.linkStatus.Store(0)
	if !d.LinkUp() {
		t.Error("link down without VIRTIO_NET_F_STATUS")
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		vendor, device uint16
		want           bool
	}{{0x1af4, 0x1000, true}, {0x1af4, 0x1041, true}, {0x1af4, 0x1001, false}, {0x8086, 0x100e, false}} {
		if Match(c.vendor, c.device) != c.want {
			t.Errorf("Match(%04x, %04x) = %v", c.vendor, c.device, !c.want)
		}
	}
}
