package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"rt0/host/linuxguest"
	"rt0/host/qemu"
)

// linuxVs boots testdata/progs/vsbench on rt0 and as the init of a Linux
// guest (host/linuxguest), -runs pairs in turn (rt0, Linux, rt0, Linux,
// ...) on the same machine flags (TCG, -cpu max, -m 512M, -smp
// -linux-smp), and prints each benchmark's median ns/op on both, the
// spread (min-max), and the ratio rt0/Linux. A side whose spread is over
// half its median gives no ratio: the table says "noisy" instead.
func linuxVs(dir string) {
	ctx := context.Background()
	kernel, err := linuxguest.Kernel(ctx)
	check(err)
	img, plain := buildBoth(dir, "./testdata/progs/vsbench")
	initrd := filepath.Join(dir, "vsbench.cpio")
	check(linuxguest.Initramfs(plain, initrd))

	machine := qemu.Config{Accel: qemu.AccelTCG, CPU: "max", Memory: "512M", SMP: *linuxSMP}
	args := []string{"-benchtime", linuxBenchtime.String()}
	if *linuxOnly != "" {
		args = append(args, "-only", *linuxOnly)
	}
	res := map[string]map[string][]float64{"rt0": {}, "linux": {}}
	var order []string
	parse := func(side string, serial []byte) {
		for _, m := range benchRE.FindAllStringSubmatch(string(serial), -1) {
			v, _ := strconv.ParseFloat(m[2], 64)
			if _, ok := res["rt0"][m[1]]; !ok && side == "rt0" {
				order = append(order, m[1])
			}
			res[side][m[1]] = append(res[side][m[1]], v)
		}
	}
	timeout := 10 * time.Minute
	for i := 0; i < *runs; i++ {
		c := machine
		c.Kernel = img
		c.Append = "-- " + strings.Join(args, " ")
		c.Timeout = timeout
		r, err := qemu.Run(ctx, c)
		check(err)
		if !strings.Contains(string(r.Serial), "vsbench done") {
			check(fmt.Errorf("rt0 run %d did not finish (exit %d, %s):\n%s", i, r.ExitCode, r.Reason, r.Serial))
		}
		parse("rt0", r.Serial)
		l, err := linuxguest.Run(ctx, kernel, initrd, linuxguest.Config{Machine: machine, Args: args, Timeout: timeout})
		check(err)
		if !strings.Contains(string(l.Serial), "vsbench done") {
			check(fmt.Errorf("Linux run %d did not finish (%s):\n%s", i, l.Reason, l.Serial))
		}
		parse("linux", l.Serial)
		fmt.Fprintf(os.Stderr, "bench: pair %d of %d done\n", i+1, *runs)
	}
	rep := vsReport{Kernel: filepath.Base(kernel), Go: goVersion(), Pairs: *runs,
		Machine: fmt.Sprintf("-accel tcg -cpu max -m 512M -smp %d", *linuxSMP)}
	fmt.Printf("rt0 vs Linux (%s, %s), same QEMU: %s; %d pairs, median ns/op [min-max]\n",
		rep.Kernel, rep.Go, rep.Machine, *runs)
	fmt.Printf("%-18s %26s %26s %8s\n", "benchmark", "rt0", "Linux", "rt0/Linux")
	for _, name := range order {
		a, b := res["rt0"][name], res["linux"][name]
		if len(b) == 0 {
			continue
		}
		ma, mb := medianF(a), medianF(b)
		line := vsLine{Name: name, RT0: a, Linux: b, RT0Median: ma, LinuxMedian: mb}
		ratio := fmt.Sprintf("%8.2f", ma/mb)
		if noisy(a) || noisy(b) {
			ratio = "   noisy"
		} else {
			r := ma / mb
			line.Ratio = &r
		}
		rep.Results = append(rep.Results, line)
		fmt.Printf("%-18s %26s %26s %s\n", name, spread(a), spread(b), ratio)
	}
	if *linuxJSON != "" {
		writeJSON(*linuxJSON, rep)
	}
	if *linuxSVG != "" {
		writeSVG(*linuxSVG, rep)
	}
}

var (
	benchRE        = regexp.MustCompile(`(?m)^bench (\S+) (\d+)`)
	linuxSMP       = flag.Int("linux-smp", 1, "CPUs of both machines in -only linux")
	linuxBenchtime = flag.Duration("linux-benchtime", 300*time.Millisecond, "time per benchmark in -only linux")
	linuxOnly      = flag.String("linux-only", "", "benchmarks of -only linux (default all)")
	linuxJSON      = flag.String("linux-json", "", "write -only linux's results, every run's ns/op included, to this JSON file")
	linuxSVG       = flag.String("linux-svg", "", "draw -only linux's ratios as an SVG bar chart in this file")
)

func spread(v []float64) string {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return fmt.Sprintf("%.0f [%.0f-%.0f]", medianF(s), s[0], s[len(s)-1])
}

// noisy: the spread is more than half the median.
func noisy(v []float64) bool {
	return maxF(v)-minF(v) > medianF(v)/2
}

// buildBoth builds prog as an rt0 image and as a plain static Linux
// binary (for a Linux guest's /init), in dir.
func buildBoth(dir, prog string) (img, plain string) {
	name := filepath.Base(prog)
	img, plain = filepath.Join(dir, name+".elf"), filepath.Join(dir, name)
	rt0Build(prog, img)
	linuxBuild(prog, plain)
	return img, plain
}
