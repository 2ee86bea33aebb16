package boottest

// Edges a program reaches that Linux handles and rt0 must too: the thread
// limit, memory running out on a small machine, ^C and ^\ on the console.

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"

	"rt0/host/qemu"
)

// More threads than the kernel's table holds: clone fails with EAGAIN and
// the runtime stops with its own message and status 2.
func TestBootThreadLimit(t *testing.T) {
	res := Boot(t, Build(t, "testdata/progs/threads"), qemu.Config{SMP: 2})
	if res.ExitCode != 2 {
		t.Errorf("exit %d, want 2", res.ExitCode)
	}
	wantContains(t, "output", res.Serial, "threads locked: 101\n", "runtime: failed to create new OS thread", "errno=11")
	if bytes.Contains(res.Serial, []byte("the limit was not reached")) {
		t.Error("400 threads started: the table has 128")
	}
}

// A heap that grows on a 32 MiB machine ends in the runtime's own "out of
// memory", not in the kernel.
func TestBootOutOfMemorySmall(t *testing.T) {
	res := Boot(t, Build(t, "testdata/progs/oom"), qemu.Config{Memory: "32M"})
	if res.ExitCode != 2 {
		t.Errorf("exit %d, want 2", res.ExitCode)
	}
	wantContains(t, "output", res.Serial, "fatal error: runtime: out of memory\n")
	if bytes.Contains(res.Serial, []byte("rt0: panic")) || bytes.Contains(res.Debug, []byte("rt0: panic")) {
		t.Error("the kernel stopped")
	}
}

// typist writes keys to the guest's console once the guest has printed
// "ready" (a signal that arrives before the program set up its handler
// would find the default action).
type typist struct {
	mu   sync.Mutex
	out  bytes.Buffer
	w    *io.PipeWriter
	keys string
	done bool
}

func (k *typist) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.out.Write(p)
	if !k.done && strings.Contains(k.out.String(), "ready\n") {
		k.done = true
		go func() { io.WriteString(k.w, k.keys); k.w.Close() }()
	}
	return len(p), nil
}

func bootTyping(t *testing.T, img, mode, keys string) *qemu.Result {
	r, w := io.Pipe()
	k := &typist{w: w, keys: keys}
	res := Boot(t, img, qemu.Config{Append: "-- " + mode, Stdin: r, Serial: k})
	w.Close()
	return res
}

// ^C on the serial console is SIGINT for the program, as a terminal's is,
// and ^\ is SIGQUIT; neither reaches the program as a byte.
func TestBootConsoleSignals(t *testing.T) {
	img := Build(t, "testdata/progs/interrupt")
	t.Run("notify", func(t *testing.T) {
		res := bootTyping(t, img, "notify", "abc\x03def\n")
		wantOutput(t, res, "ready\nsignal: interrupt\nline \"abcdef\\n\" <nil>\n", 0)
	})
	t.Run("default", func(t *testing.T) {
		res := bootTyping(t, img, "default", "abc\x03")
		if res.ExitCode != 128+2 {
			t.Errorf("exit %d, want 130 (killed by SIGINT)", res.ExitCode)
		}
	})
	t.Run("quit", func(t *testing.T) {
		res := bootTyping(t, img, "default", "\x1c")
		if res.ExitCode != 2 {
			t.Errorf("exit %d, want 2", res.ExitCode)
		}
		wantContains(t, "output", res.Serial, "SIGQUIT: quit", "\ngoroutine 1 ", "main.main()")
	})
}
