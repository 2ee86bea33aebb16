package acpitab

import (
	"encoding/binary"
	"testing"
)

// table makes a table: a 36-byte header with signature sig, then body.
func table(sig string, body ...[]byte) []byte {
	t := make([]byte, HeaderLen)
	copy(t, sig)
	for _, b := range body {
		t = append(t, b...)
	}
	binary.LittleEndian.PutUint32(t[4:], uint32(len(t)))
	return t
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func TestParseMADT(t *testing.T) {
	madt := table("APIC",
		le32(0xFEE00000), le32(1), // local APIC address, flags
		[]byte{0, 8, 0, 0}, le32(1), // CPU 0: enabled
		[]byte{0, 8, 1, 1}, le32(0), // CPU 1: disabled
		[]byte{0, 8, 2, 2}, le32(1), // CPU 2: enabled
		[]byte{1, 12, 0, 0}, le32(0xFEC00000), le32(0), // I/O APIC
		[]byte{1, 12, 1, 0}, le32(0xFEC10000), le32(24), // a second: ignored
		[]byte{2, 10, 0, 0}, le32(2), []byte{0, 0}, // IRQ 0 -> GSI 2
		[]byte{2, 10, 0, 9}, le32(9), []byte{0x0D, 0}, // IRQ 9 level, active low
		[]byte{2, 10, 1, 5}, le32(20), []byte{0, 0}, // bus 1: not ISA, ignored
		[]byte{2, 10, 0, 30}, le32(40), []byte{0, 0}, // source 30: not an ISA IRQ
	)
	m := ParseMADT(madt)
	if m.LAPICs != 2 || m.IOAPIC != 0xFEC00000 || m.IOAPICGSI != 0 {
		t.Errorf("LAPICs %d, I/O APIC %#x GSI %d; want 2, 0xfec00000, 0", m.LAPICs, m.IOAPIC, m.IOAPICGSI)
	}
	for irq, want := range map[int]uint32{0: 2, 1: 1, 5: 5, 9: 9, 15: 15} {
		if m.ISAGSI[irq] != want {
			t.Errorf("IRQ %d -> GSI %d; want %d", irq, m.ISAGSI[irq], want)
		}
	}
	if m.ISAFlags[9] != 0x0D || m.ISAFlags[0] != 0 {
		t.Errorf("flags IRQ 9 %#x, IRQ 0 %#x", m.ISAFlags[9], m.ISAFlags[0])
	}
	// An entry of length 0 or past the end stops the walk, keeping what
	// came before.
	bad := table("APIC", le32(0), le32(0), []byte{0, 8, 0, 0}, le32(1), []byte{0, 0}, []byte{0, 8, 1, 1}, le32(1))
	if m := ParseMADT(bad); m.LAPICs != 1 {
		t.Errorf("after a zero-length entry: %d LAPICs; want 1", m.LAPICs)
	}
	short := table("APIC", le32(0), le32(0), []byte{0, 8, 0, 0}, le32(1))
	if m := ParseMADT(short[:len(short)-2]); m.LAPICs != 0 || m.ISAGSI[3] != 3 {
		t.Errorf("truncated entry: %+v", m)
	}
}

// TestMADTCPUs checks the processor list: local APIC and x2APIC entries,
// the enabled and online-capable flags, IDs that are not 0..n-1, and an ID
// listed by both entry types.
func TestMADTCPUs(t *testing.T) {
	x2 := func(id, flags, uid uint32) []byte {
		b := []byte{9, 16, 0, 0}
		b = append(b, le32(id)...)
		b = append(b, le32(flags)...)
		return append(b, le32(uid)...)
	}
	madt := table("APIC",
		le32(0xFEE00000), le32(1),
		[]byte{0, 8, 0, 0}, le32(1), // UID 0, APIC 0: enabled
		[]byte{0, 8, 1, 2}, le32(0), // APIC 2: neither flag: never start
		[]byte{0, 8, 2, 4}, le32(2), // APIC 4: online capable
		[]byte{0, 8, 3, 6}, le32(1), // APIC 6: enabled
		x2(6, 1, 3),                           // APIC 6 again, as x2APIC: once
		x2(0x100, 1, 9),                       // x2APIC 256: enabled
		x2(0xFFFFFFFF, 1, 10),                 // the all-ones ID is not a CPU
		[]byte{9, 12, 0, 0}, le32(7), le32(1), // too short for type 9: skipped
	)
	m := ParseMADT(madt)
	type cpu struct {
		id, uid     uint32
		en, cap, x2 bool
	}
	want := []cpu{{0, 0, true, false, false}, {4, 2, false, true, false}, {6, 3, true, false, false}, {0x100, 9, true, false, true}}
	var got []cpu
	for _, c := range m.CPUs[:m.NCPUs] {
		got = append(got, cpu{c.APICID, c.UID, c.Enabled, c.OnlineCapable, c.X2APIC})
	}
	if len(got) != len(want) {
		t.Fatalf("CPUs %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("CPU %d: %+v; want %+v", i, got[i], want[i])
		}
	}
	if m.LAPICs != 3 || m.Dropped != 0 {
		t.Errorf("LAPICs %d dropped %d; want 3, 0", m.LAPICs, m.Dropped)
	}
	// More than MaxCPUs: the first MaxCPUs are kept, the rest counted.
	var many [][]byte
	for i := 0; i < MaxCPUs+3; i++ {
		many = append(many, x2(uint32(1000+i), 1, uint32(i)))
	}
	m = ParseMADT(table("APIC", append([][]byte{le32(0), le32(0)}, many...)...))
	if m.NCPUs != MaxCPUs || m.Dropped != 3 || m.LAPICs != MaxCPUs+3 || m.CPUs[MaxCPUs-1].APICID != 1000+MaxCPUs-1 {
		t.Errorf("%d CPUs kept, %d dropped, %d enabled", m.NCPUs, m.Dropped, m.LAPICs)
	}
}

func fadt(n int) []byte {
	f := make([]byte, n)
	copy(f, "FACP")
	f[8] = 3                                      // revision
	binary.LittleEndian.PutUint32(f[36:], 0x1000) // FIRMWARE_CTRL
	binary.LittleEndian.PutUint32(f[40:], 0x2000) // DSDT
	binary.LittleEndian.PutUint32(f[64:], 0x604)  // PM1a_CNT_BLK
	binary.LittleEndian.PutUint32(f[76:], 0x608)  // PM_TMR_BLK
	f[108] = 0x32                                 // CENTURY
	binary.LittleEndian.PutUint16(f[109:], 2)     // IAPC_BOOT_ARCH: 8042 present
	return f
}

func TestParseFADT(t *testing.T) {
	if _, ok := ParseFADT(fadt(115)); ok {
		t.Error("a 115-byte FADT accepted")
	}
	a, ok := ParseFADT(fadt(116))
	if !ok || a.DSDT != 0x2000 || a.FACS != 0x1000 || a.PM1aCnt != 0x604 || a.PMTimer != 0x608 || a.Century != 0x32 || a.No8042 {
		t.Errorf("ACPI 1.0 FADT: %+v, %v", a, ok)
	}
	f := fadt(244)
	binary.LittleEndian.PutUint64(f[132:], 0x1_0000_1000) // X_FIRMWARE_CTRL
	binary.LittleEndian.PutUint64(f[140:], 0x1_0000_2000) // X_DSDT
	binary.LittleEndian.PutUint16(f[109:], 0)             // no 8042
	if a, _ := ParseFADT(f); a.DSDT != 0x1_0000_2000 || a.FACS != 0x1_0000_1000 || !a.No8042 {
		t.Errorf("ACPI 2.0 FADT: %+v", a)
	}
	f[8] = 1 // revision 1 has no IA-PC boot flags: an 8042 is assumed
	if a, _ := ParseFADT(f); a.No8042 {
		t.Error("revision 1: no8042 from a field it does not have")
	}
}

func TestFindS5(t *testing.T) {
	for _, tc := range []struct {
		name string
		aml  []byte
		a, b uint16
		ok   bool
	}{
		{"byte constants", []byte("\x08_S5_\x12\x06\x04\x0a\x05\x0a\x05\x00\x00"), 5, 5, true},
		{"Zero and One", []byte("\x08_S5_\x12\x05\x04\x00\x01\x00\x00"), 0, 1, true},
		{"a name, not a package", []byte("_S5_\x14junk_S5_\x12\x04\x02\x0a\x07\x0a\x03"), 7, 3, true},
		{"no _S5_", []byte("\x08_S4_\x12\x06\x04\x0a\x05\x0a\x05"), 0, 0, false},
		{"truncated after the PackageOp", []byte("\x08_S5_\x12"), 0, 0, false},
		{"truncated in the values", []byte("\x08_S5_\x12\x06\x04\x0a"), 0, 0, true},
	} {
		a, b, ok := FindS5(table("DSDT", tc.aml))
		if a != tc.a || b != tc.b || ok != tc.ok {
			t.Errorf("%s: %d %d %v; want %d %d %v", tc.name, a, b, ok, tc.a, tc.b, tc.ok)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	madt := table("APIC", le32(0), le32(0), []byte{0, 8, 0, 0}, le32(1), []byte{1, 12, 0, 0}, le32(0xFEC00000), le32(0))
	f := fadt(244)
	d := table("DSDT", []byte("\x08_S5_\x12\x06\x04\x0a\x05\x0a\x05"))
	if n := testing.AllocsPerRun(100, func() {
		ParseMADT(madt)
		ParseFADT(f)
		FindS5(d)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// Whatever the firmware hands over, parsing ends without a panic.
func FuzzTables(f *testing.F) {
	f.Add(table("APIC", le32(0), le32(0), []byte{0, 8, 0, 0}, le32(1), []byte{2, 10, 0, 0}, le32(2), []byte{0, 0}))
	f.Add(fadt(244))
	f.Add(table("DSDT", []byte("\x08_S5_\x12\x06\x04\x0a\x05\x0a\x05")))
	f.Add([]byte("_S5_\x12"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseMADT(b)
		ParseFADT(b)
		FindS5(b)
	})
}
