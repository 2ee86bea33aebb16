package kernel

// The PCI devices as files, where Linux puts them, for programs (and the
// drivers above the runtime to come) that look for a device by its IDs:
//
//	/sys/bus/pci/devices/0000:BB:DD.F/vendor   "0x8086\n"
//	                                  device   "0x100e\n"
//	                                  class    "0x020000\n" (class, subclass, programming interface)
//	                                  irq      "11\n" (the interrupt line the firmware routed)
//
// Linux's entries there are symlinks into /sys/devices/pci0000:00/...,
// nested behind their bridges; rt0's are the directories themselves.
// Written once at boot (initFS), from the scan initPCI made.

func initPCIFiles() {
	if pciDevs.N == 0 {
		return
	}
	dir, e := mkdirs([]byte("sys/bus/pci/devices"), 0o755)
	if e != 0 {
		return
	}
	for i := 0; i < pciDevs.N; i++ {
		d := &pciDevs.Dev[i]
		var name textFile
		name.s("0000:").hex(uint64(d.Bus), 2).s(":").hex(uint64(d.Dev), 2).s(".").dec(uint64(d.Fn))
		dd, e := mknod(dir, name.buf[:name.n], iDir, 0o755)
		if e != 0 {
			continue
		}
		var v, id, class, irq textFile
		v.s("0x").hex(uint64(d.Vendor), 4).s("\n")
		id.s("0x").hex(uint64(d.DeviceID), 4).s("\n")
		class.s("0x").hex(uint64(d.Class)<<16|uint64(d.Sub)<<8|uint64(d.ProgIF), 6).s("\n")
		irq.dec(uint64(d.IRQLine)).s("\n")
		for _, f := range [...]struct {
			name string
			text *textFile
		}{{"vendor", &v}, {"device", &id}, {"class", &class}, {"irq", &irq}} {
			if n, e := mknod(dd, []byte(f.name), iReg, 0o444); e == 0 {
				fileWrite(n, 0, f.text.buf[:f.text.n])
			}
		}
	}
}
