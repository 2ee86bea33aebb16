package build

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGoArgs(t *testing.T) {
	f := Flags{A: true, X: true, Trimpath: true, Tags: "a,b", GCFlags: "all=-N -l", LDFlags: "-X main.v=1", BuildVCS: "false", Mod: "mod"}
	got, err := f.GoArgs()
	want := []string{"-a", "-x", "-trimpath", "-tags=a,b", "-gcflags=all=-N -l", "-ldflags=-X main.v=1", "-mod=mod", "-buildvcs=false"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("goArgs = %q, %v; want %q", got, err, want)
	}
}

func TestRT0Root(t *testing.T) {
	r, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkRT0Module(r); err != nil {
		t.Error(err)
	}
	t.Setenv("RT0ROOT", t.TempDir())
	if _, err := Root(); err == nil || !strings.Contains(err.Error(), "RT0ROOT") {
		t.Errorf("bad RT0ROOT accepted: %v", err)
	}
	t.Setenv("RT0ROOT", r)
	if got, err := Root(); err != nil || got != r {
		t.Errorf("RT0ROOT=%s: %q, %v", r, got, err)
	}
}

func TestModulePath(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"module rt0\n\ngo 1.26\n":               "rt0",
		"// c\nmodule \"example.com/x\" // y\n": "example.com/x",
		"go 1.26\nmodule\ta/b\n":                "a/b",
	} {
		p := filepath.Join(dir, "go.mod")
		os.WriteFile(p, []byte(content), 0o644)
		if got, err := ModulePath(p); err != nil || got != want {
			t.Errorf("ModulePath(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
}
