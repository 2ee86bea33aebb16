package kernel

import (
	"unsafe"

	"rt0/guest/kernel/netsvc"
	"rt0/guest/linux"
)

// /proc/net/igmp and /proc/net/igmp6: the multicast groups each interface
// has joined, which Go's net.Interface.MulticastAddrs reads (Linux has no
// netlink answer for them). Made at each read from the interfaces as they
// are then: the loopback, and the card's (its copy in the network
// service's state, sockOpNetIface) once it has one. The groups are those
// Linux joins by itself: 224.0.0.1 (all hosts) on each interface; ff02::1
// and ff01::1 (all nodes) on each, and on the card ff02::1:ffXX:XXXX, the
// solicited-node group of each of its IPv6 addresses. The layout is
// Linux's (net/ipv4/igmp.c and net/ipv6/mcast.c's seq_show), as net's
// parser wants it: IPv4 groups in hex, in the CPU's byte order.

// procNetRead serves pread on /proc/net/igmp (which 0) or igmp6 (1): the
// text is made twice, line by line, once to learn its length (how much of
// buf must be writable) and once into buf.
func procNetRead(which, off, buf, n uint64) int64 {
	var it netsvc.Interface
	card := socketCall != nil && socketOp(sockOpNetIface, uint64(uintptr(unsafe.Pointer(&it))), 0, 0, 0) == 1
	var size procOut
	procNetText(&size, which, card, &it)
	if off >= size.pos {
		return 0
	}
	p, ok := userBytes(buf, min(n, size.pos-off), true)
	if !ok {
		return -linux.EFAULT
	}
	out := procOut{dst: p, off: off}
	procNetText(&out, which, card, &it)
	return int64(out.n)
}

// procNetText writes file which's lines to o.
func procNetText(o *procOut, which uint64, card bool, it *netsvc.Interface) {
	if which == 0 {
		var head textFile
		o.line(head.s("Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"))
		o.igmpIface(1, []byte("lo"))
		if card {
			o.igmpIface(uint64(it.Index), ifName(it)[:len(ifName(it))-1])
		}
		return
	}
	nodes := [16]byte{0xff, 0x02, 15: 1}
	o.igmp6(1, []byte("lo"), &nodes, "0000000C")
	nodes[1] = 0x01
	o.igmp6(1, []byte("lo"), &nodes, "00000008")
	if !card {
		return
	}
	name := ifName(it)[:len(ifName(it))-1]
	for i := range it.N {
		ip := &it.Addrs[i].IP
		if isV4(ip) || sameSolicited(it, i) {
			continue
		}
		sol := [16]byte{0xff, 0x02, 11: 1, 12: 0xff, 13: ip[13], 14: ip[14], 15: ip[15]}
		o.igmp6(uint64(it.Index), name, &sol, "00000004")
	}
	nodes[1] = 0x02
	o.igmp6(uint64(it.Index), name, &nodes, "0000000C")
	nodes[1] = 0x01
	o.igmp6(uint64(it.Index), name, &nodes, "00000008")
}

// sameSolicited reports whether an earlier IPv6 address of it has address
// i's solicited-node group (the same low 24 bits): one group is joined
// once.
func sameSolicited(it *netsvc.Interface, i uint8) bool {
	a := &it.Addrs[i].IP
	for j := range i {
		b := &it.Addrs[j].IP
		if !isV4(b) && a[13] == b[13] && a[14] == b[14] && a[15] == b[15] {
			return true
		}
	}
	return false
}

// procOut takes a file's lines (each a textFile, sysfs_cpu.go) and keeps
// the part of the text from off on, as far as dst reaches; pos counts
// the text so far.
type procOut struct {
	dst      []byte
	off, pos uint64
	n        int
}

func (o *procOut) line(f *textFile) {
	t := f.buf[:f.n]
	if end := o.pos + uint64(len(t)); end > o.off && o.n < len(o.dst) {
		skip := uint64(0)
		if o.off > o.pos {
			skip = o.off - o.pos
		}
		o.n += copy(o.dst[o.n:], t[skip:])
	}
	o.pos += uint64(len(t))
}

// igmpIface adds an interface's line and its one group, 224.0.0.1
// (little-endian, as Linux prints it).
func (o *procOut) igmpIface(idx uint64, name []byte) {
	var f textFile
	f.dec(idx).s("\t").b(name).pad(len(name), 10).s(":     1      V3\n")
	o.line(&f)
	var g textFile
	o.line(g.s("\t\t\t\t010000E0     1 0:00000000\t\t0\n"))
}

// igmp6 adds one IPv6 group of an interface.
// flags is Linux's %08X of the group's flags (MAF_* of net/ipv6/mcast.c).
func (o *procOut) igmp6(idx uint64, name []byte, group *[16]byte, flags string) {
	var f textFile
	f.dec(idx).pad(1, 5).b(name).pad(len(name), 16)
	for _, c := range group {
		f.hex(uint64(c), 2)
	}
	f.s("     1 ").s(flags).s(" 0\n")
	o.line(&f)
}
