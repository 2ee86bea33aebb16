package qemu

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestArgsInitrd(t *testing.T) {
	c := Config{Kernel: "/k.elf", Accel: AccelTCG, Initrd: []string{"/a/root.cpio", "/b/x,y"}}
	args, err := c.Args()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(args, "-initrd")
	if i < 0 || i+1 >= len(args) || args[i+1] != "/a/root.cpio,/b/x,,y" {
		t.Errorf("Args %q: want -initrd \"/a/root.cpio,/b/x,,y\"", args)
	}
	if k := slices.Index(args, "-kernel"); k < 0 || k > i {
		t.Errorf("Args %q: -initrd should follow -kernel", args)
	}

	c.Initrd = nil
	args, _ = c.Args()
	if slices.Contains(args, "-initrd") {
		t.Errorf("Args %q: -initrd without modules", args)
	}
	c.Initrd = []string{""}
	if _, err := c.Args(); err == nil {
		t.Error("empty module path: no error")
	}
	// A CD boot has no modules of its own.
	c = Config{BootISO: "/x.iso", Accel: AccelTCG, Initrd: []string{"/a"}}
	args, _ = c.Args()
	if slices.Contains(args, "-initrd") {
		t.Errorf("Args %q: -initrd with BootISO", args)
	}
}

func TestInitrdArgs(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "root.cpio")
	odd := filepath.Join(dir, "a b,c.cpio")
	for _, p := range []string{plain, odd} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	mods, cleanup, err := initrdArgs([]string{"root.cpio", odd})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 2 || mods[0] != plain {
		t.Fatalf("mods %q: want %q first (absolute)", mods, plain)
	}
	if strings.ContainsAny(mods[1], " ,") || !filepath.IsAbs(mods[1]) {
		t.Errorf("module %q still needs quoting", mods[1])
	}
	if b, err := os.ReadFile(mods[1]); err != nil || string(b) != odd {
		t.Errorf("module link %s reads %q, %v", mods[1], b, err)
	}
	cleanup()
	if _, err := os.Lstat(mods[1]); err == nil {
		t.Errorf("cleanup left %s", mods[1])
	}
	if _, _, err := initrdArgs([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing module: no error")
	}
}

// QEMU loads the modules and boots (the minimal kernel ignores them).
func TestRunInitrd(t *testing.T) {
	dir := t.TempDir()
	k := writeKernel(t, dir, "k.elf", MinimalKernel("ok\n", "rt0: exit 0\n", 0))
	m := writeKernel(t, dir, "mod 1,x.cpio", []byte("070701"))
	res := run(t, Config{Kernel: k, Initrd: []string{m, m}})
	if res.ExitCode != 0 || string(res.Serial) != "ok\n" {
		t.Errorf("exit %d serial %q stderr %q; want 0, ok", res.ExitCode, res.Serial, res.Stderr)
	}
}
