package boottest

// Boot tests: real programs built with rt0's kernel by rt0/host/build,
// booted in QEMU by rt0/host/qemu, their output and exit status compared
// with what the test expects or what the same program does on the host.
// They fail (not skip) while the kernel cannot boot them. Every boot has a
// timeout.

import (
	"testing"

	"rt0/host/qemu"
)

func TestBootHello(t *testing.T) {
	res := Boot(t, Build(t, "examples/hello"), qemu.Config{})
	if string(res.Serial) != "hello,world\n" || res.ExitCode != 0 || !res.ExitLine {
		t.Errorf("hello: serial %q, exit %d (exit line %v); want \"hello,world\\n\", 0", res.Serial, res.ExitCode, res.ExitLine)
	}
}

func TestBootGoroutine(t *testing.T) {
	res := Boot(t, Build(t, "examples/goroutine"), qemu.Config{})
	if string(res.Serial) != "169\n" || res.ExitCode != 0 || !res.ExitLine {
		t.Errorf("goroutine: serial %q, exit %d (exit line %v); want \"169\\n\", 0", res.Serial, res.ExitCode, res.ExitLine)
	}
}
