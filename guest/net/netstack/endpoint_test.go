package netstack

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// fakeCard records what the endpoint sends: each call's frames, copied.
type fakeCard struct {
	mu      sync.Mutex
	batches [][]string
	fail    error
	block   chan struct{} // if not nil, a send waits for it
}

func (c *fakeCard) Model() string                      { return "fake" }
func (c *fakeCard) MAC() [6]byte                       { return [6]byte{2, 0, 0, 0, 0, 1} }
func (c *fakeCard) MTU() int                           { return 1500 }
func (c *fakeCard) LinkUp() bool                       { return true }
func (c *fakeCard) Receive(func([]byte), func()) error { select {} }
func (c *fakeCard) Send(f []byte) error                { return c.SendBatch([][]byte{f}) }
func (c *fakeCard) SendBatch(fs [][]byte) error {
	if c.block != nil {
		<-c.block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var b []string
	for _, f := range fs {
		b = append(b, string(f))
	}
	c.batches = append(c.batches, b)
	return c.fail
}

func (c *fakeCard) sent() (frames []string, batches int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.batches {
		frames = append(frames, b...)
	}
	return frames, len(c.batches)
}

func packets(names ...string) stack.PacketBufferList {
	var l stack.PacketBufferList
	for _, n := range names {
		l.PushBack(stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData([]byte(n))}))
	}
	return l
}

func waitSent(t *testing.T, c *fakeCard, n int) ([]string, int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		frames, batches := c.sent()
		if len(frames) >= n || time.Now().After(deadline) {
			return frames, batches
		}
		time.Sleep(time.Millisecond)
	}
}

// Writes made before the flusher runs go out as one batch, in order.
func TestWritePacketsBatches(t *testing.T) {
	card := &fakeCard{block: make(chan struct{})}
	e := newEndpoint(card)
	var want []string
	for i := range 10 {
		names := []string{fmt.Sprintf("p%d.a", i), fmt.Sprintf("p%d.b", i)}
		want = append(want, names...)
		l := packets(names...)
		if n, err := e.WritePackets(l); n != 2 || err != nil {
			t.Fatalf("WritePackets = %d, %v", n, err)
		}
		l.DecRef()
		if i == 0 {
			// The flusher takes the first write and waits in the
			// card: the other nine wait for the next batch.
			waitFlusherBlocked(t, e)
		}
	}
	close(card.block)
	frames, batches := waitSent(t, card, len(want))
	if fmt.Sprint(frames) != fmt.Sprint(want) {
		t.Errorf("sent %v, want %v", frames, want)
	}
	if batches != 2 {
		t.Errorf("%d batches, want 2 (the first write, then the nine queued behind it)", batches)
	}
}

// waitFlusherBlocked waits until the flusher has taken what was pending.
func waitFlusherBlocked(t *testing.T, e *endpoint) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		e.txMu.Lock()
		n := len(e.pending)
		e.txMu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the flusher did not take the pending frames")
		}
		time.Sleep(time.Millisecond)
	}
}

// A writer that finds maxPending frames queued sends them itself: the
// queue does not grow past it while the card is slow.
func TestWritePacketsBounded(t *testing.T) {
	card := &fakeCard{block: make(chan struct{})}
	e := newEndpoint(card)
	l := packets("first")
	e.WritePackets(l)
	l.DecRef()
	waitFlusherBlocked(t, e) // the flusher is stuck in the card with "first"
	done := make(chan struct{})
	go func() {
		for i := range maxPending {
			l := packets(fmt.Sprint(i))
			e.WritePackets(l)
			l.DecRef()
		}
		close(done)
	}()
	select {
	case <-done:
		t.Fatalf("%d writes returned while the card took nothing", maxPending)
	case <-time.After(100 * time.Millisecond):
	}
	close(card.block)
	<-done
	frames, _ := waitSent(t, card, maxPending+1)
	if len(frames) != maxPending+1 || frames[0] != "first" || frames[maxPending] != fmt.Sprint(maxPending-1) {
		t.Errorf("sent %d frames (%q … %q), want %d in order", len(frames), frames[0], frames[len(frames)-1], maxPending+1)
	}
}

// A driver's error drops its batch and counts it; later writes go on.
func TestWritePacketsError(t *testing.T) {
	card := &fakeCard{fail: errors.New("card gone")}
	e := newEndpoint(card)
	var mu sync.Mutex
	var sent, failed int
	e.sent = func(n int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed += n
		} else {
			sent += n
		}
	}
	l := packets("a", "b")
	e.WritePackets(l)
	l.DecRef()
	waitSent(t, card, 2)
	card.mu.Lock()
	card.fail = nil
	card.mu.Unlock()
	l = packets("c")
	e.WritePackets(l)
	l.DecRef()
	waitSent(t, card, 3)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		mu.Lock()
		s, f := sent, failed
		mu.Unlock()
		if s == 1 && f == 2 {
			return
		}
	}
	t.Errorf("counted %d sent and %d failed, want 1 and 2", sent, failed)
}

// recorder is the stack's dispatcher: what reaches it, and whether the
// endpoint said the packet's checksums were checked as it did.
type recorder struct {
	e       *endpoint
	sizes   []int
	offload []bool
}

func (r *recorder) DeliverNetworkPacket(_ tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	r.sizes = append(r.sizes, pkt.Data().Size())
	r.offload = append(r.offload, r.e.Capabilities()&stack.CapabilityRXChecksumOffload != 0)
}
func (r *recorder) DeliverLinkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) {}

// A batch's consecutive segments of one connection reach the stack as one,
// marked as checked (its checksum is the first segment's); a segment with
// a bad checksum reaches it at once (GRO cannot tell its flow), alone and
// unmarked, for the stack to drop and count; and the mark is off between
// packets.
func TestReceiveCoalesces(t *testing.T) {
	e := newEndpoint(&fakeCard{})
	r := &recorder{e: e}
	e.Attach(r)
	const n, mss = 40, 1448
	seg := func(i int, bad bool) []byte {
		return buildSegment(segment{sport: 1, dport: 8080, seq: uint32(1000 + i*mss), ack: 5,
			flags: header.TCPFlagAck, opts: tsOpt, data: mss, badSum: bad})
	}
	for i := range n {
		e.deliver(seg(i, false))
	}
	e.deliver(seg(n+5, true))
	e.flush()
	hdr := header.IPv4MinimumSize + header.TCPMinimumSize + len(tsOpt)
	if want := []int{hdr + mss, hdr + n*mss}; fmt.Sprint(r.sizes) != fmt.Sprint(want) {
		t.Errorf("the stack got packets of %v bytes, want %v", r.sizes, want)
	}
	if fmt.Sprint(r.offload) != "[false true]" {
		t.Errorf("checked-checksum marks %v, want [false true]", r.offload)
	}
	if e.Capabilities()&stack.CapabilityRXChecksumOffload != 0 {
		t.Error("the endpoint claims RX checksum offload between packets")
	}
}
