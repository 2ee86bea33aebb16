package linux

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// consts returns the integer constants a Go file of this package declares.
func consts(t *testing.T, file string) map[string]int64 {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				var lit string
				switch v := vs.Values[i].(type) {
				case *ast.BasicLit:
					lit = v.Value
				case *ast.UnaryExpr:
					if b, ok := v.X.(*ast.BasicLit); ok && v.Op == token.SUB {
						lit = "-" + b.Value
					}
				}
				if b, ok := vs.Values[i].(*ast.BinaryExpr); ok && b.Op == token.ADD || strings.HasPrefix(lit, `"`) {
					continue // a string (syscallNames)
				}
				x, err := strconv.ParseInt(lit, 0, 64)
				if err != nil {
					t.Fatalf("%s: %s is not an integer literal", file, n.Name)
				}
				m[n.Name] = x
			}
		}
	}
	return m
}

// The generated files are what gen.go writes today.
func TestGenerated(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "gen.go", "-o", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, out)
	}
	for _, f := range []string{"zabi.go", "zsysnum.go"} {
		want, _ := os.ReadFile(filepath.Join(dir, f))
		have, _ := os.ReadFile(f)
		if !bytes.Equal(have, want) {
			t.Errorf("%s is stale: run go generate in guest/linux", f)
		}
	}
}

// runtimeConsts reads the Go runtime's own copies of Linux amd64 values:
// the "_NAME = value" constants of its Linux files.
func runtimeConsts(t *testing.T) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	re := regexp.MustCompile(`(?m)^\s*_([A-Z][A-Z0-9_]*)\s*=\s*(-?(?:0x[0-9a-fA-F]+|\d+))\b`)
	for _, f := range []string{"defs_linux_amd64.go", "os_linux.go", "vdso_linux.go", "os_linux_generic.go"} {
		src, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "runtime", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range re.FindAllStringSubmatch(string(src), -1) {
			v, _ := strconv.ParseInt(s[2], 0, 64)
			m[s[1]] = v
		}
	}
	return m
}

// headerConsts reads "#define NAME value" from the kernel headers Debian's
// linux-libc-dev installs (make deps installs it).
func headerConsts(t *testing.T) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	re := regexp.MustCompile(`(?m)^#define\s+([A-Z][A-Z0-9_]*)\s+[(]*(?:\([a-z_]+\))?(-?(?:0x[0-9a-fA-F]+|\d+))[)]*\s*(?:/\*.*)?$`)
	for _, f := range []string{
		"linux/futex.h", "linux/auxvec.h", "linux/fcntl.h", "linux/signal.h", "linux/reboot.h",
		"asm-generic/siginfo.h", "asm-generic/signal-defs.h",
		"x86_64-linux-gnu/asm/prctl.h", "x86_64-linux-gnu/asm/signal.h",
	} {
		src, err := os.ReadFile(filepath.Join("/usr/include", f))
		if err != nil {
			t.Fatalf("kernel headers: %v (apt-get install linux-libc-dev)", err)
		}
		for _, s := range re.FindAllStringSubmatch(string(src), -1) {
			v, _ := strconv.ParseInt(s[2], 0, 64)
			m[s[1]] = v
		}
	}
	return m
}

// Every value of extra.go is confirmed by the runtime's copy or the
// kernel's headers (at least one; all that have it must agree).
func TestExtra(t *testing.T) {
	rt, hdr := runtimeConsts(t), headerConsts(t)
	for name, v := range consts(t, "extra.go") {
		sources := 0
		for src, m := range map[string]map[string]int64{"GOROOT/src/runtime": rt, "/usr/include": hdr} {
			if w, ok := m[name]; ok {
				sources++
				if w != v {
					t.Errorf("%s = %#x; %s says %#x", name, v, src, w)
				}
			}
		}
		if sources == 0 {
			t.Errorf("%s is checked by nothing: neither the runtime nor the headers define it", name)
		}
	}
}

// Errno and signal values agree with package syscall too, and the
// generated groups with the runtime's copies where it has them.
func TestAgainstSyscall(t *testing.T) {
	gen := consts(t, "zabi.go")
	sys := map[string]int64{
		"EPERM": int64(syscall.EPERM), "EBADF": int64(syscall.EBADF), "EAGAIN": int64(syscall.EAGAIN),
		"EINVAL": int64(syscall.EINVAL), "ENOSYS": int64(syscall.ENOSYS), "EFAULT": int64(syscall.EFAULT),
		"ECONNREFUSED": int64(syscall.ECONNREFUSED), "ENOTCONN": int64(syscall.ENOTCONN),
		"SIGPIPE": int64(syscall.SIGPIPE), "SIGSEGV": int64(syscall.SIGSEGV), "SIGURG": int64(syscall.SIGURG),
		"SIGINT": int64(syscall.SIGINT), "SIGQUIT": int64(syscall.SIGQUIT),
		"O_CLOEXEC": int64(syscall.O_CLOEXEC), "O_NONBLOCK": int64(syscall.O_NONBLOCK),
		"EPOLLIN": int64(syscall.EPOLLIN), "AF_INET6": int64(syscall.AF_INET6),
		"SYS_MMAP": syscall.SYS_MMAP, "SYS_CLONE": syscall.SYS_CLONE, "SYS_FUTEX": syscall.SYS_FUTEX,
	}
	num := consts(t, "zsysnum.go")
	for name, w := range sys {
		v, ok := gen[name]
		if !ok {
			v, ok = num[name]
		}
		if !ok || v != w {
			t.Errorf("%s = %d (found %v); package syscall says %d", name, v, ok, w)
		}
	}
	rt := runtimeConsts(t)
	checked := 0
	for name, v := range gen {
		if w, ok := rt[name]; ok {
			checked++
			if v != w {
				t.Errorf("%s = %#x; the runtime says %#x", name, v, w)
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d generated values found in the runtime's files: did they move?", checked)
	}
}

func TestSyscallName(t *testing.T) {
	for nr, want := range map[uint64]string{0: "read", 9: "mmap", 56: "clone", 202: "futex", 302: "prlimit64",
		316: "renameat2", 318: "getrandom", 334: "rseq", 441: "epoll_pwait2", 452: "fchmodat2", 400: "?", 100000: "?"} {
		if got := SyscallName(nr); got != want {
			t.Errorf("SyscallName(%d) = %q; want %q", nr, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = SyscallName(441) }); n != 0 {
		t.Errorf("SyscallName allocates %v times", n)
	}
	if !strings.Contains(syscallNames, " io_uring_setup ") {
		t.Error("no io_uring_setup in the names")
	}
}

// The generated numbers agree with GOROOT's syscall package table
// (zsysnum_linux_amd64.go, frozen at 302) wherever it has the name.
func TestSyscallNumbersAgainstGOROOT(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src/syscall/zsysnum_linux_amd64.go"))
	if err != nil {
		t.Fatal(err)
	}
	ours := consts(t, "zsysnum.go")
	n := 0
	for _, m := range regexp.MustCompile(`SYS_([A-Z0-9_]+)\s*=\s*(\d+)`).FindAllStringSubmatch(string(src), -1) {
		want, _ := strconv.ParseInt(m[2], 10, 64)
		if v, ok := ours["SYS_"+m[1]]; ok {
			n++
			if v != want {
				t.Errorf("SYS_%s = %d; GOROOT's syscall says %d", m[1], v, want)
			}
		}
	}
	if n < 290 {
		t.Errorf("only %d numbers in common with GOROOT's table", n)
	}
}
