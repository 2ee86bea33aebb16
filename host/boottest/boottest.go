// Package boottest holds the kernel's boot tests (its _test.go files):
// programs of examples/ and testdata/ built with rt0's kernel, booted in
// QEMU, and checked against what they print and return, or against what
// the same program does on the host. The rt0 command's own tests stay in
// cmd/rt0, and use Build and Boot too.
package boottest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rt0/host/build"
	"rt0/host/qemu"
)

// Timeout bounds every boot of Boot.
const Timeout = 60 * time.Second

// Build builds target (relative to the rt0 checkout, or absolute) with
// the real kernel and returns the image path.
func Build(t *testing.T, target string) string {
	t.Helper()
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(root, target)
	}
	b := &build.Builder{Root: root, Go: goCommand(), Env: os.Environ(), Stderr: TestLog{T: t}, Verbose: true}
	out, err := b.BuildImage([]string{target}, &build.Flags{BuildVCS: "false"}, t.TempDir()+"/")
	if err != nil {
		t.Fatalf("rt0 build %s: %v", target, err)
	}
	return out
}

func Boot(t *testing.T, kernel string, c qemu.Config) *qemu.Result {
	t.Helper()
	c.Kernel = kernel
	c.Timeout = Timeout
	res, err := qemu.Run(context.Background(), c)
	if err != nil {
		t.Fatalf("qemu: %v", err)
	}
	t.Logf("%s: exit %d (exit line %v, QEMU status %d, %s, %v) %s\nserial: %q\ndebugcon:\n%s",
		filepath.Base(kernel), res.ExitCode, res.ExitLine, res.QEMUStatus, res.Accel, res.Wall, res.Reason, res.Serial, res.Debug)
	return res
}

// TestLog writes what it is given to the test's log, a line a call.
type TestLog struct{ T *testing.T }

func (w TestLog) Write(p []byte) (int, error) {
	w.T.Helper()
	w.T.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func goCommand() string {
	g, err := build.FindGo()
	if err != nil {
		panic(err)
	}
	return g
}

// WriteFiles writes files (name: content, names relative to dir, with
// their directories) into dir.
func WriteFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
