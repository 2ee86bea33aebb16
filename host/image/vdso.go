package image

import (
	"debug/elf"
	"encoding/binary"
	"fmt"

	"rt0/contract"
)

// The vDSO. Linux maps a small shared object into every process (its
// address is the auxv entry AT_SYSINFO_EHDR) whose __vdso_clock_gettime
// reads the clock without a system call; the Go runtime finds it there and
// calls it for every nanotime and walltime. rt0's kernel runs in the same
// address space as the program, so its clock function (kernel.vdsoClockGettime,
// assembly, C calling convention) can serve directly: it reads the TSC and
// the kernel's own scale factors. Patch writes the ELF headers that describe
// it into the kernel's 1 KiB vdsoImage: a dynamic object with one symbol,
// __vdso_clock_gettime, version LINUX_2.6, found through a SysV hash table,
// which is what runtime/vdso_linux.go parses.

const (
	vdsoImageSym = contract.SymVDSOImage
	vdsoFuncSym  = contract.SymVDSOClockGettime
	vdsoSize     = 1024
)

// elfHash is the SysV ELF symbol hash (the version table uses it).
func elfHash(s string) uint32 {
	var h uint32
	for _, c := range []byte(s) {
		h = h<<4 + uint32(c)
		g := h & 0xf0000000
		if g != 0 {
			h ^= g >> 24
		}
		h &^= g
	}
	return h
}

// VDSOImage builds the vDSO's ELF image for an image loaded at base whose
// clock function is at fn.
func VDSOImage(base, fn uint64) []byte {
	b := make([]byte, vdsoSize)
	le := binary.LittleEndian
	// Where each part goes.
	const (
		phOff     = 64
		dynOff    = 176
		nDyn      = 9
		symOff    = dynOff + nDyn*16 // 320
		strOff    = symOff + 2*24    // 368
		hashOff   = 448
		versymOff = 480
		verdefOff = 488
	)
	strtab := "\x00__vdso_clock_gettime\x00LINUX_2.6\x00linux-vdso.so.1\x00"
	nameFn, nameVer, nameSO := 1, 22, 32

	// ELF header: a 64-bit little-endian shared object for x86-64.
	copy(b, "\x7fELF\x02\x01\x01")
	le.PutUint16(b[16:], uint16(elf.ET_DYN))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[32:], phOff)
	le.PutUint16(b[52:], 64) // e_ehsize
	le.PutUint16(b[54:], 56) // e_phentsize
	le.PutUint16(b[56:], 2)  // e_phnum

	// PT_LOAD: the whole image at virtual address 0; PT_DYNAMIC.
	ph := b[phOff:]
	le.PutUint32(ph[0:], uint32(elf.PT_LOAD))
	le.PutUint32(ph[4:], uint32(elf.PF_R|elf.PF_X))
	le.PutUint64(ph[32:], vdsoSize)
	le.PutUint64(ph[40:], vdsoSize)
	le.PutUint64(ph[48:], 4096)
	ph = b[phOff+56:]
	le.PutUint32(ph[0:], uint32(elf.PT_DYNAMIC))
	le.PutUint32(ph[4:], uint32(elf.PF_R))
	le.PutUint64(ph[8:], dynOff)
	le.PutUint64(ph[16:], dynOff)
	le.PutUint64(ph[32:], nDyn*16)
	le.PutUint64(ph[40:], nDyn*16)
	le.PutUint64(ph[48:], 8)

	dyn := []struct {
		tag elf.DynTag
		val uint64
	}{
		{elf.DT_HASH, hashOff}, {elf.DT_STRTAB, strOff}, {elf.DT_SYMTAB, symOff},
		{elf.DT_STRSZ, uint64(len(strtab))}, {elf.DT_SYMENT, 24},
		{elf.DT_VERSYM, versymOff}, {elf.DT_VERDEF, verdefOff}, {elf.DT_VERDEFNUM, 2},
		{elf.DT_NULL, 0},
	}
	for i, d := range dyn {
		le.PutUint64(b[dynOff+16*i:], uint64(d.tag))
		le.PutUint64(b[dynOff+16*i+8:], d.val)
	}

	// Symbol 1: __vdso_clock_gettime, a global function; its value is
	// relative to the image (the runtime adds the image's address), and
	// wraps around when the function lies below the image.
	s := b[symOff+24:]
	le.PutUint32(s[0:], uint32(nameFn))
	s[4] = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC)
	le.PutUint16(s[6:], 1) // any defined section
	le.PutUint64(s[8:], fn-base)
	copy(b[strOff:], strtab)

	// SysV hash: one bucket, chain of the one symbol.
	for i, v := range []uint32{1, 2, 1, 0, 0} {
		le.PutUint32(b[hashOff+4*i:], v)
	}
	// Version of each symbol: none for the null symbol, LINUX_2.6 (2).
	le.PutUint16(b[versymOff+2:], 2)
	// Version definitions: the object's own (base), then LINUX_2.6.
	putVerdef := func(off int, flags, ndx uint16, name string, nameOff int, next uint32) {
		v := b[off:]
		le.PutUint16(v[0:], 1) // vd_version
		le.PutUint16(v[2:], flags)
		le.PutUint16(v[4:], ndx)
		le.PutUint16(v[6:], 1) // vd_cnt
		le.PutUint32(v[8:], elfHash(name))
		le.PutUint32(v[12:], 20) // vd_aux: the verdaux follows
		le.PutUint32(v[16:], next)
		le.PutUint32(v[20:], uint32(nameOff))
	}
	putVerdef(verdefOff, 1 /* VER_FLG_BASE */, 1, "linux-vdso.so.1", nameSO, 28)
	putVerdef(verdefOff+28, 0, 2, "LINUX_2.6", nameVer, 0)
	return b
}

func writeVDSO(syms []elf.Symbol, out []byte, base uint64) error {
	img, ok := findSym(syms, vdsoImageSym)
	if !ok {
		return fmt.Errorf("symbol %s not found", vdsoImageSym)
	}
	fn, ok := findSym(syms, vdsoFuncSym)
	if !ok {
		return fmt.Errorf("symbol %s not found", vdsoFuncSym)
	}
	copy(out[img.Value-base:img.Value-base+vdsoSize], VDSOImage(img.Value, fn.Value))
	return nil
}
