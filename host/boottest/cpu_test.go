package boottest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"rt0/host/build"
	"rt0/host/linuxguest"
	"rt0/host/qemu"
)

// The CPU features a Go program sees on rt0 are those it sees on Linux on
// the same virtual CPU: golang.org/x/sys/cpu's flags, AVX and AVX2 among
// them (true only if the OS turned XSAVE and XCR0's AVX state on), for
// QEMU's -cpu max (XSAVE and AVX under TCG) and -cpu qemu64 (no XSAVE:
// SSE only). TestBootRegisters checks the YMM registers where AVX is on.
func TestBootCPUFeatures(t *testing.T) {
	sameAsLinux(t, "testdata/progs/cpuflags", nil, "max", "qemu64")
}

// A signal frame's floating-point state is Linux's: uc_flags, the
// fpstate's alignment, the XSAVE image with _fpx_sw_bytes and
// FP_XSTATE_MAGIC2 (or the FXSAVE image without XSAVE), the thread's XMM
// and YMM registers in it, and rt_sigreturn taking back what a handler
// changed there.
func TestBootSignalFPState(t *testing.T) {
	sameAsLinux(t, "testdata/progs/sigfpstate", nil, "max", "qemu64")
}

// An image a handler broke — a compacted-format bit in the XSAVE header,
// or MXCSR's reserved bits set (with XSAVE and without) — is a bad frame
// for rt_sigreturn, as on Linux on hardware: SIGSEGV (SI_KERNEL) forced at
// the interrupted instruction, which the runtime reports as a fault; the
// kernel's own XRSTOR or FXRSTOR never sees it. On the host (Linux) the
// same program ends the same way. (A Linux guest under TCG does not: QEMU's
// FXRSTOR and XRSTOR do not fault on reserved MXCSR bits, and Linux counts
// on the fault.)
func TestBootSignalBadFrame(t *testing.T) {
	const fault = "unexpected fault address 0x0\nfatal error: fault\n[signal SIGSEGV: segmentation violation code=0x80 addr=0x0 pc="
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"badheader", "badmxcsr"} {
		cmd := exec.Command(goCommand(), "run", "./testdata/progs/sigfpstate", mode)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if !strings.Contains(string(out), fault) || !strings.Contains(string(out), "main.raise(") || err == nil {
			t.Fatalf("on the host, %s: %v\n%s", mode, err, out)
		}
	}
	img := Build(t, "testdata/progs/sigfpstate")
	for _, c := range []struct{ cpu, mode string }{{"max", "badheader"}, {"max", "badmxcsr"}, {"qemu64", "badmxcsr"}} {
		t.Run(c.cpu+"-"+c.mode, func(t *testing.T) {
			res := Boot(t, img, qemu.Config{SMP: 1, CPU: c.cpu, Append: "-- " + c.mode})
			if res.ExitCode != 2 {
				t.Errorf("exit %d, want 2 (the runtime's fatal error)", res.ExitCode)
			}
			wantContains(t, "output", res.Serial, fault, "main.raise(")
			if strings.Contains(string(res.Serial), "rt_sigreturn took it") {
				t.Error("rt_sigreturn took the broken image")
			}
		})
	}
}

// sameAsLinux boots prog with args on rt0 and as the init of a Linux
// guest (host/linuxguest: Debian's cloud kernel, fetched once into the
// cache) on each QEMU CPU model, one CPU each, and wants the same output;
// the program prints "NAME done" last (its base name).
func sameAsLinux(t *testing.T, prog string, args []string, cpus ...string) {
	t.Helper()
	kernel, err := linuxguest.Kernel(context.Background())
	if err != nil {
		t.Fatalf("the Linux guest's kernel: %v", err)
	}
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	img := Build(t, prog)
	dir := t.TempDir()
	name := filepath.Base(prog)
	plain := filepath.Join(dir, name)
	cmd := exec.Command(goCommand(), "build", "-o", plain, "./"+prog)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", prog, err, out)
	}
	initrd := filepath.Join(dir, name+".cpio")
	if err := linuxguest.Initramfs(plain, initrd); err != nil {
		t.Fatal(err)
	}
	for _, cpu := range cpus {
		t.Run(cpu, func(t *testing.T) {
			m := qemu.Config{SMP: 1, CPU: cpu}
			r := m
			if len(args) > 0 {
				r.Append = "-- " + strings.Join(args, " ")
			}
			res := Boot(t, img, r)
			l, err := linuxguest.Run(context.Background(), kernel, initrd, linuxguest.Config{Machine: m, Args: args, Timeout: Timeout})
			if err != nil {
				t.Fatalf("Linux guest: %v", err)
			}
			t.Logf("Linux guest (%s): %s\nserial: %q", filepath.Base(kernel), l.Reason, l.Serial)
			want := strings.ReplaceAll(string(l.Serial), "\r\n", "\n") // the Linux tty's ONLCR
			if !strings.HasSuffix(want, name+" done\n") {
				t.Fatalf("the Linux guest did not finish: %q", want)
			}
			if got := string(res.Serial); got != want {
				t.Errorf("%s on rt0 and on Linux differ:\n%s", name, lineDiff(got, want))
			}
		})
	}
}

// lineDiff lists the lines of a and b that differ, side by side.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var s strings.Builder
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			s.WriteString("rt0: " + x + "\tLinux: " + y + "\n")
		}
	}
	return s.String()
}
