package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Accelerator names for Config.Accel.
const (
	AccelAuto = "auto" // KVM if the probe boots, else TCG
	AccelTCG  = "tcg"
	AccelKVM  = "kvm"
)

// Defaults used for the zero values of Config fields.
const (
	DefaultBinary    = "qemu-system-x86_64"
	DefaultMemory    = "256M"
	DefaultCPU       = "max"
	DefaultExitGrace = 5 * time.Second
)

// Exit codes that Run produces itself, beside the guest's 0..255.
const (
	ExitTimeout = 124 // Config.Timeout expired before the guest stopped
	ExitFailure = 125 // kernel panic/fault, reset, QEMU error: no usable exit status
)

// debugconFD is the descriptor number QEMU finds the debugcon pipe at: the
// first of exec.Cmd.ExtraFiles.
const debugconFD = 3

// Config describes one QEMU run of an rt0 kernel.
type Config struct {
	// QEMU is the emulator binary (a name looked up in PATH, or a path).
	// Empty means $RT0_QEMU if set, else qemu-system-x86_64.
	QEMU string

	// Kernel is the path to the multiboot image (the output of rt0 build).
	Kernel string

	// BootISO, instead of Kernel, boots the machine's firmware from this
	// CD image (e.g. GRUB made by grub-mkrescue); Append is then unused.
	BootISO string

	// Append is the kernel command line, passed verbatim to -append.
	// QEMU prepends the kernel path as the first word itself.
	Append string

	// Memory is the guest RAM size in QEMU's syntax ("256M", "1G").
	// Empty means DefaultMemory.
	Memory string

	// SMP is the number of virtual CPUs; 0 means 1.
	SMP int

	// Accel is AccelTCG, AccelKVM or AccelAuto. Empty means $RT0_ACCEL if
	// set, else AccelAuto. AccelAuto picks KVM only when KVMUsable's probe
	// (a real boot of MinimalKernel) passes.
	Accel string

	// CPU is the -cpu model; empty means DefaultCPU ("max": every feature
	// the accelerator supports).
	CPU string

	// NoSerial leaves COM1 out of the machine (as on a PC without a
	// serial port): the guest's console output then goes nowhere.
	NoSerial bool

	// ExtraArgs are appended to the generated QEMU command line.
	ExtraArgs []string

	// Timeout bounds the whole run (0: no bound). When it expires the
	// QEMU process group is killed, Result.TimedOut is set and
	// Result.ExitCode is ExitTimeout.
	Timeout time.Duration

	// ExitGrace is how long QEMU may keep running after the kernel wrote
	// its "rt0: exit N" line before Run kills it (the isa-debug-exit write
	// should stop it at once). 0 means DefaultExitGrace.
	ExitGrace time.Duration

	// Stdin, if not nil, is copied to COM1's receive side. Run does not
	// wait for the copy to end: a Read blocked on a terminal is abandoned
	// when the guest stops.
	Stdin io.Reader

	// Serial receives COM1 output as it arrives, byte for byte.
	Serial io.Writer

	// Debug receives the debugcon (port 0xe9) log as it arrives.
	Debug io.Writer

	// Stderr receives QEMU's own diagnostics as they arrive.
	Stderr io.Writer
}

// Result is the outcome of Run.
type Result struct {
	// ExitCode is the program's exit status 0..255 from the kernel's
	// "rt0: exit N" line, else decoded from QEMU's isa-debug-exit status,
	// else ExitTimeout (timed out) or ExitFailure (no exit status).
	ExitCode int

	Serial []byte // everything written to COM1
	Debug  []byte // everything written to debugcon
	Stderr []byte // QEMU's own stderr

	TimedOut bool          // killed because Config.Timeout expired
	Wall     time.Duration // from QEMU start to QEMU exit

	// ExitLine reports whether Debug carried an "rt0: exit N" line, the
	// authoritative source of ExitCode.
	ExitLine bool
	// QEMUStatus is QEMU's own exit status, -1 if it was killed by a
	// signal.
	QEMUStatus int
	// Reason says, for a run that did not end with an exit line and a
	// matching QEMU status, what happened instead; empty otherwise.
	Reason string
	// Args is the QEMU command line that was run.
	Args []string
	// Accel is the accelerator that was used.
	Accel string
}

// binary returns the QEMU binary to run.
func (c *Config) binary() string {
	if c.QEMU != "" {
		return c.QEMU
	}
	if b := os.Getenv("RT0_QEMU"); b != "" {
		return b
	}
	return DefaultBinary
}

// accel resolves Config.Accel to AccelTCG or AccelKVM. Only AccelAuto
// runs (or reuses) the KVM probe.
func (c *Config) accel() (string, error) {
	a := c.Accel
	if a == "" {
		a = os.Getenv("RT0_ACCEL")
	}
	switch a {
	case "", AccelAuto:
		if KVMUsable(c.binary()) {
			return AccelKVM, nil
		}
		return AccelTCG, nil
	case AccelTCG, AccelKVM:
		return a, nil
	}
	return "", fmt.Errorf("qemu: unknown accelerator %q (want auto, tcg or kvm)", a)
}

// Args returns the full QEMU command line (binary first) for c, resolving
// an automatic accelerator choice (which may run the KVM probe once per
// process). The command line expects the debugcon pipe at descriptor 3,
// COM1 on QEMU's stdin/stdout, as Run arranges.
func (c *Config) Args() ([]string, error) {
	accel, err := c.accel()
	if err != nil {
		return nil, err
	}
	return c.args(accel)
}

// args builds the command line for a resolved accelerator.
//
// Devices: -nodefaults removes everything QEMU would add on its own (VGA,
// NIC, default serial/parallel/monitor, floppy, CD-ROM), then:
//
//	COM1          isa-serial at 0x3f8/IRQ4  <- chardev stdio (QEMU's fd 0/1)
//	debugcon      isa-debugcon at 0xe9      -> chardev file /dev/fd/3
//	debug-exit    isa-debug-exit at 0xf4, 4 bytes
func (c *Config) args(accel string) ([]string, error) {
	if c.Kernel == "" && c.BootISO == "" {
		return nil, errors.New("qemu: no kernel image given")
	}
	mem := c.Memory
	if mem == "" {
		mem = DefaultMemory
	}
	smp := c.SMP
	if smp == 0 {
		smp = 1
	}
	if smp < 0 {
		return nil, fmt.Errorf("qemu: bad SMP count %d", smp)
	}
	cpu := c.CPU
	if cpu == "" {
		cpu = DefaultCPU
	}
	args := []string{
		c.binary(),
		"-nodefaults",
		"-no-reboot",
		"-display", "none",
		"-accel", accel,
		"-cpu", cpu,
		"-m", mem,
		"-smp", strconv.Itoa(smp),
	}
	if c.BootISO != "" {
		args = append(args, "-cdrom", c.BootISO, "-boot", "d")
	} else {
		args = append(args, "-kernel", c.Kernel)
		if c.Append != "" {
			args = append(args, "-append", c.Append)
		}
	}
	if !c.NoSerial {
		args = append(args,
			// signal=off: a ^C byte from stdin is data for the guest, not a
			// request for QEMU to quit.
			"-chardev", "stdio,id=com1,signal=off",
			"-device", "isa-serial,chardev=com1,iobase=0x3f8,irq=4",
		)
	}
	args = append(args,
		"-chardev", "file,id=debugcon,path=/dev/fd/"+strconv.Itoa(debugconFD),
		"-device", "isa-debugcon,iobase=0xe9,chardev=debugcon",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
	)
	args = append(args, c.ExtraArgs...)
	return args, nil
}

// Run boots c.Kernel in QEMU and waits for it to stop, time out or for ctx
// to be done (then QEMU is killed and ctx.Err() returned with the partial
// Result). The error is non-nil only when QEMU could not be run or was
// canceled; everything about the guest (including QEMU refusing the image)
// is in the Result.
func Run(ctx context.Context, c Config) (*Result, error) {
	accel, err := c.accel()
	if err != nil {
		return nil, err
	}
	dir, kernel, cleanup := "", "", func() {}
	if c.BootISO == "" {
		dir, kernel, cleanup, err = kernelArg(c.Kernel)
		if err != nil {
			return nil, err
		}
	}
	defer cleanup()
	cc := c
	cc.Kernel = kernel
	args, err := cc.args(accel)
	if err != nil {
		return nil, err
	}
	res := &Result{Args: args, Accel: accel, QEMUStatus: -1}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // own group: killed as a whole, never touches the terminal
		Pdeathsig: syscall.SIGKILL, // do not outlive rt0
	}

	var serial, stderr bytes.Buffer
	cmd.Stdout = io.MultiWriter(&serial, sink(c.Serial))
	cmd.Stderr = io.MultiWriter(&stderr, sink(c.Stderr))

	var stdinW *os.File
	if c.Stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		cmd.Stdin = r
		stdinW = w
	}

	dbgR, dbgW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = []*os.File{dbgW}

	exitSeen := make(chan struct{})
	watch := &exitWatcher{seen: exitSeen}
	var debug bytes.Buffer
	dbgDone := make(chan struct{})

	start := time.Now()
	if err := cmd.Start(); err != nil {
		dbgR.Close()
		dbgW.Close()
		if stdinW != nil {
			stdinW.Close()
		}
		return nil, fmt.Errorf("qemu: %w", err)
	}
	dbgW.Close()
	if r, ok := cmd.Stdin.(*os.File); ok {
		r.Close()
	}
	go func() {
		defer close(dbgDone)
		io.Copy(io.MultiWriter(&debug, sink(c.Debug), watch), dbgR)
		dbgR.Close()
	}()
	if stdinW != nil {
		go func() {
			io.Copy(stdinW, c.Stdin)
			stdinW.Close()
		}()
	}

	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()

	kill := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var timeoutC <-chan time.Time
	if c.Timeout > 0 {
		t := time.NewTimer(c.Timeout)
		defer t.Stop()
		timeoutC = t.C
	}
	grace := c.ExitGrace
	if grace <= 0 {
		grace = DefaultExitGrace
	}
	var graceC <-chan time.Time
	var ctxErr error
	killedAfterExitLine := false
	seen := exitSeen
wait:
	for {
		select {
		case <-waitDone:
			break wait
		case <-timeoutC:
			timeoutC = nil
			res.TimedOut = true
			kill()
		case <-ctx.Done():
			ctxErr = ctx.Err()
			kill()
		case <-seen:
			seen = nil
			t := time.NewTimer(grace)
			defer t.Stop()
			graceC = t.C
		case <-graceC:
			graceC = nil
			killedAfterExitLine = true
			kill()
		}
	}
	res.Wall = time.Since(start)
	<-dbgDone
	if stdinW != nil {
		stdinW.Close()
	}

	res.Serial = serial.Bytes()
	res.Debug = debug.Bytes()
	res.Stderr = stderr.Bytes()
	if ps := cmd.ProcessState; ps != nil {
		res.QEMUStatus = ps.ExitCode()
	}
	timedOut := res.TimedOut
	res.ExitCode, res.ExitLine, res.Reason = MapExit(res.Debug, res.QEMUStatus, timedOut || ctxErr != nil)
	if res.ExitLine {
		// The program finished: a timeout that hit while QEMU lingered
		// after the exit line is not the program's timeout.
		res.TimedOut = false
		if killedAfterExitLine || timedOut {
			res.Reason = "QEMU did not stop after the exit line (isa-debug-exit missing?); killed"
		}
	} else if timedOut {
		res.Reason = fmt.Sprintf("timed out after %v", c.Timeout)
	} else if ctxErr != nil {
		res.Reason = ctxErr.Error()
	}
	if s := strings.TrimSpace(string(res.Stderr)); s != "" && res.Reason != "" && !res.ExitLine && !res.TimedOut && ctxErr == nil {
		res.Reason += "; QEMU said: " + s
	}
	return res, ctxErr
}

// exitWatcher closes seen once a complete "rt0: exit N" line went by.
type exitWatcher struct {
	line []byte
	seen chan struct{}
	done bool
}

func (w *exitWatcher) Write(p []byte) (int, error) {
	if w.done {
		return len(p), nil
	}
	for _, b := range p {
		if b != '\n' {
			if len(w.line) < 64 {
				w.line = append(w.line, b)
			}
			continue
		}
		if _, ok := parseExitLine(string(w.line)); ok {
			w.done = true
			close(w.seen)
			return len(p), nil
		}
		w.line = w.line[:0]
	}
	return len(p), nil
}

// ExitLine returns N from the last "rt0: exit N" line (N in 0..255) of a
// debugcon log. A final line without a newline counts: QEMU has stopped.
func ExitLine(debug []byte) (int, bool) {
	lines := strings.Split(string(debug), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if n, ok := parseExitLine(lines[i]); ok {
			return n, true
		}
	}
	return 0, false
}

func parseExitLine(line string) (int, bool) {
	line = strings.TrimSuffix(line, "\r")
	rest, ok := strings.CutPrefix(line, "rt0: exit ")
	if !ok || rest == "" || len(rest) > 3 {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || n > 255 || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

// MapExit turns what a run left behind into the program's exit status:
//
//   - an "rt0: exit N" line on debugcon: N (authoritative);
//   - else, if the run was cut short (timeout or cancel): ExitTimeout;
//   - else QEMU status 0: the machine reset (triple fault with -no-reboot)
//     or stopped without an exit status: ExitFailure;
//   - else an odd QEMU status s > 1, which isa-debug-exit produced from
//     (N<<1)|1: N = s>>1 (only 0..127 can be told apart this way);
//   - else (QEMU error status 1, killed by a signal, other): ExitFailure.
//
// reason explains every case but the first.
func MapExit(debug []byte, qemuStatus int, cutShort bool) (code int, exitLine bool, reason string) {
	if n, ok := ExitLine(debug); ok {
		if !cutShort && qemuStatus >= 0 && qemuStatus != (n<<1|1)&0xff {
			return n, true, fmt.Sprintf("QEMU exit status %d does not match the exit line", qemuStatus)
		}
		return n, true, ""
	}
	switch {
	case cutShort:
		return ExitTimeout, false, "killed before the kernel reported an exit status"
	case qemuStatus == 0:
		return ExitFailure, false, "machine reset/stopped without an exit status"
	case qemuStatus > 1 && qemuStatus&1 == 1:
		return qemuStatus >> 1, false, ""
	case qemuStatus == 1:
		return ExitFailure, false, "QEMU failed (exit status 1) without an exit line"
	case qemuStatus < 0:
		return ExitFailure, false, "QEMU was killed by a signal"
	}
	return ExitFailure, false, fmt.Sprintf("QEMU exited with status %d without an exit line", qemuStatus)
}

// kernelArg returns how to name the kernel on QEMU's command line. QEMU
// passes "<kernel path> <append>" to a multiboot kernel, unquoted, so a
// path with a space, tab, newline, quote or backslash would be split
// differently by the kernel; such a path is replaced by a plain name in the
// directory QEMU runs in (dir; "" means no change).
func kernelArg(path string) (dir, kernel string, cleanup func(), err error) {
	cleanup = func() {}
	if _, err := os.Stat(path); err != nil {
		return "", "", cleanup, fmt.Errorf("qemu: kernel image: %w", err)
	}
	if !needsQuote(path) {
		return "", path, cleanup, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", cleanup, err
	}
	if base := filepath.Base(abs); !needsQuote(base) {
		return filepath.Dir(abs), base, cleanup, nil
	}
	tmp, err := os.MkdirTemp("", "rt0-kernel-")
	if err != nil {
		return "", "", cleanup, err
	}
	if err := os.Symlink(abs, filepath.Join(tmp, "kernel")); err != nil {
		os.RemoveAll(tmp)
		return "", "", cleanup, err
	}
	return tmp, "kernel", func() { os.RemoveAll(tmp) }, nil
}

func needsQuote(s string) bool { return strings.ContainsAny(s, " \t\n\"\\") }

// sink wraps a caller's writer so that its failure (say, a closed stdout)
// never stops Run from draining QEMU's output: the first error disables it.
func sink(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &quietWriter{w: w}
}

type quietWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (q *quietWriter) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err == nil {
		_, q.err = q.w.Write(p)
	}
	return len(p), nil
}

// ShellQuote renders a command line for a POSIX shell (for -v output and
// reproducing a run by hand).
func ShellQuote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+@%") == "" {
			b.WriteString(a)
			continue
		}
		b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}
