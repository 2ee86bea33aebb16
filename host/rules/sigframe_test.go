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
