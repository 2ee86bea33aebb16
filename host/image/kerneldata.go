package image

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"rt0/contract"
)

// The kernel's own variables share the image's data and bss with the
// runtime's and the program's: the linker sorts the symbols of a section by
// size, not by package, so the kernel's tables are scattered among the
// program's globals. A system call must refuse a user pointer into the
// former (a read(2) into the kernel's VMA table would rewrite it) and accept
// one into the latter (the runtime passes its globals to system calls all
// the time). Only the symbol table knows which is which, so the post-link
// step writes the kernel a list of the runs of its variables, and usermem.go
// checks every user range against it.

// KernelPackage reports whether a symbol belongs to a package below the
// runtime: rt0's guest packages but those contract.AboveRuntimePkgs names.
func KernelPackage(sym string) bool {
	if !strings.HasPrefix(sym, contract.GuestPrefix) {
		return false
	}
	// The package path ends at the first dot after its last slash
	// (rt0/guest/kernel.vmas, rt0/guest/kernel..stmp_3).
	pkg := sym
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		if j := strings.IndexByte(pkg[i:], '.'); j >= 0 {
			pkg = pkg[:i+j]
		}
	}
	for _, p := range contract.AboveRuntimePkgs {
		if pkg == p {
			return false
		}
	}
	return true
}

// Span is a run [Start, End) of kernel variables.
type Span struct{ Start, End uint64 }

// KernelDataSpans returns the runs of the image's data and bss that hold
// only kernel variables, sorted, at most max of them. Two kernel symbols
// with nothing but padding between them are one run. Past max, the runs
// with the smallest gaps between them are joined, so that the list only
// ever covers more than the kernel's variables, never less: a program
// variable caught in a joined gap is refused too (EFAULT), which is the
// safe mistake.
func KernelDataSpans(f *elf.File, syms []elf.Symbol, max int) []Span {
	dataSec := map[elf.SectionIndex]bool{}
	for i, s := range f.Sections {
		switch s.Name {
		case ".data", ".bss", ".noptrdata", ".noptrbss":
			dataSec[elf.SectionIndex(i)] = true
		}
	}
	var all []Var
	for _, s := range syms {
		if !dataSec[s.Section] || s.Size == 0 || elf.ST_TYPE(s.Info) != elf.STT_OBJECT {
			continue
		}
		all = append(all, Var{s.Value, s.Value + s.Size, KernelPackage(s.Name)})
	}
	return joinSpans(all, max)
}

// Var is one variable of the image: [Start, End), and whether it is the
// kernel's.
type Var struct {
	Start, End uint64
	Kernel     bool
}

// joinSpans turns variables into the runs of kernel variables (see
// KernelDataSpans).
func joinSpans(all []Var, max int) []Span {
	sort.Slice(all, func(i, j int) bool { return all[i].Start < all[j].Start })
	var spans []Span
	open := false
	for _, s := range all {
		switch {
		case !s.Kernel:
			open = false
		case open:
			spans[len(spans)-1].End = max64(spans[len(spans)-1].End, s.End)
		default:
			spans = append(spans, Span{s.Start, s.End})
			open = true
		}
	}
	for len(spans) > max {
		best := 0
		for i := 1; i < len(spans)-1; i++ {
			if spans[i+1].Start-spans[i].End < spans[best+1].Start-spans[best].End {
				best = i
			}
		}
		spans[best].End = spans[best+1].End
		spans = append(spans[:best+1], spans[best+2:]...)
	}
	return spans
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// writeKernelData fills the kernel's kernelData table: a count word, then
// (start, end) pairs of 32-bit addresses.
func writeKernelData(f *elf.File, syms []elf.Symbol, out []byte, base uint64) error {
	kd, ok := findSym(syms, contract.SymKernelData)
	if !ok {
		return fmt.Errorf("symbol %s not found", contract.SymKernelData)
	}
	if kd.Size != 8+8*contract.KernelDataEntries {
		return fmt.Errorf("%s is %d bytes, want %d", contract.SymKernelData, kd.Size, 8+8*contract.KernelDataEntries)
	}
	spans := KernelDataSpans(f, syms, contract.KernelDataEntries)
	b := out[kd.Value-base:]
	le := binary.LittleEndian
	le.PutUint64(b, uint64(len(spans)))
	for i, s := range spans {
		if s.End > 1<<32 {
			return fmt.Errorf("kernel variables at %#x, above 4 GiB", s.Start)
		}
		le.PutUint32(b[8+8*i:], uint32(s.Start))
		le.PutUint32(b[12+8*i:], uint32(s.End))
	}
	return nil
}
