package rules

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// constInts returns the integer constants named by prefix in a Go file.
func constInts(t *testing.T, path, prefix string) map[string]int64 {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, prefix) || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
					v, err := strconv.ParseInt(lit.Value, 0, 64)
					if err == nil {
						m[n.Name] = v
					}
				}
			}
		}
	}
	return m
}

// TestClockParamsLayout checks guest/kernel/clock_amd64.h, which the
// vDSO's clock reads clockParams through, against the struct in clock.go
// (laid out by go/types with amd64 sizes).
func TestClockParamsLayout(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../../guest/kernel/clock.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.Default(), Error: func(error) {}}
	pkg, _ := conf.Check("kernel", fset, []*ast.File{f}, nil)
	sizes := types.SizesFor("gc", "amd64")
	obj := pkg.Scope().Lookup("clockParams")
	if obj == nil {
		t.Fatal("clock.go has no clockParams")
	}
	st := obj.Type().Underlying().(*types.Struct)
	var fields []*types.Var
	for i := 0; i < st.NumFields(); i++ {
		fields = append(fields, st.Field(i))
	}
	offs := sizes.Offsetsof(fields)
	at := map[string]int64{}
	for i, fv := range fields {
		at[fv.Name()] = offs[i]
	}
	hdr, err := os.ReadFile("../../guest/kernel/clock_amd64.h")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"CLOCK_TSC0": at["tsc0"], "CLOCK_MULT": at["mult"], "CLOCK_BASE": at["base"]}
	size := sizes.Sizeof(st)
	got := map[string]int64{}
	for _, m := range regexp.MustCompile(`(?m)^#define\s+(\w+)\s+(\d+)`).FindAllStringSubmatch(string(hdr), -1) {
		v, _ := strconv.ParseInt(m[2], 10, 64)
		got[m[1]] = v
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("clock_amd64.h: %s = %d (found %v), clockParams says %d", name, g, ok, w)
		}
	}
	if 1<<got["CLOCK_SHIFT"] != size {
		t.Errorf("clock_amd64.h: CLOCK_SHIFT %d, but clockParams is %d bytes", got["CLOCK_SHIFT"], size)
	}
	if len(got) != len(want)+1 {
		t.Errorf("clock_amd64.h defines %d names, the test checks %d", len(got), len(want)+1)
	}
}

// TestProfileMarks checks that cmd/rt0 names the profile's kernel marks
// with the values the kernel writes (guest/kernel/profile.go): the two
// sides cannot share the constants (the host does not link the kernel).
func TestProfileMarks(t *testing.T) {
	value := func(path, name string) uint64 {
		t.Helper()
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^\s*` + name + `\s*=\s*(0x[0-9A-Fa-f_]+)\s*$`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("%s has no constant %s", path, name)
		}
		v, err := strconv.ParseUint(string(m[1]), 0, 64)
		if err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
		return v
	}
	for _, name := range []string{"profKernelPC", "profKernelTrap"} {
		if g, h := value("../../guest/kernel/profile.go", name), value("../../cmd/rt0/profile.go", name); g != h {
			t.Errorf("%s: the kernel writes %#x, cmd/rt0 reads %#x", name, g, h)
		}
	}
}
