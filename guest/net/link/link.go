// Package link is what a NIC driver gives the network stack: Ethernet
// frames out and in. The drivers (rt0/guest/net/virtionet, .../e1000)
// implement Device over rt0/guest/net/pcidev; the stack
// (rt0/guest/net/netstack) runs gVisor's TCP/IP over it. All of it is
// ordinary Go above the runtime, in goroutines.
package link

// Device is one network interface's hardware.
type Device interface {
	// Model names the hardware for the log ("virtio-net", "e1000").
	Model() string
	// MAC is the station address the hardware reports.
	MAC() [6]byte
	// MTU is the largest payload of a frame (1500 for these NICs).
	MTU() int
	// LinkUp says whether the link is up (a NIC without a link status
	// says true).
	LinkUp() bool
	// Send transmits one Ethernet frame: destination, source, type and
	// payload, without the FCS (the hardware appends it; frames shorter
	// than 60 bytes it pads). It copies the frame before it returns, so
	// the caller may reuse it; it waits while the transmit ring is full.
	// Several goroutines may call it at once.
	Send(frame []byte) error
	// Receive runs until the device fails: it waits for frames (by
	// interrupt) and calls deliver with each, in order, from its own
	// goroutine, and flush (if not nil) after each batch it found, before
	// it waits again: a stack that holds frames back to coalesce them
	// (GRO) passes them on then. The frame is valid only during the call.
	Receive(deliver func(frame []byte), flush func()) error
}

// BatchSender is a Device that sends several frames at the cost of one:
// it posts them all, then tells the hardware once (a doorbell write is the
// dearest part of a send under emulation).
type BatchSender interface {
	// SendBatch is Send of each frame, in order.
	SendBatch(frames [][]byte) error
}
