package debug

import (
	"strings"
	"testing"
)

func TestScript(t *testing.T) {
	ms := []Milestone{
		{Name: "stub", Addr: 0x400890, Where: "multiboot entry_addr", Note: "100% \"quoted\"", Cmds: []string{`info registers eax`}},
		{Name: "main.main", Addr: 0x4b7240, Where: "main.main", Note: "n", Cmds: []string{`bt`}, Disasm: true},
	}
	for _, batch := range []bool{false, true} {
		s := Script(ms, Options{Target: "/tmp/x/gdb.sock", RuntimeGDB: "/go/src/runtime/runtime-gdb.py", Batch: batch})
		for _, want := range []string{
			"set architecture i386:x86-64\n",
			"rt0-try source /go/src/runtime/runtime-gdb.py\n",
			"target remote /tmp/x/gdb.sock\n",
			"tbreak *0x400890\ncommands\n  silent\n",
			`printf "100%% \"quoted\"\n"`,
			"  rt0-try info registers eax\n",
			"tbreak *0x4b7240\n",
			"  rt0-try x/i $pc\n  rt0-try bt\n",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("batch=%v: script lacks %q:\n%s", batch, want, s)
			}
		}
		if strings.Contains(s[:strings.Index(s, "tbreak *0x4b7240")], "x/i") {
			t.Errorf("batch=%v: disassembly requested at the 32-bit stub", batch)
		}
		// Batch: every stop but the last continues; the last lets the
		// program end. Interactive: stops wait for the user.
		cont := strings.Count(s, "\n  continue\n")
		if batch && (cont != 1 || !strings.Contains(s, "  rt0-try continue\n")) {
			t.Errorf("batch script: %d continue in breakpoint commands, want 1 and a final rt0-try continue", cont)
		}
		if !batch && cont != 0 {
			t.Errorf("interactive script continues from a breakpoint")
		}
		if !strings.HasSuffix(s, "continue\n") {
			t.Errorf("batch=%v: the script does not start the machine", batch)
		}
	}
}
