// Command bench measures rt0 on examples/hello and prints numbers and
// ratios (it asserts nothing: targets are read by people, not by a timed
// test that would flake on a busy machine):
//
//   - image size: the rt0 ELF vs `go build` of the same program (file,
//     loaded bytes, loaded+bss), and the kernel's share;
//   - QEMU wall time from start to "hello,world" on the serial port, median
//     of 5 (TCG);
//   - guest cycles from rt0's first instruction to main.main (TSC);
//   - the smallest -m that boots hello;
//   - the syscalls hello makes, by name;
//   - the framebuffer console (GRUB multiboot2 under OVMF): the time to
//     write lines that scroll the screen, painted by the painter goroutine
//     vs by the kernel in each write (rt0.painter=off);
//   - the parallel speed-up of CPU-bound work (testdata/progs/parsha) at
//     -smp 2 over -smp 1, paired runs (1 2 1 2 ...), with the kernel
//     lock's contention at -smp 2, and the same program on the host.
//
// Run with `make bench` or `go run ./host/bench [-runs 5] [-prog ./examples/hello] [-only speedup]`.
package main

import (
	"bytes"
	"context"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"rt0/host/bootimg"
	"rt0/host/build"
	"rt0/host/qemu"
)

var (
	runs    = flag.Int("runs", 5, "boots per timing")
	prog    = flag.String("prog", "./examples/hello", "program to measure")
	want    = flag.String("want", "hello,world", "serial output that marks the program's output")
	only    = flag.String("only", "", "run one measurement only: sizes, speedup, boot, soak, fuzz, linux or net (the last five are not part of the default run)")
	soakFor = flag.Duration("soak", 10*time.Minute, "how long -only soak runs testdata/progs/soak")
	soakSMP = flag.Int("soak-smp", 4, "CPUs of the soak's machine")
)

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "rt0-bench-")
	check(err)
	defer os.RemoveAll(dir)
	switch *only {
	case "sizes":
		img, plain := filepath.Join(dir, "rt0.elf"), filepath.Join(dir, "plain.elf")
		rt0Build(*prog, img)
		linuxBuild(*prog, plain)
		sizes(img, plain)
		return
	case "speedup":
		speedup(dir)
		return
	case "soak":
		soak(dir)
		return
	case "fuzz":
		fuzz(dir)
		return
	case "linux":
		linuxVs(dir)
		return
	case "net":
		netVs(dir)
		return
	case "boot":
		img, plain := buildBoth(dir, *prog)
		bootVsFloor(dir, img)
		linuxColdStart(dir, plain)
		return
	}

	img := filepath.Join(dir, "rt0.elf")
	plain := filepath.Join(dir, "plain.elf")
	rt0Build(*prog, img)
	linuxBuild(*prog, plain)

	fmt.Printf("rt0 bench: %s (%s)\n\n", *prog, goVersion())
	sizes(img, plain)
	fmt.Println()
	timing(img)
	fmt.Println()
	smallest(img)
	fmt.Println()
	syscalls(img)
	fmt.Println()
	screenConsole(dir)
	fmt.Println()
	speedup(dir)
}

var (
	parshaRE = regexp.MustCompile(`parsha: (\d+) workers, ([0-9.]+) ms`)
	lockRE   = regexp.MustCompile(`kernel lock taken (\d+) times, (\d+) contended, (\d+) us spinning`)
)

// speedup boots testdata/progs/parsha at -smp 1 and -smp n (n = 2, at
// most the host's CPUs), alternating, *runs pairs, and prints the medians
// and their ratio. On the host the same program runs with GOMAXPROCS 1
// and n for comparison (the Linux guest of the same QEMU is issue 12's).
func speedup(dir string) {
	n := min(2, qemu.DefaultSMP())
	img := filepath.Join(dir, "parsha.elf")
	rt0Build("./testdata/progs/parsha", img)
	var t1, tn []float64
	var lock string
	for i := 0; i < *runs; i++ {
		for _, smp := range []int{1, n} {
			res, err := qemu.Run(context.Background(), qemu.Config{Kernel: img, SMP: smp, Append: "rt0.stats", Timeout: 2 * time.Minute, Accel: qemu.AccelTCG})
			check(err)
			m := parshaRE.FindSubmatch(res.Serial)
			if res.ExitCode != 0 || m == nil {
				fmt.Fprintf(os.Stderr, "parsha -smp %d failed: exit %d\n%s\n%s", smp, res.ExitCode, res.Serial, res.Debug)
				os.Exit(1)
			}
			ms, _ := strconv.ParseFloat(string(m[2]), 64)
			if smp == 1 {
				t1 = append(t1, ms)
			} else {
				tn = append(tn, ms)
				if l := lockRE.FindSubmatch(res.Debug); l != nil {
					lock = fmt.Sprintf("kernel lock taken %s times, %s contended, %s us spinning", l[1], l[2], l[3])
				}
			}
		}
	}
	host := func(p int) float64 {
		cmd := exec.Command("go", "run", "./testdata/progs/parsha")
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(p))
		out, err := cmd.Output()
		check(err, string(out))
		m := parshaRE.FindSubmatch(out)
		if m == nil {
			check(fmt.Errorf("parsha on the host printed %q", out))
		}
		ms, _ := strconv.ParseFloat(string(m[2]), 64)
		return ms
	}
	h1, hn := host(1), host(n)
	fmt.Printf("parallel speed-up, testdata/progs/parsha (SHA-256, fixed work; QEMU TCG thread=multi, %d pairs, median)\n", *runs)
	fmt.Printf("  rt0 -smp 1: %.1f ms (%.1f-%.1f)\n", medianF(t1), minF(t1), maxF(t1))
	fmt.Printf("  rt0 -smp %d: %.1f ms (%.1f-%.1f); %s\n", n, medianF(tn), minF(tn), maxF(tn), lock)
	fmt.Printf("  speed-up: %.2fx (goal >= 1.8x on 2 host cores)\n", medianF(t1)/medianF(tn))
	fmt.Printf("  host, GOMAXPROCS 1 vs %d: %.1f ms vs %.1f ms: %.2fx\n", n, h1, hn, h1/hn)
}

// soak boots testdata/progs/soak (GC churn, goroutines and channels,
// pipes, loopback TCP, timers, all at once) for -soak on -soak-smp CPUs and
// reports how it ended: the program's last line, the kernel's per-CPU busy
// time and the kernel lock's cost. A hang is a timeout (the QEMU run is
// bounded by the duration plus two minutes); a kernel stop is exit 125.
func soak(dir string) {
	img := filepath.Join(dir, "soak.elf")
	rt0Build("./testdata/progs/soak", img)
	start := time.Now()
	res, err := qemu.Run(context.Background(), qemu.Config{Kernel: img, SMP: *soakSMP, Memory: "512M",
		Append: "rt0.stats -- " + soakFor.String(), Timeout: *soakFor + 2*time.Minute, Accel: qemu.AccelTCG})
	check(err)
	lines := strings.Split(strings.TrimSpace(string(res.Serial)), "\n")
	fmt.Printf("soak: %v on -smp %d, QEMU wall %v, exit %d (%s)\n", *soakFor, *soakSMP, time.Since(start).Round(time.Second), res.ExitCode, res.Reason)
	fmt.Printf("  program: %s\n", lines[len(lines)-1])
	if m := regexp.MustCompile(`rt0: cpus: .*`).Find(res.Debug); m != nil {
		fmt.Printf("  kernel:  %s\n", m)
	}
	if res.ExitCode != 0 || !strings.HasPrefix(lines[len(lines)-1], "soak ok") {
		fmt.Printf("  FAILED\nserial:\n%s\nkernel log:\n%s", res.Serial, res.Debug)
		os.Exit(1)
	}
}

// fuzz boots the system call fuzzer's chaos phase for -soak on -soak-smp
// CPUs, one thread a CPU, from a seed of the clock (printed, so that a
// failure can be replayed with -seed), aimed at the kernel's VMA table
// too. It reports the calls made; a kernel stop is exit 125, a call that
// hangs the fuzzer's own watchdog's failure.
func fuzz(dir string) {
	img := filepath.Join(dir, "sysfuzz.elf")
	rt0Build("./testdata/progs/sysfuzz", img)
	f, err := elf.Open(img)
	check(err)
	syms, err := f.Symbols()
	check(err)
	var vmas uint64
	for _, s := range syms {
		if s.Name == "rt0/guest/kernel.vmas" {
			vmas = s.Value + 64
		}
	}
	seed := time.Now().UnixNano() & 0xffffffff
	args := fmt.Sprintf("-seed %d -compare 0 -duration %v -threads %d -kernel %#x", seed, *soakFor, *soakSMP, vmas)
	start := time.Now()
	res, err := qemu.Run(context.Background(), qemu.Config{Kernel: img, SMP: *soakSMP, Memory: "512M",
		Append: "-- " + args, Timeout: *soakFor + 2*time.Minute, Accel: qemu.AccelTCG})
	check(err)
	lines := strings.Split(strings.TrimSpace(string(res.Serial)), "\n")
	fmt.Printf("fuzz: sysfuzz %s on -smp %d, QEMU wall %v, exit %d (%s)\n", args, *soakSMP, time.Since(start).Round(time.Second), res.ExitCode, res.Reason)
	for _, l := range lines[max(0, len(lines)-2):] {
		fmt.Printf("  program: %s\n", l)
	}
	if res.ExitCode != 0 || lines[len(lines)-1] != "sysfuzz ok" {
		fmt.Printf("  FAILED\nserial:\n%s\nkernel log:\n%s", res.Serial, res.Debug)
		os.Exit(1)
	}
}

func medianF(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func minF(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxF(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func sizes(img, plain string) {
	a, b := imageSize(img), imageSize(plain)
	fmt.Println("image size                rt0         go build    kernel share")
	row := func(name string, x, y int64) {
		fmt.Printf("  %-22s %8.1f KiB %8.1f KiB %+8.1f KiB (x%.3f)\n", name, kib(x), kib(y), kib(x-y), float64(x)/float64(y))
	}
	row("file", a.file, b.file)
	row("loaded (file bytes)", a.load, b.load)
	row("loaded + bss", a.mem, b.mem)
	row("text", a.text, b.text)
	fmt.Printf("  target: kernel share of the loaded image <= 300 KiB: %.1f KiB\n", kib(a.load-b.load))
}

type size struct{ file, load, mem, text int64 }

func imageSize(path string) size {
	f, err := elf.Open(path)
	check(err)
	defer f.Close()
	st, err := os.Stat(path)
	check(err)
	s := size{file: st.Size()}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			s.load += int64(p.Filesz)
			s.mem += int64(p.Memsz)
		}
	}
	if t := f.Section(".text"); t != nil {
		s.text = int64(t.Size)
	}
	return s
}

// firstSeen records when a string first appears in a stream.
type firstSeen struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	start time.Time
	at    time.Duration
	want  string
}

func (w *firstSeen) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.at == 0 && strings.Contains(w.buf.String(), w.want) {
		w.at = time.Since(w.start)
	}
	return len(p), nil
}

var cyclesRE = regexp.MustCompile(`first instruction -> main.main: (\d+) cycles \((\d+) us at (\d+) MHz\)`)

func timing(img string) {
	var walls, outs []time.Duration
	var cycles, micros []int64
	var mhz int64
	for i := 0; i < *runs; i++ {
		w := &firstSeen{start: time.Now(), want: *want}
		res, err := qemu.Run(context.Background(), qemu.Config{Kernel: img, Append: "rt0.stats", Serial: w, Timeout: time.Minute, Accel: qemu.AccelTCG})
		check(err)
		if res.ExitCode != 0 || w.at == 0 {
			fmt.Fprintf(os.Stderr, "boot %d failed: exit %d\n%s\n%s", i, res.ExitCode, res.Serial, res.Debug)
			os.Exit(1)
		}
		walls = append(walls, res.Wall)
		outs = append(outs, w.at)
		if m := cyclesRE.FindSubmatch(res.Debug); m != nil {
			c, _ := strconv.ParseInt(string(m[1]), 10, 64)
			u, _ := strconv.ParseInt(string(m[2]), 10, 64)
			mhz, _ = strconv.ParseInt(string(m[3]), 10, 64)
			cycles = append(cycles, c)
			micros = append(micros, u)
		}
	}
	fmt.Printf("boot (QEMU TCG, median of %d)\n", *runs)
	fmt.Printf("  QEMU start -> %q on serial: %v (min %v, max %v)\n", *want, median(outs), minD(outs), maxD(outs))
	fmt.Printf("  QEMU start -> QEMU exit:          %v\n", median(walls))
	if len(cycles) > 0 {
		fmt.Printf("  first instruction -> main.main:   %d cycles = %d us at the guest TSC's %d MHz\n", medianI(cycles), medianI(micros), mhz)
	}
}

func smallest(img string) {
	ok := func(mib int) bool {
		res, err := qemu.Run(context.Background(), qemu.Config{Kernel: img, Memory: fmt.Sprintf("%dM", mib), Timeout: time.Minute, Accel: qemu.AccelTCG})
		check(err)
		return res.ExitCode == 0 && strings.Contains(string(res.Serial), *want)
	}
	lo, hi := 2, 64 // lo fails (too small for anything), hi boots
	if !ok(hi) {
		fmt.Println("smallest -m: does not boot in 64 MiB")
		return
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	fmt.Printf("smallest -m that boots: %d MiB (target: 16 MiB)\n", hi)
}

var syscallsRE = regexp.MustCompile(`rt0: syscalls:(.*)`)

func syscalls(img string) {
	res, err := qemu.Run(context.Background(), qemu.Config{Kernel: img, Append: "rt0.stats", Timeout: time.Minute, Accel: qemu.AccelTCG})
	check(err)
	m := syscallsRE.FindSubmatch(res.Debug)
	if m == nil {
		fmt.Println("syscalls: no rt0.stats line")
		return
	}
	type kv struct {
		name string
		n    int
	}
	var all []kv
	total := 0
	for _, f := range strings.Fields(string(m[1])) {
		name, n, _ := strings.Cut(f, "=")
		c, _ := strconv.Atoi(n)
		all = append(all, kv{name, c})
		total += c
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].name < all[j].name })
	fmt.Printf("syscalls made by the program: %d in all\n", total)
	for _, e := range all {
		fmt.Printf("  %-20s %5d\n", e.name, e.n)
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2].Round(time.Millisecond)
}

func minD(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		m = min(m, x)
	}
	return m.Round(time.Millisecond)
}

func maxD(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		m = max(m, x)
	}
	return m.Round(time.Millisecond)
}

func medianI(v []int64) int64 {
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func kib(n int64) float64 { return float64(n) / 1024 }

func goVersion() string {
	out, _ := exec.Command("go", "env", "GOVERSION").Output()
	return strings.TrimSpace(string(out))
}

// rt0Build builds prog into the image out, as rt0 build does (rt0/host/build).
// linuxBuild builds prog as an ordinary static linux/amd64 binary: what
// the Linux guest runs, and what rt0's image is compared with.
func linuxBuild(prog, out string) {
	cmd := exec.Command("go", "build", "-o", out, prog)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	b, err := cmd.CombinedOutput()
	check(err, string(b))
}

func rt0Build(prog, out string) {
	b, err := build.New(os.Stderr, false)
	check(err)
	_, err = b.BuildImage([]string{prog}, &build.Flags{BuildVCS: "false"}, out)
	check(err)
}

func check(err error, ctx ...string) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err, strings.Join(ctx, "\n"))
		os.Exit(1)
	}
}

var scrollRE = regexp.MustCompile(`scroll: (\d+) lines in ([0-9.]+) ms`)

// screenConsole boots testdata/progs/scroll from a GRUB image under OVMF
// (a framebuffer, as on a UEFI PC) with the painter goroutine and with
// the kernel painting in each write, and compares the time the writes take.
func screenConsole(dir string) {
	const fw, vars = qemu.OVMFCode, qemu.OVMFVars
	if _, err := os.Stat(fw); err != nil {
		fmt.Println("framebuffer console: no OVMF (make deps installs it); skipped")
		return
	}
	elf := filepath.Join(dir, "scroll.elf")
	rt0Build("./testdata/progs/scroll", elf)
	const lines = "1000"
	medianMs := func(cmdline ...string) float64 {
		img := filepath.Join(dir, "scroll.img")
		c := bootimg.Config{Kernel: elf, Name: "scroll", Cmdline: append([]string{"scroll", lines}, cmdline...)}
		check(bootimg.Build(context.Background(), c, img))
		var ms []float64
		for i := 0; i < 3; i++ {
			res, err := qemu.Run(context.Background(), qemu.Config{BootISO: img, Machine: "q35", Firmware: fw, FirmwareVars: vars,
				ExtraArgs: []string{"-device", "VGA"}, Timeout: 5 * time.Minute, Accel: qemu.AccelTCG})
			check(err)
			m := scrollRE.FindSubmatch(res.Serial)
			if m == nil {
				fmt.Fprintf(os.Stderr, "scroll: no result line (exit %d)\n%s", res.ExitCode, res.Debug)
				os.Exit(1)
			}
			v, _ := strconv.ParseFloat(string(m[2]), 64)
			ms = append(ms, v)
		}
		sort.Float64s(ms)
		return ms[len(ms)/2]
	}
	g := medianMs()
	k := medianMs("rt0.painter=off")
	fmt.Printf("framebuffer console (OVMF, %s lines that scroll, median of 3)\n", lines)
	fmt.Printf("  painter goroutine:            %8.1f ms\n", g)
	fmt.Printf("  kernel paints in each write:  %8.1f ms\n", k)
	fmt.Printf("  ratio kernel/goroutine:       %8.1fx\n", k/g)
}
