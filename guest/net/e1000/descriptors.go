package e1000

import (
	"sync/atomic"
	"unsafe"
)

// Both rings hold 16-byte "legacy" descriptors, the format every 8254x
// has and the 82574L still accepts (with RCTL.DTYP 00 and RFCTL.EXSTEN
// clear for receive, DEXT clear in each transmit descriptor).
//
// Receive descriptor (8254x manual 3.2.3, "Receive Descriptor Format"):
//
//	 0  buffer address (64 bits)
//	 8  length (16)   10  packet checksum (16)
//	12  status (8)    13  errors (8)    14  special: VLAN tag (16)
//
// Transmit descriptor (3.3.3, "Legacy Transmit Descriptor Format"):
//
//	 0  buffer address (64 bits)
//	 8  length (16)   10  CSO (8)   11  CMD (8)
//	12  STA (4 bits) + reserved (4)  13  CSS (8)  14  special (16)
//
// So in both the device reports completion in the byte at 12 and the rest
// of the second half is the length: the driver reads and writes the
// descriptor as one 64-bit and two 32-bit words.
const (
	descSize     = 16
	descAddr     = 0  // 64-bit buffer address
	descLenWord  = 8  // length | CSO<<16 | CMD<<24 (transmit); length | checksum<<16 (receive)
	descStatWord = 12 // status | errors<<8 | special<<16
)

// Status bits (the byte at 12), the same in both formats.
const (
	statDD  = 1 << 0 // descriptor done: the device wrote it back
	statEOP = 1 << 1 // receive: the last descriptor of a frame
)

// Receive errors (the byte at 13) that mean the frame is damaged: CRC or
// alignment (CE), symbol (SE), sequence (SEQ), carrier extension (CXE)
// and RX data (RXE) errors. The checksum-offload errors (IPE, TCPE) are
// left to the stack, which checks its checksums itself.
const rxErrFrame = 1<<0 | 1<<1 | 1<<2 | 1<<4 | 1<<7

// Transmit command bits (the byte at 11).
const (
	cmdEOP  = 1 << 0 // end of packet: this descriptor ends the frame
	cmdIFCS = 1 << 1 // insert the FCS (the Ethernet CRC)
	cmdRS   = 1 << 3 // report status: set DD when done
)

// Descriptor memory is shared with the device, which reads it and writes
// it back on its own schedule, so every access to a descriptor word is an
// atomic load or store of that word's width: the compiler can neither
// drop nor merge nor reorder them with one another, nor move the plain
// copies into and out of the buffers across them, and on x86 (TSO) the
// stores reach memory in program order and a locked store orders all
// earlier ones. A tail-register write that follows a descriptor's last
// store therefore publishes the whole descriptor, and a load of DD that
// sees it set is followed by loads that see what the device wrote before.

func descWord32(ring []byte, i, off int) *uint32 {
	return (*uint32)(unsafe.Pointer(&ring[i*descSize+off]))
}

func descWord64(ring []byte, i, off int) *uint64 {
	return (*uint64)(unsafe.Pointer(&ring[i*descSize+off]))
}

// setDesc fills descriptor i: its buffer address, its length word, and a
// cleared status word (so DD is the device's to set).
func setDesc(ring []byte, i int, addr uint64, lenWord uint32) {
	atomic.StoreUint64(descWord64(ring, i, descAddr), addr)
	atomic.StoreUint32(descWord32(ring, i, descLenWord), lenWord)
	atomic.StoreUint32(descWord32(ring, i, descStatWord), 0)
}

// descStatus returns descriptor i's status word: status | errors<<8 | ...
func descStatus(ring []byte, i int) uint32 {
	return atomic.LoadUint32(descWord32(ring, i, descStatWord))
}

// descLength returns descriptor i's length field.
func descLength(ring []byte, i int) int {
	return int(uint16(atomic.LoadUint32(descWord32(ring, i, descLenWord))))
}
