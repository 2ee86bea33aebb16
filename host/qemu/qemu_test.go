package qemu

import (
	"rt0/guest/arch/amd64"
	"slices"
	"strings"
	"testing"
)

func TestArgs(t *testing.T) {
	c := Config{
		QEMU:      "/opt/qemu/bin/qemu-system-x86_64",
		Kernel:    "/tmp/k.elf",
		Append:    `rt0.debug=1 X=y -- "a b"`,
		Memory:    "1G",
		SMP:       4,
		Accel:     AccelTCG,
		ExtraArgs: []string{"-s", "-S"},
	}
	args, err := c.Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/opt/qemu/bin/qemu-system-x86_64",
		"-nodefaults", "-no-reboot", "-display", "none",
		"-accel", "tcg,thread=multi", "-cpu", "max", "-m", "1G", "-smp", "4", // one host thread per vCPU
		"-kernel", "/tmp/k.elf",
		"-append", `rt0.debug=1 X=y -- "a b"`,
		"-chardev", "stdio,id=com1,signal=off",
		"-device", "isa-serial,chardev=com1,iobase=0x3f8,irq=4",
		"-chardev", "file,id=debugcon,path=/dev/fd/3",
		"-device", "isa-debugcon,iobase=0xe9,chardev=debugcon",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-s", "-S",
	}
	if !slices.Equal(args, want) {
		t.Errorf("Args:\n got %q\nwant %q", args, want)
	}
}

func TestArgsDefaults(t *testing.T) {
	t.Setenv("RT0_QEMU", "")
	t.Setenv("RT0_ACCEL", "kvm")
	args, err := (&Config{Kernel: "k"}).Args()
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(args, " ")
	for _, w := range []string{"qemu-system-x86_64 ", "-accel kvm", "-m 256M", "-smp 1", "-cpu max", "-kernel k "} {
		if !strings.Contains(s, w) {
			t.Errorf("Args %q lack %q", s, w)
		}
	}
	if strings.Contains(s, "-append") {
		t.Errorf("Args %q have -append for an empty command line", s)
	}

	t.Setenv("RT0_QEMU", "/x/qemu")
	t.Setenv("RT0_ACCEL", "tcg")
	args, _ = (&Config{Kernel: "k"}).Args()
	if args[0] != "/x/qemu" || !strings.Contains(strings.Join(args, " "), "-accel tcg") {
		t.Errorf("env overrides ignored: %q", args)
	}
}

func TestArgsErrors(t *testing.T) {
	for _, c := range []Config{
		{Accel: AccelTCG},                       // no kernel
		{Kernel: "k", Accel: "hvf"},             // unknown accelerator
		{Kernel: "k", Accel: AccelTCG, SMP: -1}, // bad SMP
	} {
		if _, err := c.Args(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestExitLine(t *testing.T) {
	for _, tc := range []struct {
		log string
		n   int
		ok  bool
	}{
		{"rt0: exit 0\n", 0, true},
		{"boot\nrt0: exit 42\n", 42, true},
		{"rt0: exit 255", 255, true},            // last line without newline
		{"rt0: exit 3\r\n", 3, true},            // CRLF
		{"rt0: exit 1\nrt0: exit 2\n", 2, true}, // the last one wins
		{"rt0: exit 2\nmore log\n", 2, true},
		{"", 0, false},
		{"rt0: exit 256\n", 0, false},
		{"rt0: exit -1\n", 0, false},
		{"rt0: exit 07\n", 0, false},
		{"rt0: exit +7\n", 0, false},
		{"rt0: exit \n", 0, false},
		{"rt0: exit 7 \n", 0, false},
		{"xrt0: exit 7\n", 0, false},
		{"rt0: exit seven\n", 0, false},
	} {
		n, ok := ExitLine([]byte(tc.log))
		if n != tc.n || ok != tc.ok {
			t.Errorf("ExitLine(%q) = %d, %v; want %d, %v", tc.log, n, ok, tc.n, tc.ok)
		}
	}
}

func TestMapExit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		debug    string
		status   int
		cutShort bool
		code     int
		line     bool
		reason   string // substring; "" means empty
	}{
		{"exit line", "rt0: exit 7\n", 15, false, 7, true, ""},
		{"exit line above 127", "rt0: exit 200\n", (200<<1 | 1) & 0xff, false, 200, true, ""},
		{"exit 0", "rt0: exit 0\n", 1, false, 0, true, ""},
		{"panic", "panic: boom\nrt0: exit 125\n", 251, false, 125, true, ""},
		{"line wins over status", "rt0: exit 9\n", 15, false, 9, true, "does not match"},
		{"line wins over timeout", "rt0: exit 4\n", -1, true, 4, true, ""},
		{"status fallback", "", 15, false, 7, false, ""},
		{"status fallback 127", "", 255, false, 127, false, ""},
		{"triple fault", "", 0, false, ExitFailure, false, "machine reset/stopped without an exit status"},
		{"qemu error", "", 1, false, ExitFailure, false, "QEMU failed"},
		{"signal", "", -1, false, ExitFailure, false, "signal"},
		{"even status", "", 2, false, ExitFailure, false, "status 2"},
		{"timeout", "booting\n", -1, true, ExitTimeout, false, "killed before"},
	} {
		code, line, reason := MapExit([]byte(tc.debug), tc.status, tc.cutShort)
		if code != tc.code || line != tc.line || (tc.reason == "") != (reason == "") || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: MapExit = %d, %v, %q; want %d, %v, %q", tc.name, code, line, reason, tc.code, tc.line, tc.reason)
		}
	}
}

func TestExitWatcher(t *testing.T) {
	seen := make(chan struct{})
	w := &exitWatcher{seen: seen}
	for _, chunk := range []string{"boot\nrt0: ex", "it 1", "2", "\nafter\n"} {
		w.Write([]byte(chunk))
	}
	select {
	case <-seen:
	default:
		t.Fatal("exit line split across writes not seen")
	}

	seen = make(chan struct{})
	w = &exitWatcher{seen: seen}
	w.Write([]byte("rt0: exit 12")) // no newline yet: not complete
	select {
	case <-seen:
		t.Fatal("incomplete line seen as exit line")
	default:
	}
}

func TestMinimalKernelHeader(t *testing.T) {
	img := MinimalKernel("ok\n", "rt0: exit 7\n", 7)
	le := func(o int) uint32 {
		return uint32(img[o]) | uint32(img[o+1])<<8 | uint32(img[o+2])<<16 | uint32(img[o+3])<<24
	}
	if le(0) != 0x1BADB002 || le(4) != 0x00010003 || le(0)+le(4)+le(8) != 0 {
		t.Errorf("bad multiboot header % x", img[:12])
	}
	if le(12) != 0x100000 || le(16) != 0x100000 || le(28) != 0x100020 {
		t.Errorf("bad address fields % x", img[12:32])
	}
	if len(img) > 8192 {
		t.Errorf("image too large: %d", len(img))
	}
}

// MaxSMP is the kernel's own limit, not a copy that could drift from it.
func TestMaxSMPIsTheKernels(t *testing.T) {
	if MaxSMP != amd64.MaxCPUs {
		t.Errorf("qemu.MaxSMP %d, guest/arch/amd64.MaxCPUs %d", MaxSMP, amd64.MaxCPUs)
	}
	if n := DefaultSMP(); n < 1 || n > MaxSMP {
		t.Errorf("DefaultSMP %d outside 1..%d", n, MaxSMP)
	}
}
