package kernel

import "rt0/guest/arch/amd64"

// The firmware's tables as files, where Linux puts them:
//
//	/sys/firmware/dmi/tables/smbios_entry_point   the SMBIOS entry point
//	/sys/firmware/dmi/tables/DMI                  the SMBIOS structure table
//	/sys/firmware/acpi/tables/<SIG>               each ACPI table, by signature
//
// Linux exports them raw, byte for byte as the firmware wrote them, so that
// user space can parse them without mapping physical memory through
// /dev/mem and without knowing where (BIOS area, EFI configuration table)
// the firmware put them. Go
// libraries that inspect a machine read these files: u-root's
// pkg/smbios.FromSysfs reads the two DMI files, and pkg/acpi's
// RawTablesFromSys reads every /sys/firmware/acpi/tables/[A-Z]* file. With
// the files in place, those packages work unmodified on rt0.
//
// The ACPI directory lists what Linux's table manager holds after boot:
// every table the RSDT/XSDT points to, plus the DSDT and the FACS that the
// FADT points to (the RSDT/XSDT themselves are not listed). A signature
// that occurs more than once gets numbered files, all of them: SSDT1,
// SSDT2, ... with no plain SSDT, as Linux names them.
//
// The tables are read in place through the identity map and copied into
// the kernel heap, rather than served from where they lie: ACPI tables sit
// in "ACPI reclaimable" memory, which is the kernel's to reuse once it has
// read them, and copies make these ordinary files of the in-memory tree
// that nothing else has to know about. They are small: about 10 KiB on
// QEMU, tens to hundreds of KiB on a PC. The files are readable by their
// owner only (0400), as on Linux. A file the boot archive already put at
// one of these paths (loaded first, by initFS) is left alone: a test can
// supply tables of its own.

// The tables to export, gathered first so each can be numbered among those
// of its signature.
var fwTables struct {
	addr [256]uint64
	size [256]uint32
	n    int
}

// initFirmwareFiles creates /sys/firmware/dmi/tables and
// /sys/firmware/acpi/tables. It runs at the end of initFS, after initACPI.
func initFirmwareFiles() {
	if ep, tab := smbiosTables(); tab != nil {
		if d, e := mkdirs([]byte("sys/firmware/dmi/tables"), 0o755); e == 0 {
			firmwareFile(d, []byte("smbios_entry_point"), ep)
			firmwareFile(d, []byte("DMI"), tab)
		}
	}
	if !acpi.found {
		return
	}
	for k := 0; k < rootEntries(); k++ {
		addFirmwareTable(table(rootEntry(k)))
	}
	addFirmwareTable(table(acpi.dsdt))
	addFirmwareTable(facsTable())
	d, e := mkdirs([]byte("sys/firmware/acpi/tables"), 0o755)
	if e != 0 {
		return
	}
	for i := 0; i < fwTables.n; i++ {
		sig := amd64.Bytes(uintptr(fwTables.addr[i]), 4)
		nth, of := 0, 0
		for j := 0; j < fwTables.n; j++ {
			if string(amd64.Bytes(uintptr(fwTables.addr[j]), 4)) == string(sig) {
				of++
				if j <= i {
					nth++
				}
			}
		}
		var name [7]byte // the signature and an instance number, 1 to 999
		n := copy(name[:], sig)
		if of > 1 {
			if nth > 999 {
				continue // Linux's limit too
			}
			if nth >= 100 {
				name[n] = byte('0' + nth/100)
				n++
			}
			if nth >= 10 {
				name[n] = byte('0' + nth/10%10)
				n++
			}
			name[n] = byte('0' + nth%10)
			n++
		}
		firmwareFile(d, name[:n], amd64.Bytes(uintptr(fwTables.addr[i]), int(fwTables.size[i])))
	}
}

// addFirmwareTable adds the table at a (n bytes) to fwTables, once: a table
// listed twice, or the DSDT also listed in the XSDT, is one table.
func addFirmwareTable(a uint64, n uint32) {
	if a == 0 || fwTables.n == len(fwTables.addr) {
		return
	}
	// The signature becomes a file name: it must be one.
	for _, c := range amd64.Bytes(uintptr(a), 4) {
		if c == 0 || c == '/' {
			return
		}
	}
	for i := 0; i < fwTables.n; i++ {
		if fwTables.addr[i] == a {
			return
		}
	}
	fwTables.addr[fwTables.n], fwTables.size[fwTables.n] = a, n
	fwTables.n++
}

// firmwareFile creates the read-only file dir/name holding a copy of b.
func firmwareFile(dir int32, name, b []byte) {
	if lookup(dir, name) >= 0 {
		return
	}
	i, e := mknod(dir, name, iReg, 0o400)
	if e != 0 {
		return
	}
	if fileWrite(i, 0, b) < 0 {
		unlink(i)
		freeInode(i)
	}
}
