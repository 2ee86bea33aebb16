package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/acpitab"
)

// ACPI, as much as a kernel without a bytecode interpreter needs: where the
// I/O APIC is and how ISA interrupts reach it (MADT), how to power the
// machine off (FADT's PM1 control ports and the \_S5 sleep type found in the
// DSDT's bytecode), whether there is an i8042 (FADT), and the RTC's century
// register.
//
// The RSDP comes from the multiboot2 information (UEFI machines have no
// BIOS area to scan) or, failing that, from a scan of the EBDA and the BIOS
// ROM area, as the ACPI specification describes. Tables are read in place
// through the identity map; nothing is allocated. The root table's list,
// the DSDT and the FACS are also what sysfs_firmware.go exports as files.

var acpi struct {
	found      bool
	rsdp       [36]byte // copied out of the boot information at boot
	rsdpLen    int
	xsdt, rsdt uint64
	root       uint64 // the XSDT if usable, else the RSDT
	rootLen    uint32
	rootEntry  uint32 // bytes per entry: 8 (XSDT) or 4 (RSDT)
	madt, fadt uint64
	dsdt       uint64
	facs       uint64 // from the FADT; no checksum, see facsTable

	ioapic     uint64 // physical address of the first I/O APIC (0: none)
	ioapicGSI  uint32 // its first global system interrupt
	isaGSI     [16]uint32
	isaFlags   [16]uint16 // MPS INTI flags: polarity bits 0-1, trigger bits 2-3
	pm1aCnt    uint32
	pm1bCnt    uint32
	slpTypA    uint16
	slpTypB    uint16
	hasS5      bool
	no8042     bool
	centuryReg uint8
	nLAPIC     int
	pmTimer    uint32 // PM_TMR_BLK port (0: none)
}

// saveRSDP copies the RSDP that a multiboot2 loader passed, before the
// memory holding the boot information is reused.
func saveRSDP() {
	if bootInfo.RSDPLen == 0 {
		return
	}
	if b, ok := bootMem.Slice(bootInfo.RSDPAddr, bootInfo.RSDPLen); ok {
		acpi.rsdpLen = copy(acpi.rsdp[:], b)
	}
}

func sum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// scanRSDP looks for "RSD PTR " on 16-byte boundaries in [start, end).
func scanRSDP(start, end uint64) bool {
	for a := start &^ 15; a+20 <= end; a += 16 {
		b := amd64.Bytes(uintptr(a), 20)
		if string(b[:8]) == "RSD PTR " && sum(b) == 0 {
			n := 20
			if b[15] >= 2 && a+36 <= end {
				n = 36
			}
			acpi.rsdpLen = copy(acpi.rsdp[:], amd64.Bytes(uintptr(a), n))
			return true
		}
	}
	return false
}

// table returns the address and length of a checked system description
// table at physical address a, or 0.
func table(a uint64) (uint64, uint32) {
	if a == 0 || a >= 1<<32 && a >= bootInfo.MaxAddr() {
		return 0, 0
	}
	hdr := amd64.Bytes(uintptr(a), 36)
	n := uint32(hdr[4]) | uint32(hdr[5])<<8 | uint32(hdr[6])<<16 | uint32(hdr[7])<<24
	if n < 36 || n > 1<<20 || sum(amd64.Bytes(uintptr(a), int(n))) != 0 {
		return 0, 0
	}
	return a, n
}

func u32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// initACPI finds and reads the tables.
func initACPI() {
	for i := range acpi.isaGSI {
		acpi.isaGSI[i] = uint32(i)
	}
	if acpi.rsdpLen == 0 {
		ebda := uint64(*(*uint16)(amd64.Ptr(0x40E))) << 4
		if !(ebda >= 0x80000 && scanRSDP(ebda, ebda+1024)) && !scanRSDP(0xE0000, 0x100000) {
			kprint("rt0: no ACPI tables found\n")
			return
		}
	}
	r := acpi.rsdp[:acpi.rsdpLen]
	if len(r) < 20 || sum(r[:20]) != 0 {
		kprint("rt0: bad ACPI RSDP\n")
		return
	}
	acpi.rsdt = uint64(u32(r[16:]))
	if len(r) >= 36 && r[15] >= 2 && sum(r) == 0 {
		acpi.xsdt = le64(r[24:])
	}
	// Walk the XSDT (8-byte entries) or the RSDT (4-byte entries).
	root, n := table(acpi.xsdt)
	entry := uint32(8)
	if root == 0 {
		root, n = table(acpi.rsdt)
		entry = 4
	}
	if root == 0 {
		kprint("rt0: no usable RSDT/XSDT\n")
		return
	}
	acpi.found = true
	acpi.root, acpi.rootLen, acpi.rootEntry = root, n, entry
	for k := 0; k < rootEntries(); k++ {
		t, _ := table(rootEntry(k))
		if t == 0 {
			continue
		}
		switch string(amd64.Bytes(uintptr(t), 4)) {
		case "APIC":
			acpi.madt = t
		case "FACP":
			acpi.fadt = t
		}
	}
	readMADT()
	readFADT()
}

// rootEntries is the number of tables the RSDT or XSDT lists.
func rootEntries() int {
	if acpi.root == 0 {
		return 0
	}
	return int((acpi.rootLen - 36) / acpi.rootEntry)
}

// rootEntry returns the physical address of the k-th table the RSDT or
// XSDT lists (unchecked: pass it to table).
func rootEntry(k int) uint64 {
	b := amd64.Bytes(uintptr(acpi.root+36+uint64(k)*uint64(acpi.rootEntry)), int(acpi.rootEntry))
	if acpi.rootEntry == 8 {
		return le64(b)
	}
	return uint64(u32(b))
}

// facsTable returns the address and length of the FACS, or 0. The FACS is
// the one table without the common header's checksum (the OS writes into
// it: the global lock, the waking vector), so table cannot check it; its
// signature and length have to do.
func facsTable() (uint64, uint32) {
	a := acpi.facs
	if a == 0 || a >= 1<<32 && a >= bootInfo.MaxAddr() {
		return 0, 0
	}
	h := amd64.Bytes(uintptr(a), 8)
	n := u32(h[4:])
	if string(h[:4]) != "FACS" || n < 64 || n > 1<<20 {
		return 0, 0
	}
	return a, n
}

// readMADT finds the I/O APIC and the ISA interrupt overrides
// (acpitab.ParseMADT).
func readMADT() {
	t, n := table(acpi.madt)
	if t == 0 {
		return
	}
	m := acpitab.ParseMADT(amd64.Bytes(uintptr(t), int(n)))
	acpi.nLAPIC = m.LAPICs
	acpi.ioapic, acpi.ioapicGSI = m.IOAPIC, m.IOAPICGSI
	acpi.isaGSI, acpi.isaFlags = m.ISAGSI, m.ISAFlags
}

// readFADT finds the power-management control ports, the DSDT, the FACS
// and the boot architecture flags (acpitab.ParseFADT), then \_S5 in the
// DSDT (acpitab.FindS5).
func readFADT() {
	t, n := table(acpi.fadt)
	if t == 0 {
		return
	}
	f, ok := acpitab.ParseFADT(amd64.Bytes(uintptr(t), int(n)))
	if !ok {
		return
	}
	acpi.dsdt, acpi.facs = f.DSDT, f.FACS
	acpi.pm1aCnt, acpi.pm1bCnt, acpi.pmTimer = f.PM1aCnt, f.PM1bCnt, f.PMTimer
	acpi.centuryReg, acpi.no8042 = f.Century, f.No8042
	if d, n := table(acpi.dsdt); d != 0 {
		acpi.slpTypA, acpi.slpTypB, acpi.hasS5 = acpitab.FindS5(amd64.Bytes(uintptr(d), int(n)))
	}
}

// acpiPowerOff asks the chipset to enter S5 (soft off). It returns if the
// machine is still running afterwards.
func acpiPowerOff() {
	if !acpi.hasS5 || acpi.pm1aCnt == 0 {
		return
	}
	const slpEn, slpTypMask = 1 << 13, 7 << 10
	a := uint16(acpi.pm1aCnt)
	amd64.Outw(a, amd64.Inw(a)&^slpTypMask|acpi.slpTypA<<10|slpEn)
	if acpi.pm1bCnt != 0 {
		b := uint16(acpi.pm1bCnt)
		amd64.Outw(b, amd64.Inw(b)&^slpTypMask|acpi.slpTypB<<10|slpEn)
	}
	for i := 0; i < 10_000_000; i++ {
		amd64.Inb(0x80) // give the chipset time
	}
}
