package build

import (
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// Without the network the files are exactly what they always were: hello's
// image must not change.
func TestOverlaySourceWithoutSockets(t *testing.T) {
	if got, want := MainKernelSource(false), "package main\n\nimport (\n\t_ \"rt0/guest/kernel\"\n\t_ \"rt0/guest/painter\"\n)\n"; got != want {
		t.Errorf("MainKernelSource(false) = %q, want %q", got, want)
	}
	if got, want := TestKernelSource("strings", false, true), "package strings_test\n\nimport _ \"rt0/guest/kernel\"\n"; got != want {
		t.Errorf("TestKernelSource(strings, false) = %q, want %q", got, want)
	}
}

// With the network the file calls kernel.EnableSockets (then the
// network's Start) from an init function, and is what gofmt would write.
func TestOverlaySourceWithSockets(t *testing.T) {
	for _, tc := range []struct {
		src, pkg    string
		wantImports map[string]string // path -> name
	}{
		{MainKernelSource(true), "main", map[string]string{"rt0/guest/kernel": kernelImportName, NetstackImport: netstackImportName, "rt0/guest/painter": "_"}},
		{TestKernelSource("http", true, true), "http_test", map[string]string{"rt0/guest/kernel": kernelImportName, NetstackImport: netstackImportName}},
		{TestKernelSource("http", true, false), "http_test", map[string]string{"rt0/guest/kernel": kernelImportName}},
	} {
		if formatted, err := format.Source([]byte(tc.src)); err != nil || string(formatted) != tc.src {
			t.Errorf("not gofmt'd (%v):\n%s", err, tc.src)
		}
		f, err := parser.ParseFile(token.NewFileSet(), "x.go", tc.src, 0)
		if err != nil {
			t.Fatalf("%v:\n%s", err, tc.src)
		}
		if f.Name.Name != tc.pkg {
			t.Errorf("package %s, want %s", f.Name.Name, tc.pkg)
		}
		imports := map[string]string{}
		for _, is := range f.Imports {
			path, _ := strconv.Unquote(is.Path.Value)
			imports[path] = ""
			if is.Name != nil {
				imports[path] = is.Name.Name
			}
		}
		if len(imports) != len(tc.wantImports) {
			t.Errorf("imports %v, want %v", imports, tc.wantImports)
		}
		for path, name := range tc.wantImports {
			if imports[path] != name {
				t.Errorf("import %q named %q, want %q", path, imports[path], name)
			}
		}
		if !callsEnableSocketsInInit(f) {
			t.Errorf("no init calling %s.EnableSockets:\n%s", kernelImportName, tc.src)
		}
	}
	if kernelImportName == "kernel" {
		t.Error("the import name kernel would clash with a user's top-level kernel")
	}
}

// callsEnableSocketsInInit reports whether f has an init function that
// calls <kernelImportName>.EnableSockets().
func callsEnableSocketsInInit(f *ast.File) bool {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "init" || fd.Recv != nil {
			continue
		}
		for _, st := range fd.Body.List {
			es, ok := st.(*ast.ExprStmt)
			if !ok {
				continue
			}
			call, ok := es.X.(*ast.CallExpr)
			if !ok || len(call.Args) != 0 {
				continue
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "EnableSockets" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == kernelImportName {
					return true
				}
			}
		}
	}
	return false
}
