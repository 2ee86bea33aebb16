package qemu

// These tests boot real (hand-assembled) multiboot images in QEMU. Every run
// has a timeout; TCG is forced except in the KVM probe test.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testTimeout = 30 * time.Second

func needQEMU(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath((&Config{}).binary()); err != nil {
		t.Fatalf("QEMU is required for this test: %v", err)
	}
}

func writeKernel(t *testing.T, dir, name string, img []byte) string {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, c Config) *Result {
	t.Helper()
	needQEMU(t)
	if c.Accel == "" {
		c.Accel = AccelTCG
	}
	if c.Timeout == 0 {
		c.Timeout = testTimeout
	}
	res, err := Run(context.Background(), c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("exit %d line=%v status=%d timedout=%v wall=%v reason=%q", res.ExitCode, res.ExitLine, res.QEMUStatus, res.TimedOut, res.Wall, res.Reason)
	return res
}

func TestRunMinimal(t *testing.T) {
	k := writeKernel(t, "", "k.elf", MinimalKernel("ok\n", "rt0: exit 7\n", 7))
	var serial, debug bytes.Buffer
	res := run(t, Config{Kernel: k, Serial: &serial, Debug: &debug})
	if res.ExitCode != 7 || !res.ExitLine || res.TimedOut || res.QEMUStatus != 15 || res.Reason != "" {
		t.Errorf("got exit %d line=%v timedout=%v status=%d reason=%q; want 7 from the exit line, QEMU status 15",
			res.ExitCode, res.ExitLine, res.TimedOut, res.QEMUStatus, res.Reason)
	}
	if string(res.Serial) != "ok\n" || serial.String() != "ok\n" {
		t.Errorf("serial = %q, sink %q; want \"ok\\n\"", res.Serial, serial.String())
	}
	if string(res.Debug) != "rt0: exit 7\n" || debug.String() != "rt0: exit 7\n" {
		t.Errorf("debug = %q, sink %q", res.Debug, debug.String())
	}
	if res.Accel != AccelTCG || res.Wall <= 0 || res.Wall > testTimeout {
		t.Errorf("accel %q wall %v", res.Accel, res.Wall)
	}
}

// Every byte value, including NUL, CR, LF and 0xff, must reach the sink
// unchanged: no tty, no CRLF translation.
func TestRunSerialByteExact(t *testing.T) {
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	all = append(all, "\n\r\n\n"...)
	k := writeKernel(t, "", "k.elf", MinimalKernel(string(all), "rt0: exit 0\n", 0))
	var serial bytes.Buffer
	res := run(t, Config{Kernel: k, Serial: &serial})
	if !bytes.Equal(res.Serial, all) || !bytes.Equal(serial.Bytes(), all) {
		t.Errorf("serial not byte-exact:\n got %q\nwant %q", res.Serial, all)
	}
	if res.ExitCode != 0 || !res.ExitLine {
		t.Errorf("exit %d line=%v; want 0", res.ExitCode, res.ExitLine)
	}
}

func TestRunExitAbove127(t *testing.T) {
	k := writeKernel(t, "", "k.elf", MinimalKernel("", "rt0: exit 200\n", 200))
	res := run(t, Config{Kernel: k})
	if res.ExitCode != 200 || !res.ExitLine || res.QEMUStatus != (200<<1|1)&0xff {
		t.Errorf("exit %d line=%v status=%d; want 200 from the line, status 145", res.ExitCode, res.ExitLine, res.QEMUStatus)
	}
}

func TestRunNoExitLine(t *testing.T) {
	k := writeKernel(t, "", "k.elf", MinimalKernel("x", "booting\n", 5))
	res := run(t, Config{Kernel: k})
	if res.ExitCode != 5 || res.ExitLine || res.QEMUStatus != 11 {
		t.Errorf("exit %d line=%v status=%d; want 5 decoded from QEMU status 11", res.ExitCode, res.ExitLine, res.QEMUStatus)
	}
}

func TestRunTripleFault(t *testing.T) {
	k := writeKernel(t, "", "k.elf", MinimalKernel("", "about to fault\n", TripleFault))
	res := run(t, Config{Kernel: k})
	if res.ExitCode != ExitFailure || res.ExitLine || res.TimedOut || res.QEMUStatus != 0 ||
		!strings.Contains(res.Reason, "machine reset/stopped without an exit status") {
		t.Errorf("exit %d line=%v status=%d reason=%q; want 125, machine reset", res.ExitCode, res.ExitLine, res.QEMUStatus, res.Reason)
	}
	if string(res.Debug) != "about to fault\n" {
		t.Errorf("debug = %q", res.Debug)
	}
}

func TestRunTimeout(t *testing.T) {
	k := writeKernel(t, "", "k.elf", MinimalKernel("hung\n", "", HangForever))
	res := run(t, Config{Kernel: k, Timeout: time.Second})
	if !res.TimedOut || res.ExitCode != ExitTimeout || res.ExitLine {
		t.Errorf("timedout=%v exit %d; want timed out, 124", res.TimedOut, res.ExitCode)
	}
	if string(res.Serial) != "hung\n" {
		t.Errorf("serial before the timeout lost: %q", res.Serial)
	}
	if res.Wall < time.Second || res.Wall > 10*time.Second {
		t.Errorf("wall %v for a 1s timeout", res.Wall)
	}
}

// A kernel that writes its exit line but never reaches isa-debug-exit is
// killed after ExitGrace and still reports its status.
func TestRunExitLineThenHang(t *testing.T) {
	k := writeKernel(t, "", "k.elf", MinimalKernel("", "rt0: exit 3\n", HangForever))
	res := run(t, Config{Kernel: k, ExitGrace: 200 * time.Millisecond})
	if res.ExitCode != 3 || !res.ExitLine || res.TimedOut || res.Reason == "" {
		t.Errorf("exit %d line=%v timedout=%v reason=%q; want 3 with a reason", res.ExitCode, res.ExitLine, res.TimedOut, res.Reason)
	}
	if res.Wall > 10*time.Second {
		t.Errorf("not killed after the grace period: wall %v", res.Wall)
	}
}

func TestRunCancel(t *testing.T) {
	needQEMU(t)
	k := writeKernel(t, "", "k.elf", MinimalKernel("", "", HangForever))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, Config{Kernel: k, Accel: AccelTCG, Timeout: testTimeout})
	if !errors.Is(err, context.DeadlineExceeded) || res == nil || res.TimedOut || res.Wall > 10*time.Second {
		t.Errorf("Run = %+v, %v; want the context's error soon", res, err)
	}
}

func TestRunBadImage(t *testing.T) {
	k := writeKernel(t, "", "k.elf", []byte("this is not a kernel\n"))
	res := run(t, Config{Kernel: k})
	if res.ExitCode != ExitFailure || res.ExitLine || res.QEMUStatus != 1 || len(res.Stderr) == 0 ||
		!strings.Contains(res.Reason, "QEMU said") {
		t.Errorf("exit %d status %d stderr %q reason %q; want 125 with QEMU's message", res.ExitCode, res.QEMUStatus, res.Stderr, res.Reason)
	}
}

func TestRunMissingKernel(t *testing.T) {
	if _, err := Run(context.Background(), Config{Kernel: "/nonexistent/k.elf", Accel: AccelTCG}); err == nil {
		t.Error("no error for a missing kernel")
	}
}

// cmdlineCode prints the multiboot command line (mbi->cmdline, [ebx+16])
// to COM1.
var cmdlineCode = []byte{
	0xFC,             // cld
	0x8B, 0x73, 0x10, // mov esi, [ebx+16]
	0x66, 0xBA, 0xF8, 0x03, // mov dx, 0x3f8
	0xAC,       // loop: lodsb
	0x84, 0xC0, // test al, al
	0x74, 0x03, // jz done
	0xEE,       // out dx, al
	0xEB, 0xF8, // jmp loop
	// done:
}

// The kernel sees "<kernel path> <append>"; a path that the kernel would
// split into several words is replaced by a plain name.
func TestRunCommandLine(t *testing.T) {
	img := minimalKernel(cmdlineCode, "\n", "rt0: exit 0\n", 0)
	appendLine := `rt0.x=1 A="b c" -- arg\"1`
	for _, tc := range []struct{ dir, name string }{
		{"", "plain.elf"},
		{"with space", "plain.elf"},
		{"", `odd "name".elf`},
	} {
		dir := t.TempDir()
		if tc.dir != "" {
			dir = filepath.Join(dir, tc.dir)
			os.Mkdir(dir, 0o755)
		}
		k := writeKernel(t, dir, tc.name, img)
		res := run(t, Config{Kernel: k, Append: appendLine})
		line := strings.TrimSuffix(string(res.Serial), "\n")
		first, rest, _ := strings.Cut(line, " ")
		if rest != appendLine || needsQuote(first) || !strings.HasSuffix(first, "elf") && first != "kernel" {
			t.Errorf("kernel %q: command line %q; want <plain path> %s", k, line, appendLine)
		}
		if tc.dir == "" && tc.name == "plain.elf" && first != k {
			t.Errorf("first word %q; want %q", first, k)
		}
		if res.ExitCode != 0 {
			t.Errorf("exit %d", res.ExitCode)
		}
	}
}

// echoCode echoes COM1 input back to COM1 until it has echoed a '.'.
var echoCode = []byte{
	0x66, 0xBA, 0xFD, 0x03, // top: mov dx, 0x3fd (LSR)
	0xEC,       // poll: in al, dx
	0xA8, 0x01, // test al, 1 (data ready)
	0x74, 0xFB, // jz poll
	0x66, 0xBA, 0xF8, 0x03, // mov dx, 0x3f8
	0xEC,      // in al, dx
	0xEE,      // out dx, al
	0x3C, '.', // cmp al, '.'
	0x75, 0xED, // jne top
}

// announce is code that logs line on debugcon (mov al, imm8; out 0xe9, al).
func announce(line string) []byte {
	var code []byte
	for _, b := range []byte(line) {
		code = append(code, 0xB0, b, 0xE6, 0xE9)
	}
	return code
}

// Run sends stdin only after the guest logs InputReadyLine.
func TestRunStdin(t *testing.T) {
	code := append(announce(InputReadyLine+"\n"), echoCode...)
	k := writeKernel(t, "", "k.elf", minimalKernel(code, "!", "rt0: exit 0\n", 0))
	in := "hello\r\n\x00\xff\x03 world."
	res := run(t, Config{Kernel: k, Stdin: strings.NewReader(in + "ignored")})
	if string(res.Serial) != in+"!" || res.ExitCode != 0 {
		t.Errorf("echo = %q exit %d; want %q", res.Serial, res.ExitCode, in+"!")
	}
}

// A stdin that never ends (a terminal nobody types into) must not keep Run
// from returning.
func TestRunStdinBlocked(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	k := writeKernel(t, "", "k.elf", MinimalKernel("ok\n", "rt0: exit 0\n", 0))
	res := run(t, Config{Kernel: k, Stdin: r})
	if string(res.Serial) != "ok\n" || res.ExitCode != 0 || res.Wall > 10*time.Second {
		t.Errorf("serial %q exit %d wall %v", res.Serial, res.ExitCode, res.Wall)
	}
}

func TestRunSMPAndMemory(t *testing.T) {
	k := writeKernel(t, "", "k.elf", MinimalKernel("ok\n", "rt0: exit 0\n", 0))
	res := run(t, Config{Kernel: k, SMP: 2, Memory: "64M"})
	if res.ExitCode != 0 || string(res.Serial) != "ok\n" {
		t.Errorf("exit %d serial %q", res.ExitCode, res.Serial)
	}
}

// On this host's own QEMU and /dev/kvm, whatever they are: the probe
// boots rt0's kernel quickly, its answer is cached, and AccelAuto boots.
func TestKVMProbe(t *testing.T) {
	needQEMU(t)
	t.Setenv("RT0_ACCEL", "")
	realProbeKernel(t) // the build is not the probe's time
	t.Setenv("XDG_CACHE_HOME", probeKernelDir)
	start := time.Now()
	err := ProbeKVM("")
	first := time.Since(start)
	t.Logf("KVM probe: %v (%v)", err, first)
	if first > ProbeTimeout+5*time.Second {
		t.Errorf("probe took %v", first)
	}
	start = time.Now()
	if err2 := ProbeKVM(""); (err2 == nil) != (err == nil) || time.Since(start) > 100*time.Millisecond {
		t.Errorf("probe not cached: %v then %v after %v", err, err2, time.Since(start))
	}
	k := writeKernel(t, "", "k.elf", MinimalKernel("ok\n", "rt0: exit 0\n", 0))
	res := run(t, Config{Kernel: k, Accel: AccelAuto})
	if res.ExitCode != 0 || string(res.Serial) != "ok\n" {
		t.Errorf("auto accel (%s): exit %d serial %q", res.Accel, res.ExitCode, res.Serial)
	}
	if want := map[bool]string{true: AccelKVM, false: AccelTCG}[err == nil]; res.Accel != want {
		t.Errorf("auto picked %s; want %s", res.Accel, want)
	}
}
