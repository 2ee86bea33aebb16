package boottest

// Boot tests of the kernel's behaviour: each boots a real program in QEMU
// and checks what it prints and how it ends. Programs with deterministic
// output are also run on the host with `go run`, and the outputs must be
// identical byte for byte.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"rt0/host/build"
	"rt0/host/qemu"
)

// hostRun runs the program at target (relative to the rt0 checkout) on the
// host with go run and returns its stdout.
func hostRun(t *testing.T, target string, args ...string) string {
	t.Helper()
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goCommand(), append([]string{"run", "./" + target}, args...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run %s on the host: %v", target, err)
	}
	return string(out)
}

func wantOutput(t *testing.T, res *qemu.Result, serial string, code int) {
	t.Helper()
	if string(res.Serial) != serial || res.ExitCode != code {
		t.Errorf("serial %q exit %d; want %q exit %d", res.Serial, res.ExitCode, serial, code)
	}
}

func wantContains(t *testing.T, what string, got []byte, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(string(got), w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// The stress program: 10k goroutines, select, timers, maps, GC, 200 MB.
func TestBootStress(t *testing.T) {
	want := hostRun(t, "examples/stress")
	res := Boot(t, Build(t, "examples/stress"), qemu.Config{})
	wantOutput(t, res, want, 0)
}

// CPU faults become recoverable panics; an unrecovered one exits 2.
func TestBootPanics(t *testing.T) {
	img := Build(t, "testdata/progs/panics")
	want := hostRun(t, "testdata/progs/panics")
	wantOutput(t, Boot(t, img, qemu.Config{}), want, 0)

	res := Boot(t, img, qemu.Config{Append: "-- crash"})
	if res.ExitCode != 2 {
		t.Errorf("crash: exit %d, want 2", res.ExitCode)
	}
	wantContains(t, "crash output", res.Serial,
		"panic: runtime error: invalid memory address or nil pointer dereference\n",
		"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=",
		"main.main()")
}

// A system call, an interrupt, a thread switch and a signal keep a
// thread's registers as Linux does — all but RAX, RCX and R11, the XMM
// registers and YMM's upper halves (where x/sys/cpu says AVX: under -cpu
// max, as TestBootCPUFeatures checks against Linux), MXCSR and the x87
// control word included — on one CPU (where threads switch inside system
// calls) and on two; with the system call's XSAVE path that CPUs with
// AVX-512 take (rt0.syscallfp=xsave); and on a CPU without XSAVE and
// RDFSBASE/WRFSBASE (qemu64), where FXSAVE keeps the state and the FS base
// moves through its MSR.
func TestBootRegisters(t *testing.T) {
	want := hostRun(t, "testdata/progs/regs")
	img := Build(t, "testdata/progs/regs")
	for _, c := range []qemu.Config{{SMP: 1}, {SMP: 2}, {SMP: 2, Append: "rt0.syscallfp=xsave"}, {SMP: 1, CPU: "qemu64"}} {
		t.Run(fmt.Sprintf("smp%d-%s-%s", c.SMP, c.CPU, c.Append), func(t *testing.T) {
			wantOutput(t, Boot(t, img, c), want, 0)
		})
	}
}

// CPU-time clocks, interval and POSIX timers, getrusage, and
// runtime/pprof's CPU profile on top of them: 2 s of spinning give about
// 200 samples at the profiler's 100 Hz, as on Linux; on one CPU and two.
func TestBootTimers(t *testing.T) {
	want := hostRun(t, "testdata/progs/timers")
	img := Build(t, "testdata/progs/timers")
	for _, smp := range []int{1, 2} {
		t.Run(fmt.Sprintf("smp%d", smp), func(t *testing.T) {
			wantOutput(t, Boot(t, img, qemu.Config{SMP: smp}), want, 0)
		})
	}
}

// A goroutine spinning without calls is preempted by SIGURG.
func TestBootPreempt(t *testing.T) {
	res := Boot(t, Build(t, "testdata/progs/preempt"), qemu.Config{Append: "rt0.stats"})
	wantOutput(t, res, "main ran again; the spinner ran too: true\n", 0)
	wantContains(t, "kernel log", res.Debug, "tgkill=", "rt_sigreturn=")
}

// Allocating until memory runs out ends in the runtime's own error.
func TestBootOutOfMemory(t *testing.T) {
	res := Boot(t, Build(t, "testdata/progs/oom"), qemu.Config{Memory: "64M"})
	if res.ExitCode != 2 {
		t.Errorf("exit %d, want 2", res.ExitCode)
	}
	wantContains(t, "output", res.Serial, "fatal error: runtime: out of memory\n", "runtime.sysMapOS")
}

// A machine too small for the image says so and stops.
func TestBootTooLittleMemory(t *testing.T) {
	res := Boot(t, Build(t, "examples/hello"), qemu.Config{Memory: "6M"})
	if res.ExitCode != 125 {
		t.Errorf("exit %d, want 125", res.ExitCode)
	}
	wantContains(t, "console", res.Serial, "does not fit in this machine's RAM", "rt0: panic: too little memory")
}

// The smallest machines hello is meant for.
func TestBootSmallMemory(t *testing.T) {
	img := Build(t, "examples/hello")
	for _, m := range []string{"16M", "12M"} { // the target is 16 MiB; 8 MiB boots at the edge (make bench)
		t.Run(m, func(t *testing.T) {
			wantOutput(t, Boot(t, img, qemu.Config{Memory: m}), "hello,world\n", 0)
		})
	}
}

// No COM1: the program still runs and its exit status still arrives.
func TestBootNoCOM1(t *testing.T) {
	res := Boot(t, Build(t, "examples/hello"), qemu.Config{NoSerial: true})
	wantOutput(t, res, "", 0)
	wantContains(t, "kernel log", res.Debug, "COM1 no")
}

// Both CPU models: the oldest x86-64 QEMU offers and every feature TCG has.
func TestBootCPUModels(t *testing.T) {
	img := Build(t, "examples/hello")
	for _, cpu := range []string{"qemu64", "max"} {
		t.Run(cpu, func(t *testing.T) {
			wantOutput(t, Boot(t, img, qemu.Config{CPU: cpu}), "hello,world\n", 0)
		})
	}
}

// A fault with no handler: a full report, then death by SIGSEGV (139).
func TestBootFaultReport(t *testing.T) {
	res := Boot(t, Build(t, "testdata/progs/fault"), qemu.Config{})
	if res.ExitCode != 128+11 {
		t.Errorf("exit %d, want 139", res.ExitCode)
	}
	wantContains(t, "console", res.Serial, "about to fault\n",
		"rt0: fatal: #PF page fault (vector 14, error code 0x0): address not mapped in thread 1",
		"RIP=0x", "CR2=0x0", "RAX=", "R15=", "FS=", "code at RIP: ")
	wantContains(t, "kernel log", res.Debug, "rt0: program killed by signal 11")
}

// An unserved syscall fails with ENOSYS and is logged once, by name.
func TestBootUnknownSyscall(t *testing.T) {
	res := Boot(t, Build(t, "testdata/progs/unknownsys"), qemu.Config{})
	wantOutput(t, res, "true function not implemented\ntrue function not implemented\n", 0)
	if n := strings.Count(string(res.Debug), "rt0: unknown syscall 163 (acct): ENOSYS\n"); n != 1 {
		t.Errorf("unknown syscall logged %d times, want once", n)
	}
}

// GRUB boots the same file with multiboot and multiboot2 (from a BIOS CD
// image made by grub-mkrescue), and passes the command line through.
func TestBootGRUB(t *testing.T) {
	img := Build(t, "testdata/progs/panics")
	for _, proto := range []string{"multiboot", "multiboot2"} {
		t.Run(proto, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "iso/boot/grub"), 0o755)
			data, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "iso/boot/kernel.elf"), data, 0o644)
			// GRUB passes the words after the file name; the first is argv[0].
			cfg := "set timeout=0\nmenuentry rt0 {\n  " + proto + " /boot/kernel.elf panics rt0.stats -- crash\n  boot\n}\n"
			os.WriteFile(filepath.Join(dir, "iso/boot/grub/grub.cfg"), []byte(cfg), 0o644)
			iso := filepath.Join(dir, "rt0.iso")
			if out, err := exec.Command("grub-mkrescue", "-o", iso, filepath.Join(dir, "iso")).CombinedOutput(); err != nil {
				t.Fatalf("grub-mkrescue (Debian: grub-pc-bin, xorriso, mtools): %v\n%s", err, out)
			}
			res := Boot(t, "", qemu.Config{BootISO: iso})
			if res.ExitCode != 2 {
				t.Errorf("exit %d, want 2", res.ExitCode)
			}
			wantContains(t, "console", res.Serial, "panic: runtime error: invalid memory address")
			wantContains(t, "kernel log", res.Debug, "rt0: loader GRUB", "(multiboot v"+map[string]string{"multiboot": "1", "multiboot2": "2"}[proto]+")")
		})
	}
}

// arch_prctl still works for programs that call it.
func TestBootArchPrctl(t *testing.T) {
	want := hostRun(t, "testdata/progs/archprctl")
	wantOutput(t, Boot(t, Build(t, "testdata/progs/archprctl"), qemu.Config{}), want, 0)
}

// A command line that ends inside a quote: a warning, then the program runs.
func TestBootUnterminatedQuote(t *testing.T) {
	res := Boot(t, Build(t, "examples/hello"), qemu.Config{Append: `-- "abc`})
	wantOutput(t, res, "rt0: warning: the command line ends inside a quote; the last word runs to its end\nhello,world\n", 0)
}

// The filesystem through the os package, compared with the host.
func TestBootFiles(t *testing.T) {
	want := hostRun(t, "testdata/progs/files")
	wantOutput(t, Boot(t, Build(t, "testdata/progs/files"), qemu.Config{}), want, 0)
}

// A cpio archive given as the boot module becomes the filesystem, and
// rt0.cwd picks the working directory.
func TestBootArchive(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog.go")
	os.WriteFile(prog, []byte(`package main

import (
	"fmt"
	"os"
)

func main() {
	wd, _ := os.Getwd()
	fmt.Println("cwd:", wd)
	b, err := os.ReadFile("sub/x.txt")
	fmt.Printf("%q %v\n", b, err)
	b, err = os.ReadFile("lnk")
	fmt.Printf("%q %v\n", b, err)
	err = os.WriteFile("sub/x.txt", []byte("changed"), 0o644)
	b, _ = os.ReadFile("/data/sub/x.txt")
	fmt.Printf("%q %v\n", b, err)
}
`), 0o644)
	ar := filepath.Join(dir, "ar.cpio")
	os.WriteFile(ar, newc([][3]string{
		{"data", "dir", ""},
		{"data/sub", "dir", ""},
		{"data/sub/x.txt", "file", "from the archive\n"},
		{"data/lnk", "symlink", "sub/x.txt"},
	}), 0o644)
	res := Boot(t, Build(t, prog), qemu.Config{Append: "rt0.cwd=/data", ExtraArgs: []string{"-initrd", ar}})
	wantOutput(t, res, "cwd: /data\n\"from the archive\\n\" <nil>\n\"from the archive\\n\" <nil>\n\"changed\" <nil>\n", 0)
	wantContains(t, "kernel log", res.Debug, "rt0: boot archive: 4 entries")
}

// newc writes a cpio "newc" archive of (name, kind, contents) entries.
func newc(entries [][3]string) []byte {
	var b strings.Builder
	put := func(name string, mode uint32, data string) {
		start := b.Len()
		fmt.Fprintf(&b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			0, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		b.WriteString(name + "\x00")
		for (b.Len()-start)%4 != 0 {
			b.WriteByte(0)
		}
		b.WriteString(data)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	for _, e := range entries {
		mode := map[string]uint32{"dir": 0o040755, "file": 0o100644, "symlink": 0o120777}[e[1]]
		put(e[0], mode, e[2])
	}
	put("TRAILER!!!", 0, "")
	return []byte(b.String())
}

// Standard input from COM1: what the host sends, then end of file; and with
// no input at all, end of file at once.
func TestBootStdin(t *testing.T) {
	img := Build(t, "testdata/progs/echo")
	res := Boot(t, img, qemu.Config{Stdin: strings.NewReader("hello\nworld\nno newline")})
	wantOutput(t, res, "1: hello\n2: world\n3: no newline\nlines: 3 err: <nil>\n", 0)
	res = Boot(t, img, qemu.Config{})
	wantOutput(t, res, "lines: 0 err: <nil>\n", 0)
}

// A lot of input, faster than the program reads it: nothing is lost.
func TestBootStdinVolume(t *testing.T) {
	var in, want strings.Builder
	for i := 1; i <= 5000; i++ {
		fmt.Fprintf(&in, "line %d of the input\n", i)
		fmt.Fprintf(&want, "%d: line %d of the input\n", i, i)
	}
	fmt.Fprintf(&want, "lines: 5000 err: <nil>\n")
	res := Boot(t, Build(t, "testdata/progs/echo"), qemu.Config{Stdin: strings.NewReader(in.String())})
	if string(res.Serial) != want.String() || res.ExitCode != 0 {
		t.Errorf("exit %d; output differs from the input (%d bytes vs %d)", res.ExitCode, len(res.Serial), want.Len())
	}
}

// Clocks through the vDSO (no clock_gettime system calls at all) and,
// with rt0.novdso, through the system call: the same answers either way;
// calibrated against the ACPI PM timer or the PIT; and continuous across
// the refinement of the TSC's rate.
func TestBootClock(t *testing.T) {
	img := Build(t, "testdata/progs/clock")
	want := "monotonic went back: 0\nsleep 200ms took 200-400ms: true\nwall clock after 2024: true\n"
	res := Boot(t, img, qemu.Config{Append: "rt0.stats"})
	wantOutput(t, res, want, 0)
	if strings.Contains(string(res.Debug), "clock_gettime=") {
		t.Errorf("clock_gettime system calls made although the vDSO serves them")
	}
	wantContains(t, "kernel log", res.Debug, "MHz (ACPI PM timer)")
	res = Boot(t, img, qemu.Config{Append: "rt0.stats rt0.novdso"})
	wantOutput(t, res, want, 0)
	wantContains(t, "kernel log", res.Debug, "clock_gettime=")
	// The PM timer is the reference wherever ACPI names one, with the PIT
	// or without; without ACPI, the PIT.
	for _, c := range []struct{ machine, extra, source string }{
		{"pc,pit=off", "", "MHz (ACPI PM timer)"},
		{"q35,pit=off", "", "MHz (ACPI PM timer)"},
		{"pc", "-no-acpi", "MHz (PIT)"},
	} {
		m := qemu.Config{Machine: c.machine}
		if c.extra != "" {
			m.ExtraArgs = []string{c.extra}
		}
		res = Boot(t, img, m)
		wantOutput(t, res, want, 0)
		wantContains(t, c.machine+c.extra+" kernel log", res.Debug, c.source)
	}
	// After a second the TSC's rate is measured again against the PM
	// timer, over the whole second, and the clock goes on from where it
	// was: a program reading it meanwhile never sees it go back.
	res = Boot(t, img, qemu.Config{SMP: 2, Append: "-- long"})
	wantOutput(t, res, want+"monotonic went back in 1.5 s: 0\n", 0)
	wantContains(t, "kernel log", res.Debug, "kHz refined against the PM timer to ")
}

// examples/console answers commands from stdin.
func TestBootConsoleExample(t *testing.T) {
	res := Boot(t, Build(t, "examples/console"), qemu.Config{Stdin: strings.NewReader("help\necho hi  there\nbogus\nexit 3\n")})
	lines := strings.Split(string(res.Serial), "\n")
	want := []string{"> help, mem, goroutines, gc, uptime, time, smbios, acpi, echo WORDS, exit [CODE]", "> hi there", "> bogus: unknown command (try help)", "> "}
	if res.ExitCode != 3 || len(lines) != 5 || !strings.HasPrefix(lines[0], "rt0 console: Go go1.") || strings.Join(lines[1:], "|") != strings.Join(want, "|") {
		t.Errorf("exit %d, output:\n%s", res.ExitCode, res.Serial)
	}
}

// Named pipes, compared with the host's Linux.
func TestBootFIFO(t *testing.T) {
	bootLikeHost(t, "testdata/progs/fifo")
}

// Pipes between goroutines, polled through epoll; EOF; EPIPE.
func TestBootPipe(t *testing.T) {
	bootLikeHost(t, "testdata/progs/pipe")
}
