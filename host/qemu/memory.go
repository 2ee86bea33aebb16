package qemu

// Refusing a machine too small for the image, before it boots.
//
// The loaders put an rt0 image at its link addresses (DESIGN: every PT_LOAD
// lands at its vaddr) and zero its bss up to the end of the last segment's
// memory size, so the image needs RAM up to that address. With less, the
// boot cannot go well: a little short, the 32-bit stub notices and prints
// "too little memory"; far short (QEMU's -kernel loader with the image
// partly beyond RAM), the stub itself is not where it should be and the
// machine hangs until the timeout. So rt0 run and rt0 test check first and
// name the smallest -m that holds the image. The program's own heap comes on
// top of that, and only a boot can tell how much it needs: the kernel (or
// the runtime's "out of memory") says so then.

import (
	"debug/elf"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseMemory reads a guest RAM size in QEMU's -m syntax ("256M", "1.5G",
// "size=512M,slots=2"): a number, fractions allowed, with an optional
// suffix B, K, M, G or T (powers of 1024, either case); a bare number is
// MiB, as QEMU reads it. It returns bytes.
func ParseMemory(s string) (uint64, error) {
	num, _, _ := strings.Cut(strings.TrimSpace(s), ",")
	num = strings.TrimPrefix(num, "size=")
	if num == "" {
		return 0, fmt.Errorf("memory size %q: empty", s)
	}
	shift := 20 // QEMU: a bare number is MiB
	switch num[len(num)-1] {
	case 'b', 'B':
		shift = 0
	case 'k', 'K':
		shift = 10
	case 'm', 'M':
		shift = 20
	case 'g', 'G':
		shift = 30
	case 't', 'T':
		shift = 40
	default:
		if num[len(num)-1] < '0' || num[len(num)-1] > '9' {
			return 0, fmt.Errorf("memory size %q: unknown suffix (want B, K, M, G or T)", s)
		}
		num += "M"
	}
	num = num[:len(num)-1]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || strings.ContainsAny(num, "eExXpP_+-") {
		return 0, fmt.Errorf("memory size %q: not a size", s)
	}
	b := v * float64(uint64(1)<<shift)
	if b >= 1<<63 {
		return 0, fmt.Errorf("memory size %q: too large", s)
	}
	return uint64(b), nil
}

// ImageEnd returns the first address past the loaded image: the end of the
// highest PT_LOAD segment's memory (its bss included).
func ImageEnd(kernel string) (uint64, error) {
	f, err := elf.Open(kernel)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var end uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Vaddr+p.Memsz > end {
			end = p.Vaddr + p.Memsz
		}
	}
	if end == 0 {
		return 0, fmt.Errorf("%s: no loadable segment", kernel)
	}
	return end, nil
}

// MinMemoryMiB is the smallest whole number of MiB of RAM that holds the
// image at kernel.
func MinMemoryMiB(kernel string) (uint64, error) {
	end, err := ImageEnd(kernel)
	if err != nil {
		return 0, err
	}
	return wholeMiB(end), nil
}

// wholeMiB is the smallest whole number of MiB at or above n bytes.
func wholeMiB(n uint64) uint64 { return (n + 1<<20 - 1) >> 20 }

// CheckMemory returns an error naming the smallest -m that holds the image
// when memory (QEMU's -m syntax; "" means DefaultMemory) cannot hold it.
func CheckMemory(kernel, memory string) error {
	if memory == "" {
		memory = DefaultMemory
	}
	have, err := ParseMemory(memory)
	if err != nil {
		return fmt.Errorf("-m %s: %v", memory, err)
	}
	end, err := ImageEnd(kernel)
	if err != nil {
		return err
	}
	if have >= end {
		return nil
	}
	return fmt.Errorf("-m %s is too little memory for this image: it loads up to %.1f MiB (address %#x), so the smallest -m that holds it is %dM, and the program's heap needs more on top",
		memory, float64(end)/(1<<20), end, wholeMiB(end))
}
