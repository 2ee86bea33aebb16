package kernel

import "rt0/guest/arch/amd64"

// The CPUs as files, where Linux puts them, for programs that count CPUs
// without sched_getaffinity (the Go runtime asks sched_getaffinity):
//
//	/sys/devices/system/cpu/online, possible, present   "0-3\n" (Linux's list syntax)
//	/sys/devices/system/cpu/cpuN/                       one directory per CPU started
//	/proc/cpuinfo                                       one block per CPU: the fields
//	                                                    lscpu-like tools and libraries read
//
// They are written once at boot (initFS), after the APs have started:
// CPUs do not come and go.

// textFile accumulates a file's text before it is written (the CPU and
// PCI files, /proc/net's lines). Its methods are not inlined (they would add kilobytes to a
// function that runs once).
type textFile struct {
	buf [512]byte
	n   int
}

//go:noinline
func (f *textFile) s(s string) *textFile {
	f.n += copy(f.buf[f.n:], s)
	return f
}

//go:noinline
func (f *textFile) b(b []byte) *textFile {
	f.n += copy(f.buf[f.n:], b)
	return f
}

// hex appends the low digits hexadecimal digits of v, lower case.
//
//go:noinline
func (f *textFile) hex(v uint64, digits int) *textFile {
	const hexDigits = "0123456789abcdef"
	for k := digits - 1; k >= 0; k-- {
		f.buf[f.n] = hexDigits[v>>(4*uint(k))&15]
		f.n++
	}
	return f
}

//go:noinline
func (f *textFile) dec(v uint64) *textFile {
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
	return f.b(d[i:])
}

// pad appends spaces from column from up to column width (fixed-width
// fields, as Linux's seq files print them).
//
//go:noinline
func (f *textFile) pad(from, width int) *textFile {
	for ; from < width; from++ {
		f.s(" ")
	}
	return f
}

func initCPUFiles() {
	dir, e := mkdirs([]byte("sys/devices/system/cpu"), 0o755)
	if e != 0 {
		return
	}
	var list textFile
	list.s("0")
	if ncpu > 1 {
		list.s("-").dec(uint64(ncpu - 1))
	}
	list.s("\n")
	for _, name := range []string{"online", "possible", "present"} {
		if i, e := mknod(dir, []byte(name), iReg, 0o444); e == 0 {
			fileWrite(i, 0, list.buf[:list.n])
		}
	}
	for c := 0; c < ncpu; c++ {
		var name textFile
		name.s("cpu").dec(uint64(c))
		mknod(dir, name.buf[:name.n], iDir, 0o755)
	}
	proc := lookup(0, []byte("proc"))
	if proc < 0 {
		return
	}
	info, e := mknod(proc, []byte("cpuinfo"), iReg, 0o444)
	if e != 0 {
		return
	}
	var vendor [12]byte
	_, b, c, d := amd64.Cpuid(0, 0)
	put32(vendor[0:], b)
	put32(vendor[4:], d)
	put32(vendor[8:], c)
	var brand [48]byte
	if max, _, _, _ := amd64.Cpuid(0x80000000, 0); max >= 0x80000004 {
		for k := uint32(0); k < 3; k++ {
			a, b, c, d := amd64.Cpuid(0x80000002+k, 0)
			put32(brand[16*k:], a)
			put32(brand[16*k+4:], b)
			put32(brand[16*k+8:], c)
			put32(brand[16*k+12:], d)
		}
	}
	bn := len(brand)
	for bn > 0 && (brand[bn-1] == 0 || brand[bn-1] == ' ') {
		bn--
	}
	a1, _, c1, d1 := amd64.Cpuid(1, 0)
	family := a1 >> 8 & 0xF
	model := a1 >> 4 & 0xF
	if family == 0xF {
		family += a1 >> 20 & 0xFF
	}
	if family == 0x6 || family >= 0xF {
		model += (a1 >> 16 & 0xF) << 4
	}
	flags := [...]struct {
		reg  uint32
		bit  uint
		name string
	}{
		{d1, 0, "fpu"}, {d1, 4, "tsc"}, {d1, 5, "msr"}, {d1, 6, "pae"}, {d1, 9, "apic"},
		{d1, 15, "cmov"}, {d1, 23, "mmx"}, {d1, 24, "fxsr"}, {d1, 25, "sse"}, {d1, 26, "sse2"},
		{c1, 0, "pni"}, {c1, 1, "pclmulqdq"}, {c1, 9, "ssse3"}, {c1, 12, "fma"}, {c1, 13, "cx16"},
		{c1, 19, "sse4_1"}, {c1, 20, "sse4_2"}, {c1, 21, "x2apic"}, {c1, 22, "movbe"},
		{c1, 23, "popcnt"}, {c1, 25, "aes"}, {c1, 30, "rdrand"}, {c1, 31, "hypervisor"},
	}
	off := uint64(0)
	for n := 0; n < ncpu; n++ {
		var f textFile
		f.s("processor\t: ").dec(uint64(n)).s("\nvendor_id\t: ").b(vendor[:])
		f.s("\ncpu family\t: ").dec(uint64(family)).s("\nmodel\t\t: ").dec(uint64(model))
		f.s("\nmodel name\t: ").b(brand[:bn]).s("\nstepping\t: ").dec(uint64(a1 & 0xF))
		f.s("\ncpu MHz\t\t: ").dec(tscHz / 1_000_000)
		f.s("\nphysical id\t: 0\nsiblings\t: ").dec(uint64(ncpu)).s("\ncore id\t\t: ").dec(uint64(n))
		f.s("\ncpu cores\t: ").dec(uint64(ncpu)).s("\napicid\t\t: ").dec(uint64(kcpus[n].apicID))
		f.s("\nflags\t\t:")
		for _, fl := range flags {
			if fl.reg&(1<<fl.bit) != 0 {
				f.s(" ").s(fl.name)
			}
		}
		f.s("\n\n")
		fileWrite(info, off, f.buf[:f.n])
		off += uint64(f.n)
	}
}
