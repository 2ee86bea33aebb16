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

// procNetRead serves pread on /proc/net/igmp (which 0) or igmp6 (1).
func procNetRead(which, off, buf, n uint64) int64 {
	var w procText
	var it netsvc.Interface
	card := socketCall != nil && socketOp(sockOpNetIface, uint64(uintptr(unsafe.Pointer(&it))), 0, 0, 0) == 1
	if which == 0 {
		w.s("Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n")
		w.igmpIface(1, []byte("lo"))
		if card {
			w.igmpIface(uint64(it.Index), ifName(&it)[:len(ifName(&it))-1])
		}
	} else {
		nodes := [16]byte{0xff, 0x02, 15: 1}
		w.igmp6(1, []byte("lo"), &nodes, 0xC)
		nodes[1] = 0x01
		w.igmp6(1, []byte("lo"), &nodes, 0x8)
		if card {
			name := ifName(&it)[:len(ifName(&it))-1]
			for i := range it.N {
				ip := &it.Addrs[i].IP
				if isV4(ip) || sameSolicited(&it, i) {
					continue
				}
				sol := [16]byte{0xff, 0x02, 11: 1, 12: 0xff, 13: ip[13], 14: ip[14], 15: ip[15]}
				w.igmp6(uint64(it.Index), name, &sol, 0x4)
			}
			nodes[1] = 0x02
			w.igmp6(uint64(it.Index), name, &nodes, 0xC)
			nodes[1] = 0x01
			w.igmp6(uint64(it.Index), name, &nodes, 0x8)
		}
	}
	text := w.b[:w.n]
	if off >= uint64(len(text)) {
		return 0
	}
	p, ok := userBytes(buf, min(n, uint64(len(text))-off), true)
	if !ok {
		return -linux.EFAULT
	}
	return int64(copy(p, text[off:]))
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

// procText is text made in a fixed buffer (what does not fit is
// dropped), without append: kernel code may not allocate.
type procText struct {
	b [2048]byte
	n int
}

func (w *procText) c(c byte) {
	if w.n < len(w.b) {
		w.b[w.n] = c
		w.n++
	}
}

func (w *procText) s(t string) {
	for i := 0; i < len(t); i++ {
		w.c(t[i])
	}
}

func (w *procText) bytes(t []byte) {
	for _, c := range t {
		w.c(c)
	}
}

func (w *procText) dec(v uint64) {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	w.bytes(d[i:])
}

func (w *procText) hex(v uint64, digits int) {
	for i := digits - 1; i >= 0; i-- {
		w.c("0123456789abcdef"[v>>(4*uint(i))&0xF])
	}
}

// pad appends spaces up to width columns after a field of n.
func (w *procText) pad(n, width int) {
	for ; n < width; n++ {
		w.s(" ")
	}
}

// igmpIface appends an interface's line and its one group, 224.0.0.1.
func (w *procText) igmpIface(idx uint64, name []byte) {
	w.dec(idx)
	w.s("\t")
	w.bytes(name)
	w.pad(len(name), 10)
	w.s(":     1      V3\n\t\t\t\t")
	w.s("010000E0") // 224.0.0.1, little-endian as Linux prints it
	w.s("     1 0:00000000\t\t0\n")
}

// igmp6 appends one IPv6 group of an interface.
func (w *procText) igmp6(idx uint64, name []byte, group *[16]byte, flags uint64) {
	w.dec(idx)
	w.pad(1, 5)
	w.bytes(name)
	w.pad(len(name), 16)
	for _, c := range group {
		w.hex(uint64(c), 2)
	}
	w.s("     1 ")
	w.hex(flags, 8)
	w.s(" 0\n")
}
