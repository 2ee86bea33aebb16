package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/mem"
	"rt0/guest/multiboot"
)

// Physical memory: the loader's memory map becomes the frame allocator.
//
// Available regions are freed into the allocator, then everything that is
// in use is reserved again: the first MiB (BIOS data, EBDA, option ROMs),
// the kernel image with its bss, the boot modules, and the allocator's own
// bitmap, which goes in the first available gap that touches none of them.

var (
	frames   mem.Frames
	bootInfo multiboot.Info
	bootMem  multiboot.Memory // identity-mapped window over [4 KiB, 4 GiB)

	// What the boot code copies out of the loader's memory before it is
	// handed to the allocator.
	cmdlineBuf    [4096]byte
	cmdlineLen    int
	loaderNameBuf [64]byte
	loaderNameLen int
)

var (
	reserved  [4 + multiboot.MaxModules]mem.Range
	nreserved int
)

func reserve(start, end uint64) {
	if nreserved < len(reserved) && end > start {
		reserved[nreserved] = mem.Range{Start: start, End: end}
		nreserved++
	}
}

// parseBootInfo reads the loader's boot information and copies out the
// command line and loader name.
func parseBootInfo(magic, addr uint64) {
	bootMem.Base = 4096
	bootMem.Bytes = amd64.Bytes(4096, 1<<32-4096)
	if e := multiboot.Parse(uint32(magic), addr, &bootMem, &bootInfo); e != multiboot.OK {
		kprint("rt0: boot information: ")
		kprint(e.String())
		kprint("\n")
		if bootInfo.Version == 0 {
			logToConsole = true
			kprint("rt0: not started by a multiboot loader (EAX=")
			kprintHex(magic)
			kprint("); boot rt0 with QEMU -kernel or GRUB's multiboot/multiboot2\n")
			stop(exitKernelPanic)
		}
	}
	if b, ok := bootInfo.Cmdline(&bootMem); ok {
		cmdlineLen = copy(cmdlineBuf[:len(cmdlineBuf)-1], b)
	}
	if b, ok := bootInfo.LoaderName(&bootMem); ok {
		loaderNameLen = copy(loaderNameBuf[:], b)
	}
	saveRSDP()
}

// initPhysMem builds the frame allocator from the memory map.
func initPhysMem() {
	li := links()
	reserve(0, 1<<20)
	reserve(li.ImageStart, li.ImageEnd)
	for i := 0; i < bootInfo.NModules; i++ {
		m := bootInfo.Modules[i]
		reserve(m.Start&^4095, (m.End+4095)&^4095)
	}
	// No memory map: fall back to the basic lower/upper sizes.
	if bootInfo.NRegions == 0 && bootInfo.HasMemBasic {
		bootInfo.Regions[0] = multiboot.Region{Base: 0, Len: uint64(bootInfo.MemLowerKB) << 10, Kind: multiboot.KindAvailable}
		bootInfo.Regions[1] = multiboot.Region{Base: 1 << 20, Len: uint64(bootInfo.MemUpperKB) << 10, Kind: multiboot.KindAvailable}
		bootInfo.NRegions = 2
	}
	bootInfo.Normalize()
	top := bootInfo.MaxAddr()
	if top == 0 {
		panicMsg("no usable memory in the loader's memory map")
	}
	if !inAvailable(li.ImageStart, li.ImageEnd) {
		logToConsole = true
		kprint("rt0: the kernel image [")
		kprintHex(li.ImageStart)
		kprint(", ")
		kprintHex(li.ImageEnd)
		kprint(") does not fit in this machine's RAM (")
		kprintDec(int64(bootInfo.TotalAvailable() >> 20))
		kprint(" MiB available)\n")
		panicMsg("too little memory: give the machine more RAM (rt0 run -m)")
	}
	nframes := top / mem.PageSize
	words := mem.BitmapWords(nframes)
	var avail, busy [multiboot.MaxRegions + len(reserved)]mem.Range
	n, nb := 0, copy(busy[:], reserved[:nreserved])
	for i := 0; i < bootInfo.NRegions; i++ {
		r := bootInfo.Regions[i]
		if r.Kind == multiboot.KindAvailable {
			avail[n] = mem.Range{Start: r.Base, End: r.Base + r.Len}
			n++
		} else {
			busy[nb] = mem.Range{Start: r.Base, End: r.Base + r.Len}
			nb++
		}
	}
	// The bitmap must be reachable through the boot identity map (4 GiB)
	// and clear of anything in use or reserved by any map entry.
	bitmapAt, ok := mem.FindGap(avail[:n], busy[:nb], words*8, 1<<32)
	if !ok {
		panicMsg("no room for the frame bitmap: too little memory")
	}
	frames.Init(unsafeWords(bitmapAt, words), nframes)
	for i := 0; i < n; i++ {
		frames.AddFree(avail[i].Start, avail[i].End)
	}
	// Firmware maps can overlap: what any entry calls reserved stays
	// reserved, as Linux's E820 sanitizing decides.
	for i := 0; i < bootInfo.NRegions; i++ {
		if r := bootInfo.Regions[i]; r.Kind != multiboot.KindAvailable {
			frames.Reserve(r.Base, r.Base+r.Len)
		}
	}
	for i := 0; i < nreserved; i++ {
		frames.Reserve(reserved[i].Start, reserved[i].End)
	}
	frames.Reserve(bitmapAt, bitmapAt+words*8)
}

// inAvailable reports whether [start, end) lies in one available region.
func inAvailable(start, end uint64) bool {
	for i := 0; i < bootInfo.NRegions; i++ {
		r := bootInfo.Regions[i]
		if r.Kind == multiboot.KindAvailable && start >= r.Base && end <= r.Base+r.Len {
			return true
		}
	}
	return false
}

func unsafeWords(addr, n uint64) []uint64 {
	b := amd64.Bytes(uintptr(addr), int(n*8))
	return unsafeU64s(b)
}
