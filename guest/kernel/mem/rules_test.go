package mem

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestBelowRuntimeRules guards the rules this package lives by, because it
// runs in trap handlers and before package initialization: no heap
// allocation, no package variables with initializers (init has not run),
// no panics on purpose, no interfaces, closures, maps, defer or goroutines,
// no imports beyond math/bits, and a doc comment on every exported func.
// `go build -gcflags=-m` remains the real check for escapes; this test
// catches the constructs that lead to them.
func TestBelowRuntimeRules(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			if imp.Path.Value != `"math/bits"` {
				t.Errorf("%s: import %s: only math/bits is allowed", name, imp.Path.Value)
			}
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, sp := range g.Specs {
					if len(sp.(*ast.ValueSpec).Values) > 0 {
						t.Errorf("%s: package-level var with an initializer: package init has not run when this code does",
							fset.Position(sp.Pos()))
					}
				}
			}
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Doc == nil && fd.Name.IsExported() {
				t.Errorf("%s: exported %s has no doc comment", fset.Position(fd.Pos()), fd.Name.Name)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			bad := ""
			switch n := n.(type) {
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok {
					switch id.Name {
					case "make", "new", "append", "panic", "print", "println":
						bad = id.Name
					}
				}
			case *ast.FuncLit:
				bad = "closure"
			case *ast.MapType:
				bad = "map"
			case *ast.InterfaceType:
				bad = "interface"
			case *ast.DeferStmt:
				bad = "defer"
			case *ast.GoStmt:
				bad = "go statement"
			case *ast.ChanType:
				bad = "channel"
			}
			if bad != "" {
				t.Errorf("%s: %s is not allowed below the runtime", fset.Position(n.Pos()), bad)
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}
