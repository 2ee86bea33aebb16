package main

// rt0 run's own tests, end to end. The kernel's boot tests are in
// host/boottest.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"rt0/host/boottest"
	"rt0/host/build"
	"rt0/host/qemu"
)

// rt0 run -profile: the kernel's samples of a program that spends a
// second in main.burn make a pprof profile of about hz samples a second,
// most of them in main.burn, which go tool pprof reads.
func TestRunProfile(t *testing.T) {
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	out := filepath.Join(t.TempDir(), "cpu.pprof")
	var stdout, stderr bytes.Buffer
	code := rt0Main([]string{"run", "-smp", "1", "-timeout", boottest.Timeout.String(), "-profile", out, "-profile-hz", "200", "./testdata/progs/burn"},
		stdio{strings.NewReader(""), &stdout, &stderr})
	if code != 0 || stdout.String() != "burnt: true\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var all, inBurn int64
	for _, s := range p.Sample {
		all += s.Value[0]
		for _, l := range s.Location {
			if l.Line[0].Function.Name == "main.burn" {
				inBurn += s.Value[0]
				break
			}
		}
	}
	// 1 s of burning at 200 Hz, and the boot and exit around it.
	if inBurn < 140 || inBurn > 260 || inBurn < all*6/10 {
		t.Errorf("%d samples, %d with main.burn on the stack; want 140-260 there, most of all", all, inBurn)
	}
	if p.Period != 5_000_000 {
		t.Errorf("period %d ns, want 5 ms", p.Period)
	}
	goCmd, err := build.FindGo()
	if err != nil {
		t.Fatal(err)
	}
	if top, err := exec.Command(goCmd, "tool", "pprof", "-top", out).CombinedOutput(); err != nil || !strings.Contains(string(top), "main.burn") {
		t.Errorf("go tool pprof -top: %v\n%s", err, top)
	}

	// A second of getpid calls: the kernel's time is in the profile too,
	// most of it (the loop around each call is a few instructions), with
	// the kernel's own functions (the NMI sampler) and, above those in its
	// Go code, the system call's mark and the wrapper that made it. In main.burn's run
	// above the kernel has a few samples only (interrupts, page faults).
	kernelShare := func(p *profile.Profile) (kernel, marked, total int64) {
		for _, s := range p.Sample {
			total += s.Value[0]
			inKernel := false
			for i, l := range s.Location {
				name := l.Line[0].Function.Name
				if strings.HasPrefix(name, "rt0/guest/") {
					inKernel = true
				}
				if name == "rt0 kernel: getpid" && i+1 < len(s.Location) && s.Location[i+1].Line[0].Function.Name == "syscall.rawSyscallNoError.abi0" {
					marked += s.Value[0]
				}
			}
			if inKernel {
				kernel += s.Value[0]
			}
		}
		return
	}
	if k, _, total := kernelShare(p); k > total/10 {
		t.Errorf("main.burn's run: %d of %d samples in the kernel; want a few", k, total)
	}
	stdout.Reset()
	stderr.Reset()
	code = rt0Main([]string{"run", "-smp", "1", "-timeout", boottest.Timeout.String(), "-profile", out, "-profile-hz", "200", "./testdata/progs/burn", "-syscalls"},
		stdio{strings.NewReader(""), &stdout, &stderr})
	if code != 0 || stdout.String() != "burnt: true\n" {
		t.Fatalf("-syscalls: exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
	}
	f2, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	p, err = profile.Parse(f2)
	if err != nil {
		t.Fatal(err)
	}
	k, marked, total := kernelShare(p)
	// Marked are the samples in the kernel's Go code; under TCG most of a
	// getpid is its entry and exit assembly (no mark: the entry is not
	// counted yet, or not any more).
	if k < total/2 || total < 100 || marked < 5 {
		t.Errorf("-syscalls: %d samples, %d in the kernel's functions, %d with \"rt0 kernel: getpid\" above syscall.rawSyscallNoError; want most in the kernel, 5 or more marked", total, k, marked)
	}
}

// rt0 run end to end (in process): output on stdout exactly, the program's
// exit status, arguments and environment through the kernel command line.
func TestRunCommand(t *testing.T) {
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	var stdout, stderr bytes.Buffer
	code := rt0Main([]string{"run", "-timeout", boottest.Timeout.String(), "./examples/hello"}, stdio{strings.NewReader(""), &stdout, &stderr})
	if code != 0 || stdout.String() != "hello,world\n" {
		t.Errorf("rt0 run ./examples/hello: exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
	}

	dir := t.TempDir()
	prog := filepath.Join(dir, "prog.go")
	os.WriteFile(prog, []byte(`package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("%q\n", os.Args[1:])
	fmt.Printf("%q %q\n", os.Getenv("GREETING"), os.Getenv("EMPTY"))
	os.Stdout.Write([]byte("raw\r\n\x00\xff"))
	fmt.Fprint(os.Stderr, "E")
	os.Exit(3)
}
`), 0o644)
	stdout.Reset()
	stderr.Reset()
	code = rt0Main([]string{"run", "-timeout", boottest.Timeout.String(), "-env", "GREETING=hello, world", "-env", "EMPTY=",
		prog, "a b", "", `q"\`, "--", "rt0.x=1", "K=V"}, stdio{strings.NewReader(""), &stdout, &stderr})
	want := `["a b" "" "q\"\\" "--" "rt0.x=1" "K=V"]` + "\n" + `"hello, world" ""` + "\n" + "raw\r\n\x00\xffE"
	if code != 3 || stdout.String() != want {
		t.Errorf("rt0 run prog.go: exit %d, stdout %q; want 3, %q; stderr:\n%s", code, stdout.String(), want, stderr.String())
	}
}

// A program that never exits is killed at -timeout; rt0 exits 124.
func TestRunCommandTimeout(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "forever.go")
	os.WriteFile(prog, []byte("package main\n\nimport (\n\t\"fmt\"\n\t\"time\"\n)\n\nfunc main() {\n\tfmt.Println(\"started\")\n\tfor {\n\t\ttime.Sleep(time.Hour)\n\t}\n}\n"), 0o644)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := rt0Main([]string{"run", "-timeout", "5s", prog}, stdio{strings.NewReader(""), &stdout, &stderr})
	if code != 124 || !strings.Contains(stderr.String(), "rt0: timed out after 5s\n") {
		t.Errorf("exit %d, stderr %q; want 124 and the timeout message", code, stderr.String())
	}
	if stdout.String() != "started\n" {
		t.Errorf("stdout %q; want \"started\\n\"", stdout.String())
	}
	if d := time.Since(start); d > boottest.Timeout {
		t.Errorf("took %v", d)
	}
}

// A -m that cannot hold the image is refused before boot, with the
// smallest -m that can: no hang until the timeout (as -m 4M did).
func TestRunRefusesTooLittleMemory(t *testing.T) {
	min, err := qemu.MinMemoryMiB(boottest.Build(t, "examples/hello"))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := build.Root()
	hello := filepath.Join(root, "examples", "hello")
	for _, m := range []string{"4M", strconv.FormatUint(min-1, 10) + "M"} {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := rt0Main([]string{"run", "-m", m, "-timeout", boottest.Timeout.String(), hello}, stdio{strings.NewReader(""), &stdout, &stderr})
		want := "the smallest -m that holds it is " + strconv.FormatUint(min, 10) + "M"
		if code != 2 || !strings.Contains(stderr.String(), want) || stdout.Len() != 0 {
			t.Errorf("-m %s: exit %d, stdout %q, stderr %q; want 2 and %q", m, code, stdout.String(), stderr.String(), want)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("-m %s: refused after %v", m, d)
		}
	}
	var stderr bytes.Buffer
	if code := rt0Main([]string{"run", "-m", "lots", hello}, stdio{strings.NewReader(""), &bytes.Buffer{}, &stderr}); code != 2 || !strings.Contains(stderr.String(), "-m") {
		t.Errorf("-m lots: exit %d, %q", code, stderr.String())
	}
}

// The standard library's net tests with a network card: the test binary
// links gVisor's stack from the private GOROOT's vendor directory
// (test_stdnet.go), DHCP brings eth0 up, and the tests that list and check
// interfaces see it, multicast groups included (/proc/net/igmp6). What
// fails is what fails without a card: raw IP sockets, exec (TestSplice's
// child), descriptor passing.
func TestTestStdNetWithCard(t *testing.T) {
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	var stdout, stderr bytes.Buffer
	rt0Main([]string{"test", "-short", "-json", "-timeout", "5m", "-net", "user,restrict=on", "net"}, stdio{strings.NewReader(""), &stdout, &stderr})
	passed, failed := map[string]bool{}, map[string]bool{}
	eth0 := false
	for _, line := range strings.Split(stdout.String(), "\n") {
		var ev struct{ Action, Test, Output string }
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		if strings.Contains(ev.Output, "eth0: flags=up|broadcast|multicast|running") {
			eth0 = true
		}
		if ev.Test == "" || strings.Contains(ev.Test, "/") {
			continue
		}
		switch ev.Action {
		case "pass":
			passed[ev.Test] = true
		case "fail":
			failed[ev.Test] = true
		}
	}
	if len(passed) < 200 {
		t.Fatalf("%d tests passed, %d failed; stderr:\n%s", len(passed), len(failed), stderr.String())
	}
	known := map[string]bool{"TestIPConnLocalName": true, "TestIPConnRemoteName": true, "TestIPConnSpecificMethods": true,
		"TestSplice": true, "TestUnixConnReadMsgUnixSCMRightsCloseOnExec": true}
	for name := range failed {
		if !known[name] {
			t.Errorf("%s failed with the card", name)
		}
	}
	for _, name := range []string{"TestInterfaces", "TestInterfaceAddrs", "TestInterfaceUnicastAddrs", "TestInterfaceMulticastAddrs"} {
		if !passed[name] {
			t.Errorf("%s did not pass", name)
		}
	}
	if !eth0 {
		t.Error("no test saw eth0 up (TestInterfaces logs each interface)")
	}
}

// At the profiler's highest rate its NMIs come every 100 µs, so they also
// land on the CPU that is stopping the machine at exit: that CPU must not
// take one for the "halt" NMI it sends the others (five of six runs hung
// after hello,world so once). Five runs, each must end with a profile.
func TestRunProfileFastExit(t *testing.T) {
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	for i := 0; i < 5; i++ {
		out := filepath.Join(t.TempDir(), "cpu.pprof")
		var stdout, stderr bytes.Buffer
		code := rt0Main([]string{"run", "-smp", "2", "-timeout", "30s", "-profile", out, "-profile-hz", "10000", "./examples/hello"},
			stdio{strings.NewReader(""), &stdout, &stderr})
		if code != 0 || stdout.String() != "hello,world\n" {
			t.Fatalf("run %d: exit %d, stdout %q, stderr:\n%s", i, code, stdout.String(), stderr.String())
		}
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Fatalf("run %d: no profile: %v", i, err)
		}
	}
}
