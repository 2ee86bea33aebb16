package bin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// plainGo builds a tiny program with the stock go build (no rt0 kernel):
// the runtime's startup code is the same, so the decoding, lookup and
// DWARF parts of the reader can be checked without rt0's build path. (The
// tour of a real rt0 image is tested in cmd/rt0.)
func plainGo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"hi\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "prog")
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func TestBinary(t *testing.T) {
	b, err := Open(plainGo(t))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := b.Func("runtime.rt0_go", "runtime.rt0_go.abi0")
	if !ok || s.Name != "runtime.rt0_go.abi0" {
		t.Fatalf("rt0_go: %+v %v", s, ok)
	}
	insts, err := b.Disasm(s)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, in := range insts {
		texts = append(texts, in.Text)
		if in.File != "asm_amd64.s" || in.Line == 0 {
			t.Errorf("%#x: line %s:%d", in.Addr, in.File, in.Line)
		}
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"LEAQ -0x10000(SP), BX", "MOVQ CX, FS:-0x8", "CALL runtime.schedinit.abi0(SB)", "LEAQ setg_gcc(SB), SI"} {
		if !strings.Contains(all, want) {
			t.Errorf("rt0_go lacks %q", want)
		}
	}
	// Both branches are in the code; a plain Go binary's _cgo_init is nil at
	// run time, so it takes the settls one.
	if !strings.Contains(all, "CALL runtime.settls.abi0(SB)") {
		t.Errorf("rt0_go lacks the settls call")
	}

	for _, c := range []struct {
		typ, path string
		want      uint64
	}{
		{"runtime.g", "stack.lo", 0},
		{"runtime.g", "stack.hi", 8},
		{"runtime.g", "stackguard0", 16},
		{"runtime.gobuf", "sp", 0},
	} {
		if got, err := b.Offset(c.typ, c.path); err != nil || got != c.want {
			t.Errorf("Offset(%s, %s) = %d, %v; want %d", c.typ, c.path, got, err, c.want)
		}
	}
	sched, err1 := b.Offset("runtime.g", "sched")
	pc, err2 := b.Offset("runtime.gobuf", "pc")
	schedPC, err3 := b.Offset("runtime.g", "sched.pc")
	if err1 != nil || err2 != nil || err3 != nil || schedPC != sched+pc {
		t.Errorf("g.sched.pc at %d, want g.sched %d + gobuf.pc %d (%v %v %v)", schedPC, sched, pc, err1, err2, err3)
	}
	if _, err := b.Offset("runtime.g", "nosuchfield"); err == nil {
		t.Errorf("Offset of a missing field: no error")
	}

	// Lookup is objdump's: inside a symbol, not past its end.
	if n, base := b.Lookup(s.Addr + 3); n != s.Name || base != s.Addr {
		t.Errorf("Lookup(rt0_go+3) = %s, %#x", n, base)
	}

	// Not an rt0 image: no multiboot header.
	if _, err := b.Multiboot(); err == nil || !strings.Contains(err.Error(), "multiboot") {
		t.Errorf("Multiboot of a plain Go binary: %v", err)
	}
}
