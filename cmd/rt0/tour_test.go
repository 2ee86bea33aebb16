package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"rt0/host/build"
	"rt0/host/image"
	"rt0/host/study/bin"
	"rt0/host/study/tour"
)

// linkHello links examples/hello with the real kernel, without the boot
// patch, into dir and returns the ELF's path.
func linkHello(t *testing.T, dir string) string {
	t.Helper()
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	b := &build.Builder{Root: root, Go: mustGo(), Env: os.Environ(), Stderr: testWriter{t}}
	elfPath, _, err := b.Link([]string{filepath.Join(root, "examples", "hello")}, &build.Flags{BuildVCS: "false"}, dir)
	if err != nil {
		t.Fatalf("linking examples/hello: %v", err)
	}
	return elfPath
}

// patchedHello returns the path of a patched hello image and the layout
// image.PatchLayout reports for it.
func patchedHello(t *testing.T) (string, *image.Layout) {
	t.Helper()
	dir := t.TempDir()
	raw, err := os.ReadFile(linkHello(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	out, lay, err := image.PatchLayout(raw)
	if err != nil {
		t.Fatalf("PatchLayout: %v", err)
	}
	p := filepath.Join(dir, "hello.elf")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, lay
}

func TestTourHello(t *testing.T) {
	elfPath, lay := patchedHello(t)
	b, err := bin.Open(elfPath)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tour.Build(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range tr.Warnings {
		t.Errorf("warning: %s", w)
	}

	// The order of the path.
	var got []string
	for _, s := range tr.Sections {
		got = append(got, s.Sym)
	}
	want := []string{"", "rt0/guest/kernel.entry64", "_rt0_amd64_linux", "_rt0_amd64", "runtime.rt0_go.abi0",
		"rt0/guest/kernel.cgoInitHook", "runtime.args.abi0", "runtime.schedinit.abi0", "runtime.schedinit",
		"runtime.newproc.abi0", "runtime.newproc", "runtime.newproc.func1", "runtime.newproc1",
		"runtime.mstart.abi0", "runtime.mstart0", "runtime.mstart1", "runtime.schedule", "runtime.findRunnable",
		"runtime.execute", "runtime.gogo.abi0", "gogo", "runtime.main", "main.main"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sections:\n got %q\nwant %q", got, want)
	}

	// The 32-bit stub is where Patch put it and jumps where Patch said.
	stub := tr.Sections[0]
	if stub.Mode != 32 || stub.Addr != lay.Stub {
		t.Errorf("stub at %#x (mode %d), PatchLayout says %#x", stub.Addr, stub.Mode, lay.Stub)
	}
	last := &stub.Insts[len(stub.Insts)-1]
	if sel, off, ok := bin.FarTarget(last); !ok || sel != 8 || off != lay.Entry64 {
		t.Errorf("stub ends in %q, want a far jump to 0x8:%#x", last.Text, lay.Entry64)
	}
	if b.Entry != lay.GoEntry {
		t.Errorf("e_entry %#x, PatchLayout's GoEntry %#x", b.Entry, lay.GoEntry)
	}

	// rt0_go calls schedinit (through its ABI0 wrapper, which jumps to the
	// Go function), and carves the 64 KiB g0 stack.
	rt0go := tr.Section("runtime.rt0_go.abi0")
	var sched *bin.Inst
	for i := range rt0go.Insts {
		if strings.HasPrefix(rt0go.Insts[i].Text, "CALL runtime.schedinit") {
			sched = &rt0go.Insts[i]
		}
	}
	if sched == nil {
		t.Fatalf("rt0_go has no CALL runtime.schedinit")
	}
	if sched.Text != "CALL runtime.schedinit.abi0(SB)" {
		t.Errorf("rt0_go calls %q", sched.Text)
	}
	wrapper := tr.Section("runtime.schedinit.abi0")
	if wrapper == nil || wrapper.Addr != sched.Target || wrapper.Insts[len(wrapper.Insts)-1].Text != "JMP runtime.schedinit(SB)" {
		t.Errorf("schedinit's wrapper does not end in JMP runtime.schedinit(SB)")
	}
	text := new(bytes.Buffer)
	if err := tr.WriteText(text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"CALL runtime.schedinit.abi0(SB)",
		"LEAQ -0x10000(SP), BX",
		"MOVQ CX, FS:-0x8",
		"CALL AX",
		"rt0/guest/kernel.cgoInitHook",
		"JMP runtime.schedinit(SB)",
		"CALL runtime.gogo.abi0(SB)",
		"JMP BX",
		"a string header: \"hello,world\"",
		"holds &main.main",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the tour does not contain %q", want)
		}
	}
	if n := len(rt0go.Notes("CALL AX")); n != 1 || !strings.Contains(rt0go.Notes("CALL AX")[0], "cgoInitHook") {
		t.Errorf("rt0_go's CALL AX note: %q", rt0go.Notes("CALL AX"))
	}
	if t.Failed() {
		t.Logf("tour:\n%s", text)
	}
}

// objdumpLine is one instruction line of go tool objdump.
var objdumpLine = regexp.MustCompile(`^\s+(\S+):(\d+)\s+0x([0-9a-f]+)\s+([0-9a-f]+)\s+(.*?)\s*$`)

// Normalizing go tool objdump's spelling to the tour's. Both print
// x86asm.GoSyntax with a symbol lookup over every ELF symbol (the last one
// starting at or below the address, if the address is inside it). They
// differ in two ways. First, go1.26's cmd/objdump vendors
// golang.org/x/arch v0.23.0 while rt0 uses v0.33.0, whose decoder
// sign-extends 32-bit (and 16-bit) memory displacements; v0.23.0
// zero-extends them (rules 1 and 2). Second, where a zero-size section
// marker (runtime.data, runtime.bss, runtime.noptrbss, ...) starts at the
// same address as a variable, objdump's address sort may put the marker
// last, so its lookup finds the empty marker and prints a number; the tour
// sorts equal addresses by size and names the variable (rule 3):
//
//  1. A negative displacement is printed by objdump as an unsigned 32-bit
//     number, by the tour as a negative one:
//     objdump "LEAQ 0xffff0000(SP), BX", tour "LEAQ -0x10000(SP), BX";
//     objdump "MOVQ CX, FS:0xfffffff8", tour "MOVQ CX, FS:-0x8".
//  2. A RIP-relative operand with a negative displacement: objdump adds the
//     zero-extended displacement to the PC, lands 4 GiB too far, finds no
//     symbol and prints the number; the tour names the symbol:
//     objdump "LEAQ 0xfffff4f8(IP), SI", tour "LEAQ setg_gcc(SB), SI".
//  3. A RIP-relative operand whose target has a zero-size symbol and a
//     variable at the same address:
//     objdump "MOVQ 0x16f18d(IP), SI", tour "MOVQ runtime.cgo_yield(SB), SI"
//     (runtime.data also starts at runtime.cgo_yield's address).
//
// normalizeObjdump rewrites objdump's text into the tour's spelling with
// these rules (2 and 3 resolve the target with the image's symbol table;
// 3 only where a zero-size symbol starts at the target) and reports which
// rules it applied. Nothing else is changed: the test requires every other
// instruction to be spelled identically.
func normalizeObjdump(text string, pc uint64, size int, b *bin.Binary) (string, []int) {
	lookup := b.Lookup
	var rules []int
	// Rule 1: a memory displacement (not an immediate: those start with $)
	// of 8 hex digits with the top bit set.
	disp := regexp.MustCompile(`(^|[ ,:])0x([89a-f][0-9a-f]{7})(\(|$|,)`)
	text = disp.ReplaceAllStringFunc(text, func(m string) string {
		sub := disp.FindStringSubmatch(m)
		v, _ := strconv.ParseUint(sub[2], 16, 32)
		rules = append(rules, 1)
		return fmt.Sprintf("%s-%#x%s", sub[1], uint64(-int64(int32(uint32(v)))), sub[3])
	})
	// Rule 2: a RIP-relative operand left as a (now negative) number.
	rip := regexp.MustCompile(`-0x([0-9a-f]+)\(IP\)`)
	text = rip.ReplaceAllStringFunc(text, func(m string) string {
		sub := rip.FindStringSubmatch(m)
		v, _ := strconv.ParseUint(sub[1], 16, 64)
		target := pc + uint64(size) - v
		name, base := lookup(target)
		if name == "" {
			return m
		}
		rules = append(rules, 2)
		if target != base {
			return fmt.Sprintf("%s%+d(SB)", name, target-base)
		}
		return name + "(SB)"
	})
	// Rule 3: a positive RIP-relative operand left as a number, whose
	// target is shared by a zero-size symbol and the variable the tour
	// names.
	pos := regexp.MustCompile(`(^|[ ,])0x([0-9a-f]+)\(IP\)`)
	text = pos.ReplaceAllStringFunc(text, func(m string) string {
		sub := pos.FindStringSubmatch(m)
		v, _ := strconv.ParseUint(sub[2], 16, 64)
		target := pc + uint64(size) + v
		marker := false
		for _, s := range b.SymsAt(target) {
			marker = marker || s.Size == 0
		}
		name, base := lookup(target)
		if !marker || name == "" || base != target {
			return m
		}
		rules = append(rules, 3)
		return sub[1] + name + "(SB)"
	})
	return text, rules
}

func TestTourMatchesObjdump(t *testing.T) {
	elfPath, _ := patchedHello(t)
	b, err := bin.Open(elfPath)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tour.Build(b)
	if err != nil {
		t.Fatal(err)
	}
	// rt0_go first; then every other function of the tour (not the stub,
	// which has no symbol for objdump).
	syms := []string{"runtime.rt0_go.abi0"}
	for _, s := range tr.Sections {
		if s.Sym != "" && s.Sym != syms[0] {
			syms = append(syms, s.Sym)
		}
	}
	for _, sym := range syms {
		t.Run(sym, func(t *testing.T) {
			s := tr.Section(sym)
			if s == nil {
				t.Fatalf("no section %s", sym)
			}
			out, err := exec.Command(mustGo(), "tool", "objdump", "-s", "^"+regexp.QuoteMeta(sym)+"$", elfPath).CombinedOutput()
			if err != nil {
				t.Fatalf("go tool objdump: %v\n%s", err, out)
			}
			var lines []string
			for _, l := range strings.Split(string(out), "\n") {
				if objdumpLine.MatchString(l) {
					lines = append(lines, l)
				}
			}
			if len(lines) != len(s.Insts) {
				t.Fatalf("objdump shows %d instructions, the tour %d\n%s", len(lines), len(s.Insts), out)
			}
			applied, same := map[int]int{}, 0
			for i, l := range lines {
				m := objdumpLine.FindStringSubmatch(l)
				in := &s.Insts[i]
				addr, _ := strconv.ParseUint(m[3], 16, 64)
				loc := fmt.Sprintf("%s:%s", m[1], m[2])
				if addr != in.Addr || m[4] != fmt.Sprintf("%x", in.Bytes) || loc != fmt.Sprintf("%s:%d", in.File, in.Line) {
					t.Errorf("instruction %d: objdump %s %#x %s, tour %s:%d %#x %x", i, loc, addr, m[4], in.File, in.Line, in.Addr, in.Bytes)
					continue
				}
				norm, rules := normalizeObjdump(m[5], addr, len(m[4])/2, b)
				for _, r := range rules {
					applied[r]++
				}
				if norm != in.Text {
					t.Errorf("%#x: objdump %q (normalized %q), tour %q", addr, m[5], norm, in.Text)
				} else if norm != m[5] {
					t.Logf("%#x: objdump %q = tour %q", addr, m[5], in.Text)
				} else {
					same++
				}
			}
			t.Logf("%s: %d instructions match, %d spelled identically; normalized: rule 1 (negative displacement) %d, rule 2 (negative RIP-relative) %d, rule 3 (marker symbol) %d",
				sym, len(lines), same, applied[1], applied[2], applied[3])
		})
	}
}

func TestTourCommand(t *testing.T) {
	elfPath, _ := patchedHello(t)
	out := filepath.Join(t.TempDir(), "tour.html")
	code, stdout, stderr := runMain("tour", "-html", "-o", out, "-image", elfPath)
	if code != 0 || stdout != "" {
		t.Fatalf("rt0 tour -html: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("<!DOCTYPE html>")) || !bytes.Contains(page, []byte("CALL runtime.schedinit.abi0(SB)")) {
		t.Errorf("the HTML tour lacks its listing")
	}
	code, stdout, stderr = runMain("tour", "-image", elfPath)
	if code != 0 || !strings.Contains(stdout, "LEAQ -0x10000(SP), BX") || stderr != "" {
		t.Errorf("rt0 tour -image: exit %d, stderr %q, output:\n%.2000s", code, stderr, stdout)
	}
	if code, _, stderr := runMain("tour"); code != 2 || !strings.Contains(stderr, "no package") {
		t.Errorf("rt0 tour without a package: exit %d, %q", code, stderr)
	}
}
