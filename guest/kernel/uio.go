package kernel

import (
	"rt0/guest/kernel/pci"
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// Device interrupts for drivers above the runtime, as Linux's
// uio_pci_generic gives them to a driver in user space: /dev/uioN, one
// for each PCI function with an interrupt pin the firmware routed.
//
//	read   4 bytes: waits until the function has interrupted since this
//	       description last read (or was opened), then gives the count of
//	       its interrupts so far. Nonblocking: EAGAIN; epoll: EPOLLIN.
//	write  4 bytes: 1 lets the function interrupt again, 0 stops it.
//
// The interrupt is the function's INTx line, level-triggered, shared by
// whatever else the firmware put on that line. When it fires, the kernel
// asks each function on the line whether it interrupts (the Interrupt
// Status bit of its status register) and, for each that does, sets the
// Interrupt Disable bit of its command register: that lowers the line
// until the driver has served the device (read its interrupt cause, which
// clears it) and written 1. So a device that nobody serves interrupts
// once, never in a storm, and the kernel knows nothing of any device's
// registers. The line's I/O APIC input is unmasked on the first open.
//
// The I/O APIC input is level-triggered and active-high, as QEMU's ACPI
// tables describe the PCI interrupt links of its pc and q35 machines
// (rt0 reads no AML, so it cannot read a real board's _PRT: there, the
// line the firmware wrote into the function's Interrupt Line register is
// all it knows).

type uioDev struct {
	pci   int32 // index in pciDevs
	gsi   uint32
	count uint32 // interrupts so far
	open  bool   // its input was unmasked
}

var (
	uios  [pci.MaxDevices]uioDev
	nUIOs int
)

const (
	pciCommand     = 0x04
	pciIntxDisable = 1 << 10
	pciIntxStatus  = 1 << 3 << 16 // in the dword at 0x04: status bit 3
	maxGSI         = 24           // vectors vecISA..vecISA+23
)

// addUIO gives PCI function i a uio device if its interrupt is routed;
// it returns the device's number, or -1.
func addUIO(i int) int {
	d := &pciDevs.Dev[i]
	if d.IRQPin == 0 || d.IRQLine == 0 || d.IRQLine == 0xFF || ioapic == 0 {
		return -1
	}
	gsi := uint32(d.IRQLine)
	if gsi < 16 {
		gsi = acpi.isaGSI[gsi] // an override in the MADT moves the ISA line
	}
	if gsi < acpi.ioapicGSI || gsi-acpi.ioapicGSI >= maxGSI {
		return -1
	}
	u := nUIOs
	uios[u] = uioDev{pci: int32(i), gsi: gsi}
	nUIOs++
	return u
}

// uioOpened is called as description f of /dev/uioN opens: it sees
// only the interrupts that come after (Linux's uio_open).
func uioOpened(f *ofd, u int) {
	d := &uios[u]
	f.count = uint64(d.count)
	if !d.open {
		d.open = true
		enableLevel(d.gsi - acpi.ioapicGSI)
	}
}

// deviceInterrupt serves the interrupt of I/O APIC pin pin.
func deviceInterrupt(pin uint32) {
	for u := 0; u < nUIOs; u++ {
		d := &uios[u]
		if d.gsi-acpi.ioapicGSI != pin {
			continue
		}
		dev := &pciDevs.Dev[d.pci]
		r := pciRead(dev.Bus, dev.Dev, dev.Fn, pciCommand)
		if r&pciIntxStatus == 0 || r&pciIntxDisable != 0 {
			continue
		}
		setCommand(dev, uint16(r)|pciIntxDisable)
		d.count++
		uioWake(u)
	}
}

// uioWake finishes the reads that waited for device u and tells the
// epoll instances that watch it.
func uioWake(u int) {
	d := &uios[u]
	for i := 1; i < sched.Top(); i++ {
		t := sched.T(i)
		if t.State != sched.Blocked || t.Wait != sched.WaitDevice || t.WaitAddr != uint64(u) {
			continue
		}
		p, ok := userBytes(t.Args[0], 4, true)
		if !ok {
			sched.Wake(i, -linux.EFAULT)
			continue
		}
		put32(p, d.count)
		ofds[t.Args[1]].count = uint64(d.count)
		sched.Wake(i, 4)
	}
	for i := range ofds[:ofdTop] {
		if f := &ofds[i]; isUIO(f) == u && f.count != uint64(d.count) {
			fileChanged(f)
		}
	}
}

// isUIO returns the uio device f is open on, or -1.
func isUIO(f *ofd) int {
	if f.kind != fdFile || f.ino < 0 || ino(f.ino).kind != iDev || ino(f.ino).dev != devUIO {
		return -1
	}
	return int(ino(f.ino).data)
}

func uioRead(f *ofd, u int, buf, n uint64) int64 {
	if n != 4 {
		return -linux.EINVAL
	}
	p, ok := userBytes(buf, 4, true)
	if !ok {
		return -linux.EFAULT
	}
	d := &uios[u]
	if f.count != uint64(d.count) {
		f.count = uint64(d.count)
		put32(p, d.count)
		return 4
	}
	if f.flags&linux.O_NONBLOCK != 0 {
		return -linux.EAGAIN
	}
	cur := sched.Current()
	sched.Block(cur, sched.WaitDevice, uint64(u), 0, 0)
	t := sched.T(cur)
	t.Args[0] = buf
	t.Args[1] = ofdIndex(f)
	return blocked
}

func uioWrite(u int, p []byte) int64 {
	if len(p) != 4 {
		return -linux.EINVAL
	}
	dev := &pciDevs.Dev[uios[u].pci]
	cmd := uint16(pciRead(dev.Bus, dev.Dev, dev.Fn, pciCommand))
	if u32(p) != 0 {
		cmd &^= pciIntxDisable
	} else {
		cmd |= pciIntxDisable
	}
	setCommand(dev, cmd)
	return 4
}

// setCommand writes a function's 16-bit command register alone.
func setCommand(dev *pci.Device, cmd uint16) {
	b := [2]byte{byte(cmd), byte(cmd >> 8)}
	pciConfigWrite(dev, pciCommand, b[:])
}

func uioReadiness(f *ofd) uint32 {
	if u := isUIO(f); u >= 0 && f.count != uint64(uios[u].count) {
		return linux.EPOLLIN
	}
	if f.ino >= 0 && ino(f.ino).dev == devNetSvc && f.flags&linux.O_PATH == 0 {
		return uint32(socketOp(sockOpNetReady, 0, 0, 0, 0))
	}
	return 0
}

// waitingForDevice reports whether a thread waits for an interrupt (so
// an idle machine is not a deadlock).
func waitingForDevice() bool {
	for i := 1; i < sched.Top(); i++ {
		if t := sched.T(i); t.State == sched.Blocked && t.Wait == sched.WaitDevice {
			return true
		}
	}
	return false
}
