package e1000

// The registers this driver touches, at their offsets in BAR 0, and their
// bits. The 82540EM's are in the PCI/PCI-X Family of Gigabit Ethernet
// Controllers Software Developer's Manual (the "8254x manual"), section
// 13, "Register Descriptions"; the 82574L keeps every one of them at the
// same offset with the same meaning for what is used here (82574 GbE
// Controller Family Datasheet, section 10, "Programming Interface"), except
// EERD, whose fields moved (see eeprom.go).
const (
	regCTRL   = 0x0000 // Device Control
	regSTATUS = 0x0008 // Device Status
	regEERD   = 0x0014 // EEPROM Read
	regICR    = 0x00C0 // Interrupt Cause Read (reading clears it)
	regIMS    = 0x00D0 // Interrupt Mask Set/Read
	regIMC    = 0x00D8 // Interrupt Mask Clear
	regRCTL   = 0x0100 // Receive Control
	regTCTL   = 0x0400 // Transmit Control
	regTIPG   = 0x0410 // Transmit Inter Packet Gap

	regRDBAL = 0x2800 // Receive Descriptor Base Address Low
	regRDBAH = 0x2804 // ... High
	regRDLEN = 0x2808 // Receive Descriptor (ring) Length, bytes
	regRDH   = 0x2810 // Receive Descriptor Head (the device's)
	regRDT   = 0x2818 // Receive Descriptor Tail (software's)
	regRDTR  = 0x2820 // Receive Delay Timer

	regTDBAL = 0x3800 // Transmit Descriptor Base Address Low
	regTDBAH = 0x3804
	regTDLEN = 0x3808
	regTDH   = 0x3810
	regTDT   = 0x3818

	regMTA  = 0x5200 // Multicast Table Array: 128 words
	regRAL0 = 0x5400 // Receive Address Low, entry 0
	regRAH0 = 0x5404 // Receive Address High, entry 0
)

// multicastTableWords is the size of the MTA (a 4096-bit hash filter).
const multicastTableWords = 128

// CTRL, "Device Control Register" (8254x manual 13.4.1).
const (
	ctrlLRST   = 1 << 3  // link reset (8254x: keeps the link down while set)
	ctrlASDE   = 1 << 5  // auto-speed detection: take the speed the PHY resolved
	ctrlSLU    = 1 << 6  // set link up: let the MAC talk to the PHY
	ctrlILOS   = 1 << 7  // invert loss-of-signal
	ctrlRST    = 1 << 26 // device reset, self-clearing
	ctrlVME    = 1 << 30 // VLAN mode
	ctrlPHYRST = 1 << 31 // PHY reset
)

// STATUS, "Device Status Register" (13.4.2).
const statusLU = 1 << 1 // link up

// RAH's Address Valid bit: the filter compares entry 0 only when set
// (13.5.2, "Receive Address High").
const rahAV = 1 << 31

// Interrupt causes, the same bits in ICR, IMS and IMC (13.4.17-13.4.21;
// 82574 datasheet 10.2.4).
const (
	intTXDW   = 1 << 0 // a transmit descriptor was written back (RS)
	intLSC    = 1 << 2 // link status change
	intRXDMT0 = 1 << 4 // free receive descriptors fell to the threshold
	intRXO    = 1 << 6 // receiver overrun: a frame was dropped for want of descriptors
	intRXT0   = 1 << 7 // receive timer: frames were written back
)

// The causes the driver wants interrupts for.
const interruptsWanted = intRXT0 | intRXO | intRXDMT0 | intLSC | intTXDW

// RCTL, "Receive Control Register" (13.4.22).
const (
	rctlEN    = 1 << 1  // receiver enable
	rctlUPE   = 1 << 3  // unicast promiscuous
	rctlMPE   = 1 << 4  // multicast promiscuous
	rctlLPE   = 1 << 5  // long packets (> 1522 bytes)
	rctlBAM   = 1 << 15 // accept broadcast (DHCP's offers, ARP requests)
	rctlBSEX  = 1 << 25 // buffer size extension (BSIZE x16)
	rctlSECRC = 1 << 26 // strip the Ethernet CRC from received frames
	// BSIZE is bits 17:16; with BSEX clear, 00 means 2048-byte buffers.
	rctlBSIZE2048 = 0 << 16
)

// TCTL, "Transmit Control Register" (13.4.33).
const (
	tctlEN  = 1 << 1 // transmitter enable
	tctlPSP = 1 << 3 // pad short packets to 64 bytes (with the CRC)
	// CT (bits 11:4), the collision threshold: retransmit attempts in half
	// duplex; the manual recommends 0x0F.
	tctlCT = 0x0F << 4
	// COLD (bits 21:12), the collision distance in byte times: 0x40 (64,
	// the slot time) for full duplex, which is what the link negotiates.
	tctlCOLD = 0x40 << 12
)

// TIPG values (13.4.34, "Transmit IPG Register"): IPGT in bits 9:0,
// IPGR1 in 19:10, IPGR2 in 29:20. For copper (10/100/1000BASE-T) the
// 8254x manual recommends IPGT 10, IPGR1 8, IPGR2 6 (IPGR1 being 2/3 of
// IPGR2 plus the MAC's own clocks). The 82574's MAC adds four byte times
// to IPGT itself, so its datasheet's recommended IPGT is 8.
const (
	tipg82540 = 10 | 8<<10 | 6<<20
	tipg82574 = 8 | 8<<10 | 6<<20
)
