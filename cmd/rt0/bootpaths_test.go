package main

// Boot paths of `rt0 image`: the one hybrid image booted the ways a PC
// boots it, each asserting the program's output on serial (COM1) and its
// exit status (the kernel's "rt0: exit N" line on debugcon and
// isa-debug-exit):
//
//	firmware  SeaBIOS (legacy BIOS), OVMF (UEFI)
//	machine   pc (i440FX, PIIX IDE), q35 (ICH9, AHCI)
//	medium    CD (-cdrom), USB stick on xHCI, USB stick on EHCI
//
// plus 64 MiB and 4 GiB machines and the qemu64 CPU (every other path uses
// -cpu max) under both firmwares. Every machine has a VGA card, as a PC has
// (GRUB on UEFI looks for a video mode to hand over). TCG only.
//
// The test prints a table of QEMU wall times (median of $RT0_BOOT_RUNS
// boots per path, default 1; make bench-image-style reports use 3):
//
//	RT0_BOOT_RUNS=3 go test -run TestImageBootPaths -v ./cmd/rt0

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"rt0/host/build"
	"rt0/host/qemu"
	"rt0/host/shell"
)

// Debian's ovmf package.
const ()

// OVMF takes 4-7 s to reach GRUB under TCG; SeaBIOS well under one.
const imageBootTimeout = 90 * time.Second

// bootPath is one way of booting the image.
type bootPath struct {
	uefi    bool
	machine string // "pc" or "q35"
	medium  string // "cd", "usb-xhci" or "usb-ehci"
	memory  string // "" for qemu's DefaultMemory
	cpu     string // "" for DefaultCPU (max)
	smp     int    // CPUs; 0 for 1
}

func (p bootPath) String() string {
	fw := "bios"
	if p.uefi {
		fw = "uefi"
	}
	s := fw + "/" + p.machine + "/" + p.medium
	if p.memory != "" {
		s += "/" + p.memory
	}
	if p.cpu != "" {
		s += "/cpu=" + p.cpu
	}
	if p.smp != 0 {
		s += "/smp=" + strconv.Itoa(p.smp)
	}
	return s
}

// config returns the QEMU machine for p booting img.
func (p bootPath) config(img string) qemu.Config {
	c := qemu.Config{
		Accel:     qemu.AccelTCG,
		Machine:   p.machine,
		Memory:    p.memory,
		CPU:       p.cpu,
		SMP:       p.smp,
		Timeout:   imageBootTimeout,
		ExtraArgs: []string{"-device", "VGA"},
	}
	if p.uefi {
		c.Firmware, c.FirmwareVars = qemu.OVMFCode, qemu.OVMFVars
	}
	switch p.medium {
	case "cd":
		c.BootISO = img
	case "usb-xhci":
		c.BootUSB, c.USBController = img, "qemu-xhci"
	case "usb-ehci":
		c.BootUSB, c.USBController = img, "usb-ehci"
	default:
		panic("unknown medium " + p.medium)
	}
	return c
}

// imageBootPaths is the matrix.
func imageBootPaths() []bootPath {
	var paths []bootPath
	for _, uefi := range []bool{false, true} {
		for _, m := range []string{"pc", "q35"} {
			for _, medium := range []string{"cd", "usb-xhci", "usb-ehci"} {
				paths = append(paths, bootPath{uefi: uefi, machine: m, medium: medium})
			}
		}
		paths = append(paths,
			bootPath{uefi: uefi, machine: "q35", medium: "usb-xhci", memory: "64M"},
			bootPath{uefi: uefi, machine: "q35", medium: "usb-xhci", memory: "4G"},
			bootPath{uefi: uefi, machine: "pc", medium: "cd", cpu: "qemu64"},
			// The APs as firmware leaves them: SeaBIOS halted, OVMF
			// parked in its own loop; INIT and SIPI start them all.
			bootPath{uefi: uefi, machine: "q35", medium: "usb-xhci", smp: 4},
		)
	}
	return paths
}

// needImageTools fails the test (never skips it: make installs them) when
// what the boot paths need is missing.
func needImageTools(t *testing.T) {
	t.Helper()
	for _, f := range []string{qemu.OVMFCode, qemu.OVMFVars} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("UEFI firmware missing: %v (Debian package ovmf; make deps installs it)", err)
		}
	}
}

// bootImage boots img on p and returns the result.
func bootImage(t *testing.T, p bootPath, img string) *qemu.Result {
	t.Helper()
	res, err := qemu.Run(context.Background(), p.config(img))
	if err != nil {
		t.Fatalf("%v: qemu: %v", p, err)
	}
	return res
}

// programSerial returns the program's part of the serial output: all of it
// under SeaBIOS (GRUB for BIOS writes to the screen only); under OVMF the
// firmware's console, which GRUB uses, is on serial too, so what follows
// GRUB's last line (GRUB ends its lines with "\n\r" or "\r\n"; the program
// writes plain "\n").
func programSerial(p bootPath, serial []byte) string {
	s := string(serial)
	if !p.uefi {
		return s
	}
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// checkBoot reports what is wrong with a boot of a program that should
// print want on serial and exit with code under multiboot v<proto>.
func checkBoot(t *testing.T, p bootPath, res *qemu.Result, want string, code int, proto string) {
	t.Helper()
	ok := true
	if got := programSerial(p, res.Serial); got != want {
		t.Errorf("%v: program output %q, want %q", p, got, want)
		ok = false
	}
	if !res.ExitLine || res.ExitCode != code {
		t.Errorf("%v: exit %d (exit line %v, QEMU status %d): %s; want exit %d", p, res.ExitCode, res.ExitLine, res.QEMUStatus, res.Reason, code)
		ok = false
	}
	loader := "rt0: loader GRUB"
	if !strings.Contains(string(res.Debug), loader) || !strings.Contains(string(res.Debug), "(multiboot v"+proto+")") {
		t.Errorf("%v: kernel log lacks %q ... (multiboot v%s)", p, loader, proto)
		ok = false
	}
	if p.smp > 1 {
		if w := fmt.Sprintf("rt0: CPUs: %d in the MADT, %d started", p.smp, p.smp); !strings.Contains(string(res.Debug), w) {
			t.Errorf("%v: kernel log lacks %q", p, w)
			ok = false
		}
	}
	if !ok {
		t.Logf("%v: QEMU: %s\nserial:\n%q\ndebugcon:\n%s\nQEMU stderr:\n%s", p, shell.Quote(res.Args), res.Serial, res.Debug, res.Stderr)
	}
}

// bootRuns is how many times each path boots ($RT0_BOOT_RUNS, default 1).
func bootRuns(t *testing.T) int {
	s := os.Getenv("RT0_BOOT_RUNS")
	if s == "" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("RT0_BOOT_RUNS=%s: want a count of boots per path", s)
	}
	return n
}

// TestImageBootPaths builds examples/hello with `rt0 image` and boots the
// image every way in the matrix.
func TestImageBootPaths(t *testing.T) {
	needImageTools(t)
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "hello.img")
	var stdout, stderr strings.Builder
	if code := rt0Main([]string{"image", "-o", img, filepath.Join(root, "examples", "hello")}, stdio{strings.NewReader(""), &stdout, &stderr}); code != 0 {
		t.Fatalf("rt0 image: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	runs := bootRuns(t)
	type row struct {
		path  bootPath
		walls []time.Duration
		ok    bool
	}
	var rows []row
	for _, p := range imageBootPaths() {
		r := row{path: p, ok: true}
		for i := 0; i < runs; i++ {
			res := bootImage(t, p, img)
			r.walls = append(r.walls, res.Wall)
			failed := t.Failed()
			checkBoot(t, p, res, "hello,world\n", 0, "2")
			if !failed && t.Failed() {
				r.ok = false
				break // one failure's log is enough
			}
		}
		rows = append(rows, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "QEMU wall time per boot path (TCG, median of %d):\n\n", runs)
	fmt.Fprintf(&b, "| %-28s | %-6s | %10s |\n|---|---|---:|\n", "path (firmware/machine/medium)", "result", "wall")
	for _, r := range rows {
		res := "pass"
		if !r.ok {
			res = "FAIL"
		}
		fmt.Fprintf(&b, "| %-28s | %-6s | %8.2f s |\n", r.path, res, median(r.walls).Seconds())
	}
	t.Log("\n" + b.String())
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// The qemu.Config fields the boot paths use become the QEMU command line
// they should.
func TestImageQEMUArgs(t *testing.T) {
	c := bootPath{uefi: true, machine: "q35", medium: "usb-ehci"}.config("/x/a,b.img")
	args, err := c.Args()
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(args, " ")
	for _, w := range []string{
		"-machine q35",
		"-drive if=pflash,format=raw,unit=0,readonly=on,file=" + qemu.OVMFCode,
		"-drive if=pflash,format=raw,unit=1,file=" + qemu.OVMFVars,
		"-drive if=none,id=usbstick,format=raw,snapshot=on,file=/x/a,,b.img -device usb-ehci,id=usbhc -device usb-storage,bus=usbhc.0,drive=usbstick,bootindex=0",
		"-device isa-debug-exit",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("Args %q lack %q", s, w)
		}
	}
	if slices.Contains(args, "-kernel") || slices.Contains(args, "-cdrom") {
		t.Errorf("Args %q: a kernel or CD besides the USB stick", s)
	}
	c = bootPath{machine: "pc", medium: "cd"}.config("/x/a.img")
	args, err = c.Args()
	if err != nil {
		t.Fatal(err)
	}
	s = strings.Join(args, " ")
	if !strings.Contains(s, "-machine pc") || !strings.Contains(s, "-cdrom /x/a.img -boot d") || strings.Contains(s, "pflash") {
		t.Errorf("BIOS CD Args %q", s)
	}
	if _, err := (&qemu.Config{BootUSB: "x", Firmware: qemu.OVMFCode}).Args(); err == nil {
		t.Errorf("Firmware without FirmwareVars accepted")
	}
}
