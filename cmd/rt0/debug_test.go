package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rt0/host/study/debug"
)

// TestDebugBatch drives GDB in batch mode against QEMU's gdbstub on the hello
// image: it must stop at the milestones in execution order and print the
// values the machine holds there. rt0 debug's -timeout kills QEMU and GDB
// if anything hangs.
func TestDebugBatch(t *testing.T) {
	elfPath, _ := patchedHello(t)
	start := time.Now()
	code, stdout, stderr := runMain("debug", "-batch", "-timeout", "90s", "-image", elfPath)
	t.Logf("rt0 debug -batch: exit %d in %v", code, time.Since(start))
	defer func() {
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
	}()
	if code != 0 {
		t.Errorf("exit status %d, want 0 (hello's)", code)
	}
	if !strings.Contains(stdout, "hello,world\n") {
		t.Errorf("the program's output is missing")
	}

	// Split the output at the stop headers.
	head := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(debug.Header) + ` \d+: (.*) at (0x[0-9a-f]+) \(`)
	locs := head.FindAllStringSubmatchIndex(stdout, -1)
	type stop struct{ name, text string }
	var stops []stop
	for i, l := range locs {
		end := len(stdout)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		stops = append(stops, stop{stdout[l[2]:l[3]], stdout[l[0]:end]})
	}
	first := func(prefix string) (int, string) {
		for i, s := range stops {
			if strings.HasPrefix(s.name, prefix) {
				return i, s.text
			}
		}
		return -1, ""
	}

	// The milestones, in order (the first stop at each).
	last := -1
	for _, name := range []string{"rt0_go", "runtime.schedinit", "runtime.newproc", "runtime.schedule",
		"runtime.execute", "runtime.gogo", "runtime.main", "main.main"} {
		i, _ := first(name)
		switch {
		case i < 0:
			t.Errorf("GDB never stopped at %s", name)
		case i <= last:
			t.Errorf("GDB stopped at %s (stop %d) before stop %d", name, i+1, last+1)
		default:
			last = i
		}
	}

	// Values read from the machine.
	want := func(milestone string, re string, check func(m []string) string) {
		t.Helper()
		_, text := first(milestone)
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			t.Errorf("at %s: no %q in\n%s", milestone, re, text)
			return
		}
		if msg := check(m); msg != "" {
			t.Errorf("at %s: %s", milestone, msg)
		}
	}
	hex := func(s string) uint64 { v, _ := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64); return v }
	want("runtime.schedinit", `g0 stack hi - lo = (\d+)`, func(m []string) string {
		if m[1] != "65536" {
			return "g0's stack is " + m[1] + " bytes, want 65536"
		}
		return ""
	})
	want("_cgo_init hook returns", `fs_base = (0x[0-9a-f]+), &m0.tls\[0\] \+ 8 = (0x[0-9a-f]+)`, func(m []string) string {
		if hex(m[1]) != hex(m[2]) || hex(m[1]) == 0 {
			return "FS base " + m[1] + " != &m0.tls[0]+8 " + m[2]
		}
		return ""
	})
	want("runtime.args", `R14 \(g\) = (0x[0-9a-f]+), &g0 = (0x[0-9a-f]+), m0.tls\[0\] = (0x[0-9a-f]+), \*\(FS-8\) = (0x[0-9a-f]+)`, func(m []string) string {
		if m[1] != m[2] || m[2] != m[3] || m[3] != m[4] {
			return "want R14 == &g0 == m0.tls[0] == *(FS-8): " + m[0]
		}
		return ""
	})
	want("runtime.newproc", `fn.fn = 0x[0-9a-f]+ <runtime.main>`, func([]string) string { return "" })
	want("newproc1's g", `goid = (\d+), status = (\d+) .*stackguard1 = 0xffffffffffffffff`, func(m []string) string {
		if m[1] != "1" || m[2] != "1" {
			return "new g: goid " + m[1] + ", status " + m[2] + "; want 1, 1 (_Grunnable)"
		}
		return ""
	})
	var gp string
	want("runtime.execute", `gp \(AX\) = (0x[0-9a-f]+): goid = (\d+), status = (\d+)`, func(m []string) string {
		gp = m[1]
		if m[2] != "1" || m[3] != "1" {
			return "gp: goid " + m[2] + ", status " + m[3] + "; want goid 1, _Grunnable (1)"
		}
		return ""
	})
	want("runtime.gogo", `g = (0x[0-9a-f]+) \(goid (\d+), status (\d+)\), pc = 0x[0-9a-f]+ <runtime.main>`, func(m []string) string {
		if m[1] != gp || m[2] != "1" || m[3] != "2" {
			return "gobuf.g " + m[1] + " goid " + m[2] + " status " + m[3] + "; want execute's gp " + gp + ", goid 1, _Grunning (2)"
		}
		return ""
	})
	want("gogo's JMP BX", `R14 \(g\) = (0x[0-9a-f]+), \*\(FS-8\) = (0x[0-9a-f]+), .* target \(BX\) = 0x[0-9a-f]+ <runtime.main>`, func(m []string) string {
		if m[1] != gp || m[2] != gp {
			return "R14 " + m[1] + ", FS:-8 " + m[2] + "; want gp " + gp
		}
		return ""
	})
	want("runtime.main", `goid = 1, status = 2 .*\nreturn address = 0x[0-9a-f]+ <runtime.goexit\+1>`, func([]string) string { return "" })
	want("main.main", `goid = 1; runtime.mainStarted = 1`, func([]string) string { return "" })
}

func TestDebugUsage(t *testing.T) {
	if code, _, stderr := runMain("debug"); code != 2 || !strings.Contains(stderr, "no package") {
		t.Errorf("rt0 debug without a package: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runMain("debug", "-gdb", "/nonexistent/gdb", "-image", "x.elf"); code != 1 || !strings.Contains(stderr, "gdb") {
		t.Errorf("rt0 debug with a missing gdb: exit %d, %q", code, stderr)
	}
}
