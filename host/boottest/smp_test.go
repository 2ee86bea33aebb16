package boottest

// Boot tests of several CPUs: the CPUs the MADT lists all start and all
// run threads, pinning works, and the machine kinds and models a PC may be
// all boot with them.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"rt0/host/build"
	"rt0/host/qemu"
)

// smpWant is what testdata/progs/smp prints on a machine of n CPUs (the
// same program on the host, pinned to n CPUs, prints it too: see
// TestBootSMPLikeHost).
func smpWant(n int) string {
	online := "0"
	if n > 1 {
		online = fmt.Sprintf("0-%d", n-1)
	}
	return fmt.Sprintf("NumCPU %d GOMAXPROCS %d\nCPUs seen %d\npinned to the last CPU: true\nonline %q <nil>\ncpuinfo processors %d\n",
		n, n, n, online+"\n", n)
}

// wantCPUsBusy checks the kernel's rt0.stats line: every one of n CPUs ran
// threads for some time.
func wantCPUsBusy(t *testing.T, debug []byte, n int) {
	t.Helper()
	m := regexp.MustCompile(`rt0: cpus:((?: cpu\d+=\d+us)+) busy`).FindSubmatch(debug)
	if m == nil {
		t.Fatalf("no per-CPU busy line in the kernel log")
	}
	f := strings.Fields(string(m[1]))
	if len(f) != n {
		t.Errorf("busy times for %d CPUs, want %d: %s", len(f), n, m[1])
	}
	for _, c := range f {
		us, _ := strconv.Atoi(strings.TrimSuffix(c[strings.Index(c, "=")+1:], "us"))
		if us == 0 {
			t.Errorf("%s: a CPU that never ran a thread", c)
		}
	}
}

func TestBootSMP(t *testing.T) {
	img := Build(t, "testdata/progs/smp")
	for _, n := range []int{1, 2, 4, 8} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			res := Boot(t, img, qemu.Config{SMP: n, Append: "rt0.stats"})
			wantOutput(t, res, smpWant(n), 0)
			wantContains(t, "kernel log", res.Debug, fmt.Sprintf("rt0: CPUs: %d in the MADT, %d started", n, n))
			wantCPUsBusy(t, res.Debug, n)
		})
	}
}

// The program prints the same on the host, pinned to as many CPUs, as on
// rt0 (the expected text above is not only rt0's idea).
func TestBootSMPLikeHost(t *testing.T) {
	n := min(runtime.NumCPU(), 4)
	ts, err := exec.LookPath("taskset")
	if err != nil {
		t.Skip("no taskset to pin the host run to n CPUs")
	}
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ts, "-c", fmt.Sprintf("0-%d", n-1), goCommand(), "run", "./testdata/progs/smp")
	cmd.Dir = root
	host, err := cmd.Output()
	if err != nil {
		t.Fatalf("host run: %v", err)
	}
	if string(host) != smpWant(n) {
		t.Fatalf("on the host, pinned to %d CPUs:\n%s\nwant\n%s", n, host, smpWant(n))
	}
	wantOutput(t, Boot(t, Build(t, "testdata/progs/smp"), qemu.Config{SMP: n}), string(host), 0)
}

// -smp 4 on both machine types and both CPU models.
func TestBootSMPMachines(t *testing.T) {
	img := Build(t, "testdata/progs/smp")
	for _, c := range []qemu.Config{
		{Machine: "pc", CPU: "qemu64"},
		{Machine: "q35", CPU: "max"},
		{Machine: "q35", CPU: "qemu64"},
	} {
		t.Run(c.Machine+"-"+c.CPU, func(t *testing.T) {
			c.SMP = 4
			wantOutput(t, Boot(t, img, c), smpWant(4), 0)
		})
	}
}

// Without ACPI there is no MADT: one CPU, said plainly, and the program runs.
func TestBootNoMADT(t *testing.T) {
	res := Boot(t, Build(t, "testdata/progs/smp"), qemu.Config{SMP: 2, ExtraArgs: []string{"-no-acpi"}})
	wantOutput(t, res, smpWant(1), 0)
	wantContains(t, "kernel log", res.Debug, "rt0: no ACPI MADT: running on the boot CPU only")
}

// The stress program (goroutines, select, timers, GC, 200 MB) on 4 CPUs
// prints what it prints on the host, but for the order of its three
// AfterFunc callbacks: each runs in a goroutine of its own, and on several
// CPUs one whose P is busy may start after the next one's (10 ms later)
// there as on Linux; that all three fired, after 30 ms, is still checked.
func TestBootStressSMP(t *testing.T) {
	want := hostRun(t, "examples/stress")
	res := Boot(t, Build(t, "examples/stress"), qemu.Config{SMP: 4, Memory: "512M"})
	timersInAnyOrder := regexp.MustCompile(`timers: (10 20 30|10 30 20|20 10 30|20 30 10|30 10 20|30 20 10) true`)
	got := timersInAnyOrder.ReplaceAllString(string(res.Serial), "timers: 10 20 30 true")
	if got != want || res.ExitCode != 0 {
		t.Errorf("serial %q exit %d; want %q exit 0", res.Serial, res.ExitCode, want)
	}
}

// madt returns an ACPI MADT listing processors with the given APIC IDs
// (all enabled), QEMU's I/O APIC and its IRQ 0 -> GSI 2 override.
func madt(ids ...byte) []byte {
	le32 := func(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	t := make([]byte, 36)
	copy(t, "APIC")
	t[8] = 3 // revision
	copy(t[10:], "RT0   ")
	copy(t[16:], "RT0TEST ")
	t = append(t, le32(0xFEE00000)...)
	t = append(t, le32(1)...) // PCAT_COMPAT: there are 8259s
	for i, id := range ids {
		t = append(t, 0, 8, byte(i), id)
		t = append(t, le32(1)...)
	}
	t = append(t, 1, 12, 0, 0)
	t = append(t, le32(0xFEC00000)...)
	t = append(t, le32(0)...)
	t = append(t, 2, 10, 0, 0)
	t = append(t, le32(2)...)
	t = append(t, 0, 0)
	n := uint32(len(t))
	copy(t[4:], le32(n))
	var sum byte
	for _, b := range t {
		sum += b
	}
	t[9] = -sum
	return t
}

// A processor the MADT lists but that never answers its startup IPIs (APIC
// ID 7 on a 2-CPU machine) is reported and left out, after its bounded
// wait; the program runs on the CPUs that did start.
func TestBootAPNotAnswering(t *testing.T) {
	file := filepath.Join(t.TempDir(), "madt.bin")
	if err := os.WriteFile(file, madt(0, 1, 7), 0o644); err != nil {
		t.Fatal(err)
	}
	res := Boot(t, Build(t, "testdata/progs/smp"), qemu.Config{SMP: 2, ExtraArgs: []string{"-acpitable", "file=" + file}})
	// The report is on the console too: the user sees it.
	wantOutput(t, res, "rt0: CPU with APIC ID 7 did not answer its startup IPIs within 1 s: left out\n"+smpWant(2), 0)
	wantContains(t, "kernel log", res.Debug,
		"rt0: CPU with APIC ID 7 did not answer its startup IPIs within 1 s: left out",
		"rt0: CPUs: 3 in the MADT, 2 started; APIC IDs 0 1")
}
