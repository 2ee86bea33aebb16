package qemu

// The accelerator choice, its cache and the fall back to TCG, against a
// fake QEMU that behaves like the nested KVM of rt0's development
// machines: under -accel kvm it runs a hand-assembled kernel (it hands it
// to the real QEMU under TCG) but stops a real rt0 kernel (an ELF) with
// KVM's internal-error text, then waits with the VM stopped, as QEMU does.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeQEMU writes the fake QEMU script into dir and returns its path. Each
// invocation appends its arguments to dir/calls. With printFirst, the fake
// writes that much of the guest's serial output before KVM "fails".
func fakeQEMU(t *testing.T, dir, printFirst string) string {
	t.Helper()
	real, err := exec.LookPath(DefaultBinary)
	if err != nil {
		t.Fatalf("QEMU is required for this test: %v", err)
	}
	script := `#!/bin/bash
echo "$*" >> '` + filepath.Join(dir, "calls") + `'
kvm= kernel= args=()
while [ $# -gt 0 ]; do
	case "$1" in
	-accel) shift; [ "$1" = kvm ] && kvm=1; args+=(-accel tcg) ;;
	-kernel) shift; kernel=$1; args+=(-kernel "$1") ;;
	*) args+=("$1") ;;
	esac
	shift
done
if [ -n "$kvm" ] && [ "$(head -c 4 "$kernel" | tail -c 3)" = ELF ]; then
	printf '%s' '` + printFirst + `'
	echo 'KVM internal error. Suberror: 1' >&2
	echo 'extra data[0]: 0x0000000000000000' >&2
	echo 'emulation failure' >&2
	echo 'RAX=0000000000000620 RBX=0000000000626560' >&2
	exec sleep 120
fi
exec '` + real + `' "${args[@]}"
`
	p := filepath.Join(dir, "qemu-system-x86_64")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// isolate gives a test its own cache directory and a KVM device that
// opens (a plain file: the fake QEMU never uses it).
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("RT0_ACCEL", "")
	dev := filepath.Join(dir, "kvm")
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := kvmDevice
	kvmDevice = dev
	t.Cleanup(func() { kvmDevice = old })
	return dir
}

// minimalProbe makes the probe boot MinimalKernel, as the probe of old
// did, counting the builds.
func minimalProbe(t *testing.T, dir string, builds *int) {
	t.Helper()
	k := writeKernel(t, dir, "minimal.bin", MinimalKernel("ok\n", "rt0: exit 7\n", 7))
	old := probeBuild
	probeBuild = func() (ProbeImage, error) {
		*builds++
		return ProbeImage{Kernel: k, Serial: "ok\n", Status: 7}, nil
	}
	t.Cleanup(func() { probeBuild = old })
}

var (
	probeKernelOnce sync.Once
	probeKernelImg  ProbeImage
	probeKernelErr  error
	probeKernelDir  string // the cache it was built into
)

// realProbeKernel builds the probe's real kernel once for all the tests,
// into a cache directory of their own.
func realProbeKernel(t *testing.T) ProbeImage {
	t.Helper()
	probeKernelOnce.Do(func() {
		probeKernelDir, probeKernelErr = os.MkdirTemp("", "rt0-probe-cache-")
		if probeKernelErr != nil {
			return
		}
		old, had := os.LookupEnv("XDG_CACHE_HOME")
		os.Setenv("XDG_CACHE_HOME", probeKernelDir)
		probeKernelImg, probeKernelErr = buildProbeImage()
		if had {
			os.Setenv("XDG_CACHE_HOME", old)
		} else {
			os.Unsetenv("XDG_CACHE_HOME")
		}
	})
	if probeKernelErr != nil {
		t.Fatalf("building the probe's kernel: %v", probeKernelErr)
	}
	return probeKernelImg
}

func TestMain(m *testing.M) {
	code := m.Run()
	if probeKernelDir != "" {
		os.RemoveAll(probeKernelDir)
	}
	os.Exit(code)
}

// The probe's kernel is a real rt0 kernel that prints what probeimage.go
// says it prints, with that status: checked under TCG.
func TestProbeImageUnderTCG(t *testing.T) {
	isolate(t)
	img := realProbeKernel(t)
	res := run(t, Config{Kernel: img.Kernel, Memory: "64M"})
	if res.ExitCode != img.Status || !res.ExitLine || string(res.Serial) != img.Serial {
		t.Fatalf("probe kernel: exit %d (line %v), serial %q; want exit %d, %q\ndebug:\n%s",
			res.ExitCode, res.ExitLine, res.Serial, img.Status, img.Serial, res.Debug)
	}
	// Built once per version of rt0: a second call finds it in the cache.
	t.Setenv("XDG_CACHE_HOME", probeKernelDir)
	start := time.Now()
	if img2, err := buildProbeImage(); err != nil || img2.Kernel != img.Kernel || time.Since(start) > time.Second {
		t.Errorf("second build: %v, %v after %v; want the cached %s at once", img2.Kernel, err, time.Since(start), img.Kernel)
	}
}

// The minimal kernel runs under the fake's KVM, rt0's does not: a probe
// that boots rt0's kernel says no, fast.
func TestProbeBootsRealKernel(t *testing.T) {
	dir := isolate(t)
	fake := fakeQEMU(t, dir, "")
	k := writeKernel(t, dir, "minimal.bin", MinimalKernel("ok\n", "rt0: exit 7\n", 7))
	res := run(t, Config{QEMU: fake, Kernel: k, Accel: AccelKVM})
	if res.ExitCode != 7 || res.KVMError != "" {
		t.Fatalf("premise: the minimal kernel must pass under the fake KVM; exit %d, KVM error %q", res.ExitCode, res.KVMError)
	}
	img := realProbeKernel(t) // built before the clock starts
	old := probeBuild
	probeBuild = func() (ProbeImage, error) { return img, nil }
	t.Cleanup(func() { probeBuild = old })
	start := time.Now()
	err := ProbeKVM(fake)
	took := time.Since(start)
	t.Logf("probe: %v (%v)", err, took)
	if err == nil || !strings.Contains(err.Error(), "KVM internal error. Suberror: 1: emulation failure") {
		t.Errorf("probe = %v; want KVM's internal error", err)
	}
	if took > 5*time.Second {
		t.Errorf("probe took %v; the failure should be noticed at once", took)
	}
}

// Auto chose KVM (the probe of old passed), the run fails under KVM: the
// same machine boots again under TCG, output shown once, status TCG's, in
// seconds, and the verdict turns to no.
func TestKVMFallback(t *testing.T) {
	dir := isolate(t)
	fake := fakeQEMU(t, dir, "rt0 kvm")
	builds := 0
	minimalProbe(t, dir, &builds)
	img := realProbeKernel(t)
	c := Config{QEMU: fake, Kernel: img.Kernel, Memory: "64M", Timeout: time.Minute}
	if ch, err := c.Accelerator(); err != nil || ch.Accel != AccelKVM || !ch.Auto {
		t.Fatalf("premise: auto must choose KVM after the minimal probe; got %+v, %v", ch, err)
	}
	var serial, notice bytes.Buffer
	c.Serial, c.Notice = &serial, &notice
	start := time.Now()
	res, err := Run(context.Background(), c)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fell back in %v: %s", took, notice.String())
	if res.ExitCode != img.Status || res.Accel != AccelTCG || !strings.Contains(res.Fallback, "KVM internal error") {
		t.Errorf("exit %d accel %s fallback %q; want %d under TCG after KVM's error", res.ExitCode, res.Accel, res.Fallback, img.Status)
	}
	if serial.String() != img.Serial || string(res.Serial) != img.Serial {
		t.Errorf("serial shown %q (result %q); want %q once", serial.String(), res.Serial, img.Serial)
	}
	if n := strings.Count(notice.String(), "\n"); n != 1 || !strings.Contains(notice.String(), "under TCG") {
		t.Errorf("notice %q; want one line saying TCG", notice.String())
	}
	if took > 20*time.Second {
		t.Errorf("fallback took %v; want seconds, not the timeout", took)
	}
	ch, err := c.Accelerator()
	if err != nil || ch.Accel != AccelTCG || !strings.Contains(ch.Why, "a run failed under KVM") {
		t.Errorf("after the fallback auto gives %+v, %v; want TCG, saying a run failed", ch, err)
	}
	if builds != 1 {
		t.Errorf("probe ran %d times; want once", builds)
	}
}

// An explicit KVM does not fall back: exit 125 with QEMU's message, fast.
func TestKVMExplicitFailure(t *testing.T) {
	dir := isolate(t)
	fake := fakeQEMU(t, dir, "")
	img := realProbeKernel(t)
	start := time.Now()
	res := run(t, Config{QEMU: fake, Kernel: img.Kernel, Accel: AccelKVM, Timeout: time.Minute})
	if res.ExitCode != ExitFailure || !strings.Contains(res.Reason, "KVM internal error. Suberror: 1: emulation failure") || res.Fallback != "" {
		t.Errorf("exit %d reason %q fallback %q; want 125 with KVM's message", res.ExitCode, res.Reason, res.Fallback)
	}
	if !bytes.Contains(res.Stderr, []byte("RAX=")) {
		t.Errorf("QEMU's register dump missing from Stderr: %q", res.Stderr)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v", took)
	}
}

// The verdict is cached on disk: a new process does not probe again; a
// changed QEMU binary does.
func TestKVMVerdictCache(t *testing.T) {
	dir := isolate(t)
	fake := fakeQEMU(t, dir, "")
	builds := 0
	minimalProbe(t, dir, &builds)
	choose := func() Choice {
		t.Helper()
		ch, err := (&Config{QEMU: fake}).Accelerator()
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	forget := func() { verdictMu.Lock(); clear(verdicts); verdictMu.Unlock() }

	if ch := choose(); ch.Accel != AccelKVM || builds != 1 || strings.Contains(ch.Why, "cached") {
		t.Fatalf("first: %+v after %d probes; want KVM after one fresh probe", ch, builds)
	}
	forget()
	if ch := choose(); ch.Accel != AccelKVM || builds != 1 || !strings.Contains(ch.Why, "cached") {
		t.Errorf("second process: %+v after %d probes; want the cached verdict, no probe", ch, builds)
	}
	calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
	if n := strings.Count(string(calls), "\n"); n != 1 {
		t.Errorf("QEMU ran %d times; want 1 (the one probe)", n)
	}
	// Upgrade QEMU: a different binary, probed again.
	time.Sleep(10 * time.Millisecond)
	f, err := os.OpenFile(fake, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# upgraded\n")
	f.Close()
	forget()
	if ch := choose(); ch.Accel != AccelKVM || builds != 2 {
		t.Errorf("after a QEMU change: %+v after %d probes; want a second probe", ch, builds)
	}
	// A cached no is believed too.
	recordKVMFailure(choose().key, "a run failed under KVM: test")
	forget()
	if ch := choose(); ch.Accel != AccelTCG || !strings.Contains(ch.Why, "test (cached") || builds != 2 {
		t.Errorf("cached no: %+v after %d probes", ch, builds)
	}
}

// No KVM device that opens: TCG, no probe, and the reason.
func TestAccelNoDevice(t *testing.T) {
	isolate(t)
	kvmDevice = filepath.Join(t.TempDir(), "absent")
	ch, err := (&Config{}).Accelerator()
	if err != nil || ch.Accel != AccelTCG || !strings.Contains(ch.Why, "no such file") {
		t.Errorf("got %+v, %v", ch, err)
	}
	for _, a := range []string{AccelTCG, AccelKVM} {
		t.Setenv("RT0_ACCEL", a)
		if ch, err := (&Config{}).Accelerator(); err != nil || ch.Accel != a || ch.Why != "RT0_ACCEL="+a {
			t.Errorf("RT0_ACCEL=%s: %+v, %v", a, ch, err)
		}
		if ch, err := (&Config{Accel: AccelTCG}).Accelerator(); err != nil || ch.Accel != AccelTCG || ch.Why != "-accel=tcg" {
			t.Errorf("-accel tcg over RT0_ACCEL=%s: %+v, %v", a, ch, err)
		}
	}
}

func TestKVMWatcher(t *testing.T) {
	w := newKVMWatcher()
	w.Write([]byte("qemu-system-x86_64: warning: host doesn't support requested feature\nKVM internal err"))
	select {
	case <-w.failed:
		t.Fatal("failed before a whole line")
	default:
	}
	w.Write([]byte("or. Suberror: 1\nextra data[0]: 0x0\nemulation failure\nRAX=0\n"))
	select {
	case <-w.failed:
	default:
		t.Fatal("not failed")
	}
	if got := w.message(); got != "KVM internal error. Suberror: 1: emulation failure" {
		t.Errorf("message %q", got)
	}
}

func TestSkipShown(t *testing.T) {
	for _, tc := range []struct {
		shown  string
		writes []string
		want   string
	}{
		{"hello,wor", []string{"hel", "lo,world\n"}, "ld\n"},
		{"", []string{"abc"}, "abc"},
		{"abc", []string{"abc"}, ""},
		{"abX", []string{"abcdef"}, "cdef"},
		{"abc", []string{"ab", "Zc"}, "Zc"},
	} {
		var out bytes.Buffer
		s := &skipShown{w: &out, shown: []byte(tc.shown)}
		for _, w := range tc.writes {
			if n, _ := s.Write([]byte(w)); n != len(w) {
				t.Errorf("Write returned %d", n)
			}
		}
		if out.String() != tc.want {
			t.Errorf("shown %q, writes %q: passed %q; want %q", tc.shown, tc.writes, out.String(), tc.want)
		}
	}
}

func TestInputTap(t *testing.T) {
	src := strings.Repeat("0123456789", 10000)
	tap := newInputTap(strings.NewReader(src))
	a := tap.reader()
	buf := make([]byte, 7)
	if n, err := a.Read(buf); n != 7 || err != nil || string(buf) != "0123456" {
		t.Fatalf("first read %d %v %q", n, err, buf)
	}
	b := tap.reader()
	var all bytes.Buffer
	if _, err := all.ReadFrom(b); err != nil || all.String() != src {
		t.Errorf("second reader: %d bytes, %v; want all %d from the start", all.Len(), err, len(src))
	}
	var rest bytes.Buffer
	rest.ReadFrom(a)
	if rest.String() != src[7:] {
		t.Errorf("first reader's rest: %d bytes", rest.Len())
	}
	if n, err := newInputTap(nil).reader().Read(buf); n != 0 || err == nil {
		t.Errorf("nil source: %d, %v; want EOF", n, err)
	}
}

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]uint64{
		"256M": 256 << 20, "256": 256 << 20, "1G": 1 << 30, "1.5g": 3 << 29, "4096K": 4 << 20,
		"size=512M,slots=2": 512 << 20, "64m": 64 << 20, "1048576B": 1 << 20, "1T": 1 << 40,
	} {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "M", "12Q", "-5M", "1e3M", "0x10M", "abc", "99999999999T"} {
		if got, err := ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q) = %d; want an error", bad, got)
		}
	}
}

// The smallest -m is the image's end in whole MiB: below it the machine is
// refused, at it accepted.
func TestCheckMemory(t *testing.T) {
	isolate(t)
	img := realProbeKernel(t)
	end, err := ImageEnd(img.Kernel)
	if err != nil {
		t.Fatal(err)
	}
	min, err := MinMemoryMiB(img.Kernel)
	if err != nil || min<<20 < end || (min-1)<<20 >= end {
		t.Fatalf("MinMemoryMiB = %d, %v for an image ending at %#x", min, err, end)
	}
	if err := CheckMemory(img.Kernel, itoa(min)+"M"); err != nil {
		t.Errorf("-m %dM: %v", min, err)
	}
	err = CheckMemory(img.Kernel, "4M")
	if err == nil || !strings.Contains(err.Error(), "smallest -m that holds it is "+itoa(min)+"M") {
		t.Errorf("-m 4M: %v", err)
	}
	// The kernel agrees: one MiB less than the smallest does not boot.
	res := run(t, Config{Kernel: img.Kernel, Memory: itoa(min-1) + "M"})
	if res.ExitCode != ExitFailure || !bytes.Contains(res.Serial, []byte("too little memory")) {
		t.Errorf("-m %dM: exit %d, serial %q; want the kernel's own refusal", min-1, res.ExitCode, res.Serial)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
