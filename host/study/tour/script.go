package tour

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"rt0/contract"
	"rt0/host/study/bin"
)

// The tour's text. Every note is attached to an instruction found by what
// it is (a call to a named function, a store to a DWARF-named field, an
// exact Go-syntax text), never by address; values quoted in notes are read
// from the image. go1.12 comparisons refer to the go1.12 walkthrough rt0's
// docs answer.

func tourIntro(c *ctx) []string {
	mb, err := c.b.Multiboot()
	mbText := "no multiboot header found"
	if err == nil {
		mbText = fmt.Sprintf("the multiboot v1 header at file offset %#x says: load the file at %#x, "+
			"file-backed up to %#x, zero up to %#x, enter at %#x", mb.Offset, mb.LoadAddr, mb.LoadEnd, mb.BSSEnd, mb.Entry)
	}
	return []string{
		"This is the path a Go program takes from the boot loader's jump to main.main, read from the built " +
			"image itself: instructions decoded with golang.org/x/arch/x86/x86asm in Go assembler syntax " +
			"(what `go tool objdump` prints), call targets named from the ELF symbol table, file:line from the " +
			"Go pclntab, struct offsets from DWARF. Functions appear in the order they first run. Short ones " +
			"are shown in full; long Go functions as excerpts around the instructions that matter, with the " +
			"number of instructions left out. Notes follow the instruction they explain; a trailing // comment " +
			"names what the instruction leaves as a number.",
		fmt.Sprintf("Image: %s; ELF entry (e_entry) %s; %s.", c.b.Path, c.name(c.b.Entry), mbText),
		"Register conventions to keep in mind (go1.17+ register ABI, \"ABIInternal\"): integer arguments " +
			"and results in AX, BX, CX, DI, SI, R8, R9, R10, R11; R14 always holds the current g; X15 always " +
			"holds zero; DX carries a closure's context. Assembly functions use the old stack-based ABI0, and " +
			"the linker puts small wrappers (named NAME.abi0) between the two. go1.12, which the classic " +
			"walkthrough stepped through, had only the stack ABI and reloaded g from TLS (FS:-8) in every " +
			"function prologue.",
	}
}

func script() []spec {
	return []spec{
		stub32Spec(),
		entry64Spec(),
		{
			names: []string{"_rt0_amd64_linux"},
			intro: func(c *ctx) []string {
				return []string{fmt.Sprintf("The runtime's entry point and the ELF's e_entry (%#x). On Linux, execve "+
					"starts the process here. On rt0, kernel.boot gets there by an IRETQ, in ring 0, with RSP on a "+
					"Linux-style initial stack it built: argc, argv[], NULL, envp[], NULL, auxv (AT_PAGESZ, AT_CLKTCK, "+
					"AT_HWCAP, AT_PLATFORM, AT_RANDOM, AT_SECURE). From here on every instruction is the stock "+
					"go1.26 runtime's. go1.12: the same one-instruction function.", c.b.Entry)}
			},
			notes: []note{{match: jumps("_rt0_amd64"), text: static("A tail jump into the architecture's common entry.")}},
		},
		{
			names: []string{"_rt0_amd64"},
			notes: []note{
				{match: is("MOVQ 0(SP), DI"), text: static("DI = argc, the word at the top of the initial stack.")},
				{match: is("LEAQ 0x8(SP), SI"), text: static("SI = argv, the address just above it. DI and SI are the first two " +
					"arguments of the C ABI; rt0_go takes them from there.")},
				{match: jumps("runtime.rt0_go"), text: static("JMP, not CALL: there is nothing to return to.")},
			},
		},
		rt0goSpec(),
		hookSpec(),
		{
			names: []string{"runtime.args.abi0"},
			intro: func(c *ctx) []string {
				return []string{"rt0_go's first call into Go code goes through an ABI wrapper: runtime.args is a Go " +
					"function (ABIInternal: arguments in registers), rt0_go is assembly (ABI0: arguments on the stack). " +
					"The linker generated this NAME.abi0 function to translate."}
			},
			notes: []note{
				{match: has("XORPS X15, X15"), text: static("X15 = 0: ABIInternal code assumes X15 is zero (it uses it to zero memory " +
					"and as a zero operand). Assembly may have clobbered it, so every ABI0-to-ABIInternal wrapper re-zeroes it.")},
				{match: has("MOVQ FS:-0x8, R14"), text: static("R14 = g, loaded from the TLS slot FS:-8, i.e. m0.tls[0] = &g0, stored by " +
					"rt0_go just before. From here on Go code finds g in R14 for free; go1.12 compiled every prologue " +
					"as MOVQ FS:-8, CX; CMPQ SP, 16(CX).")},
				{match: calls("runtime.args"), text: static("args(argc, argv) saves them and walks past envp to auxv " +
					"(sysargs): the page size, AT_RANDOM's 16 bytes (startupRand), AT_HWCAP. rt0 passes no AT_SYSINFO_EHDR, " +
					"so there is no vDSO: time comes from real clock_gettime syscalls, which rt0 serves.")},
			},
		},
		{
			names: []string{"runtime.schedinit.abi0"},
			intro: func(c *ctx) []string {
				return []string{"rt0_go called runtime.osinit.abi0 just before (osinit: numCPUStartup from sched_getaffinity, " +
					"one CPU under rt0; the huge page size, whose /sys file does not exist on rt0; no vDSO getrandom). " +
					"The same kind of wrapper leads into schedinit."}
			},
			notes: []note{
				{match: jumps("runtime.schedinit"), text: static("No arguments to move, so the wrapper only sets up X15 and R14 " +
					"and tail-jumps.")},
			},
		},
		schedinitSpec(),
		{
			names: []string{"runtime.newproc.abi0"},
			intro: func(c *ctx) []string {
				return []string{"Back in rt0_go: newproc(fn) with fn = runtime.mainPC pushed on the stack. This wrapper " +
					"has an argument to move."}
			},
			notes: []note{
				{match: is("MOVQ 0x18(SP), AX"), text: static("AX = fn: the ABI0 argument sits above the return address, the " +
					"wrapper's saved BP and its 8-byte frame (0x18); ABIInternal wants the first argument in AX.")},
				{match: calls("runtime.newproc"), text: static("A real CALL this time (the wrapper must pop its frame " +
					"afterwards). Its return address, inside this wrapper, is what newproc will record as the " +
					"\"caller PC\" of the main goroutine.")},
			},
		},
		newprocSpec(),
		newprocFunc1Spec(),
		newproc1Spec(),
		{
			names: []string{"runtime.mstart.abi0", "runtime.mstart"},
			intro: func(c *ctx) []string {
				return []string{"rt0_go's last call. mstart is where every M (OS thread) starts running Go; for m0 it " +
					"is called from rt0_go on g0's stack, for other threads clone's child starts here."}
			},
			notes: []note{
				{match: is("MOVQ $0x0, BP"), text: static("TOPFRAME: frame-pointer unwinders stop here (go.dev/issue/63630).")},
				{match: calls("runtime.mstart0"), text: static("Through the ABI0->ABIInternal wrapper runtime.mstart0.abi0 (X15 = 0, " +
					"R14 = FS:-8 = g0), like schedinit's.")},
			},
		},
		mstart0Spec(),
		mstart1Spec(),
		scheduleSpec(),
		findRunnableSpec(),
		executeSpec(),
		gogoABI0Spec(),
		gogoSpec(),
		mainSpec(),
		{
			names: []string{"main.main"},
			intro: func(c *ctx) []string {
				return []string{"The program's own main, compiled by the stock compiler: nothing in it knows rt0. " +
					"The kernel times this moment too: it puts a DR0 execution breakpoint on main.main (address from " +
					"the image's symbols, patched into the kernel's link table) and records the TSC from the #DB handler."}
			},
			notes: []note{
				{match: is("CMPQ SP, 0x10(R14)"), before: -1, text: func(c *ctx, in *bin.Inst) string {
					return fmt.Sprintf("The stack check every non-leaf Go function starts with: SP against "+
						"g.stackguard0 (offset %s), g found in R14. Here g is goroutine 1, on the stack newproc1 gave it.",
						c.off("runtime.g", "stackguard0"))
				}},
				{match: calls("runtime.newproc"), optional: true, text: static("A go statement: AX = a funcval for the " +
					"goroutine's closure (its code and captured variables). This is the same newproc rt0_go called for " +
					"runtime.main; the PC it records as the new goroutine's gopc is the return address of this CALL.")},
				{match: calls("fmt.Fprintln"), optional: true, text: static("fmt.Println, inlined into Fprintln(os.Stdout, ...): " +
					"it ends in a write(1, ...) system call, which rt0 sends to COM1.")},
			},
		},
	}
}

func stub32Spec() spec {
	return spec{
		title:  "rt0: the 32-bit stub (multiboot entry)",
		stub32: true,
		intro: func(c *ctx) []string {
			mb, _ := c.b.Multiboot()
			return []string{fmt.Sprintf("A multiboot loader (QEMU -kernel, GRUB) finds the multiboot header at file "+
				"offset %#x, loads the file at %#x and jumps to entry_addr %#x in 32-bit protected mode: paging off, "+
				"interrupts off, EAX = the loader's magic, EBX = its boot information. These bytes have no symbol: "+
				"host/image.Patch wrote them into the zero padding of the ELF's first page after `go build`, "+
				"because Go's assembler cannot emit 32-bit code (they are hand-encoded in host/image/stub32.go). "+
				"They are found here the way the loader finds them, through the header, and decoded in 32-bit mode.",
				mb.Offset, mb.LoadAddr, mb.Entry)}
		},
		notes: []note{
			{match: op(x86asm.CLI), mark: "first instruction of the machine's program", text: static("Interrupts off (loaders promise it; be sure).")},
			{match: is("MOVL AX, DI"), text: static("Keep the loader's magic (EAX) and boot info address (EBX) in EDI and ESI: " +
				"they survive the mode switch and arrive in entry64, then kernel.boot.")},
			{match: op(x86asm.RDTSC), text: static("rt0's first timestamp, saved in EBX:EBP: the start of the boot timeline " +
				"(the kernel's \"first instruction -> main.main\" cycle count).")},
			{match: is("ORL $0x20, AX"), text: static("CR4.PAE: long mode requires PAE page tables.")},
			{match: is("MOVL AX, CR3"), text: static("CR3 = the boot page tables: an identity map of the first 4 GiB in " +
				"2 MiB pages, written by host/image.Patch into a page-aligned area the kernel reserves " +
				"(rt0/guest/kernel.bootPageTables; the immediate above points inside it).")},
			{match: is("MOVL $0xc0000080, CX"), text: static("ECX = 0xC0000080, IA32_EFER: RDMSR, set bit 8 (LME, long mode enable), WRMSR.")},
			{match: is("ORL $0x80000001, AX"), text: static("CR0.PG | CR0.PE: with EFER.LME set, turning paging on activates long " +
				"mode. The CPU now runs in compatibility mode: 64-bit paging, but CS is still the loader's 32-bit segment.")},
			{match: op(x86asm.LGDT), text: func(c *ctx, in *bin.Inst) string {
				return "Load rt0's GDT (null, 64-bit code at selector 0x08, data at 0x10), also written by Patch into the " +
					"first page's padding (no symbol: the operand stays a number)."
			}},
			{match: op(x86asm.LJMP), mark: "into 64-bit mode", text: func(c *ctx, in *bin.Inst) string {
				sel, off, _ := bin.FarTarget(in)
				return fmt.Sprintf("Far jump to selector %#x (the 64-bit code segment, CS.L=1), offset %s: the first 64-bit "+
					"instruction. x86asm's Go syntax prints the operands as $offset, $selector.", sel, c.name(off))
			}},
		},
	}
}

func entry64Spec() spec {
	return spec{
		names: []string{contract.SymEntry64},
		intro: func(c *ctx) []string {
			return []string{"rt0's 64-bit entry (kernel/entry_amd64.s), ordinary Go assembly. It prepares just enough " +
				"for Go code to run: segments, a zeroed bss, a stack with a \"trap g\" above it, FS, SSE. Then " +
				"kernel.boot (Go) sets up the CPU, IDT, memory, paging, clock and the first thread."}
		},
		notes: []note{
			{match: is("MOVL BP, R9"), text: static("R9 = the stub's TSC (EBX:EBP reassembled).")},
			{match: is("MOVL AX, DS"), text: static("Data segments = selector 0x10. (MOVL to a segment register is how " +
				"x86asm's Go syntax spells MOV DS, AX.)")},
			{match: has("STOSQ"), text: static("Zero the bss [loadEnd, imageEnd) from the kernel's link table: a loader " +
				"should have done it, rt0 does not rely on that.")},
			{match: has(contract.SymBootStack + "(SB)"), text: static("The boot stack. The next instructions build a \"trap g\" " +
				"right above its top: the four words stack.lo, stack.hi, stackguard0, stackguard1 that Go's stack " +
				"checks read through g, with a pointer to it at [top].")},
			{match: op(x86asm.WRMSR), text: static("FS base = top+8, so FS:-8 is the slot holding &trap g: the same " +
				"convention the runtime uses (FS:-8 holds the current g). Go code the kernel runs from here is " +
				"entered through ABI wrappers that load R14 from FS:-8, and finds a g whose bounds describe this stack.")},
			{match: is("MOVL AX, CR4"), text: static("CR0.EM off, CR0.MP on, CR4.OSFXSR|OSXMMEXCPT: SSE on. Go needs it " +
				"everywhere (X15 is the register ABI's zero register). AVX stays off.")},
			{match: calls(contract.SymBoot), mark: "kernel.boot (Go, not shown)", text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("kernel.boot(magic, info) initializes the CPU (GDT/TSS, IDT, SYSCALL, per-CPU GS), the "+
					"frame allocator, paging, the clock (TSC calibrated against the PIT), the first thread and its "+
					"Linux initial stack, and never returns: it \"returns\" to user code through the same IRETQ path every "+
					"trap uses, at the runtime's entry point %s (the ELF e_entry, put in the link table by Patch).",
					c.name(c.b.Entry))
			}},
		},
	}
}

func rt0goSpec() spec {
	gOff := func(c *ctx, f string) string { return c.off("runtime.g", f) }
	return spec{
		names: []string{"runtime.rt0_go.abi0", "runtime.rt0_go"},
		title: "runtime.rt0_go",
		intro: func(c *ctx) []string {
			return []string{"The heart of the bootstrap (runtime/asm_amd64.s), shown in full. As assembly it exists " +
				"only in ABI0, so the ELF symbol is runtime.rt0_go.abi0. In order: save argc/argv, carve g0's stack out " +
				"of the OS stack, look at the CPU, set up TLS so that FS:-8 is m0.tls[0], link m0 and g0, then " +
				"args, osinit, schedinit, newproc(runtime.main), mstart."}
		},
		notes: []note{
			{match: is("SUBQ $0x28, SP"), text: static("Room for 5 words (3 args, 2 autos), then 16-byte alignment. go1.12: " +
				"SUBQ $(4*8+7), SP.")},
			{match: is("MOVQ AX, 0x18(SP)"), text: static("argc and argv saved at 0x18(SP) and 0x20(SP), for runtime.args later.")},
			{match: is("MOVQ $0x0, BP"), text: static("BP = 0: this is the top frame; frame-pointer unwinders must stop " +
				"(go.dev/issue/63630). Not in go1.12.")},
			{match: is("LEAQ runtime.g0(SB), DI"), text: static("DI = &g0, the statically allocated g of m0. It stays in DI: " +
				"it is also _cgo_init's first argument below.")},
			{match: is("LEAQ -0x10000(SP), BX"), mark: "g0's stack: 64 KiB", text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("The g0 stack carve: BX = SP - 64 KiB. The next four stores make [SP-64K, SP) g0's "+
					"stack: stackguard0 (%s), stackguard1 (%s) and stack.lo (%s) = BX, stack.hi (%s) = SP, so "+
					"stack.hi - stack.lo is exactly 65536. The memory is the OS stack the loader (here: rt0's "+
					"8 MiB demand-zero stack area) gave the process; nothing is allocated. go1.12 used "+
					"(-64*1024+104)(SP), so the size was 104 bytes short of 64 KiB.",
					gOff(c, "stackguard0"), gOff(c, "stackguard1"), gOff(c, "stack.lo"), gOff(c, "stack.hi"))
			}},
			{match: op(x86asm.CPUID), text: static("CPUID leaf 0: vendor string in BX, DX, CX; \"GenuineIntel\" sets " +
				"runtime.isIntel. Then leaf 1 into runtime.processorVersionInfo.")},
			{match: is("MOVQ _cgo_init(SB), AX"), mark: "_cgo_init: rt0's hook", text: func(c *ctx, in *bin.Inst) string {
				_, desc := c.word("_cgo_init", 0)
				return "AX = _cgo_init. In an ordinary static Go binary this word is 0 (no cgo) and rt0_go jumps to " +
					"needtls: settls, i.e. arch_prctl(ARCH_SET_FS), a system call. rt0 defines _cgo_init itself " +
					"(kernel/cgoinit_amd64.s) as a word holding " + desc + ", so JE needtls is not " +
					"taken and the \"cgo\" branch runs, calling rt0's hook with DI = &g0. iscgo stays false: the runtime " +
					"still believes it is a pure Go program."
			}},
			{match: has("setg_gcc"), text: static("SI = setg_gcc, DX = CX = 0: arguments a C _cgo_init would use; rt0's hook ignores them.")},
			{match: is("CALL AX"), text: static("-> rt0/guest/kernel.cgoInitHook (next section). In ring 0 it writes the MSR " +
				"IA32_FS_BASE = &m0.tls[0] + 8 with WRMSR: exactly the FS base settls would have asked Linux for, " +
				"without a system call.")},
			{match: is("ADDQ $0x3a0, AX"), text: static("After _cgo_init: stackguard0 = stackguard1 = stack.lo + 0x3a0 " +
				"(stackGuard = 928 bytes: 800 nosplit + 128 StackSmall). The hook left g0's bounds alone, so g0's " +
				"stack is still the 64 KiB carved above (a C _cgo_init would have replaced stack.lo with the real " +
				"pthread stack's).")},
			{match: localJump, text: static("Skip needtls: settls and its 0x123 check below never run on rt0.")},
			{match: calls("runtime.settls"), text: static("Not executed on rt0. On Linux: settls(DI = &m0.tls) adds 8 to DI " +
				"(\"ELF wants to use -8(FS)\") and calls arch_prctl(ARCH_SET_FS, DI).")},
			{match: is("MOVQ $0x123, FS:-0x8"), text: static("Not executed on rt0. The source says get_tls(BX); MOVQ $0x123, " +
				"g(BX): get_tls produced no instruction and g(BX) became FS:-8, because on linux/amd64 the assembler " +
				"rewrites the TLS pseudo-register into an FS-relative access at the offset the linker gave runtime.tlsg. " +
				"Then it checks that the store landed in m0.tls[0].")},
			{match: is("MOVQ CX, FS:-0x8"), mark: "m0.tls[0] = &g0", text: func(c *ctx, in *bin.Inst) string {
				tls, err := c.b.Offset("runtime.m", "tls")
				where := ""
				if err == nil {
					if m0, ok := c.b.Sym("runtime.m0"); ok {
						where = fmt.Sprintf(" (m0.tls is at %#x: runtime.m0+%#x from DWARF, so FS base = %#x)", m0.Addr+tls, tls, m0.Addr+tls+8)
					}
				}
				return "g(BX) = &g0: the store goes through FS:-8 into m0.tls[0]" + where + ". Why -8: in the x86-64 " +
					"ELF TLS ABI the thread pointer (FS base) points at the end of the static TLS block and TLS " +
					"variables live below it. Go's linker gives its one TLS variable, runtime.tlsg (the g slot), " +
					"offset -8, the place a C TLS variable would get, which keeps the same code right when a C linker " +
					"lays out TLS (cgo, external linking). Hence FS base = &m.tls[0] + 8 and -8(FS) = m.tls[0]. This " +
					"slot is what every ABI wrapper loads into R14."
			}},
			{match: isf(func(c *ctx) string { return "MOVQ CX, " + c.off("runtime.m", "g0") + "(AX)" }), text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("m0.g0 = &g0 (m.g0 at %s) and, next, g0.m = &m0 (g.m at %s).", c.off("runtime.m", "g0"), c.off("runtime.g", "m"))
			}},
			{match: op(x86asm.CLD), text: static("Direction flag cleared: Go assumes it is always clear.")},
			{match: calls("runtime.check"), text: static("Self-checks of type sizes, atomics, timediv, ... (runtime.check).")},
			{match: calls("runtime.args"), mark: "runtime.args", text: static("args(argc, argv) through its ABI wrapper (next sections).")},
			{match: calls("runtime.osinit"), mark: "runtime.osinit", text: static("osinit: the number of CPUs (sched_getaffinity: 1 " +
				"on rt0) and the huge page size.")},
			{match: calls("runtime.schedinit"), mark: "runtime.schedinit", text: static("schedinit: allocator, GC, " +
				"command line and environment, GOMAXPROCS and the Ps (procresize).")},
			{match: is("LEAQ runtime.mainPC(SB), AX"), text: func(c *ctx, in *bin.Inst) string {
				_, desc := c.word("runtime.mainPC", 0)
				return "runtime.mainPC is a funcval, a one-word closure whose word is the code address: here " + desc +
					" (the ABIInternal runtime.main itself, not a wrapper: newproc1 will make it the goroutine's first PC)."
			}},
			{match: calls("runtime.newproc"), mark: "newproc(runtime.main)", text: static("newproc(fn): the argument pushed on " +
				"the stack (ABI0). go1.12 pushed two: newproc(siz int32, fn *funcval), siz = 0, and newproc copied siz " +
				"bytes of arguments onto the new stack; since go1.17 a go statement with arguments is compiled into " +
				"a closure, so newproc only takes fn.")},
			{match: calls("runtime.mstart"), mark: "mstart", text: static("mstart never returns: this thread becomes m0 " +
				"running the scheduler on g0's stack.")},
			{match: calls("runtime.abort"), text: static("Unreachable; the crash if mstart ever returned."), optional: true},
			{match: has("runtime.debugCallV2"), optional: true, text: static("Dead code after RET: it keeps debugCallV2 " +
				"and debugPinnerV1, which debuggers call, from being removed by the linker.")},
		},
	}
}

func hookSpec() spec {
	return spec{
		names: []string{contract.SymCgoInitHook},
		intro: func(c *ctx) []string {
			return []string{"rt0's _cgo_init hook (kernel/cgoinit_amd64.s), called by rt0_go's CALL AX above. This is " +
				"all rt0 does inside the runtime's bootstrap: the runtime code is unmodified, the hook hangs off a " +
				"symbol the runtime already references."}
		},
		notes: []note{
			{match: has(contract.SymLinkinfo + "+" + strconv.Itoa(contract.LinkM0TLS) + "(SB)"), text: func(c *ctx, in *bin.Inst) string {
				v, desc := c.word(contract.SymLinkinfo, contract.LinkM0TLS)
				check := ""
				if tls, err := c.b.Offset("runtime.m", "tls"); err == nil {
					if m0, ok := c.b.Sym("runtime.m0"); ok {
						if v == m0.Addr+tls {
							check = fmt.Sprintf(" = &runtime.m0 + %#x = &m0.tls[0], as DWARF says", tls)
						} else {
							check = fmt.Sprintf(" (WARNING: DWARF puts m0.tls at %#x)", m0.Addr+tls)
						}
					}
				}
				return "AX = the m0TLS word of the kernel's link table: " + desc + check + ". The kernel cannot name " +
					"runtime.m0 (the linker refuses references to it from other packages), so host/image.Patch " +
					"wrote the address after linking."
			}},
			{match: is("ADDQ $0x8, AX"), text: static("+8: \"ELF wants to use -8(FS)\", the same adjustment settls makes.")},
			{match: op(x86asm.WRMSR), mark: "FS base written (WRMSR, no arch_prctl)", text: static("IA32_FS_BASE = EDX:EAX = " +
				"&m0.tls[0] + 8. WRMSR is privileged; rt0 runs the runtime in ring 0, so the hook does it directly where " +
				"Linux would do it inside arch_prctl. DI (&g0) is not used, g0's stack bounds stay as rt0_go set them.")},
			{match: op(x86asm.RET), text: static("Back to rt0_go, which recomputes the stack guards and jumps to ok.")},
		},
	}
}

func schedinitSpec() spec {
	return spec{
		names:   []string{"runtime.schedinit"},
		excerpt: true,
		head:    5,
		intro: func(c *ctx) []string {
			return []string{"schedinit (proc.go) initializes nearly everything, briefly: locks, the allocator " +
				"(mallocinit), CPU features, hashing, m0's own fields (mcommoninit), module data, the signal mask, " +
				"argv and the environment (goargs, goenvs), GODEBUG, the GC, and finally the Ps (procresize)."}
		},
		notes: []note{
			{match: stackCheck, before: -1, text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("Every non-leaf Go function begins like this: compare SP (minus the frame size, for "+
					"frames larger than StackSmall: R12) with g.stackguard0 (%s) through R14, and call morestack if "+
					"below. Here g is g0, with the guard rt0_go set (stack.lo + 928).",
					c.off("runtime.g", "stackguard0"))
			}},
			{match: calls("runtime.mallocinit"), text: static("mallocinit: the heap arenas. The runtime reserves address " +
				"space with mmap(PROT_NONE) and commits with mmap(MAP_FIXED); rt0 gives it demand-zero pages.")},
			{match: calls("runtime.mcommoninit"), text: static("mcommoninit(m0, -1): m0's id, its signal goroutine gsignal " +
				"(32 KiB stack), and adds m0 to allm.")},
			{match: calls("runtime.goargs"), text: static("goargs: argv into os.Args' backing slice (argslice).")},
			{match: calls("runtime.gcinit"), text: static("gcinit: GC pacer state; the GC itself is enabled later by runtime.main (gcenable).")},
			{match: calls("runtime.procresize"), mark: "procresize: the Ps", text: static("procresize(procs): allocates " +
				"GOMAXPROCS Ps (allp), initializes each (mcache, run queue), and wires m0 to allp[0] (acquirep) since the " +
				"bootstrap M needs a P. On rt0 GOMAXPROCS is 1 (one CPU). go1.12 did the same; since go1.25 the default " +
				"also honours cgroup CPU limits (defaultGOMAXPROCS; rt0 has no cgroup files).")},
		},
	}
}

func newprocSpec() spec {
	return spec{
		names: []string{"runtime.newproc"},
		intro: func(c *ctx) []string {
			return []string{"go1.26's newproc(fn *funcval) is short (proc.go): take g and the caller's PC, then run " +
				"the real work on the system stack:",
				" func newproc(fn *funcval) {\n" +
					"     gp := getg()\n" +
					"     pc := sys.GetCallerPC()\n" +
					"     systemstack(func() {\n" +
					"         newg := newproc1(fn, gp, pc, false, waitReasonZero)\n" +
					"         pp := getg().m.p.ptr()\n" +
					"         runqput(pp, newg, true)\n" +
					"         if mainStarted { wakep() }\n" +
					"     })\n" +
					" }",
				"go1.12: newproc(siz int32, fn *funcval) also computed argp (the arguments after fn on the stack) for " +
					"newproc1 to copy."}
		},
		notes: []note{
			{match: has("runtime.newproc.func1(SB)"), text: static("The closure is built in newproc's frame: " +
				"{code = newproc.func1, fn, gp, pc} at 0x8(SP)..0x20(SP); systemstack gets its address.")},
			{match: is("MOVQ R14, AX"), text: static("gp := getg() is just R14 under the register ABI.")},
			{match: is("MOVQ 0x30(SP), AX"), text: static("pc := GetCallerPC(): the return address above the saved BP and " +
				"the 0x28-byte frame, i.e. an address in newproc's caller. Why take it here and pass it down: newproc1 runs " +
				"on g0's stack via systemstack, where \"my caller\" means nothing; the PC of the go statement is stored " +
				"as newg.gopc, the \"created by\" line of tracebacks. (For main's goroutine the caller is the ABI " +
				"wrapper called from rt0_go.)")},
			{match: calls("runtime.systemstack"), text: static("systemstack(closure): run it on the M's g0 stack. We are " +
				"already on g0 (rt0_go is), so it simply calls it. systemstack is assembly (ABI0), so after it the " +
				"caller restores X15 = 0 and R14 = FS:-8 itself.")},
		},
	}
}

func newprocFunc1Spec() spec {
	return spec{
		names: []string{"runtime.newproc.func1"},
		intro: func(c *ctx) []string {
			return []string{"The closure newproc hands to systemstack; its context register DX points at the captured " +
				"{fn, gp, pc}."}
		},
		notes: []note{
			{match: is("MOVQ 0x10(DX), BX"), text: static("Captured variables out of the closure context (DX): BX = gp, CX = pc, AX = fn.")},
			{match: calls("runtime.newproc1"), mark: "newproc1", text: static("newproc1(fn, gp, pc, parked=false (DI), " +
				"waitReasonZero (SI)) returns the new g in AX.")},
			{match: calls("runtime.runqput"), text: static("runqput(pp, newg, next=true): next=true puts the g in " +
				"pp.runnext, not at the tail of the ring, so it runs next (and inherits the time slice).")},
			{match: has("runtime.mainStarted(SB)"), text: static("mainStarted is false until runtime.main sets it: no " +
				"wakep, no extra Ms during bootstrap.")},
		},
	}
}

func newproc1Spec() spec {
	return spec{
		names:   []string{"runtime.newproc1"},
		excerpt: true,
		head:    5,
		intro: func(c *ctx) []string {
			return []string{"newproc1 builds the goroutine: a g with a stack, a saved context that looks as if fn had " +
				"been called from goexit, a goid, and the status transitions Gidle -> Gdead -> Grunnable."}
		},
		notes: []note{
			{match: calls("runtime.gfget"), text: static("gfget(pp): reuse a dead g from the P's free list; at startup there is none.")},
			{match: calls("runtime.malg"), mark: "malg: a new g and its stack", text: static("malg(stackMin = 0x800): a new g " +
				"with a 2 KiB stack (same minimum as go1.12). malg sets stackguard0 = stack.lo + 928 and stackguard1 = ^0: " +
				"stackguard1 is the limit checked by functions that may run only on system stacks (g0, gsignal), so ^0 " +
				"makes such a prologue call morestackc and crash if it ever runs on a user goroutine.")},
			{match: calls("runtime.casgstatus"), text: static("casgstatus(newg, _Gidle (0), _Gdead (6)) (CX = 6): a fresh g " +
				"is published as dead first, so that allgadd can make it visible to the GC, which ignores dead gs.")},
			{match: calls("runtime.allgadd"), text: static("allgadd: append to allgs.")},
			{match: has("runtime.goexit.abi0(SB)"), text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("newg.sched.pc = goexit + 1 (PCQuantum), newg.sched.sp = the top of its stack (gobuf.pc at "+
					"g+%s, gobuf.sp at g+%s): the +1 makes the \"previous instruction\" lie inside goexit for tracebacks.",
					c.off("runtime.g", "sched.pc"), c.off("runtime.g", "sched.sp"))
			}},
			{match: calls("runtime.gostartcallfn"), text: static("gostartcallfn(&newg.sched, fn) -> gostartcall: pushes " +
				"sched.pc (goexit+1) onto the new stack as a return address and sets sched.pc = fn.fn (runtime.main), " +
				"sched.ctxt = fn. When runtime.main returns, it returns into goexit.")},
			{match: storeTo("runtime.g", "goid"), text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("newg.goid = pp.goidcache (g.goid at %s). The P takes goids from sched.goidgen in "+
					"batches of 16; at startup sched.goidgen is 0, so the first goid, the main goroutine's, is 1.",
					c.off("runtime.g", "goid"))
			}},
			{match: calls("runtime.casgstatus"), mark: "Gdead -> Grunnable", text: static("casgstatus(newg, _Gdead (6), status) " +
				"with status = _Grunnable (1) in CX (parked would give _Gwaiting). The g is complete: runqput comes next.")},
		},
	}
}

func mstart0Spec() spec {
	return spec{
		names: []string{"runtime.mstart0"},
		intro: func(c *ctx) []string {
			return []string{"mstart0 is //go:nosplit (no stack check prologue: it sets the guards the check would use)."}
		},
		notes: []note{
			{match: isf(func(c *ctx) string { return "MOVQ " + c.off("runtime.g", "stack.lo") + "(R14), AX" }), text: static(
				"osStack := g.stack.lo == 0. For m0 it is not: rt0_go carved g0's stack, so the branch that invents " +
					"bounds from the current SP (for threads whose stack the OS allocated) is skipped.")},
			{match: is("ADDQ $0x3a0, AX"), text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("stackguard0 (%s) = stackguard1 (%s) = stack.lo + 928: g0 may run both ordinary and "+
					"systemstack-only code.", c.off("runtime.g", "stackguard0"), c.off("runtime.g", "stackguard1"))
			}},
			{match: calls("runtime.mstart1"), text: static("mstart1 never returns for m0 (it ends in schedule). It " +
				"returns here only when a goroutine's exit unwinds an M (then mexit below kills the thread).")},
			{match: calls("runtime.mexit"), text: static("mexit(osStack): the end of an M.")},
		},
	}
}

func mstart1Spec() spec {
	return spec{
		names:   []string{"runtime.mstart1"},
		excerpt: true,
		head:    5,
		notes: []note{
			{match: isf(func(c *ctx) string { return "MOVQ DX, " + c.off("runtime.g", "sched.g") + "(R14)" }), before: 4, after: 4,
				text: static("g0.sched = {g: g0, pc: the return address into mstart0, sp: the caller's SP}: a label that " +
					"gogo(&g0.sched) can later jump to, \"returning\" from mstart1 into mstart0 (used when an M " +
					"exits). After this, g0's frame below is reused by schedule and never returned to.")},
			{match: calls("runtime.asminit"), text: static("asminit: nothing to do on amd64.")},
			{match: calls("runtime.minit"), text: static("minit: the signal stack (sigaltstack on gsignal's stack), " +
				"the thread's signal mask, its id (gettid). All system calls rt0 serves.")},
			{match: calls("runtime.mstartm0"), text: static("Only on m0: mstartm0 -> initsig installs the runtime's signal " +
				"handlers with rt_sigaction, one signal after another.")},
			{match: is("CALL AX"), text: static("m.mstartfn(), if set (sysmon's M has one); nil for m0.")},
			{match: calls("runtime.schedule"), mark: "schedule", text: static("schedule(): find a runnable goroutine and run " +
				"it. Never returns.")},
		},
	}
}

func scheduleSpec() spec {
	return spec{
		names:   []string{"runtime.schedule"},
		excerpt: true,
		head:    5,
		intro: func(c *ctx) []string {
			return []string{"schedule: one round of the scheduler on g0. It never returns; each path ends in " +
				"execute, which gogo's away."}
		},
		notes: []note{
			{match: calls("runtime.findRunnable"), mark: "findRunnable", text: static("gp, inheritTime, tryWakeP := findRunnable(), " +
				"blocking until there is work. At the first schedule the only goroutine is runtime.main's, in pp.runnext: " +
				"findRunnable's runqget (inlined) returns it with inheritTime = true.")},
			{match: calls("runtime.execute"), last: true, mark: "execute(gp, inheritTime)", text: static("execute(gp, inheritTime): " +
				"gp in AX, inheritTime in BL (register ABI: the first two integer arguments). (The other execute call " +
				"near the top is for an M locked to a goroutine.)")},
		},
	}
}

// isDivBy61 matches the divisibility test the compiler makes of x%61 == 0:
// x * inverse(61) mod 2^32 <= (2^32-1)/61.
func isDivBy61(c *ctx, in *bin.Inst) bool {
	if in.Inst.Op != x86asm.IMUL {
		return false
	}
	for _, a := range in.Inst.Args {
		if imm, ok := a.(x86asm.Imm); ok {
			return uint32(imm)*61 == 1
		}
	}
	return false
}

func findRunnableSpec() spec {
	return spec{
		names:   []string{"runtime.findRunnable"},
		excerpt: true,
		intro: func(c *ctx) []string {
			return []string{"findRunnable (proc.go) is long; one excerpt only, the fairness check go1.12's schedule() " +
				"had inline: \"if _g_.m.p.ptr().schedtick%61 == 0 && sched.runqsize > 0\". In go1.26 it is the start of " +
				"findRunnable: if pp.schedtick%61 == 0 and the global run queue is not empty, take one goroutine from " +
				"the global queue before the local one, so two goroutines respawning each other on a local queue " +
				"cannot starve the global queue. 61: a prime, not too small (the global queue needs a lock) and " +
				"not too large (fairness), and not a round number that would beat in step with periodic behaviour."}
		},
		notes: []note{
			{match: isDivBy61, before: 3, after: 3, text: func(c *ctx, in *bin.Inst) string {
				return "schedtick % 61 == 0, as the compiler computes it: no division. 61 is odd, so it has an inverse " +
					"modulo 2^32 (0xc10c9715, printed as the signed -0x3ef368eb); x is a multiple of 61 exactly " +
					"when x * inverse (mod 2^32) <= (2^32-1)/61 = 0x4325c53. JA skips the global queue."
			}},
		},
	}
}

func executeSpec() spec {
	return spec{
		names:   []string{"runtime.execute"},
		excerpt: true,
		head:    5,
		intro: func(c *ctx) []string {
			return []string{"execute(gp, inheritTime) (proc.go): bind gp to this M, mark it running, jump into it."}
		},
		notes: []note{
			{match: is("MOVQ AX, 0x48(SP)"), optional: true, text: static("gp arrived in AX, inheritTime in BL; both spilled " +
				"to the caller-reserved argument slots.")},
			{match: isf(func(c *ctx) string { return "MOVQ AX, " + c.off("runtime.m", "curg") + "(DX)" }), mark: "m.curg = gp",
				text: func(c *ctx, in *bin.Inst) string {
					return fmt.Sprintf("mp.curg = gp (m.curg at %s; DX = mp = g0.m, loaded from %s(R14)). The write-barrier "+
						"test before it is the compiler's usual pointer-store guard.", c.off("runtime.m", "curg"), c.off("runtime.g", "m"))
				}},
			{match: isf(func(c *ctx) string { return "MOVQ DX, " + c.off("runtime.g", "m") + "(AX)" }), text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("gp.m = mp (g.m at %s).", c.off("runtime.g", "m"))
			}},
			{match: calls("runtime.casgstatus"), mark: "Grunnable -> Grunning", text: static("casgstatus(gp, _Grunnable (1, BX), " +
				"_Grunning (2, CX)).")},
			{match: is("ADDQ $0x3a0, SI"), text: static("gp.stackguard0 = gp.stack.lo + 928: clears any pending preemption request " +
				"(which is stackguard0 = stackPreempt).")},
			{match: isf(func(c *ctx) string { return "LEAQ " + c.off("runtime.g", "sched") + "(DX), AX" }), text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("AX = &gp.sched (the gobuf at g+%s), stored as gogo's stack argument.", c.off("runtime.g", "sched"))
			}},
			{match: calls("runtime.gogo"), mark: "gogo(&gp.sched)", text: static("gogo is assembly, called with the ABI0 " +
				"convention: the argument at 0(SP). It does not return; the X15/R14 restore after it never runs here.")},
		},
	}
}

func gogoABI0Spec() spec {
	return spec{
		names: []string{"runtime.gogo.abi0", "runtime.gogo"},
		title: "runtime.gogo",
		intro: func(c *ctx) []string {
			return []string{"gogo(buf *gobuf) restores a goroutine's saved context: go1.26 splits it in two. This ABI0 " +
				"entry loads the arguments; the shared tail gogo<> switches."}
		},
		notes: []note{
			{match: is("MOVQ 0x8(SP), BX"), text: static("BX = buf, the gobuf (ABI0 argument above the return address).")},
			{match: isf(func(c *ctx) string { return "MOVQ " + c.off("runtime.gobuf", "g") + "(BX), DX" }), text: func(c *ctx, in *bin.Inst) string {
				return fmt.Sprintf("DX = buf.g (gobuf.g at %s), the goroutine to run.", c.off("runtime.gobuf", "g"))
			}},
			{match: is("MOVQ 0(DX), CX"), text: static("A load from g to fault early if it were nil.")},
			{match: jumps("gogo", "gogo<>"), text: static("JMP to gogo<> (the ELF symbol of a file-local assembly function " +
				"loses its <>).")},
		},
	}
}

func gogoSpec() spec {
	return spec{
		names: []string{"gogo", "gogo<>"},
		title: "gogo<>",
		intro: func(c *ctx) []string {
			return []string{"The switch itself: after these ten instructions the CPU runs goroutine 1 on its own stack. " +
				"go1.12 did the same in one function and had no g register to set (and restored gobuf.ret into AX)."}
		},
		notes: []note{
			{match: is("MOVQ DX, FS:-0x8"), mark: "switch to goroutine", text: static("TLS g = gp: FS:-8 (m0.tls[0]) now " +
				"holds the new g, so the next ABI wrapper loads it.")},
			{match: is("MOVQ DX, R14"), text: static("R14 = gp: the register ABI's g register. getg() now returns gp; " +
				"this is the point where \"g changes\".")},
			{match: isf(func(c *ctx) string { return "MOVQ " + c.off("runtime.gobuf", "sp") + "(BX), SP" }), text: static(
				"SP = buf.sp: from here on the CPU is on the goroutine's stack (for a new goroutine: its top, where " +
					"gostartcall left goexit+1 as a return address).")},
			{match: isf(func(c *ctx) string { return "MOVQ " + c.off("runtime.gobuf", "ctxt") + "(BX), DX" }), text: static(
				"DX = buf.ctxt: the closure context register (fn, the funcval).")},
			{match: isf(func(c *ctx) string { return "MOVQ $0x0, " + c.off("runtime.gobuf", "sp") + "(BX)" }), text: static(
				"Clear sp, ctxt, bp in the gobuf: they are live in registers now, and stale pointers there would " +
					"confuse the GC.")},
			{match: isf(func(c *ctx) string { return "MOVQ " + c.off("runtime.gobuf", "pc") + "(BX), BX" }), text: static(
				"BX = buf.pc: for a new goroutine, fn's entry (runtime.main).")},
			{match: is("JMP BX"), mark: "JMP into the goroutine", text: static("JMP, not CALL: a CALL would push a return " +
				"address onto the goroutine's stack, on top of the frame newproc1 built. The goroutine must start as if " +
				"goexit had called it, so that its RET lands in goexit. And gogo has nothing to return to: the g0 " +
				"context it left is saved only where the scheduler wants it (m.g0.sched).")},
		},
	}
}

func mainSpec() spec {
	return spec{
		names:   []string{"runtime.main"},
		excerpt: true,
		head:    3,
		intro: func(c *ctx) []string {
			return []string{"runtime.main (proc.go) on goroutine 1: start sysmon, run the package initializers, enable " +
				"the GC, call main.main, exit."}
		},
		notes: []note{
			{match: stackCheck, optional: true, text: static("A frame larger than StackSmall: the check is " +
				"SP-framesize (R12) against stackguard0. The first call that needs more than the 2 KiB stack grows it " +
				"(morestack, copystack).")},
			{match: has("runtime.mainStarted(SB)"), text: static("mainStarted = true: from now on newproc may wake Ps (wakep).")},
			{match: calls("runtime.systemstack"), mark: "sysmon", text: static("systemstack(func() { newm(sysmon, nil, -1) }): " +
				"the first new M. newm -> newosproc -> clone(CLONE_VM|CLONE_THREAD|CLONE_SETTLS|...), a system call rt0 " +
				"serves by creating a thread whose FS base is the new m's tls+8. sysmon runs there without a P.")},
			{match: calls("runtime.doInit1"), text: static("doInit(runtime_inittasks): the runtime's own init functions.")},
			{match: calls("runtime.gcenable"), text: static("gcenable: start the background sweeper and scavenger goroutines.")},
			{match: calls("runtime.doInit1"), text: static("doInit(m.inittasks) for each module: every package's init, in " +
				"dependency order (go1.12 called the linker-made main_init instead).")},
			{match: calls("runtime.closechan"), text: static("close(main_init_done).")},
			{match: func(c *ctx, in *bin.Inst) bool { return strings.Contains(in.Resolved, "holds &main.main") }, after: 2,
				mark: "main.main", text: static("fn := main_main; fn(): the runtime does not know main.main's address when it " +
					"is compiled; the linker resolves main_main, and the call is indirect through its funcval. AX = the code " +
					"address, DX = the funcval (context), then CALL AX.")},
			{match: is("CALL AX"), text: static("-> main.main, on goroutine 1's stack.")},
			{match: calls("runtime.exit"), text: static("exit(0) after main.main returns: exit_group, which rt0 turns into " +
				"\"rt0: exit 0\" and QEMU's isa-debug-exit.")},
		},
	}
}

// stackCheck matches the stack-bound check of a Go prologue: CMPQ SP (or
// R12 = SP-framesize) against g.stackguard0 through R14.
func stackCheck(c *ctx, in *bin.Inst) bool {
	return in.Inst.Op == x86asm.CMP && strings.HasSuffix(in.Text, ", "+c.off("runtime.g", "stackguard0")+"(R14)")
}

// storeTo matches a store into the field path of struct typ through a
// register other than SP or BP (a heap object, not a stack slot).
func storeTo(typ, path string) func(*ctx, *bin.Inst) bool {
	return func(c *ctx, in *bin.Inst) bool {
		o, ok := c.offv(typ, path)
		if !ok || in.Inst.Op != x86asm.MOV {
			return false
		}
		m, ok := in.Inst.Args[0].(x86asm.Mem)
		return ok && m.Base != x86asm.RSP && m.Base != x86asm.RBP && m.Index == 0 && uint64(m.Disp) == o
	}
}

// localJump matches an unconditional JMP to an address (not a symbol).
func localJump(c *ctx, in *bin.Inst) bool {
	return in.Inst.Op == x86asm.JMP && strings.HasPrefix(in.Text, "JMP 0x")
}
