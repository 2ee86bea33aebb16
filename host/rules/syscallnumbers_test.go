package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
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

// TestSyscallNumbers checks the kernel's syscall table numbers against the
// syscall package's (GOROOT/src/syscall/zsysnum_linux_amd64.go), so that
// a handler can never be registered under a wrong number. The syscall
// package stopped adding numbers at 302; the few newer ones rt0 serves are
// checked against the numbers in the Linux x86-64 table written here.
func TestSyscallNumbers(t *testing.T) {
	ours := constInts(t, "../../guest/kernel/syscall.go", "SYS_")
	src, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src/syscall/zsysnum_linux_amd64.go"))
	if err != nil {
		t.Fatal(err)
	}
	theirs := map[string]int64{}
	for _, m := range regexp.MustCompile(`SYS_([A-Z0-9_]+)\s*=\s*(\d+)`).FindAllStringSubmatch(string(src), -1) {
		v, _ := strconv.ParseInt(m[2], 10, 64)
		theirs["SYS_"+strings.ToLower(m[1])] = v
	}
	newer := map[string]int64{"SYS_renameat2": 316, "SYS_getrandom": 318, "SYS_rseq": 334, "SYS_epoll_pwait2": 441, "SYS_fchmodat2": 452}
	if len(ours) < 60 {
		t.Fatalf("found only %d SYS_ constants in guest/kernel/syscall.go", len(ours))
	}
	for name, v := range ours {
		want, ok := theirs[name]
		if !ok {
			want, ok = newer[name]
		}
		if !ok {
			t.Errorf("%s: not a Linux amd64 syscall name", name)
			continue
		}
		if v != want {
			t.Errorf("%s = %d, Linux amd64 says %d", name, v, want)
		}
	}
}
