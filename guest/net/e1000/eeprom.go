package e1000

import (
	"fmt"
	"time"
)

// EERD, "EEPROM Read Register" (8254x manual 13.4.4; 82574 datasheet
// 10.2.2.4): software writes a word address with START set, the device
// reads that 16-bit word from the EEPROM, sets DONE and leaves the word in
// bits 31:16. START is bit 0 on both chips; the rest moved:
//
//	82540EM, 82545EM:  DONE bit 4, address bits 15:8
//	82574L:            DONE bit 1, address bits 15:2
const (
	eerdStart     = 1 << 0
	eerdDataShift = 16
)

// eepromTimeout bounds one EERD read; a real EEPROM takes microseconds.
const eepromTimeout = 10 * time.Millisecond

// readEEPROM reads EEPROM word addr through EERD.
func readEEPROM(regs registers, c chip, addr int) (uint16, error) {
	regs.Write32(regEERD, uint32(addr)<<c.eerdAddrShift|eerdStart)
	deadline := time.Now().Add(eepromTimeout)
	for {
		v := regs.Read32(regEERD)
		if v&c.eerdDone != 0 {
			return uint16(v >> eerdDataShift), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("e1000: EEPROM word %d: no Read Done after %v (EERD %#x)", addr, eepromTimeout, v)
		}
		time.Sleep(10 * time.Microsecond)
	}
}

// stationAddress finds the MAC address. After a reset the device loads
// it from the EEPROM into receive address entry 0 and sets RAH's Address
// Valid bit (8254x manual 13.5.1-13.5.2, "Receive Address Low/High"), so
// RAL0 and RAH0 give it low byte first. Without AV (no EEPROM autoload),
// it is the EEPROM's words 0 to 2, "Ethernet Address" (8254x manual
// 5.6.1), each low byte first.
func stationAddress(regs registers, c chip) ([6]byte, error) {
	var mac [6]byte
	if hi := regs.Read32(regRAH0); hi&rahAV != 0 {
		lo := regs.Read32(regRAL0)
		mac = [6]byte{byte(lo), byte(lo >> 8), byte(lo >> 16), byte(lo >> 24), byte(hi), byte(hi >> 8)}
	} else {
		for w := 0; w < 3; w++ {
			v, err := readEEPROM(regs, c, w)
			if err != nil {
				return mac, err
			}
			mac[2*w], mac[2*w+1] = byte(v), byte(v>>8)
		}
	}
	if mac == [6]byte{} || mac[0]&1 != 0 {
		return mac, fmt.Errorf("e1000: station address % x is not a unicast address", mac[:])
	}
	return mac, nil
}

// setStationAddress writes mac into receive address entry 0 with AV set:
// the receive filter accepts unicast frames only for valid entries.
func setStationAddress(regs registers, mac [6]byte) {
	regs.Write32(regRAL0, uint32(mac[0])|uint32(mac[1])<<8|uint32(mac[2])<<16|uint32(mac[3])<<24)
	regs.Write32(regRAH0, uint32(mac[4])|uint32(mac[5])<<8|rahAV)
}
