package boottest

// The system call fuzzer (testdata/progs/sysfuzz): hostile arguments to
// every call rt0 serves, on rt0 and on the host.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"rt0/host/build"
	"rt0/host/qemu"
)

// The short pass: for each seed, the compare phase prints the same lines
// (call, errno) on rt0 as on Linux, and the chaos phase — 20000 calls on
// two threads of two CPUs, also aimed at the kernel's own variables —
// ends with the fuzzer's memory intact, the kernel up and exit status 0.
func TestBootSysfuzz(t *testing.T) {
	const compare, chaos = 3000, 20000
	img := Build(t, "testdata/progs/sysfuzz")
	kernelVar := symbolAddr(t, img, "rt0/guest/kernel.vmas") + 64
	for _, seed := range []int{1, 2} {
		t.Run(strconv.Itoa(seed), func(t *testing.T) {
			args := []string{"-seed", strconv.Itoa(seed), "-compare", strconv.Itoa(compare)}
			host := hostRun(t, "testdata/progs/sysfuzz", append(args, "-chaos", "0")...)
			res := Boot(t, img, qemu.Config{SMP: 2, Append: "-- " + strings.Join(append(args,
				"-chaos", strconv.Itoa(chaos), "-threads", "2", "-kernel", fmt.Sprintf("%#x", kernelVar)), " ")})
			if res.ExitCode != 0 {
				t.Fatalf("exit %d", res.ExitCode)
			}
			want := strings.SplitAfter(host, "\n")[:1+compare]
			got := strings.SplitAfter(string(res.Serial), "\n")
			if len(got) < len(want) {
				t.Fatalf("rt0 printed %d lines, want at least %d", len(got), len(want))
			}
			diffs := 0
			for i := range want {
				if got[i] != want[i] {
					if diffs++; diffs <= 10 {
						t.Errorf("line %d: rt0 %q, Linux %q (run the fuzzer with -v on both for the arguments)", i+1, got[i], want[i])
					}
				}
			}
			if diffs > 0 {
				var u syscall.Utsname
				syscall.Uname(&u)
				rel := make([]byte, 0, len(u.Release))
				for _, c := range u.Release {
					if c == 0 {
						break
					}
					rel = append(rel, byte(c))
				}
				t.Errorf("%d of %d compared calls answered unlike Linux %s", diffs, compare, rel)
			}
			m := regexp.MustCompile(`chaos: (\d+) calls on 2 threads`).FindStringSubmatch(string(res.Serial))
			if m == nil {
				t.Fatal("no chaos summary")
			}
			if n, _ := strconv.Atoi(m[1]); n < chaos {
				t.Errorf("%d chaos calls, want %d", n, chaos)
			}
			wantContains(t, "output", res.Serial, "\nsysfuzz ok\n")
		})
	}
}

// Every call of the kernel's table is in the fuzzer's, or in its list of
// calls it leaves out with a reason.
func TestSysfuzzCoversKernel(t *testing.T) {
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	served := map[string]bool{}
	kf, err := parser.ParseFile(fset, filepath.Join(root, "guest/kernel/syscall.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(kf, func(n ast.Node) bool {
		if c, ok := n.(*ast.CaseClause); ok {
			for _, e := range c.List {
				if s, ok := e.(*ast.SelectorExpr); ok && strings.HasPrefix(s.Sel.Name, "SYS_") {
					served[strings.ToLower(strings.TrimPrefix(s.Sel.Name, "SYS_"))] = true
				}
			}
		}
		return true
	})
	if len(served) < 100 {
		t.Fatalf("found %d served calls in syscall.go: the parse is wrong", len(served))
	}
	ff, err := parser.ParseFile(fset, filepath.Join(root, "testdata/progs/sysfuzz/main.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	fuzzed := map[string]bool{}
	for _, d := range ff.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, sp := range g.Specs {
			v, ok := sp.(*ast.ValueSpec)
			if !ok || len(v.Values) != 1 || (v.Names[0].Name != "calls" && v.Names[0].Name != "left") {
				continue
			}
			for _, el := range v.Values[0].(*ast.CompositeLit).Elts {
				var lit *ast.BasicLit
				switch el := el.(type) {
				case *ast.CompositeLit: // {"read", ...}
					lit, _ = el.Elts[0].(*ast.BasicLit)
				case *ast.KeyValueExpr: // "exit": "why"
					lit, _ = el.Key.(*ast.BasicLit)
				}
				if lit != nil {
					name, _ := strconv.Unquote(lit.Value)
					fuzzed[name] = true
				}
			}
		}
	}
	for name := range served {
		if !fuzzed[name] {
			t.Errorf("the kernel serves %s; the fuzzer neither calls it nor says why not", name)
		}
	}
}
