package qemu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	vmtest "github.com/hugelgupf/vmtest/qemu"
)

// lockedBuffer is an io.WriteCloser safe for vmtest's copying goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) Close() error { return nil }

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// TestVMTestHarness boots MinimalKernel with the command line Config.Args
// builds, but through github.com/hugelgupf/vmtest/qemu and its Expect
// helpers instead of Run: an independent check that the devices and wiring
// work, and a record of why Run does not use vmtest (see doc.go): its
// console is a pty, so the Expect side sees "\r\n" for the guest's "\n";
// QEMU's stderr is mixed into the serial stream; debugcon needs our own fd
// plumbing; the exit status is only an *exec.ExitError.
func TestVMTestHarness(t *testing.T) {
	needQEMU(t)
	dir := t.TempDir()
	k := writeKernel(t, dir, "k.elf", MinimalKernel("ok\n", "rt0: exit 7\n", 7))
	args, err := (&Config{Kernel: k, Accel: AccelTCG}).Args()
	if err != nil {
		t.Fatal(err)
	}
	dbgPath := filepath.Join(dir, "debugcon.log")
	dbg, err := os.Create(dbgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer dbg.Close()

	var raw lockedBuffer
	vm, err := vmtest.Start(vmtest.ArchAMD64,
		vmtest.WithQEMUCommand(args[0]),
		func(_ *vmtest.IDAllocator, o *vmtest.Options) error {
			// Drop vmtest's default -nographic (and any VMTEST_QEMU_APPEND):
			// Config.Args already says how to wire everything.
			o.QEMUArgs = append([]string(nil), args[1:]...)
			o.Kernel, o.KernelArgs, o.Initramfs = "", "", ""
			if fd := o.AddFile(dbg); fd != debugconFD {
				t.Errorf("debugcon file got fd %d, Config.Args expects %d", fd, debugconFD)
			}
			return nil
		},
		vmtest.WithVMTimeout(testTimeout),
		vmtest.WithSerialOutput(&raw),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Console.ExpectString("ok"); err != nil {
		t.Errorf("Expect ok: %v", err)
	}
	err = vm.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7<<1|1 {
		t.Errorf("vmtest Wait = %v; want QEMU exit status 15", err)
	}
	if got := raw.String(); got != "ok\n" {
		t.Errorf("vmtest serial output %q; want \"ok\\n\"", got)
	}
	if b, _ := os.ReadFile(dbgPath); string(b) != "rt0: exit 7\n" {
		t.Errorf("debugcon %q", b)
	}
}

// The pty vmtest's Expect helpers read from translates newlines: the
// reason Run gives QEMU plain pipes instead.
func TestVMTestConsoleIsNotByteExact(t *testing.T) {
	needQEMU(t)
	k := writeKernel(t, "", "k.elf", MinimalKernel("a\nb\n", "rt0: exit 0\n", 0))
	args, err := (&Config{Kernel: k, Accel: AccelTCG}).Args()
	if err != nil {
		t.Fatal(err)
	}
	dbg, err := os.Create(filepath.Join(t.TempDir(), "debugcon.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer dbg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	vm, err := vmtest.StartContext(ctx, vmtest.ArchAMD64,
		vmtest.WithQEMUCommand(args[0]),
		func(_ *vmtest.IDAllocator, o *vmtest.Options) error {
			o.QEMUArgs = append([]string(nil), args[1:]...)
			o.Kernel, o.KernelArgs, o.Initramfs = "", "", ""
			o.AddFile(dbg)
			return nil
		},
	)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := vm.Console.ExpectString("b")
	if err != nil {
		t.Fatalf("Expect b: %v", err)
	}
	vm.Wait()
	if !strings.Contains(seen, "a\r\nb") {
		t.Errorf("pty console showed %q; expected the tty's CRLF translation (a\r\nb)", seen)
	}
}
