package boottest

// Boot tests of user memory: a system call handed a pointer the program
// may not use fails with EFAULT, as on Linux, and neither stops the kernel
// nor writes the kernel's memory.

import (
	"debug/elf"
	"fmt"
	"testing"

	"rt0/host/qemu"
)

func symbolAddr(t *testing.T, img, name string) uint64 {
	t.Helper()
	f, err := elf.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s: no symbol %s", img, name)
	return 0
}

// The same program on the host (aiming at Linux's kernel half) and on
// rt0, aimed at kernel variables of each kind: the VMA table (bss), the
// link table (data the post-link step wrote), the per-CPU blocks of
// package amd64 and the thread table of package sched.
func TestBootUserMemory(t *testing.T) {
	want := hostRun(t, "testdata/progs/usermem")
	img := Build(t, "testdata/progs/usermem")
	for _, sym := range []string{"rt0/guest/kernel.vmas", "rt0/guest/kernel.linkinfo", "rt0/guest/arch/amd64.cpus", "rt0/guest/sched.table"} {
		t.Run(sym, func(t *testing.T) {
			// Aim a little inside the variable, not at its first byte.
			addr := symbolAddr(t, img, sym) + 16
			res := Boot(t, img, qemu.Config{Append: fmt.Sprintf("-- %#x", addr)})
			wantOutput(t, res, want, 0)
		})
	}
}
