package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"testing"
)

// TestPrecheckTable: guest/kernel's syscall calls precheck only for the
// calls prechecked marks, so the table must name exactly the calls
// precheck's switch has cases for — a case missing from the table would
// never run.
func TestPrecheckTable(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../guest/kernel/sys_argorder.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// sel names linux.SYS_X as "SYS_X".
	sel := func(e ast.Expr) string {
		if s, ok := e.(*ast.SelectorExpr); ok {
			return s.Sel.Name
		}
		return ""
	}
	cases, table := map[string]bool{}, map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.Name != "precheck" {
				continue
			}
			for _, st := range d.Body.List {
				sw, ok := st.(*ast.SwitchStmt)
				if !ok {
					continue
				}
				for _, c := range sw.Body.List {
					for _, e := range c.(*ast.CaseClause).List {
						cases[sel(e)] = true
					}
				}
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				vs, ok := s.(*ast.ValueSpec)
				if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "prechecked" {
					continue
				}
				for _, el := range vs.Values[0].(*ast.CompositeLit).Elts {
					table[sel(el.(*ast.KeyValueExpr).Key)] = true
				}
			}
		}
	}
	if len(cases) == 0 || len(table) == 0 {
		t.Fatalf("found %d cases in precheck and %d entries in prechecked: the file's shape changed", len(cases), len(table))
	}
	var diff []string
	for c := range cases {
		if !table[c] {
			diff = append(diff, c+" has a case in precheck but is not in prechecked")
		}
	}
	for c := range table {
		if !cases[c] {
			diff = append(diff, c+" is in prechecked but precheck has no case for it")
		}
	}
	sort.Strings(diff)
	for _, d := range diff {
		t.Error(d)
	}
}
