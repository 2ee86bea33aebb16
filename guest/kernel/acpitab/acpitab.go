// Package acpitab reads the ACPI tables the kernel needs, from their bytes:
// the MADT (interrupt controllers and ISA overrides), the FADT (power
// management ports, the DSDT and FACS, boot flags) and \_S5 in the DSDT's
// bytecode (the sleep type for soft-off). The kernel finds the tables in
// memory and hands them over as byte slices; these functions only parse,
// allocate nothing and read no global, so the host tests and fuzzes them
// (acpitab_test.go) with tables a hostile or broken firmware might have.
package acpitab

func u16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func u32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func u64(b []byte) uint64 { return uint64(u32(b)) | uint64(u32(b[4:]))<<32 }

// HeaderLen is the length of every table's header; the MADT's entries
// start 8 bytes later (local APIC address, flags).
const HeaderLen = 36

// MaxCPUs is how many processor entries ParseMADT keeps.
const MaxCPUs = 64

// CPU is one processor the MADT lists, from a processor local APIC entry
// (type 0, 8-bit IDs) or a processor local x2APIC entry (type 9, 32-bit IDs,
// for IDs of 255 and above).
type CPU struct {
	APICID uint32
	UID    uint32 // the ACPI processor UID
	// Enabled: usable now. OnlineCapable: disabled, but the OS may start
	// it (ACPI 6.3); a processor with neither flag must not be started.
	Enabled, OnlineCapable bool
	X2APIC                 bool // listed by an x2APIC entry
}

// MADT is what the kernel takes from the MADT.
type MADT struct {
	LAPICs int // processor entries marked enabled (all of them, kept or not)
	// CPUs are the processor entries that may be started (enabled or
	// online capable), in table order, one per APIC ID, at most MaxCPUs;
	// Dropped counts those left out beyond that.
	CPUs      [MaxCPUs]CPU
	NCPUs     int
	Dropped   int
	IOAPIC    uint64 // address of the first I/O APIC (0: none)
	IOAPICGSI uint32 // its first global system interrupt
	// ISAGSI and ISAFlags are where each ISA IRQ arrives and its MPS INTI
	// flags (polarity bits 0-1, trigger bits 2-3): identity and 0 unless
	// an interrupt source override says otherwise.
	ISAGSI   [16]uint32
	ISAFlags [16]uint16
}

// ParseMADT reads the MADT t (header included). Entries that are too
// short or run past the table end the walk; a table too short to hold
// any gives the defaults.
func ParseMADT(t []byte) MADT {
	var m MADT
	for i := range m.ISAGSI {
		m.ISAGSI[i] = uint32(i)
	}
	for off := HeaderLen + 8; off+2 <= len(t); {
		typ, l := t[off], int(t[off+1])
		if l < 2 || off+l > len(t) {
			break
		}
		b := t[off : off+l]
		switch {
		case typ == 0 && l >= 8: // processor local APIC
			m.addCPU(uint32(b[3]), uint32(b[2]), u32(b[4:]), false)
		case typ == 9 && l >= 16: // processor local x2APIC
			m.addCPU(u32(b[4:]), u32(b[12:]), u32(b[8:]), true)
		case typ == 1 && l >= 12 && m.IOAPIC == 0: // I/O APIC
			m.IOAPIC = uint64(u32(b[4:]))
			m.IOAPICGSI = u32(b[8:])
		case typ == 2 && l >= 10: // interrupt source override
			if src := b[3]; b[2] == 0 && src < 16 {
				m.ISAGSI[src] = u32(b[4:])
				m.ISAFlags[src] = u16(b[8:])
			}
		}
		off += l
	}
	return m
}

// addCPU records a processor entry with the given flags (bit 0 enabled,
// bit 1 online capable). An ID listed twice (firmware that gives both
// entry types for one processor) counts once.
func (m *MADT) addCPU(id, uid, flags uint32, x2 bool) {
	enabled, capable := flags&1 != 0, flags&2 != 0
	if !enabled && !capable {
		return
	}
	if x2 && id == 0xFFFFFFFF {
		return
	}
	for i := 0; i < m.NCPUs; i++ {
		if m.CPUs[i].APICID == id {
			return
		}
	}
	if enabled {
		m.LAPICs++
	}
	if m.NCPUs == MaxCPUs {
		m.Dropped++
		return
	}
	m.CPUs[m.NCPUs] = CPU{APICID: id, UID: uid, Enabled: enabled, OnlineCapable: capable && !enabled, X2APIC: x2}
	m.NCPUs++
}

// FADT is what the kernel takes from the FADT.
type FADT struct {
	DSDT, FACS       uint64 // the 64-bit X_ fields where present and not 0
	PM1aCnt, PM1bCnt uint32 // PM1 control ports
	PMTimer          uint32 // PM_TMR_BLK port (0: none)
	Century          uint8  // the RTC's century register (0: none)
	No8042           bool   // IA-PC boot flags say there is no i8042
}

// ParseFADT reads the FADT f (header included); ok is false for a table
// shorter than ACPI 1.0's 116 bytes, which is not to be trusted.
func ParseFADT(f []byte) (FADT, bool) {
	if len(f) < 116 {
		return FADT{}, false
	}
	var a FADT
	a.DSDT = uint64(u32(f[40:]))
	if len(f) >= 148 {
		if x := u64(f[140:]); x != 0 {
			a.DSDT = x
		}
	}
	a.FACS = uint64(u32(f[36:]))
	if len(f) >= 140 {
		if x := u64(f[132:]); x != 0 {
			a.FACS = x
		}
	}
	a.PM1aCnt = u32(f[64:])
	a.PM1bCnt = u32(f[68:])
	a.PMTimer = u32(f[76:])
	a.Century = f[108]
	a.No8042 = u16(f[109:])&2 == 0 && f[8] >= 2 // IA-PC boot flags exist from revision 2
	return a, true
}

// FindS5 finds \_S5's package in the DSDT d without interpreting the
// bytecode: the name "_S5_", a PackageOp (0x12), its length and count,
// then SLP_TYPa and SLP_TYPb as byte constants (BytePrefix 0x0A, or the
// one-byte constants Zero and One).
func FindS5(d []byte) (a, b uint16, ok bool) {
	for i := HeaderLen; i+4 < len(d); i++ {
		if string(d[i:i+4]) != "_S5_" {
			continue
		}
		j := i + 4
		if j >= len(d) || d[j] != 0x12 {
			continue
		}
		j++
		if j >= len(d) {
			return 0, 0, false
		}
		j += int(d[j]>>6) + 1 // PkgLength: lead byte plus 0-3 more
		j++                   // NumElements
		var v [2]uint16
		for k := 0; k < 2 && j < len(d); k++ {
			switch d[j] {
			case 0x0A: // BytePrefix
				if j+1 < len(d) {
					v[k] = uint16(d[j+1])
				}
				j += 2
			case 0x00, 0x01: // Zero, One
				v[k] = uint16(d[j])
				j++
			default:
				j++
			}
		}
		return v[0], v[1], true
	}
	return 0, 0, false
}
