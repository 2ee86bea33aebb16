package e1000

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

var testMAC = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

func startFake(t *testing.T, id uint16, autoload bool) (*fakeNIC, *Device) {
	f := newFakeNIC(t, chips[id], testMAC, autoload)
	d, err := start(f, f.irq, chips[id], f.memory())
	if err != nil {
		t.Fatal(err)
	}
	return f, d
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		vendor, device uint16
		want           bool
	}{
		{0x8086, 0x100e, true}, {0x8086, 0x10d3, true}, {0x8086, 0x100f, true},
		{0x8086, 0x100c, false}, {0x1af4, 0x1000, false}, {0x1af4, 0x100e, false},
	} {
		if got := Match(c.vendor, c.device); got != c.want {
			t.Errorf("Match(%04x, %04x) = %v", c.vendor, c.device, got)
		}
	}
}

func TestStart(t *testing.T) {
	f, d := startFake(t, 0x100e, true)
	if f.resets != 1 {
		t.Errorf("%d resets, want 1", f.resets)
	}
	if d.MAC() != testMAC {
		t.Errorf("MAC % x, want % x", d.MAC(), testMAC)
	}
	if d.Model() != "e1000 82540EM" || d.MTU() != 1500 || !d.LinkUp() {
		t.Errorf("model %q MTU %d link %v", d.Model(), d.MTU(), d.LinkUp())
	}
	ctrl := f.get(regCTRL)
	if ctrl&(ctrlSLU|ctrlASDE) != ctrlSLU|ctrlASDE || ctrl&(ctrlLRST|ctrlPHYRST|ctrlRST) != 0 {
		t.Errorf("CTRL %#x", ctrl)
	}
	if got, want := f.get(regRCTL), uint32(rctlEN|rctlBAM|rctlMPE|rctlSECRC); got != want {
		t.Errorf("RCTL %#x, want %#x", got, want)
	}
	if got := f.get(regRCTL); got&(rctlLPE|rctlUPE|rctlBSEX|3<<16) != 0 {
		t.Errorf("RCTL %#x: long or unicast promiscuous or not 2048-byte buffers", got)
	}
	if got, want := f.get(regTCTL), uint32(tctlEN|tctlPSP|0x0F<<4|0x40<<12); got != want {
		t.Errorf("TCTL %#x, want %#x", got, want)
	}
	if got := f.get(regTIPG); got != 0x0060200A {
		t.Errorf("TIPG %#x, want 0x0060200A", got)
	}
	if got := f.get(regIMS); got != intRXT0|intRXO|intRXDMT0|intLSC|intTXDW {
		t.Errorf("IMS %#x", got)
	}
	if got := f.get(regRDTR); got != 0 {
		t.Errorf("RDTR %#x, want 0", got)
	}
	for i := 0; i < multicastTableWords; i++ {
		if v := f.get(regMTA + uintptr(4*i)); v != 0 {
			t.Errorf("MTA[%d] = %#x", i, v)
		}
	}
	if f.get(regRAH0)&rahAV == 0 {
		t.Error("RAH0 without Address Valid")
	}
	if got := f.get(regRDLEN); got != 4096 {
		t.Errorf("RDLEN %d, want 4096", got)
	}
	if got := f.get(regRDT); got != ringLen-1 {
		t.Errorf("RDT %d, want %d", got, ringLen-1)
	}
}

// TestStationAddressFromEEPROM: without the autoload (RAH0.AV clear) the
// address comes through EERD, whose layout differs between the chips, and
// is written to entry 0 with AV for the filter.
func TestStationAddressFromEEPROM(t *testing.T) {
	for _, id := range []uint16{0x100e, 0x10d3} {
		f, d := startFake(t, id, false)
		if d.MAC() != testMAC {
			t.Errorf("%s: MAC % x, want % x", chips[id].model, d.MAC(), testMAC)
		}
		if lo, hi := f.get(regRAL0), f.get(regRAH0); lo != 0x12005452 || hi != 0x5634|rahAV {
			t.Errorf("%s: RAL0 %#x RAH0 %#x", chips[id].model, lo, hi)
		}
	}
	if _, d := startFake(t, 0x10d3, true); d.Model() != "e1000e 82574L" {
		t.Errorf("model %q", d.Model())
	}
}

func TestStartRejectsBadAddress(t *testing.T) {
	f := newFakeNIC(t, chips[0x100e], [6]byte{0x01, 0, 0x5e, 0, 0, 1}, true)
	if _, err := start(f, f.irq, chips[0x100e], f.memory()); err == nil {
		t.Error("a multicast station address was accepted")
	}
}

func TestSendChecksLength(t *testing.T) {
	_, d := startFake(t, 0x100e, true)
	for _, n := range []int{0, 13, 1515} {
		if err := d.Send(make([]byte, n)); err == nil {
			t.Errorf("a %d-byte frame was sent", n)
		}
	}
}

// TestSendWaitsForFullRing: with the device slower than the senders,
// Send waits on the full ring, woken by TXDW through Receive's loop, and
// every frame goes out once.
func TestSendWaitsForFullRing(t *testing.T) {
	f, d := startFake(t, 0x100e, true)
	go d.Receive(func([]byte) {}, nil)
	defer f.irq.close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the device: a few frames at a time
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
				f.transmit(7)
			}
		}
	}()
	const senders, each = 3, 300
	var sg sync.WaitGroup
	for s := 0; s < senders; s++ {
		sg.Add(1)
		go func(s int) {
			defer sg.Done()
			for i := 0; i < each; i++ {
				fr := frame(s*each+i, 60)
				fr[0] = byte(s)
				if err := d.Send(fr); err != nil {
					t.Error(err)
					return
				}
			}
		}(s)
	}
	sg.Wait()
	for deadline := time.Now().Add(5 * time.Second); len(f.sentFrames()) < senders*each && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	sent := f.sentFrames()
	if len(sent) != senders*each {
		t.Fatalf("device sent %d frames, want %d", len(sent), senders*each)
	}
	next := make([]int, senders)
	for _, fr := range sent {
		s := int(fr[0])
		seq := int(fr[12])<<8 | int(fr[13])
		if seq != s*each+next[s] {
			t.Fatalf("sender %d: frame %d out of order (want %d)", s, seq, s*each+next[s])
		}
		next[s]++
	}
}

// TestReceiveLoop: frames arriving at any moment relative to the loop's
// drain, ICR read and Enable are all delivered, in order, without a
// lost wakeup.
func TestReceiveLoop(t *testing.T) {
	f, d := startFake(t, 0x10d3, true)
	got := make(chan []byte, 2000)
	done := make(chan error)
	go func() { done <- d.Receive(func(b []byte) { got <- append([]byte(nil), b...) }, nil) }()
	const frames = 1500
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; i < frames; i++ {
		for !f.receive(frame(i, 60+i%1400), 0) {
			if time.Now().After(deadline) {
				t.Fatalf("the ring stayed full at frame %d", i)
			}
			time.Sleep(50 * time.Microsecond) // the ring is full: let the loop catch up
		}
		if i%97 == 0 {
			time.Sleep(time.Millisecond) // let the loop go idle in Wait
		}
	}
	timeout := time.After(5 * time.Second)
	for i := 0; i < frames; i++ {
		select {
		case g := <-got:
			if !bytes.Equal(g, frame(i, 60+i%1400)) {
				t.Fatalf("frame %d delivered damaged or out of order", i)
			}
		case <-timeout:
			t.Fatalf("only %d of %d frames delivered", i, frames)
		}
	}
	if err := d.Receive(func([]byte) {}, nil); err == nil {
		t.Error("a second Receive ran alongside the first")
	}
	f.irq.close()
	if err := <-done; err == nil {
		t.Error("Receive returned no error when the interrupt failed")
	}
}

// TestReceiveNoLostWakeup makes a frame arrive while the interrupt is
// off (it fired for an earlier frame and Enable has not yet run), after
// the loop's first drain and just before its ICR read, whose clearing
// swallows the frame's cause: only the drain after Enable can find it.
func TestReceiveNoLostWakeup(t *testing.T) {
	f, d := startFake(t, 0x100e, true)
	var once sync.Once
	f.beforeICR = func() {
		f.irq.mu.Lock()
		off := !f.irq.enabled
		f.irq.mu.Unlock()
		if off {
			once.Do(func() { f.receive(frame(2, 60), 0) })
		}
	}
	got := make(chan []byte, 2)
	go d.Receive(func(b []byte) { got <- append([]byte(nil), b...) }, nil)
	defer f.irq.close()
	time.Sleep(10 * time.Millisecond) // the loop waits
	f.receive(frame(1, 60), 0)
	for i := 1; i <= 2; i++ {
		select {
		case g := <-got:
			if !bytes.Equal(g, frame(i, 60)) {
				t.Errorf("frame %d delivered as % x", i, g)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("frame %d was never delivered", i)
		}
	}
}
