package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"rt0/host/build"
)

// The kernel log's profile lines become pprof samples: a sample's weight
// (xN) is its count and time, a kernel mark is named for what the kernel
// served, and the PC after the marks is the interrupted one.
func TestBuildProfileKernelFrames(t *testing.T) {
	// Any ELF with symbols: hello, built plainly.
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	goCmd, err := build.FindGo()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command(goCmd, "build", "-o", exe, "./examples/hello")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	log := []byte("rt0: profile hz 100 samples 5 dropped 0\n" +
		"rt0: prof 0 1 x3 0xffffffff00000027 0x401000\n" + // getpid (39), 3 periods
		"rt0: prof 1 2 x1 0xffffffff0001000e\n" + // a page fault, no thread stack
		"rt0: prof 0 1 x1 0xffffffff00010021\n") // interrupt 33
	p, err := buildProfile(exe, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sample) != 3 {
		t.Fatalf("%d samples, want 3", len(p.Sample))
	}
	want := []struct {
		name   string
		count  int64
		frames int
	}{{"rt0 kernel: getpid", 3, 2}, {"rt0 kernel: page fault", 1, 1}, {"rt0 kernel: interrupt 33", 1, 1}}
	for i, w := range want {
		s := p.Sample[i]
		if got := s.Location[0].Line[0].Function.Name; got != w.name || s.Value[0] != w.count || s.Value[1] != w.count*10_000_000 || len(s.Location) != w.frames {
			t.Errorf("sample %d: %s, %v, %d frames; want %s, %d, %d frames", i, got, s.Value, len(s.Location), w.name, w.count, w.frames)
		}
	}
	if a := p.Sample[0].Location[1].Address; a != 0x401000 {
		t.Errorf("the interrupted PC after a kernel mark: %#x, want 0x401000 as it is (not a return address)", a)
	}
	// An NMI sample: the kernel's functions, the mark, where the thread
	// entered. The first PC and the one after the mark are where CPUs
	// were, the others return addresses (one byte back).
	p, err = buildProfile(exe, []byte("rt0: profile hz 100 samples 1 dropped 0\nrt0: prof 0 1 x1 0x401000 0x401010 0xffffffff00000027 0x402000\n"))
	if err != nil {
		t.Fatal(err)
	}
	var addrs []uint64
	for _, l := range p.Sample[0].Location {
		addrs = append(addrs, l.Address)
	}
	if len(addrs) != 4 || addrs[0] != 0x401000 || addrs[1] != 0x40100f || addrs[3] != 0x402000 || p.Sample[0].Location[2].Line[0].Function.Name != "rt0 kernel: getpid" {
		t.Errorf("NMI sample's addresses %#x", addrs)
	}
	if _, err := buildProfile(exe, []byte("rt0: profile hz 100 samples 1 dropped 0\nrt0: prof 0 1 x0 0x401000\n")); err == nil {
		t.Error("a weight of 0 was taken")
	}
}
