package kernel

import (
	"rt0/arch/amd64"
	"rt0/boot/multiboot"
	"rt0/kernel/mem"
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

// span is a physical range [start, end).
type span struct{ start, end uint64 }

var (
	reserved  [4 + multiboot.MaxModules]span
	nreserved int
)

func reserve(start, end uint64) {
	if nreserved < len(reserved) && end > start {
		reserved[nreserved] = span{start, end}
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
	bitmapAt, ok := findGap(words * 8)
	if !ok {
		panicMsg("no room for the frame bitmap: too little memory")
	}
	frames.Init(unsafeWords(bitmapAt, words), nframes)
	for i := 0; i < bootInfo.NRegions; i++ {
		r := bootInfo.Regions[i]
		if r.Kind == multiboot.KindAvailable {
			frames.AddFree(r.Base, r.Base+r.Len)
		}
	}
	for i := 0; i < nreserved; i++ {
		frames.Reserve(reserved[i].start, reserved[i].end)
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

// findGap returns a page-aligned address of size free bytes in an available
// region, touching no reserved span (nor the boot information, which is
// still being read).
func findGap(size uint64) (uint64, bool) {
	size = (size + 4095) &^ 4095
	for i := 0; i < bootInfo.NRegions; i++ {
		r := bootInfo.Regions[i]
		if r.Kind != multiboot.KindAvailable {
			continue
		}
		at := (r.Base + 4095) &^ 4095
		for at+size <= r.Base+r.Len && at+size <= 1<<32 {
			moved := false
			for j := 0; j < nreserved; j++ {
				s := reserved[j]
				if at < s.end && s.start < at+size {
					at = (s.end + 4095) &^ 4095
					moved = true
				}
			}
			if !moved {
				return at, true
			}
		}
	}
	return 0, false
}

func unsafeWords(addr, n uint64) []uint64 {
	b := amd64.Bytes(uintptr(addr), int(n*8))
	return unsafeU64s(b)
}
