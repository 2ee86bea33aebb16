package boottest

// The firmware's tables as Linux exports them (/sys/firmware/dmi/tables and
// /sys/firmware/acpi/tables), read by u-root's unmodified pkg/smbios and
// pkg/acpi in examples/console.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"rt0/host/qemu"
)

func TestBootFirmwareTables(t *testing.T) {
	res := Boot(t, Build(t, "examples/console"), qemu.Config{
		Accel: qemu.AccelTCG,
		Stdin: strings.NewReader("smbios\nacpi\nexit 3\n"),
	})
	if res.ExitCode != 3 {
		t.Errorf("exit %d; want 3", res.ExitCode)
	}
	out := strings.ReplaceAll(string(res.Serial), "> ", "")

	// SMBIOS: QEMU's own type 1 strings, and the same BIOS as the kernel's
	// boot log, which reads the tables in place, names.
	if !regexp.MustCompile(`(?m)^SMBIOS \d+\.\d+\.\d+ \(\d+ tables\)$`).MatchString(out) {
		t.Errorf("no SMBIOS summary line in:\n%s", out)
	}
	if !strings.Contains(out, "\nsystem: QEMU, Standard PC (") {
		t.Errorf("smbios: want system \"QEMU, Standard PC (...)\" in:\n%s", out)
	}
	bios := regexp.MustCompile(`(?m)^BIOS: (.+), version (.+) \(.*\)$`).FindStringSubmatch(out)
	if bios == nil {
		t.Errorf("smbios: no BIOS line in:\n%s", out)
	} else if log := "BIOS: " + bios[1] + " " + bios[2] + ";"; !strings.Contains(string(res.Debug), log) {
		t.Errorf("smbios: BIOS %q, version %q; the kernel's log says otherwise (want %q in it)", bios[1], bios[2], log)
	}

	// ACPI: every table with a length its header allows (the common header
	// is 36 bytes; the FADT of ACPI 1.0 116, the MADT's fixed part 44, the
	// FACS 64) and, but for the FACS, a checksum that adds up: the files
	// hold whole tables, byte for byte.
	sizes := map[string]int{}
	re := regexp.MustCompile(`(?m)^([A-Z0-9]{4}\d*) +(\d+) bytes(.*)$`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		sizes[m[1]] = n
		if m[1] != "FACS" && !strings.HasSuffix(m[3], ", checksum ok") {
			t.Errorf("acpi: %s", m[0])
		}
	}
	least := map[string]int{"FACP": 116, "APIC": 45, "DSDT": 37, "FACS": 64}
	for _, sig := range []string{"FACP", "APIC", "DSDT"} {
		if _, ok := sizes[sig]; !ok {
			t.Errorf("acpi: no %s table in:\n%s", sig, out)
		}
	}
	for sig, n := range sizes {
		if n < max(least[sig], 37) || n > 1<<20 {
			t.Errorf("acpi: %s is %d bytes", sig, n)
		}
	}
	t.Logf("ACPI tables: %v", sizes)
}

// Tables the test adds to QEMU's: two SSDTs, which become the files SSDT1
// and SSDT2 (both must be listed, in that order, each as long as its
// header says: the 36-byte header plus the body given), and SMBIOS type 1
// strings of our own.
func TestBootFirmwareTablesAdded(t *testing.T) {
	dir := t.TempDir()
	bodies := []int{4, 8}
	var args []string
	for i, n := range bodies {
		body := filepath.Join(dir, fmt.Sprintf("body%d.aml", i))
		if err := os.WriteFile(body, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-acpitable", fmt.Sprintf("sig=SSDT,oem_id=RT0,oem_table_id=TEST%d,data=%s", i, body))
	}
	args = append(args, "-smbios", "type=1,manufacturer=rt0 maker,product=firmware files")
	res := Boot(t, Build(t, "examples/console"), qemu.Config{
		Accel:     qemu.AccelTCG,
		Stdin:     strings.NewReader("smbios\nacpi\nexit 3\n"),
		ExtraArgs: args,
	})
	out := strings.ReplaceAll(string(res.Serial), "> ", "")
	if res.ExitCode != 3 {
		t.Errorf("exit %d; want 3", res.ExitCode)
	}
	if !strings.Contains(out, "\nsystem: rt0 maker, firmware files\n") {
		t.Errorf("smbios: want system \"rt0 maker, firmware files\" in:\n%s", out)
	}
	last := -1
	for i, n := range bodies {
		want := fmt.Sprintf("\nSSDT %6d bytes, revision 1, OEM %q %q, checksum ok\n", 36+n, "RT0\x00\x00\x00", fmt.Sprintf("TEST%d\x00\x00\x00", i))
		at := strings.Index(out, want)
		if at < 0 {
			t.Errorf("acpi: want %q in:\n%s", want, out)
		} else if at < last {
			t.Errorf("acpi: SSDT %d listed before SSDT %d (files SSDT1, SSDT2 out of table order):\n%s", i+1, i, out)
		}
		last = at
	}
}
