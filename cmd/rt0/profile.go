package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"

	"rt0/guest/linux"
	"rt0/host/study/bin"
)

// profileFlags are rt0 run's -profile flags: the kernel samples every CPU
// (kernel option rt0.profile=HZ, guest/kernel/profile.go) and the samples
// become a pprof profile of the image, for `go tool pprof IMAGE FILE`.
type profileFlags struct {
	file string
	hz   int
}

func (pf *profileFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&pf.file, "profile", "", "sample what every CPU runs, from the kernel's timer interrupt (any program, unmodified), and write a pprof CPU profile to `file` at exit")
	fs.IntVar(&pf.hz, "profile-hz", 250, "samples a second per CPU for -profile (1-10000)")
}

// appendWords adds the profiler's kernel option in front of the raw words.
func (pf *profileFlags) appendWords(raw string) string {
	if pf.file == "" {
		return raw
	}
	return strings.TrimSpace(fmt.Sprintf("rt0.profile=%d %s", pf.hz, raw))
}

// buildProfile turns the "rt0: profile" and "rt0: prof" lines of a kernel
// log into a profile of the image at elfPath: one sample per line, its
// stack the interrupted PC and the return addresses above it (looked up at
// the call, one byte before), labelled with the CPU and thread.
func buildProfile(elfPath string, debugLog []byte) (*profile.Profile, error) {
	b, err := bin.Open(elfPath)
	if err != nil {
		return nil, err
	}
	var hz int64
	var dropped int
	var raw [][]uint64
	var labels [][3]int64 // cpu, tid, weight
	sc := bufio.NewScanner(bytes.NewReader(debugLog))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 4 && f[0] == "rt0:" && f[1] == "profile" && f[2] == "hz":
			hz, _ = strconv.ParseInt(f[3], 10, 64)
			if len(f) >= 8 && f[6] == "dropped" {
				dropped, _ = strconv.Atoi(f[7])
			}
		case len(f) >= 5 && f[0] == "rt0:" && f[1] == "prof":
			cpu, err1 := strconv.ParseInt(f[2], 10, 64)
			tid, err2 := strconv.ParseInt(f[3], 10, 64)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("kernel log: bad profile line %q", sc.Text())
			}
			var pcs []uint64
			weight := int64(1)
			words := f[4:]
			if len(words) > 0 && strings.HasPrefix(words[0], "x") {
				if weight, err = strconv.ParseInt(words[0][1:], 10, 64); err != nil || weight < 1 {
					return nil, fmt.Errorf("kernel log: bad profile line %q", sc.Text())
				}
				words = words[1:]
			}
			for _, w := range words {
				pc, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
				if err != nil {
					return nil, fmt.Errorf("kernel log: bad profile line %q", sc.Text())
				}
				pcs = append(pcs, pc)
			}
			raw = append(raw, pcs)
			labels = append(labels, [3]int64{cpu, tid, weight})
		}
	}
	if hz == 0 {
		return nil, fmt.Errorf("the kernel log has no profile (did the program exit through the kernel?)")
	}
	period := 1_000_000_000 / hz
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     period,
	}
	m := &profile.Mapping{ID: 1, File: elfPath, HasFunctions: true, HasFilenames: true, HasLineNumbers: true}
	p.Mapping = []*profile.Mapping{m}
	funcs := map[string]*profile.Function{}
	locs := map[uint64]*profile.Location{}
	loc := func(addr uint64) *profile.Location {
		if l, ok := locs[addr]; ok {
			return l
		}
		name, _ := b.Lookup(addr)
		if name == "" {
			name = fmt.Sprintf("%#x", addr)
		}
		file, line := b.Line(addr)
		if k, ok := kernelFrame(addr); ok {
			name, file, line = k, "", 0
		}
		fn := funcs[name]
		if fn == nil {
			fn = &profile.Function{ID: uint64(len(funcs) + 1), Name: name, SystemName: name, Filename: file}
			funcs[name] = fn
			p.Function = append(p.Function, fn)
		}
		l := &profile.Location{ID: uint64(len(locs) + 1), Mapping: m, Address: addr, Line: []profile.Line{{Function: fn, Line: int64(line)}}}
		locs[addr] = l
		p.Location = append(p.Location, l)
		return l
	}
	for i, pcs := range raw {
		w := labels[i][2]
		s := &profile.Sample{Value: []int64{w, w * period},
			NumLabel: map[string][]int64{"cpu": {labels[i][0]}, "tid": {labels[i][1]}}}
		for j, pc := range pcs {
			// A return address, but the first PC and the one after a
			// kernel mark, which are where the CPU was interrupted.
			_, mark := kernelFrame(pc)
			if _, afterMark := kernelFrame(pcs[max(j-1, 0)]); j > 0 && !mark && !afterMark {
				pc-- // a return address: the call is the byte before
			}
			s.Location = append(s.Location, loc(pc))
		}
		p.Sample = append(p.Sample, s)
	}
	if dropped > 0 {
		p.Comments = append(p.Comments, fmt.Sprintf("rt0: %d samples dropped: the kernel's sample buffer was full", dropped))
	}
	return p, p.CheckValid()
}

// report writes the profile of a run to pf.file, and says on w if the
// kernel had to drop samples.
func (pf *profileFlags) report(elfPath string, debugLog []byte, w io.Writer) error {
	p, err := buildProfile(elfPath, debugLog)
	if err != nil {
		return err
	}
	for _, c := range p.Comments {
		fmt.Fprintln(w, c) // the dropped samples
	}
	f, err := os.Create(pf.file)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// The kernel's mark of a sample taken while it ran (guest/kernel/
// profile.go's profKernelPC): in the low bits, a system call's number, or
// profKernelTrap plus a vector. host/rules' TestProfileMarks checks the
// two against the kernel's.
const (
	profKernelPC   = 0xFFFF_FFFF_0000_0000
	profKernelTrap = 0x1_0000
)

// kernelFrame names a kernel mark: "rt0 kernel: write", "rt0 kernel: page
// fault", "rt0 kernel: interrupt 33".
func kernelFrame(pc uint64) (string, bool) {
	if pc&profKernelPC != profKernelPC {
		return "", false
	}
	k := pc &^ profKernelPC
	switch {
	case k < profKernelTrap:
		return "rt0 kernel: " + linux.SyscallName(k), true
	case k == profKernelTrap+14:
		return "rt0 kernel: page fault", true
	case k < profKernelTrap+32:
		return fmt.Sprintf("rt0 kernel: exception %d", k-profKernelTrap), true
	}
	return fmt.Sprintf("rt0 kernel: interrupt %d", k-profKernelTrap), true
}
