// Package pci finds the devices on a PCI bus from their configuration
// space: every function's vendor, device, class and BARs, following
// PCI-to-PCI bridges to the buses behind them (so only the buses that exist
// are read: a brute-force scan of 256 buses costs 8192 configuration reads,
// each a port access the hypervisor traps). It reads configuration space
// through a function the kernel passes (ports 0xCF8/0xCFC today, ECAM
// later), allocates nothing and keeps no global, so the host tests it with
// a fake bus (pci_test.go).
package pci

// Read returns the 32-bit configuration register at byte offset off (a
// multiple of 4) of bus:dev.fn; a function that does not exist reads as
// all ones.
type Read func(bus, dev, fn, off uint8) uint32

// Device is one function of a PCI device.
type Device struct {
	Bus, Dev, Fn       uint8
	Vendor, DeviceID   uint16
	Class, Sub, ProgIF uint8
	Header             uint8 // header type, without the multi-function bit
	BAR                [6]uint32
	IRQLine, IRQPin    uint8
	// Win is what each BAR decodes, once SizeBARs ran (bar.go); a 64-bit
	// BAR's second register has a zero Window.
	Win [6]Window
}

// MaxDevices bounds what Scan reports.
const MaxDevices = 64

// Table is the devices Scan found.
type Table struct {
	Dev [MaxDevices]Device
	N   int
	// Dropped counts functions beyond MaxDevices.
	Dropped int
}

// Scan walks bus 0 and every bus behind a bridge, depth first, each bus at
// most once.
func Scan(read Read, t *Table) {
	var seen [256]bool
	scanBus(read, t, 0, &seen)
}

func scanBus(read Read, t *Table, bus uint8, seen *[256]bool) {
	if seen[bus] {
		return
	}
	seen[bus] = true
	for dev := uint8(0); dev < 32; dev++ {
		if uint16(read(bus, dev, 0, 0)) == 0xFFFF {
			continue
		}
		fns := uint8(1)
		if read(bus, dev, 0, 0x0C)>>16&0x80 != 0 {
			fns = 8 // multi-function
		}
		for fn := uint8(0); fn < fns; fn++ {
			id := read(bus, dev, fn, 0)
			if uint16(id) == 0xFFFF {
				continue
			}
			d := Device{Bus: bus, Dev: dev, Fn: fn, Vendor: uint16(id), DeviceID: uint16(id >> 16)}
			cls := read(bus, dev, fn, 0x08)
			d.Class, d.Sub, d.ProgIF = uint8(cls>>24), uint8(cls>>16), uint8(cls>>8)
			d.Header = uint8(read(bus, dev, fn, 0x0C)>>16) & 0x7F
			for i := 0; i < d.bars(); i++ {
				d.BAR[i] = read(bus, dev, fn, uint8(0x10+4*i))
			}
			irq := read(bus, dev, fn, 0x3C)
			d.IRQLine, d.IRQPin = uint8(irq), uint8(irq>>8)
			if t.N < MaxDevices {
				t.Dev[t.N] = d
				t.N++
			} else {
				t.Dropped++
			}
			if d.Header == 1 { // PCI-to-PCI bridge: its secondary bus
				if sec := uint8(read(bus, dev, fn, 0x18) >> 8); sec != 0 {
					scanBus(read, t, sec, seen)
				}
			}
		}
	}
}

// ClassName names the common device classes (PCI Code and ID Assignment
// specification), "" for others.
func ClassName(class, sub uint8) string {
	switch uint16(class)<<8 | uint16(sub) {
	case 0x0100:
		return "SCSI controller"
	case 0x0101:
		return "IDE controller"
	case 0x0106:
		return "SATA controller"
	case 0x0108:
		return "NVMe controller"
	case 0x0200:
		return "Ethernet controller"
	case 0x0280:
		return "network controller"
	case 0x0300:
		return "VGA controller"
	case 0x0380:
		return "display controller"
	case 0x0403:
		return "audio device"
	case 0x0600:
		return "host bridge"
	case 0x0601:
		return "ISA bridge"
	case 0x0604:
		return "PCI bridge"
	case 0x0680:
		return "bridge"
	case 0x0C03:
		return "USB controller"
	case 0x0C05:
		return "SMBus controller"
	}
	return ""
}

// bars is how many BARs d's header type has: six for a device, two for a
// PCI-to-PCI bridge, none for anything else.
func (d *Device) bars() int {
	switch d.Header {
	case 0:
		return 6
	case 1:
		return 2
	}
	return 0
}
