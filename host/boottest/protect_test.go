package boottest

// Kernel self-protection: each crash test (guest/kernel/crashtest.go)
// commits one kind of kernel bug on purpose; the protection against it
// must stop it with a report that says what happened.

import (
	"bytes"
	"testing"

	"rt0/host/qemu"
)

func TestBootKernelProtection(t *testing.T) {
	img := Build(t, "examples/hello")
	for name, report := range map[string]string{
		"write-text":   "write to read-only memory in the kernel",
		"write-rodata": "write to read-only memory in the kernel",
		"exec-data":    "instruction fetch from no-execute memory in the kernel",
		"exec-heap":    "instruction fetch from no-execute memory in the kernel",
		"null":         "address not mapped in the kernel",
		"stack":        "rt0: kernel stack overflow: CPU 0's system call stack ran into its guard page",
	} {
		t.Run(name, func(t *testing.T) {
			res := Boot(t, img, qemu.Config{Append: "rt0.crashtest=" + name})
			if res.ExitCode != qemu.ExitFailure {
				t.Errorf("exit %d, want %d (a kernel panic)", res.ExitCode, qemu.ExitFailure)
			}
			wantContains(t, "console", res.Serial, "rt0: crash test "+name+"\n", report, "RIP=0x")
			if bytes.Contains(res.Serial, []byte("nothing stopped it")) || bytes.Contains(res.Serial, []byte("hello,world")) {
				t.Error("the bug ran on")
			}
		})
	}
}
