package image

import (
	"debug/elf"
	"encoding/binary"
	"fmt"

	"rt0/contract"
)

// Milestone is a point of Go's startup that the kernel's tracer (rt0 run
// -trace) catches with a hardware execution breakpoint: the entry of a
// function, found by symbol in the built ELF. Snap names the register that
// points at what is worth copying at that moment (a g, a gobuf, a funcval,
// argv), in the order of the table below; 0 means nothing.
type Milestone struct {
	Name    string   // how the trace calls it
	Symbols []string // ELF symbols to try, first found wins
	Snap    int      // SnapRAX..SnapR15, or 0
	Why     string   // one line for the timeline
	// Again: after main.main the kernel records this milestone once more,
	// to show the program's first goroutine being created and run.
	Again bool
}

// traceAgain is the bit of a table entry's second word that asks for the
// second recording (Milestone.Again).
const traceAgain = 1 << 8

// Registers a milestone can snapshot memory at (guest/kernel/trace.go keeps the
// same numbering).
const (
	SnapNone = iota
	SnapRAX
	SnapRBX
	SnapRCX
	SnapRDX
	SnapRSI
	SnapRDI
	SnapRBP
	SnapRSP
)

// Milestones are Go's startup, in the order it runs them (go1.26). Under
// the register ABI the first arguments of a Go function arrive in AX, BX,
// CX, DI, SI, ...; assembly functions take theirs on the stack.
var Milestones = []Milestone{
	{"_rt0_amd64_linux", []string{"_rt0_amd64_linux"}, SnapRSP, "the runtime's entry: SP points at argc, argv, envp, auxv", false},
	{"rt0_go", []string{"runtime.rt0_go.abi0", "runtime.rt0_go"}, SnapNone, "copies argc/argv, carves the 64 KiB g0 stack from the OS stack", false},
	{"_cgo_init hook", []string{contract.SymCgoInitHook}, SnapRDI, "rt0_go calls _cgo_init(DI=&g0): rt0's hook sets FS = &m0.tls[0]+8 by WRMSR", false},
	{"runtime.args", []string{"runtime.args"}, SnapRBX, "args(argc=AX, argv=BX): saves argc/argv, reads auxv", false},
	{"runtime.osinit", []string{"runtime.osinit"}, SnapNone, "osinit: CPU count (sched_getaffinity), huge page size", false},
	{"runtime.schedinit", []string{"runtime.schedinit"}, SnapNone, "schedinit: m0, g0, the heap, GOMAXPROCS", false},
	{"runtime.procresize", []string{"runtime.procresize"}, SnapNone, "procresize(nprocs=AX): builds the Ps", false},
	{"runtime.newproc", []string{"runtime.newproc"}, SnapRAX, "newproc(fn=AX): a goroutine for runtime.main (fn.fn)", true},
	{"runtime.runqput", []string{"runtime.runqput"}, SnapRBX, "runqput(pp=AX, gp=BX): the new g, Grunnable, on P's run queue", true},
	{"runtime.mstart", []string{"runtime.mstart.abi0", "runtime.mstart"}, SnapNone, "mstart: m0 starts scheduling on g0", false},
	{"runtime.schedule", []string{"runtime.schedule"}, SnapNone, "schedule: find a runnable g (runqget)", true},
	{"runtime.execute", []string{"runtime.execute"}, SnapRAX, "execute(gp=AX): Grunnable -> Grunning, m.curg = gp", true},
	{"runtime.gogo", []string{"gogo", "runtime.gogo.abi0"}, SnapRBX, "gogo(buf=BX): switch to the g's stack and JMP to gobuf.pc", true},
	{"runtime.main", []string{"runtime.main"}, SnapNone, "runtime.main, on goroutine 1", false},
	{"runtime.newm", []string{"runtime.newm"}, SnapRAX, "newm(fn=AX): a new M for sysmon (clone follows)", false},
	{"main.main", []string{"main.main"}, SnapNone, "the program's main", false},
}

// Layout of the kernel's trace table (guest/kernel/trace.go): a count, then
// (address, snap register) pairs.
const (
	traceTableSym     = contract.SymTraceTable
	TraceTableEntries = 30
)

// writeTraceTable resolves Milestones in the ELF and writes the kernel's
// table. Missing symbols get address 0 (the kernel skips them).
func writeTraceTable(f *elf.File, syms []elf.Symbol, out []byte, base uint64) error {
	tt, ok := findSym(syms, traceTableSym)
	if !ok {
		return fmt.Errorf("symbol %s not found", traceTableSym)
	}
	if len(Milestones) > TraceTableEntries {
		return fmt.Errorf("%d milestones, table holds %d", len(Milestones), TraceTableEntries)
	}
	b := out[tt.Value-base:]
	le := binary.LittleEndian
	le.PutUint64(b, uint64(len(Milestones)))
	for i, m := range Milestones {
		var addr uint64
		for _, name := range m.Symbols {
			if s, ok := findSym(syms, name); ok {
				addr = s.Value
				break
			}
		}
		le.PutUint64(b[8+16*i:], addr)
		w := uint64(m.Snap)
		if m.Again {
			w |= traceAgain
		}
		le.PutUint64(b[16+16*i:], w)
	}
	return nil
}

// MilestoneAddrs returns the address each milestone resolved to in an ELF
// (0 where none of its symbols exists).
func MilestoneAddrs(f *elf.File) ([]uint64, error) {
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	addrs := make([]uint64, len(Milestones))
	for i, m := range Milestones {
		for _, name := range m.Symbols {
			if s, ok := findSym(syms, name); ok {
				addrs[i] = s.Value
				break
			}
		}
	}
	return addrs, nil
}
