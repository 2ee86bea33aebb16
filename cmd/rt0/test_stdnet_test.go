package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rt0/host/build"
)

// vendorModules on a made-up GOROOT and module cache: the real vendor's
// entries are linked, a module std already vendors gets its new package
// inside its own directory and modules.txt section, a new module its own
// section, and a file with a directive -std refuses an overlay copy with
// that line a comment, the rest of the file as it was.
func TestVendorModules(t *testing.T) {
	tmp := t.TempDir()
	goroot := filepath.Join(tmp, "go")
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(goroot, "src/vendor/modules.txt"), "# golang.org/x/sys v0.39.0\n## explicit; go 1.24.0\ngolang.org/x/sys/cpu\n# golang.org/x/net v0.47.0\n## explicit; go 1.24.0\ngolang.org/x/net/idna\n")
	write(filepath.Join(goroot, "src/vendor/golang.org/x/sys/cpu/cpu.go"), "package cpu\n")
	write(filepath.Join(goroot, "src/vendor/golang.org/x/net/idna/idna.go"), "package idna\n")
	unix := filepath.Join(tmp, "mod/golang.org/x/sys@v0.50.0/unix")
	write(filepath.Join(unix, "unix.go"), "package unix\n")
	locking := filepath.Join(tmp, "mod/gvisor.dev/gvisor@v1/pkg/sync/locking")
	const src = "package locking\n\n// AddGLock is a no-op.\n//\n//go:inline\nfunc AddGLock() {}\n\n//go:nosplit\nfunc f() {}\n"
	write(filepath.Join(locking, "lockdep_norace.go"), src)
	write(filepath.Join(locking, "plain.go"), "package locking\n\n//go:noinline\nfunc g() {}\n")

	priv := filepath.Join(tmp, "priv")
	scratch := filepath.Join(tmp, "scratch")
	os.MkdirAll(scratch, 0o755)
	ov, err := vendorModules(priv, goroot, []build.ModulePackage{
		{ImportPath: "golang.org/x/sys/unix", Dir: unix, Module: "golang.org/x/sys", Version: "v0.50.0"},
		{ImportPath: "gvisor.dev/gvisor/pkg/sync/locking", Dir: locking, Module: "gvisor.dev/gvisor", Version: "v1"},
	}, scratch)
	if err != nil {
		t.Fatal(err)
	}
	vendor := filepath.Join(priv, "src/vendor")
	for _, p := range []string{"golang.org/x/sys/cpu/cpu.go", "golang.org/x/sys/unix/unix.go", "golang.org/x/net/idna/idna.go", "gvisor.dev/gvisor/pkg/sync/locking/plain.go"} {
		if _, err := os.Stat(filepath.Join(vendor, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if fi, err := os.Lstat(filepath.Join(vendor, "golang.org/x/sys")); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("vendor/golang.org/x/sys should be a directory of links now: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(goroot, "src/vendor/golang.org/x/sys/unix")); err == nil {
		t.Error("the real GOROOT's vendor directory was written to")
	}
	txt, _ := os.ReadFile(filepath.Join(vendor, "modules.txt"))
	want := "# golang.org/x/sys v0.39.0\n## explicit; go 1.24.0\ngolang.org/x/sys/unix\ngolang.org/x/sys/cpu\n# golang.org/x/net v0.47.0\n## explicit; go 1.24.0\ngolang.org/x/net/idna\n# gvisor.dev/gvisor v1\n## explicit\ngvisor.dev/gvisor/pkg/sync/locking\n"
	if string(txt) != want {
		t.Errorf("modules.txt:\n%s\nwant:\n%s", txt, want)
	}
	if len(ov) != 1 {
		t.Fatalf("overlay %v: want the one file with //go:inline", ov)
	}
	copyPath, ok := ov[filepath.Join(vendor, "gvisor.dev/gvisor/pkg/sync/locking/lockdep_norace.go")]
	if !ok {
		t.Fatalf("overlay %v has not lockdep_norace.go", ov)
	}
	got, _ := os.ReadFile(copyPath)
	if string(got) != strings.Replace(src, "//go:inline", "// go:inline", 1) {
		t.Errorf("sanitized copy:\n%s", got)
	}
}
