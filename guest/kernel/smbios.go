package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/smbiostab"
)

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

// smbiosTables finds the entry point structure, checks it, and returns it
// and the structure table it points to, both as slices over the firmware's
// memory (nil, nil if there is none or it is damaged). The table is
// trimmed to its whole structures: a 64-bit ("_SM3_") entry point gives
// only the table's maximum size, so its end is the end-of-table structure
// (type 127); a 32-bit ("_SM_") one gives the exact size and a structure
// count, and some firmware puts OEM structures after type 127, so both
// are honoured instead. This is the length Linux gives /sys/firmware/dmi/
// tables/DMI, and what parsers such as u-root's expect: whole structures,
// no padding after the last.
func smbiosTables() (ep, tab []byte) {
	a := smbiosEntry()
	if a == 0 || a >= 1<<32-32 {
		return nil, nil
	}
	h := amd64.Bytes(uintptr(a), 32)
	var n, count int
	var addr, size uint64
	switch {
	case string(h[:5]) == "_SM3_":
		n = int(h[6])
		size = uint64(u32(h[12:]))
		addr = le64(h[16:])
		if n < 0x18 {
			return nil, nil
		}
	case string(h[:4]) == "_SM_":
		n = int(h[5])
		size = uint64(h[22]) | uint64(h[23])<<8
		addr = uint64(u32(h[24:]))
		count = int(h[28]) | int(h[29])<<8
		if n < 0x1e { // 0x1f by the specification; Linux also takes the 0x1e some old BIOSes report
			return nil, nil
		}
	default:
		return nil, nil
	}
	if n > 32 || sum(h[:n]) != 0 {
		return nil, nil
	}
	if addr == 0 || size == 0 || size > 1<<20 || addr+size > 1<<32 {
		return nil, nil
	}
	t := amd64.Bytes(uintptr(addr), int(size))
	end := 0
	for i := 0; (count == 0 || i < count) && end+4 <= len(t); i++ {
		typ, _, _, next := smbiostab.Struct(t, end)
		if next > len(t) {
			break // a structure that runs off the table is not whole
		}
		end = next
		if typ == 127 && count == 0 {
			break
		}
	}
	if end == 0 {
		return nil, nil
	}
	return h[:n], t[:end]
}

// logSMBIOS prints the BIOS vendor and the system's maker and product.
func logSMBIOS() {
	_, t := smbiosTables()
	if t == nil {
		kprint("rt0: no SMBIOS tables found (EFI system table ")
		kprintHex(bootInfo.EFISystemTable)
		kprint(")\n")
		return
	}
	kprint("rt0: SMBIOS")
	for off := 0; off+4 <= len(t); {
		typ, f, strs, next := smbiostab.Struct(t, off)
		if f == nil || typ == 127 {
			break
		}
		switch {
		case typ == 0 && len(f) >= 6:
			kprint(" BIOS: ")
			kprintBytes(smbiostab.String(strs, f[4]))
			kprint(" ")
			kprintBytes(smbiostab.String(strs, f[5]))
			kprint(";")
		case typ == 1 && len(f) >= 7:
			kprint(" system: ")
			kprintBytes(smbiostab.String(strs, f[4]))
			kprint(" ")
			kprintBytes(smbiostab.String(strs, f[5]))
			kprint(";")
		}
		off = next
	}
	kprint("\n")
}
