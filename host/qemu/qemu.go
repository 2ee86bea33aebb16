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
	"runtime"
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

// MaxSMP is the most CPUs rt0's kernel starts (guest/arch/amd64.MaxCPUs).
const MaxSMP = 64

// DefaultSMP is rt0 run's and rt0 test's -smp: the host's CPUs (what this
// process may run on), as go test takes GOMAXPROCS from the machine, at
// most MaxSMP. With TCG each vCPU is a host thread (thread=multi).
func DefaultSMP() int { return min(runtime.NumCPU(), MaxSMP) }

// Debian's OVMF (package ovmf, which make deps installs): the UEFI
// firmware code image and its variable store template, for
// Config.Firmware and Config.FirmwareVars.
const (
	OVMFCode = "/usr/share/OVMF/OVMF_CODE.fd"
	OVMFVars = "/usr/share/OVMF/OVMF_VARS.fd"
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

	// BootUSB, instead of Kernel or BootISO, boots the firmware from this
	// raw disk image plugged in as a USB stick (usb-storage, first in the
	// boot order) on a USBController; Append is then unused. The guest's
	// writes go to a temporary overlay, never to the file.
	BootUSB string

	// USBController is the QEMU device BootUSB's stick hangs off:
	// "qemu-xhci" (USB 3, the default), "usb-ehci" (USB 2), ...
	USBController string

	// Machine is the -machine type ("pc", "q35"); empty leaves QEMU's
	// default (pc).
	Machine string

	// Firmware, if set, replaces the default BIOS (SeaBIOS) with a UEFI
	// firmware code image such as OVMF's OVMF_CODE.fd, as the read-only
	// first flash device. FirmwareVars must then name its variable store
	// template (OVMF_VARS.fd): Run hands QEMU a fresh copy of it as the
	// writable second flash device, so every boot starts from the same
	// variables and the template is never written.
	Firmware     string
	FirmwareVars string

	// Append is the kernel command line, passed verbatim to -append.
	// QEMU prepends the kernel path as the first word itself.
	Append string

	// Initrd are files loaded as multiboot modules, in order (QEMU's
	// -initrd "a,b"); rt0's kernel takes the first as its root file system
	// (a newc cpio archive). Unused with BootISO. Run hands QEMU a plain
	// name for a path that QEMU would split (at a space or a comma).
	Initrd []string

	// Memory is the guest RAM size in QEMU's syntax ("256M", "1G").
	// Empty means DefaultMemory.
	Memory string

	// SMP is the number of virtual CPUs; 0 means 1. (rt0 run and rt0
	// test default to DefaultSMP.)
	SMP int

	// Accel is AccelTCG, AccelKVM or AccelAuto. Empty means $RT0_ACCEL if
	// set, else AccelAuto. AccelAuto picks KVM only when the KVM verdict
	// (a real rt0 kernel's boot, cached: accel.go) says it works, and
	// falls back to TCG if KVM fails during the run.
	Accel string

	// CPU is the -cpu model; empty means DefaultCPU ("max": every feature
	// the accelerator supports).
	CPU string

	// NoExitDevice leaves isa-debug-exit out: the guest must stop the
	// machine itself (rt0 powers off through ACPI), as on a real PC.
	NoExitDevice bool

	// NoSerial leaves COM1 out of the machine (as on a PC without a
	// serial port): the guest's console output then goes nowhere.
	NoSerial bool

	// Net are network cards, each in QEMU's -nic syntax (nic.go: NICArgs
	// checks the model and adds the default one).
	Net []string

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

	// Stdin, if not nil, is copied to COM1's receive side, followed by
	// EOT (^D) when it ends: the kernel's end of input. Nil means no input
	// (the guest reads EOF at once). Run does not
	// wait for the copy to end: a Read blocked on a terminal is abandoned
	// when the guest stops.
	Stdin io.Reader

	// Serial receives COM1 output as it arrives, byte for byte.
	Serial io.Writer

	// Debug receives the debugcon (port 0xe9) log as it arrives.
	Debug io.Writer

	// Stderr receives QEMU's own diagnostics as they arrive.
	Stderr io.Writer

	// Notice receives Run's own one-line notices (a fall back from KVM to
	// TCG). Nil means os.Stderr.
	Notice io.Writer
}

// EOT is the byte that ends the guest's standard input (^D).
const EOT = 0x04

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
	// Accel is the accelerator that was used, and AccelWhy what chose it.
	Accel, AccelWhy string
	// KVMError is the failure QEMU reported for KVM ("KVM internal error.
	// Suberror: 1: emulation failure"), when it did; QEMU was then killed.
	KVMError string
	// Fallback, when set, says why this Result is of a second boot under
	// TCG: KVM, chosen automatically, failed in the first.
	Fallback string
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

// Args returns the full QEMU command line (binary first) for c, resolving
// an automatic accelerator choice (which may run the KVM probe once per
// process). The command line expects the debugcon pipe at descriptor 3,
// COM1 on QEMU's stdin/stdout, as Run arranges.
func (c *Config) Args() ([]string, error) {
	ch, err := c.Accelerator()
	if err != nil {
		return nil, err
	}
	return c.args(ch.Accel)
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
	if c.Kernel == "" && c.BootISO == "" && c.BootUSB == "" {
		return nil, errors.New("qemu: no kernel image given")
	}
	if (c.Firmware == "") != (c.FirmwareVars == "") {
		return nil, errors.New("qemu: Firmware and FirmwareVars go together")
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
	if accel == AccelTCG && smp > 1 {
		// One host thread per vCPU, so that -smp 2 uses two host cores
		// (QEMU may default to it; rt0 says so rather than rely on it).
		accel += ",thread=multi"
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
	if c.Machine != "" {
		args = append(args, "-machine", c.Machine)
	}
	if c.Firmware != "" {
		args = append(args,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+optValue(c.Firmware),
			"-drive", "if=pflash,format=raw,unit=1,file="+optValue(c.FirmwareVars),
		)
	}
	if c.BootISO != "" {
		args = append(args, "-cdrom", c.BootISO, "-boot", "d")
	} else if c.BootUSB != "" {
		hc := c.USBController
		if hc == "" {
			hc = "qemu-xhci"
		}
		args = append(args,
			"-drive", "if=none,id=usbstick,format=raw,snapshot=on,file="+optValue(c.BootUSB),
			"-device", hc+",id=usbhc",
			"-device", "usb-storage,bus=usbhc.0,drive=usbstick,bootindex=0",
		)
	} else {
		args = append(args, "-kernel", c.Kernel)
		if c.Append != "" {
			args = append(args, "-append", c.Append)
		}
		if len(c.Initrd) > 0 {
			mods := make([]string, len(c.Initrd))
			for i, m := range c.Initrd {
				if m == "" {
					return nil, fmt.Errorf("qemu: empty initrd path (module %d)", i)
				}
				// QEMU splits the list at commas (",," is a literal one)
				// and each module at its first space (the rest is the
				// module's command line).
				mods[i] = strings.ReplaceAll(m, ",", ",,")
			}
			args = append(args, "-initrd", strings.Join(mods, ","))
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
	)
	if !c.NoExitDevice {
		args = append(args, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
	}
	for _, n := range c.Net {
		a, err := NICArgs(n)
		if err != nil {
			return nil, fmt.Errorf("qemu: %w", err)
		}
		args = append(args, a...)
	}
	args = append(args, c.ExtraArgs...)
	return args, nil
}

// Run boots c.Kernel in QEMU and waits for it to stop, time out or for ctx
// to be done (then QEMU is killed and ctx.Err() returned with the partial
// Result). The error is non-nil only when QEMU could not be run or was
// canceled; everything about the guest (including QEMU refusing the image)
// is in the Result.
//
// Under KVM, QEMU's stderr is watched for KVM's failure messages; QEMU is
// then killed within a fraction of a second (it would otherwise wait with
// the VM stopped). If KVM was chosen automatically, the failure is
// recorded in the KVM verdict, one line on c.Notice says so, and the same
// machine boots again under TCG: its input is replayed, and output the
// first boot already delivered to c.Serial and c.Debug is not delivered
// twice. An explicit KVM ends with ExitFailure and QEMU's message.
func Run(ctx context.Context, c Config) (*Result, error) {
	ch, err := c.Accelerator()
	if err != nil {
		return nil, err
	}
	if ch.Accel != AccelKVM {
		return runOnce(ctx, c, ch)
	}
	var input *inputTap
	first := c
	if ch.Auto {
		input = newInputTap(c.Stdin)
		first.Stdin = input.reader()
	}
	res, err := runOnce(ctx, first, ch)
	if err != nil || res.KVMError == "" {
		return res, err
	}
	if !ch.Auto {
		res.ExitCode, res.ExitLine, res.TimedOut = ExitFailure, false, false
		res.Reason = "KVM failed: " + res.KVMError
		return res, nil
	}
	recordKVMFailure(ch.key, "a run failed under KVM: "+res.KVMError)
	notice := c.Notice
	if notice == nil {
		notice = os.Stderr
	}
	fmt.Fprintf(notice, "rt0: KVM cannot run this machine here (%s); booting it again under TCG\n", res.KVMError)
	again := c
	again.Stdin = input.reader()
	again.Serial = &skipShown{w: sink(c.Serial), shown: res.Serial}
	again.Debug = &skipShown{w: sink(c.Debug), shown: res.Debug}
	tcg := Choice{Accel: AccelTCG, Why: "KVM failed in this run (" + res.KVMError + "); fell back to TCG"}
	res2, err := runOnce(ctx, again, tcg)
	if res2 != nil {
		res2.Fallback = res.KVMError
	}
	return res2, err
}

// runOnce is one boot of c under the accelerator ch.
func runOnce(ctx context.Context, c Config, ch Choice) (*Result, error) {
	accel := ch.Accel
	var err error
	dir, kernel, cleanup := "", "", func() {}
	if c.BootISO == "" && c.BootUSB == "" {
		dir, kernel, cleanup, err = kernelArg(c.Kernel)
		if err != nil {
			return nil, err
		}
	}
	defer cleanup()
	cc := c
	cc.Kernel = kernel
	if c.Firmware != "" {
		code, vars, fcleanup, err := firmwareArgs(c.Firmware, c.FirmwareVars)
		if err != nil {
			return nil, err
		}
		defer fcleanup()
		cc.Firmware, cc.FirmwareVars = code, vars
	}
	if c.BootISO == "" && len(c.Initrd) > 0 {
		mods, mcleanup, err := initrdArgs(c.Initrd)
		if err != nil {
			return nil, err
		}
		defer mcleanup()
		cc.Initrd = mods
	}
	args, err := cc.args(accel)
	if err != nil {
		return nil, err
	}
	res := &Result{Args: args, Accel: accel, AccelWhy: ch.Why, QEMUStatus: -1}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // own group: killed as a whole, never touches the terminal
		Pdeathsig: syscall.SIGKILL, // do not outlive rt0
	}

	var serial, stderr bytes.Buffer
	kvm := newKVMWatcher()
	cmd.Stdout = io.MultiWriter(&serial, sink(c.Serial))
	cmd.Stderr = io.MultiWriter(&stderr, sink(c.Stderr), kvm)
	var kvmFailed <-chan struct{}
	if accel == AccelKVM {
		kvmFailed = kvm.failed
	}

	// The guest's standard input is always a pipe that ends with ^D (EOT):
	// rt0's kernel takes ^D as end of input, as a terminal does, so a
	// program reading stdin sees EOF when the host's input ends (at once
	// when there is none) instead of waiting forever.
	stdin := c.Stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdinW *os.File
	if !c.NoSerial {
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
	inputReady := make(chan struct{})
	readyWatch := &lineWatcher{want: InputReadyLine, seen: inputReady}
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
		io.Copy(io.MultiWriter(&debug, sink(c.Debug), watch, readyWatch), dbgR)
		dbgR.Close()
	}()
	if stdinW != nil {
		go func() {
			// The kernel resets the UART while it sets it up: input sent
			// before it says it is listening could be lost.
			select {
			case <-inputReady:
			case <-dbgDone:
			}
			io.Copy(stdinW, stdin)
			stdinW.Write([]byte{EOT})
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
	var graceC, kvmKillC <-chan time.Time
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
		case <-kvmFailed:
			// QEMU stops the VM and waits; let it finish printing its
			// register dump (for Result.Stderr), then kill it.
			kvmFailed = nil
			t := time.NewTimer(kvmDumpWait)
			defer t.Stop()
			kvmKillC = t.C
		case <-kvmKillC:
			kvmKillC = nil
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
	if accel == AccelKVM {
		res.KVMError = kvm.message()
	}
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

// kvmDumpWait is how long a QEMU that reported a KVM failure may go on
// printing (its register dump) before it is killed.
const kvmDumpWait = 300 * time.Millisecond

// skipShown passes on to w what a second boot writes, except the part the
// first boot already wrote (shown): while the new output repeats shown
// byte for byte it is dropped; from the first byte that differs, or past
// the end of shown, everything goes through.
type skipShown struct {
	w     io.Writer
	shown []byte
	off   int
	gone  bool // diverged from shown: pass everything
}

func (s *skipShown) Write(p []byte) (int, error) {
	n := len(p)
	if !s.gone {
		i := 0
		for i < len(p) && s.off < len(s.shown) && p[i] == s.shown[s.off] {
			i++
			s.off++
		}
		if i < len(p) {
			s.gone = true
		}
		p = p[i:]
	}
	if len(p) > 0 {
		s.w.Write(p)
	}
	return n, nil
}

// inputTap reads a source once and lets several readers read it from the
// start, each at its own pace: the first boot under KVM and, if that one
// fails, the boot under TCG, which must see the same input. It keeps what
// it read.
type inputTap struct {
	mu   sync.Mutex
	cond *sync.Cond
	src  io.Reader
	buf  []byte
	err  error // set when src ended (io.EOF) or failed
	busy bool  // a Read of src is under way
}

func newInputTap(src io.Reader) *inputTap {
	t := &inputTap{src: src}
	t.cond = sync.NewCond(&t.mu)
	if src == nil {
		t.err = io.EOF
	}
	return t
}

func (t *inputTap) reader() io.Reader { return &tapReader{t: t} }

type tapReader struct {
	t   *inputTap
	off int
}

// Read returns bytes past r's offset, reading the source for them (one
// reader at a time; the others wait for what it brings).
func (r *tapReader) Read(p []byte) (int, error) {
	t := r.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for r.off >= len(t.buf) && t.err == nil {
		if t.busy {
			t.cond.Wait()
			continue
		}
		t.busy = true
		t.mu.Unlock()
		chunk := make([]byte, 32<<10)
		n, err := t.src.Read(chunk)
		t.mu.Lock()
		t.busy = false
		t.buf = append(t.buf, chunk[:n]...)
		if err != nil {
			t.err = err
		}
		t.cond.Broadcast()
	}
	if r.off < len(t.buf) {
		n := copy(p, t.buf[r.off:])
		r.off += n
		return n, nil
	}
	return 0, t.err
}

// exitWatcher closes seen once a complete "rt0: exit N" line went by.
// InputReadyLine is what the kernel logs on debugcon once COM1 input is
// on: Run sends the guest its standard input only after it.
const InputReadyLine = "rt0: input ready"

// lineWatcher closes seen when a debugcon line equal to want goes by.
type lineWatcher struct {
	want string
	line []byte
	seen chan struct{}
	done bool
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	for _, b := range p {
		if w.done {
			break
		}
		if b != '\n' {
			if len(w.line) < 128 {
				w.line = append(w.line, b)
			}
			continue
		}
		if string(w.line) == w.want {
			w.done = true
			close(w.seen)
		}
		w.line = w.line[:0]
	}
	return len(p), nil
}

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

// initrdArgs returns how to name the multiboot modules on QEMU's command
// line: absolute paths (QEMU may run in another directory, see kernelArg),
// and a symbolic link with a plain name for a path holding a space (QEMU
// would take the rest as the module's command line), a comma or a
// character the kernel's command-line split would treat specially.
func initrdArgs(paths []string) (mods []string, cleanup func(), err error) {
	cleanup = func() {}
	tmp := ""
	for i, p := range paths {
		if _, err := os.Stat(p); err != nil {
			cleanup()
			return nil, func() {}, fmt.Errorf("qemu: initrd: %w", err)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			cleanup()
			return nil, func() {}, err
		}
		if needsQuote(abs) || strings.Contains(abs, ",") {
			if tmp == "" {
				if tmp, err = os.MkdirTemp("", "rt0-initrd-"); err != nil {
					return nil, func() {}, err
				}
				dir := tmp
				cleanup = func() { os.RemoveAll(dir) }
			}
			link := filepath.Join(tmp, "module"+strconv.Itoa(i))
			if err := os.Symlink(abs, link); err != nil {
				cleanup()
				return nil, func() {}, err
			}
			abs = link
		}
		mods = append(mods, abs)
	}
	return mods, cleanup, nil
}

// firmwareArgs returns the absolute path of the firmware code image and a
// fresh copy of the variable store template (removed by cleanup).
func firmwareArgs(code, varsTemplate string) (codeAbs, vars string, cleanup func(), err error) {
	cleanup = func() {}
	if _, err := os.Stat(code); err != nil {
		return "", "", cleanup, fmt.Errorf("qemu: firmware: %w", err)
	}
	if codeAbs, err = filepath.Abs(code); err != nil {
		return "", "", cleanup, err
	}
	data, err := os.ReadFile(varsTemplate)
	if err != nil {
		return "", "", cleanup, fmt.Errorf("qemu: firmware variables: %w", err)
	}
	tmp, err := os.MkdirTemp("", "rt0-fwvars-")
	if err != nil {
		return "", "", cleanup, err
	}
	vars = filepath.Join(tmp, "vars.fd")
	if err := os.WriteFile(vars, data, 0o600); err != nil {
		os.RemoveAll(tmp)
		return "", "", cleanup, err
	}
	return codeAbs, vars, func() { os.RemoveAll(tmp) }, nil
}

// optValue escapes a value for QEMU's key=value option syntax (a comma is
// written twice).
func optValue(s string) string { return strings.ReplaceAll(s, ",", ",,") }

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
