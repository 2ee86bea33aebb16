package rules

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"runtime"
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
