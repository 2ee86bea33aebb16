package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"rt0/guest/kernel/cmdline"
	"rt0/host/build"
	"rt0/host/qemu"
	"rt0/host/shell"
)

const runUsage = `usage: rt0 run [run flags] [build flags] <package | files.go...> [arguments...]

Run builds the program like rt0 build (into a temporary directory), boots it
in QEMU and exits with its exit status. If the targets are .go files, every
leading argument ending in .go is a file and the rest are the program's
arguments. The program's output is this command's standard output, byte for
byte; standard input is forwarded to it. Kernel messages are shown live with
-v, else only when the kernel panicked or the machine stopped without an exit
status (exit 125). A run that times out exits 124.

The kernel command line is: the -env words, the -append words, then -- and
the program's arguments, each quoted so that the kernel reads it back
unchanged.

With -files DIR the program can open files: DIR, with everything below it,
is packed into a cpio archive at DIR's absolute path, loaded as a multiboot
module, and served by the kernel from memory (writable; nothing is written
back); the program starts in DIR (kernel option rt0.cwd=DIR). /tmp always
exists.

Flags:
`

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, " ") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// runFlags are rt0 run's own flags.
type runFlags struct {
	memory   string
	smp      int
	timeout  time.Duration
	accel    string
	appendTo string
	env      stringsFlag
	qemuArgs stringsFlag
	net      stringsFlag
	files    stringsFlag
}

func runRun(args []string, sio stdio) int {
	fs := flag.NewFlagSet("rt0 run", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var rf runFlags
	var bf build.Flags
	fs.StringVar(&rf.memory, "m", qemu.DefaultMemory, "guest memory `size` (QEMU -m syntax)")
	fs.IntVar(&rf.smp, "smp", qemu.DefaultSMP(), "number of virtual `cpus`; by default the host's CPU count, at most 64")
	fs.DurationVar(&rf.timeout, "timeout", 60*time.Second, "kill the machine and exit 124 after `duration` (0: never)")
	fs.StringVar(&rf.accel, "accel", "", "QEMU accelerator: auto (KVM where a real rt0 kernel boots under it, a verdict cached per machine; else TCG), tcg or kvm (default $RT0_ACCEL or auto)")
	fs.StringVar(&rf.appendTo, "append", "", "raw kernel command line `words` (rt0.KEY=VALUE options), added before the program's arguments")
	fs.Var(&rf.env, "env", "set the program's environment variable (`KEY=VALUE`, or KEY to copy rt0's own); repeatable")
	fs.Var(&rf.qemuArgs, "qemu-arg", "extra QEMU command-line `argument`; repeatable")
	fs.Var(&rf.net, "net", "a network card: QEMU's -nic `spec` (user[,hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT...][,model=virtio-net-pci|e1000|e1000e]; default model virtio-net-pci); repeatable")
	var tf traceFlags
	tf.register(fs)
	var pf profileFlags
	pf.register(fs)
	fs.Var(&rf.files, "files", "give the program the files of `dir` (packed at its absolute path, in memory, writable, not saved) and start it there; repeatable, the first is the working directory")
	bf.Register(fs, false)
	if code, ok := parseCommand(fs, runUsage, args); !ok {
		return code
	}
	if !namesPackage(fs, sio, "run") {
		return 2
	}
	targets, progArgs := splitRunArgs(fs.Args())
	envWords, err := envWords(rf.env)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 run: %v\n", err)
		return 2
	}
	if rf.smp < 1 {
		fmt.Fprintf(sio.err, "rt0 run: -smp %d: need at least 1 cpu\n", rf.smp)
		return 2
	}
	if pf.hz < 1 || pf.hz > 10000 {
		fmt.Fprintf(sio.err, "rt0 run: -profile-hz %d: want 1 to 10000 samples a second\n", pf.hz)
		return 2
	}
	for _, n := range rf.net {
		if _, err := qemu.NICArgs(n); err != nil {
			fmt.Fprintf(sio.err, "rt0 run: %v\n", err)
			return 2
		}
	}
	if _, err := qemu.ParseMemory(rf.memory); err != nil {
		fmt.Fprintf(sio.err, "rt0 run: -m: %v\n", err)
		return 2
	}
	switch rf.accel {
	case "", qemu.AccelAuto, qemu.AccelTCG, qemu.AccelKVM:
	default:
		fmt.Fprintf(sio.err, "rt0 run: -accel %s: want auto, tcg or kvm\n", rf.accel)
		return 2
	}

	// Interrupts: the go command gets its own ^C while building; once QEMU
	// runs (in its own process group) rt0 kills it and exits 128+signal.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gotSig os.Signal
	sigDone := make(chan struct{})
	go func() {
		defer close(sigDone)
		select {
		case s := <-sigs:
			gotSig = s
			cancel()
		case <-ctx.Done():
		}
	}()
	sigExit := func() int {
		cancel()
		<-sigDone
		if s, ok := gotSig.(syscall.Signal); ok {
			fmt.Fprintf(sio.err, "rt0: %v\n", s)
			return 128 + int(s)
		}
		return 1
	}

	b, err := build.New(sio.err, bf.Verbose)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 run: %v\n", err)
		return 1
	}
	tmp, cleanup, err := build.WorkDir(sio.err, "rt0-run-", bf.Work)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 run: %v\n", err)
		return 1
	}
	defer cleanup()
	var initrd []string
	appendWords := pf.appendWords(tf.appendWords(rf.appendTo))
	if len(rf.files) > 0 {
		cpioFile := filepath.Join(tmp, "files.cpio")
		cwd, err := packFiles(cpioFile, rf.files)
		if err != nil {
			fmt.Fprintf(sio.err, "rt0 run: -files: %v\n", err)
			return 1
		}
		initrd = []string{cpioFile}
		appendWords = strings.TrimSpace(cmdline.Quote(cwdOption(cwd)) + " " + appendWords)
		b.Logf("packed %s into %s", strings.Join(rf.files, " "), cpioFile)
	}
	kernel, err := b.BuildImage(targets, &bf, tmp+string(os.PathSeparator))
	if err != nil {
		if ctx.Err() != nil {
			return sigExit()
		}
		fmt.Fprintf(sio.err, "rt0 run: %v\n", err)
		return 1
	}

	cfg := qemu.Config{
		Kernel:    kernel,
		Append:    kernelCmdline(envWords, appendWords, progArgs),
		Initrd:    initrd,
		Memory:    rf.memory,
		SMP:       rf.smp,
		Accel:     rf.accel,
		Net:       rf.net,
		ExtraArgs: rf.qemuArgs,
		Timeout:   rf.timeout,
		Stdin:     guestStdin(sio.in),
		Serial:    sio.out,
	}
	// Refused before boot: a machine whose RAM cannot hold the image would
	// hang or stop at once (host/qemu/memory.go).
	if err := qemu.CheckMemory(kernel, rf.memory); err != nil {
		fmt.Fprintf(sio.err, "rt0 run: %v\n", err)
		return 2
	}
	if bf.Verbose {
		cfg.Debug = sio.err
		cfg.Stderr = sio.err
		ch, err := cfg.Accelerator()
		if err != nil {
			fmt.Fprintf(sio.err, "rt0 run: %v\n", err)
			return 2
		}
		b.Logf("accelerator %s: %s", ch.Accel, ch.Why)
		if args, err := cfg.Args(); err == nil {
			b.Logf("%s", shell.Quote(args))
		}
	}
	res, err := qemu.Run(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return sigExit()
		}
		fmt.Fprintf(sio.err, "rt0 run: %v\n", err)
		return 1
	}
	code := report(res, bf.Verbose, rf.timeout, sio.err)
	if tf.enabled() {
		if err := tf.report(kernel, res, sio.err); err != nil {
			fmt.Fprintf(sio.err, "rt0 run: -trace: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if pf.file != "" {
		if err := pf.report(kernel, res.Debug, sio.err); err != nil {
			fmt.Fprintf(sio.err, "rt0 run: -profile: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// report explains a run that did not end normally and returns rt0's exit
// status.
func report(res *qemu.Result, verbose bool, timeout time.Duration, w io.Writer) int {
	failed := res.ExitCode == qemu.ExitFailure || !res.ExitLine
	if failed && !verbose {
		if len(res.Debug) > 0 {
			fmt.Fprintln(w, "rt0: kernel log (debugcon):")
			w.Write(res.Debug)
			if res.Debug[len(res.Debug)-1] != '\n' {
				fmt.Fprintln(w)
			}
		}
		if len(res.Stderr) > 0 && !strings.Contains(res.Reason, strings.TrimSpace(string(res.Stderr))) {
			fmt.Fprintln(w, "rt0: QEMU's messages:")
			w.Write(res.Stderr)
			if res.Stderr[len(res.Stderr)-1] != '\n' {
				fmt.Fprintln(w)
			}
		}
	}
	switch {
	case res.TimedOut:
		fmt.Fprintf(w, "rt0: timed out after %v\n", timeout)
		return qemu.ExitTimeout
	case res.Reason != "" && (failed || verbose):
		fmt.Fprintf(w, "rt0: %s\n", res.Reason)
	}
	return res.ExitCode
}

// splitRunArgs separates the build targets from the program's arguments,
// as go run does: leading .go files, or else one package.
func splitRunArgs(args []string) (targets, progArgs []string) {
	n := 0
	for n < len(args) && build.IsGoFile(args[n]) {
		n++
	}
	if n == 0 {
		n = 1
	}
	return args[:n], args[n:]
}

// envWords checks -env values and returns them as NAME=VALUE words.
func envWords(env []string) ([]string, error) {
	var words []string
	for _, e := range env {
		name, value, ok := strings.Cut(e, "=")
		if !ok {
			v, set := os.LookupEnv(name)
			if !set {
				return nil, fmt.Errorf("-env %s: not set in rt0's environment (use -env %s=VALUE)", name, name)
			}
			value = v
		}
		if name == "" {
			return nil, fmt.Errorf("-env %q: empty variable name", e)
		}
		if strings.HasPrefix(name, cmdline.OptionPrefix) {
			return nil, fmt.Errorf("-env %s: names starting with %q are kernel options; use -append", name, cmdline.OptionPrefix)
		}
		if strings.ContainsAny(name, " \t\n\r\"\\") || strings.ContainsRune(e, 0) {
			return nil, fmt.Errorf("-env %q: bad variable name", e)
		}
		words = append(words, name+"="+value)
	}
	return words, nil
}

// kernelCmdline builds the -append line: environment words, the raw words,
// then -- and the program's arguments. Each environment word and argument
// is quoted with cmdline.Quote, the inverse of the kernel's split. If the
// raw words already hold a --, the arguments follow them directly.
func kernelCmdline(env []string, raw string, args []string) string {
	var words []string
	for _, e := range env {
		words = append(words, cmdline.Quote(e))
	}
	if raw = strings.TrimSpace(raw); raw != "" {
		words = append(words, raw)
	}
	if len(args) > 0 {
		if !hasDashDash(raw) {
			words = append(words, "--")
		}
		for _, a := range args {
			words = append(words, cmdline.Quote(a))
		}
	}
	return strings.Join(words, " ")
}

// hasDashDash reports whether the kernel would see a -- word in raw,
// splitting it by the kernel's rules (quotes group, backslash escapes).
func hasDashDash(raw string) bool {
	var word strings.Builder
	inWord, quoted := false, false
	end := func() bool {
		w := word.String()
		word.Reset()
		was := inWord
		inWord = false
		return was && w == "--"
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			i++
			word.WriteByte(raw[i])
			inWord = true
		case c == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			if end() {
				return true
			}
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	return end()
}

// guestStdin returns what to forward to the guest's COM1: in, unless in is
// a terminal of which rt0 is not the foreground process group (reading it
// would stop rt0 with SIGTTIN, as in `rt0 run ./x &`).
func guestStdin(in io.Reader) io.Reader {
	f, ok := in.(*os.File)
	if !ok {
		return in
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return in
	}
	var pgrp int32
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&pgrp)))
	})
	if errno != 0 {
		return in // not a terminal: a pipe, a file, /dev/null
	}
	if int(pgrp) != syscall.Getpgrp() {
		return nil
	}
	return in
}
