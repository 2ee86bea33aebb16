package kernel

import "rt0/arch/amd64"

// SMBIOS: who made this machine. The firmware's SMBIOS tables name the
// BIOS vendor (structure type 0) and the system's manufacturer and product
// (type 1); rt0 logs them at boot, which tells a user at a real PC which
// machine the log came from. The entry point is found in the BIOS area
// (legacy) or, under UEFI, in the EFI configuration table that multiboot2's
// EFI system table tag leads to. Read in place, nothing allocated.

var smbiosGUID = [2][16]byte{
	// SMBIOS3_TABLE_GUID f2fd1544-9794-4a2c-992e-e5bbcf20e394
	{0x44, 0x15, 0xfd, 0xf2, 0x94, 0x97, 0x2c, 0x4a, 0x99, 0x2e, 0xe5, 0xbb, 0xcf, 0x20, 0xe3, 0x94},
	// SMBIOS_TABLE_GUID eb9d2d31-2d88-11d3-9a16-0090273fc14d
	{0x31, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11, 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d},
}

// smbiosEntry finds the entry point structure.
func smbiosEntry() uint64 {
	if st := bootInfo.EFISystemTable; st != 0 && st < 1<<32 {
		// EFI_SYSTEM_TABLE: NumberOfTableEntries at 104, ConfigurationTable at 112;
		// each entry a 16-byte GUID and a pointer.
		n := *amd64.U64(uintptr(st + 104))
		tab := *amd64.U64(uintptr(st + 112))
		for g := range smbiosGUID {
			for i := uint64(0); i < n && i < 64 && tab != 0 && tab < 1<<32; i++ {
				e := tab + i*24
				if string(amd64.Bytes(uintptr(e), 16)) == string(smbiosGUID[g][:]) {
					return *amd64.U64(uintptr(e + 16))
				}
			}
		}
	}
	for a := uint64(0xF0000); a < 0x100000; a += 16 {
		b := amd64.Bytes(uintptr(a), 5)
		if string(b) == "_SM3_" || string(b[:4]) == "_SM_" {
			return a
		}
	}
	return 0
}

// logSMBIOS prints the BIOS vendor and the system's maker and product.
func logSMBIOS() {
	ep := smbiosEntry()
	if ep == 0 || ep >= 1<<32 {
		kprint("rt0: no SMBIOS tables found (EFI system table ")
		kprintHex(bootInfo.EFISystemTable)
		kprint(")\n")
		return
	}
	var tab, size uint64
	h := amd64.Bytes(uintptr(ep), 32)
	if string(h[:5]) == "_SM3_" {
		size = uint64(u32(h[12:]))
		tab = le64(h[16:])
	} else if string(h[:4]) == "_SM_" {
		size = uint64(h[22]) | uint64(h[23])<<8
		tab = uint64(u32(h[24:]))
	}
	if tab == 0 || tab >= 1<<32 || size == 0 || size > 1<<20 {
		return
	}
	t := amd64.Bytes(uintptr(tab), int(size))
	kprint("rt0: SMBIOS")
	for off := 0; off+4 <= len(t); {
		typ, l := t[off], int(t[off+1])
		if l < 4 || off+l > len(t) || typ == 127 {
			break
		}
		f := t[off : off+l]
		strs := off + l
		end := strs
		for end+1 < len(t) && !(t[end] == 0 && t[end+1] == 0) {
			end++
		}
		str := func(k byte) []byte {
			if k == 0 {
				return nil
			}
			s := strs
			for i := byte(1); i < k && s < end; i++ {
				for s < end && t[s] != 0 {
					s++
				}
				s++
			}
			e := s
			for e < len(t) && t[e] != 0 {
				e++
			}
			if s >= len(t) {
				return nil
			}
			return t[s:e]
		}
		switch {
		case typ == 0 && l >= 6:
			kprint(" BIOS: ")
			kprintBytes(str(f[4]))
			kprint(" ")
			kprintBytes(str(f[5]))
			kprint(";")
		case typ == 1 && l >= 7:
			kprint(" system: ")
			kprintBytes(str(f[4]))
			kprint(" ")
			kprintBytes(str(f[5]))
			kprint(";")
		}
		off = end + 2
	}
	kprint("\n")
}
