// Package debug writes the GDB script `rt0 debug` runs against QEMU's
// gdbstub: a breakpoint at each milestone of a Go program's startup, from
// rt0's 32-bit stub to main.main, each with commands that print what the
// machine holds there under go1.26's register ABI (R14 = g, AX = the first
// argument), the FS base, g0's stack bounds, m0.tls[0], the goroutine
// execute is given, the gobuf gogo restores. It runs on the host.
//
// Addresses come from the image (symbols, the multiboot header, and the
// decoded code of the few functions where a milestone is an instruction
// inside a function), never from assumptions.
//
// # GDB and the CPU's mode switches
//
// GDB attaches while the CPU is in real mode at the reset vector, the
// program starts in 32-bit protected mode (the stub) and runs in long mode.
// qemu-system-x86_64's gdbstub (7.2) always describes the 64-bit register
// set, whatever the mode, so GDB with `set architecture i386:x86-64` reads
// registers correctly from the first instruction on: no "Remote 'g' packet
// reply is too long" and no need for the disconnect / set architecture /
// reconnect workaround older QEMU and GDB pairs needed. What GDB cannot do
// is decode 32-bit code in that architecture, so the stub's milestone
// prints registers, not instructions.
//
// Breakpoints are software breakpoints (`tbreak *ADDR`): QEMU's TCG
// gdbstub implements them itself (Z0 packets) without writing into guest
// memory, so they may be set at reset, before the loader has put the image
// in memory, and they do not use the CPU's debug registers, which the
// kernel uses (DR0 on main.main, for its boot timing).
package debug

import (
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"rt0/contract"
	"rt0/host/study/bin"
)

// Milestone is one stop.
type Milestone struct {
	Name  string // short label: "rt0_go", "execute"
	Addr  uint64
	Where string // symbol(+offset) of Addr
	Note  string // what happens here, printed at the stop
	// Cmds are GDB commands run at the stop (printf, p, x, info registers).
	Cmds []string
	// Disasm says whether x/i at the PC makes sense (not in 32-bit code).
	Disasm bool
}

// milestone describes one stop before it is resolved.
type milestone struct {
	name string
	syms []string            // the first present symbol...
	at   func(bin.Inst) bool // ...or an instruction in it
	stub bool                // the multiboot entry
	note string
	cmds []string
}

// Go symbols in GDB's C expressions are quoted: 'runtime.g0'.stack.
var milestones = []milestone{
	{
		name: "multiboot entry (rt0's 32-bit stub)", stub: true,
		note: "The loader jumped to the image's multiboot entry: 32-bit protected mode, paging off.",
		cmds: []string{
			`printf "EAX = %#x (multiboot magic: 0x2badb002 for v1, 0x36d76289 for v2), EBX = %#x (boot info)\n", $eax, $ebx`,
			`info registers cs cr0 efer`,
		},
	},
	{
		name: contract.SymEntry64 + " (64-bit mode)", syms: []string{contract.SymEntry64},
		note: "After the stub's far jump: long mode (EFER.LMA), paging with the boot page tables, CS = 0x08.",
		cmds: []string{
			`info registers cs cr0 cr3 efer`,
			`printf "TSC at rt0's first instruction (EBX:EBP) = %#lx\n", (((long)$rbx & 0xffffffff) << 32) | ((long)$rbp & 0xffffffff)`,
		},
	},
	{
		name: "_rt0_amd64_linux", syms: []string{"_rt0_amd64_linux"},
		note: "kernel.boot's IRETQ entered the runtime (ELF e_entry), RSP on the Linux initial stack.",
		cmds: []string{
			`printf "RSP = %#lx: argc = %ld, argv[0] = %s\n", $rsp, *(long *)$rsp, *(char **)($rsp + 8)`,
			`info registers cs eflags fs_base`,
		},
	},
	{
		name: "rt0_go", syms: []string{"runtime.rt0_go.abi0", "runtime.rt0_go"},
		note: "runtime.rt0_go: argc in DI, argv in SI (from _rt0_amd64). FS base is not set yet.",
		cmds: []string{
			`printf "argc (DI) = %ld, argv (SI) = %#lx, argv[0] = %s, RSP = %#lx\n", $rdi, $rsi, *(char **)$rsi, $rsp`,
			`printf "fs_base = %#lx\n", $fs_base`,
		},
	},
	{
		name: "_cgo_init hook (" + contract.SymCgoInitHook + ")", syms: []string{contract.SymCgoInitHook},
		note: "rt0_go called *_cgo_init with DI = &g0; g0's stack was carved from the OS stack just before.",
		cmds: []string{
			`printf "DI = %#lx, &g0 = %#lx\n", $rdi, &'runtime.g0'`,
			`printf "g0.stack = [%#lx, %#lx), hi - lo = %ld\n", 'runtime.g0'.stack.lo, 'runtime.g0'.stack.hi, 'runtime.g0'.stack.hi - 'runtime.g0'.stack.lo`,
			`printf "fs_base before the hook = %#lx\n", $fs_base`,
		},
	},
	{
		name: "_cgo_init hook returns (FS base written)", syms: []string{contract.SymCgoInitHook},
		at:   func(in bin.Inst) bool { return in.Inst.Op == x86asm.RET },
		note: "After WRMSR: IA32_FS_BASE = &m0.tls[0] + 8, what settls/arch_prctl would have set on Linux.",
		cmds: []string{
			`printf "fs_base = %#lx, &m0.tls[0] + 8 = %#lx\n", $fs_base, (long)&'runtime.m0'.tls[0] + 8`,
		},
	},
	{
		name: "runtime.args", syms: []string{"runtime.args"},
		note: "The first Go function: rt0_go stored &g0 through FS:-8 into m0.tls[0]; the ABI wrapper loaded it into R14.",
		cmds: []string{
			`printf "argc (AX) = %d, argv (BX) = %#lx\n", $eax, $rbx`,
			`printf "R14 (g) = %#lx, &g0 = %#lx, m0.tls[0] = %#lx, *(FS-8) = %#lx\n", $r14, &'runtime.g0', 'runtime.m0'.tls[0], *(long *)($fs_base - 8)`,
		},
	},
	{
		name: "runtime.osinit", syms: []string{"runtime.osinit"},
		note: "osinit: the CPU count (sched_getaffinity) and the huge page size.",
		cmds: []string{
			`printf "R14 (g) = %#lx\n", $r14`,
		},
	},
	{
		name: "runtime.schedinit", syms: []string{"runtime.schedinit"},
		note: "schedinit, on g0's 64 KiB stack.",
		cmds: []string{
			`printf "g0.stack = [%#lx, %#lx), g0 stack hi - lo = %ld\n", 'runtime.g0'.stack.lo, 'runtime.g0'.stack.hi, 'runtime.g0'.stack.hi - 'runtime.g0'.stack.lo`,
			`printf "g0.stackguard0 = %#lx (lo + %ld), RSP = %#lx\n", 'runtime.g0'.stackguard0, 'runtime.g0'.stackguard0 - 'runtime.g0'.stack.lo, $rsp`,
			`printf "CPUs (osinit's count) = %d\n", 'runtime.numCPUStartup'`,
		},
	},
	{
		name: "runtime.newproc", syms: []string{"runtime.newproc"},
		note: "newproc(fn) for runtime.main: fn (a funcval) in AX; the return address is the caller PC it records " +
			"(GDB names ABI wrappers without .abi0: runtime.newproc+N there is inside runtime.newproc.abi0).",
		cmds: []string{
			`printf "fn (AX) = %#lx, fn.fn = ", $rax`,
			`output/a *(long *)$rax`,
			`printf "\nreturn address = "`,
			`output/a *(long *)$rsp`,
			`printf "\nGOMAXPROCS = %d, len(allp) = %ld\n", 'runtime.gomaxprocs', 'runtime.allp'.len`,
		},
	},
	{
		name: "newproc1's g, put on the run queue (runtime.runqput)", syms: []string{"runtime.runqput"},
		note: "runqput(pp, newg, next=true): the new goroutine, made by newproc1 (Gidle -> Gdead -> Grunnable).",
		cmds: []string{
			`printf "newg (BX) = %#lx: goid = %ld, status = %u (1 = _Grunnable), stack = [%#lx, %#lx) (%ld bytes), stackguard1 = %#lx\n", $rbx, (('runtime.g' *)$rbx)->goid, (('runtime.g' *)$rbx)->atomicstatus.value, (('runtime.g' *)$rbx)->stack.lo, (('runtime.g' *)$rbx)->stack.hi, (('runtime.g' *)$rbx)->stack.hi - (('runtime.g' *)$rbx)->stack.lo, (('runtime.g' *)$rbx)->stackguard1`,
			`printf "newg.sched.pc = "`,
			`output/a (('runtime.g' *)$rbx)->sched.pc`,
			`printf ", return address on its stack (sched.sp) = "`,
			`output/a *(long *)(('runtime.g' *)$rbx)->sched.sp`,
			`printf ", gopc = "`,
			`output/a (('runtime.g' *)$rbx)->gopc`,
			`printf "\nnext (CX) = %d\n", $ecx`,
		},
	},
	{
		name: "runtime.mstart", syms: []string{"runtime.mstart.abi0", "runtime.mstart"},
		note: "rt0_go's last call: m0 starts scheduling on g0's stack.",
		cmds: []string{
			`printf "RSP = %#lx, g0.stack = [%#lx, %#lx), m0.p = %#lx\n", $rsp, 'runtime.g0'.stack.lo, 'runtime.g0'.stack.hi, 'runtime.m0'.p`,
		},
	},
	{
		name: "runtime.schedule", syms: []string{"runtime.schedule"},
		note: "schedule on g0: runtime.main's goroutine waits in m0's P's runnext.",
		cmds: []string{
			`printf "R14 (g) = %#lx (&g0 = %#lx), P = %#lx, P.runnext = %#lx\n", $r14, &'runtime.g0', 'runtime.m0'.p, (('runtime.p' *)'runtime.m0'.p)->runnext`,
		},
	},
	{
		name: "runtime.execute", syms: []string{"runtime.execute"},
		note: "execute(gp, inheritTime): gp in AX, inheritTime in BL (register ABI).",
		cmds: []string{
			`printf "gp (AX) = %#lx: goid = %ld, status = %u (1 = _Grunnable), inheritTime (BL) = %d, m0.curg = %#lx\n", $rax, (('runtime.g' *)$rax)->goid, (('runtime.g' *)$rax)->atomicstatus.value, $bl, 'runtime.m0'.curg`,
			`printf "gp.sched: sp = %#lx, pc = ", (('runtime.g' *)$rax)->sched.sp`,
			`output/a (('runtime.g' *)$rax)->sched.pc`,
			`printf "\n"`,
		},
	},
	{
		name: "runtime.gogo", syms: []string{"runtime.gogo.abi0", "runtime.gogo"},
		note: "gogo(&gp.sched): the gobuf is gogo's ABI0 argument at 8(SP); execute made gp Grunning and m.curg.",
		cmds: []string{
			`printf "buf = %#lx: sp = %#lx, g = %#lx (goid %ld, status %u), pc = ", *(long *)($rsp + 8), (*('runtime.gobuf' **)($rsp + 8))->sp, (*('runtime.gobuf' **)($rsp + 8))->g, (('runtime.g' *)(*('runtime.gobuf' **)($rsp + 8))->g)->goid, (('runtime.g' *)(*('runtime.gobuf' **)($rsp + 8))->g)->atomicstatus.value`,
			`output/a (*('runtime.gobuf' **)($rsp + 8))->pc`,
			`printf "\nm0.curg = %#lx\n", 'runtime.m0'.curg`,
		},
	},
	{
		name: "gogo's JMP BX", syms: []string{"gogo", "gogo<>"},
		at:   func(in bin.Inst) bool { return in.Text == "JMP BX" },
		note: "The switch is done: R14 and FS:-8 hold the new g, SP is on its stack; JMP BX enters it.",
		cmds: []string{
			`printf "R14 (g) = %#lx, *(FS-8) = %#lx, RSP = %#lx, target (BX) = ", $r14, *(long *)($fs_base - 8), $rsp`,
			`output/a $rbx`,
			`printf "\n"`,
		},
	},
	{
		name: "runtime.main", syms: []string{"runtime.main"},
		note: "runtime.main on goroutine 1, entered as if called from goexit.",
		cmds: []string{
			`printf "R14 (g) = %#lx: goid = %ld, status = %u (2 = _Grunning); RSP = %#lx in [%#lx, %#lx)\n", $r14, (('runtime.g' *)$r14)->goid, (('runtime.g' *)$r14)->atomicstatus.value, $rsp, (('runtime.g' *)$r14)->stack.lo, (('runtime.g' *)$r14)->stack.hi`,
			`printf "return address = "`,
			`output/a *(long *)$rsp`,
			`printf "\n"`,
		},
	},
	{
		name: "main.main", syms: []string{"main.main"},
		note: "The program's main.main.",
		cmds: []string{
			`printf "R14 (g) = %#lx: goid = %ld; runtime.mainStarted = %d\n", $r14, (('runtime.g' *)$r14)->goid, 'runtime.mainStarted'`,
			`info goroutines`,
			`bt`,
		},
	},
}

// Milestones resolves the milestones in the image b, in execution order.
func Milestones(b *bin.Binary) ([]Milestone, error) {
	var out []Milestone
	for _, m := range milestones {
		r := Milestone{Name: m.name, Note: m.note, Cmds: m.cmds, Disasm: !m.stub}
		switch {
		case m.stub:
			mb, err := b.Multiboot()
			if err != nil {
				return nil, err
			}
			r.Addr, r.Where = mb.Entry, "multiboot entry_addr"
		default:
			s, ok := b.Func(m.syms...)
			if !ok {
				return nil, fmt.Errorf("milestone %s: the image has no %s", m.name, strings.Join(m.syms, " or "))
			}
			r.Addr, r.Where = s.Addr, s.Name
			if m.at != nil {
				insts, err := b.Disasm(s)
				if err != nil {
					return nil, err
				}
				found := false
				for _, in := range insts {
					if m.at(in) {
						r.Addr, r.Where, found = in.Addr, fmt.Sprintf("%s+%#x", s.Name, in.Addr-s.Addr), true
						break
					}
				}
				if !found {
					return nil, fmt.Errorf("milestone %s: instruction not found in %s", m.name, s.Name)
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Options configure the script.
type Options struct {
	// Target is what `target remote` connects to: a Unix socket path or
	// host:port.
	Target string
	// RuntimeGDB is the runtime's GDB helper ($GOROOT/src/runtime/runtime-gdb.py);
	// empty leaves it out. A failure to load it is reported, not fatal.
	RuntimeGDB string
	// Batch runs through every milestone without stopping (each prints and
	// continues), then lets the program run to its end.
	Batch bool
}

// Header is the first line printed at each stop; tests look for it.
const Header = "=== rt0 milestone"

// Script returns the GDB command file.
func Script(ms []Milestone, o Options) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# rt0 debug: GDB script generated from the image; GDB runs it against QEMU's gdbstub.")
	w("set pagination off")
	w("set confirm off")
	w("set print pretty off")
	w("# Go names are quoted in C expressions: 'runtime.g0'.stack.hi")
	w("set language c")
	w("set architecture i386:x86-64")
	w("")
	w("# rt0-try CMD runs CMD and prints its error instead of aborting the")
	w("# breakpoint's command list (which would lose the continue after it).")
	w("python")
	w("import gdb")
	w("class Rt0Try(gdb.Command):")
	w("    \"\"\"rt0-try COMMAND: run COMMAND; on error print it and go on.\"\"\"")
	w("    def __init__(self):")
	w("        super().__init__(\"rt0-try\", gdb.COMMAND_USER)")
	w("    def invoke(self, arg, from_tty):")
	w("        try:")
	w("            gdb.execute(arg, from_tty)")
	w("        except Exception as e:")
	w("            print(\"  (%%s: %%s)\" %% (arg.split()[0], e))")
	w("Rt0Try()")
	w("end")
	w("")
	if o.RuntimeGDB != "" {
		w("rt0-try source %s", o.RuntimeGDB)
	}
	w("target remote %s", o.Target)
	w("")
	w("define rt0-milestones")
	for i, m := range ms {
		w("  printf \"  %2d  %#-9x %-45s %s\\n\"", i+1, m.Addr, gdbString(m.Name), gdbString(m.Where))
	}
	w("end")
	w("document rt0-milestones")
	w("List the startup milestones rt0 debug put breakpoints on.")
	w("end")
	w("")
	for i, m := range ms {
		w("# %d. %s: %s", i+1, m.Name, m.Where)
		w("tbreak *%#x", m.Addr)
		w("commands")
		w("  silent")
		w("  printf \"\\n%s %d: %s at %#x (%s)\\n\"", Header, i+1, gdbString(m.Name), m.Addr, gdbString(m.Where))
		w("  printf \"%s\\n\"", gdbString(m.Note))
		if m.Disasm {
			w("  rt0-try x/i $pc")
		}
		for _, c := range m.Cmds {
			w("  rt0-try %s", c)
		}
		switch {
		case o.Batch && i+1 < len(ms):
			w("  continue")
		case o.Batch:
			// The last stop: let the program run to its end. QEMU then
			// exits and GDB reports the closed connection, an error that
			// rt0-try turns into a line of output.
			w(`  printf "\n=== rt0: last milestone; the program runs to its end\n"`)
			w("  rt0-try continue")
		case i+1 < len(ms):
			w(`  printf "(next: %s; type c to continue, rt0-milestones to list them)\n"`, gdbString(ms[i+1].Name))
		}
		w("end")
		w("")
	}
	if o.Batch {
		w("continue")
	} else {
		w(`printf "rt0 debug: QEMU is paused at the reset vector; breakpoints at %d milestones:\n"`, len(ms))
		w("rt0-milestones")
		w(`printf "Continuing to the first one.\n"`)
		w("continue")
	}
	return b.String()
}

// gdbString escapes s for a GDB printf format string.
func gdbString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%")
	return r.Replace(s)
}
