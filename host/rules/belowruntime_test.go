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

	"rt0/contract"
)

// The rule of doc.go, checked on the machine code: no function of the
// packages below the runtime may call into the allocator, a write barrier,
// or any other runtime service that needs a P, an M or a lock.
//
// Which packages those are is computed, not typed: every rt0 package the
// kernel links (go list -deps rt0/guest/kernel). Every package under guest/
// must be one of them or be declared above the runtime here, and every rt0
// function in the built kernel must belong to a checked package.
const kernelPkg = contract.KernelPkg

// contractPkg may be linked by the kernel: it is constants and tables of
// them, and its functions are checked like the kernel's.
const contractPkg = "rt0/contract"

// aboveRuntime are the guest packages that run as ordinary Go, in
// goroutines, and are never linked by the kernel (contract.AboveRuntimePkgs:
// the post-link step counts every other guest package's variables as the
// kernel's).
var aboveRuntime = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range contract.AboveRuntimePkgs {
		m[p] = true
	}
	return m
}()

// goList runs go list in rt0's root for the target platform.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	root, _ := filepath.Abs("../..")
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// belowRuntimePkgs returns the rt0 packages the kernel links, after
// checking that they are all guest packages below the runtime and that no
// guest package is left unaccounted for.
func belowRuntimePkgs(t *testing.T) map[string]bool {
	t.Helper()
	below := map[string]bool{}
	for _, p := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", kernelPkg) {
		if !strings.HasPrefix(p, "rt0/") {
			continue // a module the kernel imports would show here; there is none
		}
		if p == contractPkg {
			below[p] = true // constants the host and the kernel share
			continue
		}
		if !strings.HasPrefix(p, contract.GuestPrefix) || aboveRuntime[p] {
			t.Errorf("the kernel links %s, which is not a guest package below the runtime", p)
		}
		below[p] = true
	}
	if !below[kernelPkg] {
		t.Fatalf("go list -deps %s did not list it", kernelPkg)
	}
	for _, p := range goList(t, "rt0/guest/...") {
		if !below[p] && !aboveRuntime[p] {
			t.Errorf("%s is neither linked by the kernel (so checked as below the runtime) nor declared above the runtime (aboveRuntime)", p)
		}
	}
	return below
}

// symbolPackage is the import path of a function symbol's package:
// "rt0/guest/kernel/mem.(*Frames).Init" -> "rt0/guest/kernel/mem".
func symbolPackage(name string) string {
	head := name
	if i := strings.IndexAny(head, "(["); i >= 0 {
		head = head[:i]
	}
	slash := strings.LastIndex(head, "/")
	dot := strings.Index(head[slash+1:], ".")
	if dot < 0 {
		return head
	}
	return head[:slash+1+dot]
}

func TestSymbolPackage(t *testing.T) {
	for name, want := range map[string]string{
		"rt0/guest/kernel/mem.(*Frames).Init":      "rt0/guest/kernel/mem",
		"rt0/guest/kernel.boot":                    "rt0/guest/kernel",
		"rt0/guest/arch/amd64.init.0":              "rt0/guest/arch/amd64",
		"rt0/guest/kernel.(*pipe).write":           "rt0/guest/kernel",
		"rt0/guest/sched.wake[go.shape.int]":       "rt0/guest/sched",
		"runtime.mallocgc":                         "runtime",
		"rt0/guest/kernel/cmdline.Split.func1":     "rt0/guest/kernel/cmdline",
		"rt0/guest/kernel.sysRead.deferwrap1":      "rt0/guest/kernel",
		"rt0/guest/kernel.entry64.abi0":            "rt0/guest/kernel",
		"rt0/guest/kernel/vt.(*Cell).Set":          "rt0/guest/kernel/vt",
		"rt0/guest/kernel/cpio.(*Reader).Next-fm":  "rt0/guest/kernel/cpio",
		"rt0/guest/multiboot.parseV2":              "rt0/guest/multiboot",
		"rt0/guest/kernel/tscfreq.FromCPUID":       "rt0/guest/kernel/tscfreq",
		"rt0/guest/kernel/mem.(*VMAs).Insert.func": "rt0/guest/kernel/mem",
	} {
		if got := symbolPackage(name); got != want {
			t.Errorf("symbolPackage(%q) = %q; want %q", name, got, want)
		}
	}
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
// their few pointer stores (slice headers of the boot-info window and the
// frame bitmap) take the fast path of the compiler's write-barrier check,
// never gcWriteBarrier.
var bootOnly = map[string]bool{
	"rt0/guest/kernel.boot":               true,
	"rt0/guest/kernel.parseBootInfo":      true,
	"rt0/guest/kernel.initPhysMem":        true,
	"rt0/guest/kernel/mem.(*Frames).Init": true,
}

func kernelELF(t *testing.T) (*elf.File, []byte) {
	t.Helper()
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	link := filepath.Join(dir, "zz.go")
	// The overlay of a program that uses the network, so that the socket
	// code (linked only into those) is checked too.
	os.WriteFile(link, []byte("package main\n\nimport \"rt0/guest/kernel\"\n\nfunc init() { kernel.EnableSockets() }\n"), 0o644)
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
	below := belowRuntimePkgs(t)
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
		if !strings.HasPrefix(s.Name, "rt0/") {
			continue
		}
		if !below[symbolPackage(s.Name)] {
			t.Errorf("%s is linked into the kernel but its package is not checked as below the runtime", s.Name)
			continue
		}
		funcs = append(funcs, s)
	}
	if len(funcs) < 50 {
		t.Fatalf("only %d kernel functions found: is rt0/guest/kernel linked?", len(funcs))
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
						t.Errorf("%s calls %s (below the runtime: see guest/kernel/doc.go)", fn.Name, name)
					}
				}
			}
			pc += inst.Len
		}
		checked++
	}
	pkgs := make([]string, 0, len(below))
	for p := range below {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	t.Logf("checked %d functions below the runtime, of %s", checked, strings.Join(pkgs, " "))
}

// Every kernel symbol the host looks up by name (package contract) is in a
// built kernel, so a rename in the kernel fails here, not in a user's
// trace or tour.
func TestKernelSymbols(t *testing.T) {
	f, _ := kernelELF(t)
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range syms {
		have[s.Name] = true
	}
	for _, name := range contract.KernelSymbols {
		if !have[name] {
			t.Errorf("contract names %s; the built kernel has no such symbol", name)
		}
	}
}
