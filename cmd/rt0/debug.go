package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"rt0/host/build"
	"rt0/host/qemu"
	"rt0/host/shell"
	"rt0/host/study/bin"
	"rt0/host/study/debug"
)

const debugUsage = `usage: rt0 debug [-batch] [-timeout d] [-image elf] [debug flags] [build flags] <package | files.go...>

Debug builds the program like rt0 build, starts QEMU (TCG) paused at the
reset vector with its gdbstub on a Unix socket, and runs GDB on the image (the
image is its own symbol file) with a breakpoint at each startup milestone:
rt0's 32-bit stub, entry64, _rt0_amd64_linux, rt0_go, the _cgo_init hook,
runtime.args, osinit, schedinit, newproc, runqput, mstart, schedule, execute,
gogo, runtime.main and main.main. Each stop prints what the machine holds
there: registers read under the register ABI (R14 = g, AX = the first
argument), the FS base, g0's stack bounds, m0.tls[0], the goroutine and gobuf
being switched to.

Interactive by default: GDB stops at each milestone; type c for the next.
With -batch the whole sequence runs without stopping and is printed, and the
program then runs to its end; rt0 debug exits with the program's status.
QEMU and GDB are both killed when GDB exits or -timeout expires.

Flags:
`

func runDebug(args []string, sio stdio) int {
	fs := flag.NewFlagSet("rt0 debug", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var bf build.Flags
	bf.Register(fs, false)
	batch := fs.Bool("batch", false, "run through every milestone without stopping and print the sequence")
	timeout := fs.Duration("timeout", 0, "kill QEMU and GDB after `duration` (0: 2m with -batch, else never)")
	image := fs.String("image", "", "debug this already built rt0 image (`elf`) instead of building")
	gdbPath := fs.String("gdb", "gdb", "the GDB `command`")
	script := fs.String("script", "", "also write the generated GDB script to `file`")
	memory := fs.String("m", qemu.DefaultMemory, "guest memory `size` (QEMU -m syntax)")
	var qemuArgs stringsFlag
	fs.Var(&qemuArgs, "qemu-arg", "extra QEMU command-line `argument`; repeatable")
	if code, ok := parseCommand(fs, debugUsage, args); !ok {
		return code
	}
	if (*image == "") == (fs.NArg() == 0) {
		if *image == "" {
			fmt.Fprintln(sio.err, "rt0 debug: no package or .go files named")
		} else {
			fmt.Fprintln(sio.err, "rt0 debug: -image and a package are exclusive")
		}
		fs.Usage()
		return 2
	}
	if *timeout == 0 && *batch {
		*timeout = 2 * time.Minute
	}
	gdb, err := exec.LookPath(*gdbPath)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 debug: %v (install it: apt-get install gdb)\n", err)
		return 1
	}

	tmp, cleanup, err := build.WorkDir(sio.err, "rt0-debug-", bf.Work)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 debug: %v\n", err)
		return 1
	}
	defer cleanup()
	b, err := build.New(sio.err, bf.Verbose)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 debug: %v\n", err)
		return 1
	}
	elfPath := *image
	if elfPath == "" {
		elfPath, err = b.BuildImage(fs.Args(), &bf, tmp+string(os.PathSeparator))
		if err != nil {
			fmt.Fprintf(sio.err, "rt0 debug: %v\n", err)
			return 1
		}
	}
	if elfPath, err = filepath.Abs(elfPath); err != nil {
		fmt.Fprintf(sio.err, "rt0 debug: %v\n", err)
		return 1
	}
	bin, err := bin.Open(elfPath)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 debug: %v\n", err)
		return 1
	}
	ms, err := debug.Milestones(bin)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 debug: %v\n", err)
		return 1
	}
	// The gdbstub's Unix socket (a path of at most 107 bytes).
	sock := filepath.Join(tmp, "gdb.sock")
	if len(sock) > 100 {
		sdir, err := os.MkdirTemp("/tmp", "rt0-gdb-")
		if err != nil {
			fmt.Fprintf(sio.err, "rt0 debug: %v\n", err)
			return 1
		}
		defer os.RemoveAll(sdir)
		sock = filepath.Join(sdir, "gdb.sock")
	}
	opts := debug.Options{Target: sock, Batch: *batch}
	if rg := runtimeGDB(b); rg != "" {
		opts.RuntimeGDB = rg
	}
	text := debug.Script(ms, opts)
	scriptFile := filepath.Join(tmp, "rt0.gdb")
	if err := os.WriteFile(scriptFile, []byte(text), 0o644); err != nil {
		fmt.Fprintf(sio.err, "rt0 debug: %v\n", err)
		return 1
	}
	if *script != "" {
		if err := build.WriteFileAtomic(*script, []byte(text)); err != nil {
			fmt.Fprintf(sio.err, "rt0 debug: %v\n", err)
			return 1
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if *timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	// ^C belongs to GDB (it interrupts the guest); rt0 ignores it while GDB
	// runs. SIGTERM ends the session.
	// (Notify, not Ignore: an ignored signal would stay ignored in GDB.)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGTERM {
					cancel()
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()

	// GDB and QEMU's COM1 both write to the output.
	out := &debugWriter{w: sio.out}

	// QEMU, paused (-S), its gdbstub on a Unix socket in tmp. TCG: the
	// gdbstub's breakpoints are emulated there.
	qctx, qcancel := context.WithCancel(ctx)
	defer qcancel()
	cfg := qemu.Config{
		Kernel: elfPath,
		Memory: *memory,
		Accel:  qemu.AccelTCG,
		ExtraArgs: append([]string{"-S",
			"-chardev", "socket,id=rt0gdb,path=" + sock + ",server=on,wait=off",
			"-gdb", "chardev:rt0gdb"}, qemuArgs...),
		Serial: out,
	}
	if bf.Verbose {
		cfg.Debug = sio.err
		cfg.Stderr = sio.err
		if a, err := cfg.Args(); err == nil {
			b.Logf("%s", shell.Quote(a))
		}
	}
	type qemuDone struct {
		res *qemu.Result
		err error
	}
	qdone := make(chan qemuDone, 1)
	go func() {
		res, err := qemu.Run(qctx, cfg)
		qdone <- qemuDone{res, err}
	}()
	var qres *qemuDone
	for deadline := time.Now().Add(15 * time.Second); ; {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		select {
		case d := <-qdone:
			qres = &d
		case <-time.After(20 * time.Millisecond):
		}
		if qres != nil || time.Now().After(deadline) || ctx.Err() != nil {
			msg := "QEMU did not open its gdbstub socket"
			if qres != nil && qres.err != nil {
				msg = qres.err.Error()
			} else if qres != nil {
				msg = "QEMU exited: " + strings.TrimSpace(string(qres.res.Stderr))
			}
			fmt.Fprintf(sio.err, "rt0 debug: %s\n", msg)
			return 1
		}
	}

	gargs := []string{"-q", "-nx", "-iex", "set auto-load python-scripts off"}
	if *batch {
		gargs = append(gargs, "-batch")
	}
	gargs = append(gargs, "-x", scriptFile, elfPath)
	b.Logf("%s", shell.Quote(append([]string{gdb}, gargs...)))
	cmd := exec.CommandContext(ctx, gdb, gargs...)
	cmd.Stdout = out
	cmd.Stderr = sio.err
	if *batch {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	} else {
		cmd.Stdin = sio.in // the terminal: GDB is interactive
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	gerr := cmd.Run()

	// GDB is done. In batch mode the program was let run to its end: give
	// QEMU a moment to finish on its own, then stop it.
	if *batch && ctx.Err() == nil {
		select {
		case d := <-qdone:
			qres = &d
		case <-time.After(5 * time.Second):
		}
	}
	if qres == nil {
		qcancel()
		d := <-qdone
		qres = &d
	}
	if ctx.Err() == context.DeadlineExceeded {
		fmt.Fprintf(sio.err, "rt0 debug: timed out after %v: QEMU and GDB killed\n", *timeout)
		return qemu.ExitTimeout
	}
	if gerr != nil && !*batch {
		var ee *exec.ExitError
		if !errors.As(gerr, &ee) {
			fmt.Fprintf(sio.err, "rt0 debug: gdb: %v\n", gerr)
			return 1
		}
	}
	if *batch {
		if qres.res != nil && qres.res.ExitLine {
			return qres.res.ExitCode
		}
		fmt.Fprintln(sio.err, "rt0 debug: the program did not run to its end")
		if qres.res != nil && len(qres.res.Debug) > 0 {
			fmt.Fprintf(sio.err, "rt0: kernel log (debugcon):\n%s", qres.res.Debug)
		}
		return 1
	}
	return 0
}

// debugWriter serializes the writes of GDB's and QEMU's output copiers.
type debugWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (d *debugWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w.Write(p)
}

// runtimeGDB returns the path of the runtime's GDB helper, or "".
func runtimeGDB(b *build.Builder) string {
	cmd := exec.Command(b.Go, "env", "GOROOT")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "src", "runtime", "runtime-gdb.py")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
