package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/mem"
	"rt0/guest/linux"
)

// The PCI devices as files, where Linux puts them, for programs that look
// for a device by its IDs and for the drivers above the runtime
// (rt0/guest/net/pcidev), which reach their device only through these,
// as a driver in user space does on Linux:
//
//	/sys/bus/pci/devices/0000:BB:DD.F/vendor    "0x8086\n"
//	                                  device    "0x100e\n"
//	                                  class     "0x020000\n" (class, subclass, programming interface)
//	                                  irq       "11\n" (the interrupt line the firmware routed)
//	                                  resource  each BAR's "start end flags", Linux's format
//	                                  config    the configuration space: pread, pwrite (256 bytes)
//	                                  resourceN BAR N: mmap (memory), pread/pwrite of 1, 2 or 4
//	                                            bytes (I/O ports)
//	                                  uio/uioN  the function's interrupt is /dev/uioN (uio.go)
//
// Linux's entries there are symlinks into /sys/devices/pci0000:00/...,
// nested behind their bridges; rt0's are the directories themselves.
// Written once at boot (initFS), from the scan initPCI made. The device
// files (config, resourceN) are character devices here, regular files on
// Linux; what a program does with them is the same.

// Device nodes of the PCI files; the inode's data is the function's index
// in pciDevs (times 8, plus the BAR, for resourceN; the uio device's
// number for /dev/uioN).
const (
	devPCIConfig = devFB + 1 + iota
	devPCIResource
	devUIO
	devPagemap
	devNetSvc  // /dev/rt0net, the network service's (sys_socket_net.go)
	devKmsg    // /dev/kmsg: a write is a line of the kernel log
	devProcNet // /proc/net/igmp (data 0) and igmp6 (1), made at each read (procnet.go)
)

// Linux's resource flags (include/linux/ioport.h).
const (
	ioresourceIO       = 0x100
	ioresourceMem      = 0x200
	ioresourcePrefetch = 0x2000
	ioresourceMem64    = 0x100000
)

const pciConfigSize = 256 // what mechanism #1 reaches

func initPCIFiles() {
	if pciDevs.N == 0 {
		return
	}
	dir, e := mkdirs([]byte("sys/bus/pci/devices"), 0o755)
	if e != 0 {
		return
	}
	devDir := lookup(0, []byte("dev"))
	for i := 0; i < pciDevs.N; i++ {
		d := &pciDevs.Dev[i]
		var name textFile
		name.s("0000:").hex(uint64(d.Bus), 2).s(":").hex(uint64(d.Dev), 2).s(".").dec(uint64(d.Fn))
		dd, e := mknod(dir, name.buf[:name.n], iDir, 0o755)
		if e != 0 {
			continue
		}
		var v, id, class, irq, res textFile
		v.s("0x").hex(uint64(d.Vendor), 4).s("\n")
		id.s("0x").hex(uint64(d.DeviceID), 4).s("\n")
		class.s("0x").hex(uint64(d.Class)<<16|uint64(d.Sub)<<8|uint64(d.ProgIF), 6).s("\n")
		irq.dec(uint64(d.IRQLine)).s("\n")
		for b := range 7 { // six BARs and the ROM (which rt0 does not size)
			var start, end, flags uint64
			if b < 6 && d.Win[b].Size != 0 {
				w := &d.Win[b]
				start, end = w.Base, w.Base+w.Size-1
				switch {
				case w.IO:
					flags = ioresourceIO
				default:
					flags = ioresourceMem
					if w.Prefetch {
						flags |= ioresourcePrefetch
					}
					if w.Bits64 {
						flags |= ioresourceMem64
					}
				}
			}
			res.s("0x").hex(start, 16).s(" 0x").hex(end, 16).s(" 0x").hex(flags, 16).s("\n")
		}
		for _, f := range [...]struct {
			name string
			text *textFile
		}{{"vendor", &v}, {"device", &id}, {"class", &class}, {"irq", &irq}, {"resource", &res}} {
			if n, e := mknod(dd, []byte(f.name), iReg, 0o444); e == 0 {
				fileWrite(n, 0, f.text.buf[:f.text.n])
			}
		}
		pciNode(dd, []byte("config"), devPCIConfig, uint64(i))
		for b := range 6 {
			if d.Win[b].Size != 0 {
				var rn textFile
				rn.s("resource").dec(uint64(b))
				pciNode(dd, rn.buf[:rn.n], devPCIResource, uint64(i)*8+uint64(b))
			}
		}
		if u := addUIO(i); u >= 0 && devDir >= 0 {
			var un textFile
			un.s("uio").dec(uint64(u))
			if ud, e := mknod(dd, []byte("uio"), iDir, 0o755); e == 0 {
				mknod(ud, un.buf[:un.n], iDir, 0o755)
			}
			pciNode(devDir, un.buf[:un.n], devUIO, uint64(u))
		}
	}
}

func pciNode(dir int32, name []byte, dev uint8, data uint64) {
	if n, e := mknod(dir, name, iDev, 0o600); e == 0 {
		ino(n).dev = dev
		ino(n).data = data
	}
}

// pciDevRead and pciDevWrite serve the device files' pread and pwrite.
func pciDevRead(f *ofd, node *inode, off, buf, n uint64) int64 {
	switch node.dev {
	case devUIO:
		return uioRead(f, int(node.data), buf, n)
	case devPagemap:
		return pagemapRead(off, buf, n)
	case devNetSvc:
		return socketOp(sockOpNetRead, ofdIndex(f), buf, n, 0)
	case devProcNet:
		return procNetRead(node.data, off, buf, n)
	}
	p, ok := userBytes(buf, n, true)
	if !ok {
		return -linux.EFAULT
	}
	switch node.dev {
	case devPCIConfig:
		if off >= pciConfigSize {
			return 0
		}
		p = p[:min(n, pciConfigSize-off)]
		pciConfigRead(&pciDevs.Dev[node.data], int(off), p)
		return int64(len(p))
	case devPCIResource:
		return portAccess(node.data, off, p, false)
	}
	return 0
}

func pciDevWrite(node *inode, off uint64, p []byte) int64 {
	switch node.dev {
	case devUIO:
		return uioWrite(int(node.data), p)
	case devKmsg:
		return kmsgWrite(p)
	case devPCIConfig:
		if off >= pciConfigSize {
			return -linux.ENOSPC
		}
		p = p[:min(uint64(len(p)), pciConfigSize-off)]
		d := &pciDevs.Dev[node.data]
		// Aligned registers in one access of their width, the rest a
		// byte at a time, as Linux's pci_write_config does.
		for i := 0; i < len(p); {
			o := int(off) + i
			w := 1
			if o&3 == 0 && len(p)-i >= 4 {
				w = 4
			} else if o&1 == 0 && len(p)-i >= 2 {
				w = 2
			}
			pciConfigWrite(d, o, p[i:i+w])
			i += w
		}
		return int64(len(p))
	case devPCIResource:
		return portAccess(node.data, off, p, true)
	}
	return -linux.EINVAL
}

// portAccess reads or writes p (1, 2 or 4 bytes) at offset off of I/O
// BAR res (index*8+bar) with one in or out instruction, as Linux's
// pci_read_resource_io does. Memory BARs are for mmap only.
func portAccess(res, off uint64, p []byte, write bool) int64 {
	w := &pciDevs.Dev[res/8].Win[res%8]
	n := uint64(len(p))
	if !w.IO || (n != 1 && n != 2 && n != 4) || off%n != 0 {
		return -linux.EINVAL
	}
	if off >= w.Size || n > w.Size-off {
		return 0
	}
	port := uint16(w.Base + off)
	switch {
	case write && n == 1:
		amd64.Outb(port, p[0])
	case write && n == 2:
		amd64.Outw(port, uint16(p[0])|uint16(p[1])<<8)
	case write:
		amd64.Outl(port, u32(p))
	case n == 1:
		p[0] = amd64.Inb(port)
	case n == 2:
		v := amd64.Inw(port)
		p[0], p[1] = byte(v), byte(v>>8)
	default:
		put32(p, amd64.Inl(port))
	}
	return int64(n)
}

// pciMmap maps memory BAR res (index*8+bar) for a program: it is in the
// identity map (the first 4 GiB, which host/image wrote, or GiBs added
// here, uncached, for a BAR above), so the mapping is its physical
// address, as for the framebuffer.
func pciMmap(res, length, flags, off uint64) int64 {
	w := &pciDevs.Dev[res/8].Win[res%8]
	size := (w.Size + mem.PageSize - 1) &^ (mem.PageSize - 1)
	if w.IO || flags&linux.MAP_SHARED == 0 {
		return -linux.EINVAL
	}
	if off%mem.PageSize != 0 || off >= size || length > size-off {
		return -linux.EINVAL
	}
	if !mapIdentity(w.Base, w.Base+size, ptePWT|ptePCD) {
		return -linux.ENOMEM
	}
	return int64(w.Base + off)
}

// pagemapRead serves /proc/self/pagemap: 8 bytes for each page of the
// address space, bit 63 set if it is present, bits 0-54 its frame
// (Linux's format; Linux shows the frames to privileged programs, and
// every program here is). User pages not yet touched are absent; the
// identity map is its own frames.
func pagemapRead(off, buf, n uint64) int64 {
	if off%8 != 0 || n%8 != 0 {
		return -linux.EINVAL
	}
	p, ok := userBytes(buf, n, true)
	if !ok {
		return -linux.EFAULT
	}
	const pages = userTop / mem.PageSize
	if off/8 >= pages {
		return 0
	}
	n = min(n, (pages-off/8)*8)
	for i := uint64(0); i < n; i += 8 {
		va := (off + i) / 8 * mem.PageSize
		var e uint64
		if va < userBase {
			if identityMapped(va) {
				e = 1<<63 | va/mem.PageSize
			}
		} else if t := pte(va, false); t != nil && *t&ptePresent != 0 {
			e = 1<<63 | (*t&pteAddr)/mem.PageSize
		}
		put64(p[i:], e)
	}
	return int64(n)
}

// kmsgWrite logs a write to /dev/kmsg, as Linux does: one record per
// write, a "<N>" priority prefix dropped, a newline added if missing. The
// drivers and the network service above the runtime log through it.
func kmsgWrite(p []byte) int64 {
	n := int64(len(p))
	if len(p) > 2 && p[0] == '<' {
		for i := 1; i < len(p) && i < 5; i++ {
			if p[i] == '>' {
				p = p[i+1:]
				break
			}
		}
	}
	kprintBytes(p)
	if len(p) == 0 || p[len(p)-1] != '\n' {
		kprint("\n")
	}
	return n
}
