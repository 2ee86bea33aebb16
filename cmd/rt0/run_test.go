package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"rt0/guest/kernel/cmdline"
	"rt0/host/qemu"
)

func TestSplitRunArgs(t *testing.T) {
	for _, tc := range []struct {
		args, targets, prog []string
	}{
		{[]string{"./x"}, []string{"./x"}, []string{}},
		{[]string{"./x", "a", "b.go"}, []string{"./x"}, []string{"a", "b.go"}},
		{[]string{"a.go", "b.go", "c", "d.go"}, []string{"a.go", "b.go"}, []string{"c", "d.go"}},
		{[]string{"a.go", "-v"}, []string{"a.go"}, []string{"-v"}},
	} {
		targets, prog := splitRunArgs(tc.args)
		if !slices.Equal(targets, tc.targets) || !slices.Equal(prog, tc.prog) {
			t.Errorf("splitRunArgs(%q) = %q, %q; want %q, %q", tc.args, targets, prog, tc.targets, tc.prog)
		}
	}
}

// split runs the kernel's own command-line splitter on what QEMU hands it.
func split(t *testing.T, kernelPath, appendLine string) (args, env, opts []string) {
	t.Helper()
	line := []byte(kernelPath + " " + appendLine)
	out := make([]byte, 4*len(line)+64)
	var r cmdline.Result
	cmdline.Split(line, out, &r)
	if r.Truncated || r.UnterminatedQuote {
		t.Fatalf("Split(%q): truncated %v, unterminated quote %v", line, r.Truncated, r.UnterminatedQuote)
	}
	for i := 0; i < r.Argc; i++ {
		args = append(args, string(r.Arg(out, i)))
	}
	for i := 0; i < r.Envc; i++ {
		env = append(env, string(r.Env(out, i)))
	}
	for i := 0; i < r.Optc; i++ {
		opts = append(opts, cstr(out[r.Optv[i]:]))
	}
	return args, env, opts
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// What rt0 run puts on the command line, the kernel reads back unchanged.
func TestKernelCmdlineRoundTrip(t *testing.T) {
	weird := []string{"", " ", "a b", `"`, `\`, `\"`, "tab\there", "new\nline", "--", "rt0.debug=1", "X=y", "é", `a\`, `"quoted"`}
	for _, tc := range []struct {
		env  []string
		raw  string
		args []string
		opts []string
	}{
		{nil, "", nil, nil},
		{nil, "", []string{"a"}, nil},
		{[]string{"HOME=/", "MSG=hello world", `Q="\`}, "", nil, nil},
		{[]string{"EMPTY="}, "rt0.debug=1 rt0.mem", weird, []string{"debug=1", "mem"}},
		{nil, "rt0.x=1 -- first", []string{"second", "--"}, []string{"x=1"}},
		{[]string{"A=--"}, `rt0.x="a b"`, weird, []string{"x=a b"}},
	} {
		line := kernelCmdline(tc.env, tc.raw, tc.args)
		args, env, opts := split(t, "/tmp/k.elf", line)
		wantArgs := []string{"/tmp/k.elf"}
		if strings.Contains(tc.raw, "-- first") {
			wantArgs = append(wantArgs, "first")
		}
		wantArgs = append(wantArgs, tc.args...)
		if !slices.Equal(args, wantArgs) || !slices.Equal(env, tc.env) || !slices.Equal(opts, tc.opts) {
			t.Errorf("line %q:\n args %q env %q opts %q\nwant %q env %q opts %q", line, args, env, opts, wantArgs, tc.env, tc.opts)
		}
	}
}

func TestHasDashDash(t *testing.T) {
	for raw, want := range map[string]bool{
		"":                false,
		"--":              true,
		"a -- b":          true,
		"a --":            true,
		`"--"`:            true, // the kernel decodes it to --
		`"a -- b"`:        false,
		`a\ --`:           false,
		"---":             false,
		"rt0.x=-- y":      false,
		"a\t--\tb":        true,
		`\-\-`:            true,
		`rt0.x="1 2" --`:  true,
		`rt0.x="1 -- 2"`:  false,
		"--x":             false,
		"x--":             false,
		"a \"\" -- ":      true,
		"trailing --\\":   false,
		"a \"unclosed --": false,
	} {
		if got := hasDashDash(raw); got != want {
			t.Errorf("hasDashDash(%q) = %v; want %v", raw, got, want)
		}
	}
}

func TestEnvWords(t *testing.T) {
	t.Setenv("RT0_TEST_HOSTVAR", "from host")
	got, err := envWords([]string{"A=1", "B=", "C=x=y", "RT0_TEST_HOSTVAR"})
	want := []string{"A=1", "B=", "C=x=y", "RT0_TEST_HOSTVAR=from host"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("envWords = %q, %v; want %q", got, err, want)
	}
	os.Unsetenv("RT0_TEST_UNSET_VAR")
	for _, bad := range []string{"=x", "rt0.debug=1", "RT0_TEST_UNSET_VAR", "A B=1", `A"=1`, "A=\x00"} {
		if _, err := envWords([]string{bad}); err == nil {
			t.Errorf("envWords(%q): no error", bad)
		}
	}
}

func runMain(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = rt0Main(args, stdio{strings.NewReader(""), &o, &e})
	return code, o.String(), e.String()
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		inStderr string
		inStdout string
	}{
		{nil, 2, "Usage:", ""},
		{[]string{"run"}, 2, "usage: rt0 run", ""},
		{[]string{"build"}, 2, "usage: rt0 build", ""},
		{[]string{"frobnicate"}, 2, "unknown command", ""},
		{[]string{"run", "-nosuchflag", "./x"}, 2, "flag provided but not defined", ""},
		{[]string{"run", "-smp", "0", "./x"}, 2, "-smp", ""},
		{[]string{"run", "-profile", "p", "-profile-hz", "0", "./x"}, 2, "-profile-hz", ""},
		{[]string{"run", "-env", "rt0.x=1", "./x"}, 2, "kernel options", ""},
		{[]string{"run", "-timeout", "soon", "./x"}, 2, "invalid value", ""},
		{[]string{"help"}, 0, "", "The commands are:"},
		{[]string{"help", "run"}, 0, "", "usage: rt0 run"},
		{[]string{"help", "nope"}, 2, "unknown command", ""},
		{[]string{"run", "-h"}, 0, "usage: rt0 run", ""},
	} {
		code, stdout, stderr := runMain(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.inStderr) || !strings.Contains(stdout, tc.inStdout) {
			t.Errorf("rt0 %q: exit %d, stdout %q, stderr %q; want exit %d, %q in stderr, %q in stdout",
				tc.args, code, stdout, stderr, tc.code, tc.inStderr, tc.inStdout)
		}
	}
	_, _, stderr := runMain()
	for _, c := range []string{"build", "run"} {
		if !strings.Contains(stderr, "\t"+c+" ") {
			t.Errorf("usage does not list %s:\n%s", c, stderr)
		}
	}
}

func TestReport(t *testing.T) {
	for _, tc := range []struct {
		name    string
		res     qemu.Result
		verbose bool
		code    int
		want    []string // in stderr
		not     []string
	}{
		{"success", qemu.Result{ExitCode: 0, ExitLine: true, Debug: []byte("boot\nrt0: exit 0\n")}, false, 0, nil, []string{"boot"}},
		{"program failure is no rt0 failure", qemu.Result{ExitCode: 3, ExitLine: true, Debug: []byte("rt0: exit 3\n")}, false, 3, nil, []string{"rt0"}},
		{"panic shows the kernel log", qemu.Result{ExitCode: 125, ExitLine: true, Debug: []byte("kernel panic: page fault\nrt0: exit 125")}, false, 125,
			[]string{"kernel log", "kernel panic: page fault\nrt0: exit 125\n"}, nil},
		{"panic, verbose: log already shown", qemu.Result{ExitCode: 125, ExitLine: true, Debug: []byte("kernel panic\n")}, true, 125, nil, []string{"kernel panic"}},
		{"reset", qemu.Result{ExitCode: 125, Debug: []byte("booting\n"), Reason: "machine reset/stopped without an exit status"}, false, 125,
			[]string{"booting", "rt0: machine reset/stopped without an exit status"}, nil},
		{"timeout", qemu.Result{ExitCode: 124, TimedOut: true, Debug: []byte("stuck\n"), Reason: "timed out after 2s"}, false, 124,
			[]string{"rt0: timed out after 2s\n", "stuck"}, nil},
		{"qemu error", qemu.Result{ExitCode: 125, Stderr: []byte("qemu: could not load kernel\n"), Reason: "QEMU failed"}, false, 125,
			[]string{"QEMU's messages", "could not load kernel", "rt0: QEMU failed"}, nil},
	} {
		var w bytes.Buffer
		code := report(&tc.res, tc.verbose, 2*time.Second, &w)
		if code != tc.code {
			t.Errorf("%s: exit %d; want %d", tc.name, code, tc.code)
		}
		for _, s := range tc.want {
			if !strings.Contains(w.String(), s) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, w.String(), s)
			}
		}
		for _, s := range tc.not {
			if strings.Contains(w.String(), s) {
				t.Errorf("%s: stderr %q has %q", tc.name, w.String(), s)
			}
		}
	}
}

func TestGuestStdin(t *testing.T) {
	r := strings.NewReader("x")
	if guestStdin(r) != r {
		t.Error("a plain reader is not forwarded")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if guestStdin(pr) != pr {
		t.Error("a pipe is not forwarded")
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	if guestStdin(devnull) != devnull {
		t.Error("/dev/null is not forwarded")
	}
}
