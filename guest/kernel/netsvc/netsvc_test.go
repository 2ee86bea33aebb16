package netsvc

import "testing"

func TestRoundTrip(t *testing.T) {
	e := Event{Op: EvConnect, Sock: 17, Gen: 0xdeadbeef, Family: 10, V6Only: true, LPort: 40000, RPort: 80}
	for i := range 16 {
		e.Local[i], e.Remote[i] = byte(i), byte(100+i)
	}
	var eb [EventSize]byte
	e.Encode(&eb)
	var e2 Event
	e2.Decode(&eb)
	if e2 != e {
		t.Errorf("event %+v, want %+v", e2, e)
	}
	r := Reply{Sock: -1, Gen: 3, Errno: 111, LPort: 1, RPort: 65535}
	r.Local[15], r.Remote[0] = 9, 8
	var rb [ReplySize]byte
	r.Encode(&rb)
	var r2 Reply
	r2.Decode(&rb)
	if r2 != r {
		t.Errorf("reply %+v, want %+v", r2, r)
	}
	in := Interface{Index: 2, MTU: 1500, MAC: [6]byte{0x52, 0x54, 0, 0x12, 0x34, 0x56}, Up: true, N: MaxAddrs}
	copy(in.Name[:], "eth0")
	for k := range in.Addrs {
		in.Addrs[k].IP[15], in.Addrs[k].Prefix = byte(k+1), byte(24+k)
	}
	var ib [InterfaceSize]byte
	in.Encode(&ib)
	if 32+17*MaxAddrs > InterfaceSize {
		t.Fatalf("%d addresses do not fit in %d bytes", MaxAddrs, InterfaceSize)
	}
	var in2 Interface
	in2.Decode(&ib)
	if in2 != in {
		t.Errorf("interface %+v, want %+v", in2, in)
	}
	h := UDPHeader{SPort: 53, DPort: 40000}
	h.Src[15], h.Dst[0] = 1, 2
	var hb [UDPHeaderSize]byte
	h.Encode(&hb)
	var h2 UDPHeader
	h2.Decode(&hb)
	if h2 != h {
		t.Errorf("UDP header %+v, want %+v", h2, h)
	}
	if n := testing.AllocsPerRun(10, func() { e.Encode(&eb); e2.Decode(&eb); in.Encode(&ib) }); n != 0 {
		t.Errorf("%v allocations: the kernel encodes below the runtime", n)
	}
}
