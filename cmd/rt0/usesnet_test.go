package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"rt0/host/boottest"
	"rt0/host/build"
)

func TestNetIsNet(t *testing.T) {
	for ip, want := range map[string]bool{
		"net":                      true,
		"net [internal/poll.test]": true,
		"net [net.test]":           true,
		"net/http":                 false,
		"net/netip":                false,
		"network":                  false,
		"example.com/net":          false,
		"":                         false,
	} {
		if got := build.IsNet(ip); got != want {
			t.Errorf("build.IsNet(%q) = %v, want %v", ip, got, want)
		}
	}
}

// go list -test's records for two packages, one of whose tests use net.
func TestNetFoldTestListing(t *testing.T) {
	rec := func(ip, forTest string, match []string, deps ...string) *listedPkg {
		return &listedPkg{ImportPath: ip, ForTest: forTest, Match: match, Deps: deps}
	}
	records := []*listedPkg{
		rec("a", "", []string{"./..."}, "fmt"),
		rec("b", "", []string{"./..."}, "fmt"),
		rec("c", "", []string{"./..."}), // no test files: no test records
		rec("a.test", "", nil, "a [a.test]", "os", "testing"),
		rec("a [a.test]", "a", []string{"./..."}, "fmt", "testing"),
		rec("a_test [a.test]", "a", nil, "a [a.test]", "fmt", "net", "net/http"),
		rec("b.test", "", nil, "b [b.test]", "os", "testing"),
		rec("b [b.test]", "b", []string{"./..."}, "fmt", "testing"),
	}
	got := foldTestListing(records)
	var paths []string
	for _, p := range got {
		paths = append(paths, p.ImportPath)
		if want := p.ImportPath == "a"; p.testsImportNet != want {
			t.Errorf("%s: testsImportNet %v, want %v", p.ImportPath, p.testsImportNet, want)
		}
	}
	if !slices.Equal(paths, []string{"a", "b", "c"}) {
		t.Errorf("packages %q, want a b c", paths)
	}
}

// rt0 test's one go list finds net in test files (internal and external),
// through dependencies, behind build tags, and in std.
func TestNetListPackagesTests(t *testing.T) {
	mod := filepath.Join(t.TempDir(), "mod")
	boottest.WriteFiles(t, mod, map[string]string{
		"go.mod":             "module example.com/m\n\ngo 1.26\n",
		"netlib/l.go":        "package netlib\n\nimport \"net\"\n\nvar Dial = net.Dial\n",
		"plain/p.go":         "package plain\n\nimport _ \"example.com/m/netlib\"\n", // no tests
		"nonet/p.go":         "package nonet\n",
		"nonet/p_test.go":    "package nonet\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
		"inner/p.go":         "package inner\n",
		"inner/p_test.go":    "package inner\n\nimport (\n\t\"net\"\n\t\"testing\"\n)\n\nfunc TestX(t *testing.T) { _ = net.Dial }\n",
		"outer/p.go":         "package outer\n",
		"outer/x_test.go":    "package outer_test\n\nimport (\n\t\"net/http\"\n\t\"testing\"\n)\n\nfunc TestX(t *testing.T) { _ = http.Get }\n",
		"viadep/p.go":        "package viadep\n\nimport _ \"example.com/m/netlib\"\n",
		"viadep/p_test.go":   "package viadep\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
		"tagged/p.go":        "package tagged\n",
		"tagged/p_test.go":   "package tagged\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
		"tagged/n_test.go":   "//go:build withnet\n\npackage tagged\n\nimport \"net\"\n\nvar _ = net.Dial\n",
		"netlib/l_test.go":   "package netlib\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
		"broken/p.go":        "package broken\n\nimport \"example.invalid/missing\"\n",
		"broken/p_test.go":   "package broken\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
		"testonly/x_test.go": "package testonly_test\n\nimport (\n\t\"net\"\n\t\"testing\"\n)\n\nfunc TestX(t *testing.T) { _ = net.Dial }\n",
	})
	t.Chdir(mod)
	b := &build.Builder{Go: mustGo(), Env: os.Environ(), Stderr: testWriter{t}}
	list := func(tags string, patterns ...string) map[string]bool {
		t.Helper()
		pkgs, err := listPackages(b, patterns, tags, "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, p := range pkgs {
			got[p.ImportPath] = p.testsImportNet
		}
		return got
	}
	want := map[string]bool{
		"example.com/m/netlib": true, "example.com/m/plain": false, "example.com/m/nonet": false,
		"example.com/m/inner": true, "example.com/m/outer": true, "example.com/m/viadep": true,
		"example.com/m/tagged": false, "example.com/m/broken": false, "example.com/m/testonly": true,
	}
	if got := list("", "./..."); !maps.Equal(got, want) {
		t.Errorf("./...: %v\nwant %v", got, want)
	}
	if got := list("withnet", "./tagged"); !maps.Equal(got, map[string]bool{"example.com/m/tagged": true}) {
		t.Errorf("-tags withnet ./tagged: %v", got)
	}
	// Std: strings' tests do not use the network; internal/poll's do (net
	// is then recompiled for the test binary); net's own do.
	if got := list("", "strings", "internal/poll", "net"); !maps.Equal(got, map[string]bool{"strings": false, "internal/poll": true, "net": true}) {
		t.Errorf("std: %v", got)
	}
}

// rt0 build enables sockets exactly for programs that import net, in each
// kind of build (rt0 module, workspace, temporary module), with build tags,
// and for files named on the command line.
func TestBuildEnablesSocketsForNet(t *testing.T) {
	b := testBuilder(t)
	check := func(p *build.Plan, want bool) {
		t.Helper()
		if p.Sockets != want {
			t.Errorf("%s %v: sockets %v, want %v", p.Kind, p.Pkgs, p.Sockets, want)
		}
		src, err := os.ReadFile(p.KernelSrc)
		if err != nil {
			t.Fatal(err)
		}
		if string(src) != build.MainKernelSource(want) {
			t.Errorf("%s %v: overlay file:\n%s\nwant:\n%s", p.Kind, p.Pkgs, src, build.MainKernelSource(want))
		}
	}
	check(linkOK(t, b, "rt0 module", filepath.Join(b.Root, "testdata", "progs", "tcp")), true)
	check(linkOK(t, b, "rt0 module", filepath.Join(b.Root, "examples", "hello")), false)

	// A temporary module. srv.go also declares a top-level kernel, which
	// the overlay file's import must not clash with.
	loose := filepath.Join(t.TempDir(), "loose")
	boottest.WriteFiles(t, loose, map[string]string{
		"main.go":   "package main\n\nfunc main() { println(kernel) }\n",
		"kernel.go": "package main\n\nvar kernel = \"user's\"\n",
		"srv.go":    "//go:build withnet\n\npackage main\n\nimport \"net/http\"\n\nvar _ = http.ListenAndServe\n",
	})
	check(linkOK(t, b, "temporary module", loose), false)
	tmp := t.TempDir()
	_, p, err := b.Link([]string{loose}, &build.Flags{BuildVCS: "false", Tags: "withnet"}, tmp)
	if err != nil {
		t.Fatalf("-tags withnet: %v", err)
	}
	check(p, true)
	check(linkOK(t, b, "temporary module", filepath.Join(loose, "main.go"), filepath.Join(loose, "kernel.go")), false)

	// A workspace: net through a package of the user's module.
	mod := filepath.Join(t.TempDir(), "prog")
	boottest.WriteFiles(t, mod, map[string]string{
		"go.mod":         "module example.com/prog\n\ngo 1.26\n",
		"cmd/hi/main.go": "package main\n\nimport \"example.com/prog/fetch\"\n\nfunc main() { _ = fetch.Dial }\n",
		"fetch/f.go":     "package fetch\n\nimport \"net\"\n\nvar Dial = net.Dial\n",
		"main.go":        helloMain,
		"tool/main.go":   "package main\n\nfunc main() {}\n",
		"tool/dial.go":   "package main\n\nimport \"net\"\n\nvar _ = net.Dial\n",
	})
	check(linkOK(t, b, "workspace", filepath.Join(mod, "cmd", "hi")), true)
	check(linkOK(t, b, "workspace", mod), false)
	// Named files: only theirs count.
	check(linkOK(t, b, "workspace", filepath.Join(mod, "tool", "main.go"), filepath.Join(mod, "tool", "dial.go")), true)
	check(linkOK(t, b, "workspace", filepath.Join(mod, "tool", "main.go")), false)
}
