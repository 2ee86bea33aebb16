package rules

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// The rule of doc.go, checked on the machine code: no function of the
// packages below the runtime may call into the allocator, a write barrier,
// or any other runtime service that needs a P, an M or a lock.
var belowRuntime = []string{
	"rt0/kernel.", "rt0/sched.", "rt0/arch/amd64.", "rt0/kernel/mem.",
	"rt0/boot/multiboot.", "rt0/kernel/cmdline.",
}

var forbidden = []string{
	"runtime.mallocgc", "runtime.newobject", "runtime.growslice", "runtime.makeslice",
	"runtime.makemap", "runtime.mapassign", "runtime.mapaccess", "runtime.gcWriteBarrier",
	"runtime.wbZero", "runtime.wbMove", "runtime.typedmemmove", "runtime.typedslicecopy",
	"runtime.convT", "runtime.concatstring", "runtime.slicebytetostring", "runtime.stringtoslicebyte",
	"runtime.newproc", "runtime.deferproc", "runtime.gopanic", "runtime.lock", "runtime.chansend",
	"runtime.chanrecv", "runtime.selectgo", "runtime.assertE2I", "runtime.printlock", "runtime.newstack",
}

// bootOnly run before the runtime exists, when runtime.writeBarrier is off:
// their few pointer stores (a func value into arch/amd64.Handler, slice
// headers of the boot-info window and the frame bitmap) take the fast path
// of the compiler's write-barrier check, never gcWriteBarrier.
var bootOnly = map[string]bool{
	"rt0/kernel.boot":               true,
	"rt0/kernel.parseBootInfo":      true,
	"rt0/kernel.initPhysMem":        true,
	"rt0/kernel/mem.(*Frames).Init": true,
}

func kernelELF(t *testing.T) (*elf.File, []byte) {
	t.Helper()
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	link := filepath.Join(dir, "zz.go")
	// The overlay of a program that uses the network, so that the socket
	// code (linked only into those) is checked too.
	os.WriteFile(link, []byte("package main\n\nimport \"rt0/kernel\"\n\nfunc init() { kernel.EnableSockets() }\n"), 0o644)
	ov := filepath.Join(dir, "overlay.json")
	os.WriteFile(ov, []byte(`{"Replace":{"`+filepath.Join(root, "examples/stress/zz_rt0_kernel.go")+`":"`+link+`"}}`), 0o644)
	out := filepath.Join(dir, "k.elf")
	cmd := exec.Command("go", "build", "-overlay", ov, "-o", out, "./examples/stress")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return f, raw
}

func TestBelowRuntime(t *testing.T) {
	f, _ := kernelELF(t)
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	code, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	byAddr := map[uint64]string{}
	var funcs []elf.Symbol
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			continue
		}
		byAddr[s.Value] = s.Name
		for _, p := range belowRuntime {
			if strings.HasPrefix(s.Name, p) {
				funcs = append(funcs, s)
			}
		}
	}
	if len(funcs) < 50 {
		t.Fatalf("only %d kernel functions found: is rt0/kernel linked?", len(funcs))
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].Value < funcs[j].Value })
	checked := 0
	for _, fn := range funcs {
		start := fn.Value - text.Addr
		if start+fn.Size > uint64(len(code)) {
			continue
		}
		body := code[start : start+fn.Size]
		for pc := 0; pc < len(body); {
			inst, err := x86asm.Decode(body[pc:], 64)
			if err != nil {
				pc++
				continue
			}
			if inst.Op == x86asm.CALL {
				if rel, ok := inst.Args[0].(x86asm.Rel); ok {
					target := fn.Value + uint64(pc) + uint64(inst.Len) + uint64(int64(rel))
					name := byAddr[target]
					for _, bad := range forbidden {
						if !strings.HasPrefix(name, bad) {
							continue
						}
						if bootOnly[fn.Name] && strings.HasPrefix(name, "runtime.gcWriteBarrier") {
							continue
						}
						t.Errorf("%s calls %s (below the runtime: see kernel/doc.go)", fn.Name, name)
					}
				}
			}
			pc += inst.Len
		}
		checked++
	}
	t.Logf("checked %d functions below the runtime", checked)
}
