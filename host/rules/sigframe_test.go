package rules

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestSignalFrameLayout checks the signal frame offsets of guest/kernel/signal.go
// against the structs the runtime reads them through (sigcontext, ucontext,
// siginfo in GOROOT's runtime/defs_linux_amd64.go, laid out by go/types
// with amd64 sizes): a handler that reads RIP from the wrong word would
// panic at random.
func TestSignalFrameLayout(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filepath.Join(runtime.GOROOT(), "src/runtime/defs_linux_amd64.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.Default(), Error: func(error) {}}
	pkg, _ := conf.Check("runtime", fset, []*ast.File{file}, nil)
	sizes := types.SizesFor("gc", "amd64")
	ours := constInts(t, "../../guest/kernel/signal.go", "")
	check := func(structName, field, constName string, base int64) {
		t.Helper()
		off, ok := fieldOffset(pkg, sizes, structName, field)
		if !ok {
			t.Errorf("DWARF: %s.%s not found", structName, field)
			return
		}
		v, ok := ours[constName]
		if !ok {
			t.Errorf("guest/kernel/signal.go has no constant %s", constName)
			return
		}
		if v+base != off {
			t.Errorf("%s = %d (+%d), runtime.%s.%s is at %d", constName, v, base, structName, field, off)
		}
	}
	for field, c := range map[string]string{
		"r8": "scR8", "r9": "scR9", "r10": "scR10", "r11": "scR11", "r12": "scR12", "r13": "scR13",
		"r14": "scR14", "r15": "scR15", "rdi": "scRDI", "rsi": "scRSI", "rbp": "scRBP", "rbx": "scRBX",
		"rdx": "scRDX", "rax": "scRAX", "rcx": "scRCX", "rsp": "scRSP", "rip": "scRIP", "eflags": "scEflags",
		"cs": "scCS", "err": "scErr", "trapno": "scTrapno", "oldmask": "scOldmask", "cr2": "scCR2", "fpstate": "scFpstate",
	} {
		check("sigcontext", field, c, 0)
	}
	check("ucontext", "uc_stack", "ucStack", 0)
	check("ucontext", "uc_mcontext", "ucMcontext", 0)
	// The runtime's ucontext is glibc's (a 128-byte sigset); the kernel's
	// rt_sigframe has Linux's 8-byte one at the same offset, which is all
	// that must agree (the runtime never reads it).
	check("ucontext", "uc_sigmask", "ucSigmask", 0)
	check("siginfoFields", "si_addr", "siAddr", 0)
	check("siginfoFields", "si_code", "siCode", 0)
	// The union si_addr opens holds, for a POSIX timer's signal, the
	// kernel's struct { __kernel_timer_t _tid; int _overrun; sigval_t
	// _sigval; ... }: two 4-byte ints, then the 8-byte sigval.
	check("siginfoFields", "si_addr", "siTimerID", 0)
	check("siginfoFields", "si_addr", "siOverrun", -4)
	check("siginfoFields", "si_addr", "siValue", -8)
	hdr, err := os.ReadFile("/usr/include/asm-generic/siginfo.h")
	if err != nil {
		t.Fatalf("kernel headers: %v (apt-get install linux-libc-dev)", err)
	}
	timer := regexp.MustCompile(`(?s)POSIX\.1b timers \*/\s*struct \{\s*__kernel_timer_t _tid;[^\n]*\n\s*int _overrun;[^\n]*\n\s*sigval_t _sigval;`)
	if !timer.Match(hdr) {
		t.Error("asm-generic/siginfo.h's _timer is not {__kernel_timer_t _tid; int _overrun; sigval_t _sigval; ...}: recheck siTimerID, siOverrun, siValue")
	}

	// struct sigevent, as timer_create reads it (guest/kernel/sys_timer.go).
	timers := constInts(t, "../../guest/kernel/sys_timer.go", "ev")
	for field, c := range map[string]string{"value": "evValue", "signo": "evSigno", "notify": "evNotify", "sigev_notify_thread_id": "evThreadID"} {
		off, ok := fieldOffset(pkg, sizes, "sigeventFields", field)
		if !ok || timers[c] != off {
			t.Errorf("%s = %d, runtime.sigeventFields.%s is at %d (found %v)", c, timers[c], field, off, ok)
		}
	}
	osLinux, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src/runtime/os_linux.go"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`_sigev_max_size\s*=\s*(\d+)`).FindSubmatch(osLinux); m == nil || string(m[1]) != strconv.FormatInt(timers["evSize"], 10) {
		t.Errorf("evSize = %d; the runtime's _sigev_max_size (the size of its sigevent): %q", timers["evSize"], m)
	}
}

func fieldOffset(pkg *types.Package, sizes types.Sizes, typ, field string) (int64, bool) {
	if pkg == nil {
		return 0, false
	}
	obj := pkg.Scope().Lookup(typ)
	if obj == nil {
		return 0, false
	}
	st, ok := obj.Type().Underlying().(*types.Struct)
	if !ok {
		return 0, false
	}
	var fields []*types.Var
	for i := 0; i < st.NumFields(); i++ {
		fields = append(fields, st.Field(i))
	}
	offs := sizes.Offsetsof(fields)
	for i, f := range fields {
		if f.Name() == field {
			return offs[i], true
		}
	}
	return 0, false
}

// TestSignalFPStateLayout checks what guest/kernel/signal_fpstate.go and
// guest/arch/amd64/fpu.go write of a signal frame's floating-point state
// against Linux's uapi headers: the magic numbers and uc_flags bits, the
// fields of struct _fpx_sw_bytes and where struct _fpstate_64 (FXSAVE's
// layout) has MXCSR, MXCSR_MASK, the XMM registers and sw_reserved — each
// offset summed from the header's own field list.
func TestSignalFPStateLayout(t *testing.T) {
	ours := constInts(t, "../../guest/kernel/signal_fpstate.go", "")
	fpu := constInts(t, "../../guest/arch/amd64/fpu.go", "")
	frame := constInts(t, "../../guest/arch/amd64/frame.go", "")
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("kernel headers: %v (apt-get install linux-libc-dev)", err)
		}
		return string(b)
	}
	sigcontext := read("/usr/include/x86_64-linux-gnu/asm/sigcontext.h")
	ucontext := read("/usr/include/x86_64-linux-gnu/asm/ucontext.h")
	define := func(src, name string) int64 {
		m := regexp.MustCompile(`(?m)^#define\s+` + name + `\s+(0x[0-9a-fA-F]+|\d+)U?\b`).FindStringSubmatch(src)
		if m == nil {
			t.Errorf("no #define %s", name)
			return -1
		}
		v, _ := strconv.ParseInt(m[1], 0, 64)
		return v
	}
	for c, want := range map[string]int64{
		"fpXstateMagic1":     define(sigcontext, "FP_XSTATE_MAGIC1"),
		"fpXstateMagic2":     define(sigcontext, "FP_XSTATE_MAGIC2"),
		"fpXstateMagic2Size": 4, // sizeof(FP_XSTATE_MAGIC2), a 32-bit constant
		"ucFPXstate":         define(ucontext, "UC_FP_XSTATE"),
		"ucSigcontextSS":     define(ucontext, "UC_SIGCONTEXT_SS"),
		"ucStrictRestoreSS":  define(ucontext, "UC_STRICT_RESTORE_SS"),
	} {
		if v, ok := ours[c]; !ok || v != want {
			t.Errorf("%s = %d (found %v), the headers say %d", c, v, ok, want)
		}
	}
	sw := structOffsets(t, sigcontext, "_fpx_sw_bytes")
	for c, f := range map[string]string{"swMagic1": "magic1", "swExtendedSize": "extended_size", "swXfeatures": "xfeatures", "swXstateSize": "xstate_size"} {
		if ours[c] != sw[f] {
			t.Errorf("%s = %d, struct _fpx_sw_bytes has %s at %d", c, ours[c], f, sw[f])
		}
	}
	fp := structOffsets(t, sigcontext, "_fpstate_64")
	for c, f := range map[string]string{"FXMXCSR": "mxcsr", "FXMXCSRMask": "mxcsr_mask", "FXSWReserved": "reserved3"} {
		if fpu[c] != fp[f] {
			t.Errorf("amd64.%s = %d, struct _fpstate_64 has %s at %d", c, fpu[c], f, fp[f])
		}
	}
	if frame["FXXMM"] != fp["xmm_space"] {
		t.Errorf("amd64.FXXMM = %d, struct _fpstate_64 has xmm_space at %d", frame["FXXMM"], fp["xmm_space"])
	}
	if fpu["FXLegacySize"] != fp["end"] || fpu["XSaveHeader"] != fp["end"] {
		t.Errorf("amd64.FXLegacySize %d, XSaveHeader %d: struct _fpstate_64 is %d bytes", fpu["FXLegacySize"], fpu["XSaveHeader"], fp["end"])
	}

	// uc_flags opens the ucontext, as the runtime's has it.
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filepath.Join(runtime.GOROOT(), "src/runtime/defs_linux_amd64.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.Default(), Error: func(error) {}}
	pkg, _ := conf.Check("runtime", fset, []*ast.File{file}, nil)
	if off, ok := fieldOffset(pkg, types.SizesFor("gc", "amd64"), "ucontext", "uc_flags"); !ok || ours["ucFlags"] != off {
		t.Errorf("ucFlags = %d, runtime.ucontext.uc_flags at %d (found %v)", ours["ucFlags"], off, ok)
	}
}

// structOffsets lays out the C struct name of a uapi header from its
// fields of __u8/__u16/__u32/__u64 (arrays of them too; a union counts as
// its first member) and returns each field's offset, and "end" its size.
func structOffsets(t *testing.T, src, name string) map[string]int64 {
	t.Helper()
	body := regexp.MustCompile(`(?s)\nstruct ` + name + ` \{(.*?)\n\};`).FindStringSubmatch(src)
	if body == nil {
		t.Fatalf("no struct %s", name)
	}
	field := regexp.MustCompile(`(?m)^\s*(?:__u(8|16|32|64)|struct \w+)\s+(\w+)(?:\[(\d+)\])?;`)
	offs := map[string]int64{}
	var off int64
	inUnion, unionDone := false, false
	for _, line := range strings.Split(body[1], "\n") {
		switch {
		case strings.Contains(line, "union {"):
			inUnion, unionDone = true, false
			continue
		case inUnion && strings.Contains(line, "};"):
			inUnion = false
			continue
		}
		m := field.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if inUnion && unionDone {
			offs[m[2]] = offs["union"] // a later member of the union: the same place
			continue
		}
		if m[1] == "" {
			t.Fatalf("struct %s: a struct field outside a union's first member: %q", name, line)
		}
		bits, _ := strconv.ParseInt(m[1], 10, 64)
		size := bits / 8
		if off%size != 0 {
			off += size - off%size
		}
		n := int64(1)
		if m[3] != "" {
			n, _ = strconv.ParseInt(m[3], 10, 64)
		}
		offs[m[2]] = off
		if inUnion {
			offs["union"], unionDone = off, true
		}
		off += n * size
	}
	offs["end"] = off
	return offs
}
