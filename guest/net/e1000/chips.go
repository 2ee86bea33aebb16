package e1000

// chip is what differs between the controllers this driver runs, for the
// registers it uses.
type chip struct {
	model string // for the log
	// The EEPROM Read register's layout (eeprom.go).
	eerdDone      uint32 // the Read Done bit
	eerdAddrShift uint   // where the word address goes
	tipg          uint32 // the recommended Transmit IPG
}

const vendorIntel = 0x8086

// chips are the controllers by PCI device ID. Only parts whose registers
// match for everything this driver touches are here:
//
//	8086:100e  82540EM (desktop), QEMU's "e1000", the pc machine's NIC
//	8086:100f  82545EM (copper), QEMU's "e1000-82545em": the 82540's
//	           register set, EERD included (8254x manual, 13.4.4)
//	8086:10d3  82574L, QEMU's "e1000e", the q35 machine's NIC
//
// Left out: the 82544GC/EI (8086:100c, QEMU's "e1000-82544gc"), which has
// no EERD, the 82541 and 82547, whose EERD has the 82574's layout rather
// than the 82540's, and the other 8254x parts, which nothing here has run.
var chips = map[uint16]chip{
	0x100e: {model: "e1000 82540EM", eerdDone: 1 << 4, eerdAddrShift: 8, tipg: tipg82540},
	0x100f: {model: "e1000 82545EM", eerdDone: 1 << 4, eerdAddrShift: 8, tipg: tipg82540},
	0x10d3: {model: "e1000e 82574L", eerdDone: 1 << 1, eerdAddrShift: 2, tipg: tipg82574},
}

// Match says whether this driver runs the PCI function vendor:device.
func Match(vendor, device uint16) bool {
	_, ok := chips[device]
	return vendor == vendorIntel && ok
}
