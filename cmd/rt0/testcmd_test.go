package main

// Boot tests of rt0 test and rt0 run -files: real packages built with the
// real kernel, booted in QEMU.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"rt0/host/boottest"
)

// testModule writes a module outside rt0 with a package whose tests read
// files, check their arguments and environment, and can be told to fail.
func testModule(t *testing.T) string {
	t.Helper()
	mod := filepath.Join(t.TempDir(), "mod")
	mkTree(t, mod, map[string]string{
		"go.mod":              "module example.com/m\n\ngo 1.26\n",
		"testdata/up.txt":     "up\n",
		"pkg/testdata/in.txt": "hello\n",
		"pkg/p.go":            "package p\n\nfunc Double(x int) int { return 2 * x }\n",
		"empty/e.go":          "package empty\n",
		"bad/b.go":            "package bad\n",
		"bad/b_test.go":       "package bad\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) { undefinedThing() }\n",
		"pkg/x_test.go":       "package p_test\n\nimport (\n\t\"testing\"\n\n\t\"example.com/m/pkg\"\n)\n\nfunc TestExternal(t *testing.T) { _ = p.Double }\n",
		"pkg/p_test.go": `package p

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var extra = flag.String("extra", "", "set through -args")

func TestDouble(t *testing.T) {
	if Double(2) != 4 {
		t.Fatal("2*2 != 4")
	}
}

func TestFiles(t *testing.T) {
	if b, err := os.ReadFile("testdata/in.txt"); err != nil || string(b) != "hello\n" {
		t.Fatalf("testdata/in.txt: %q, %v", b, err)
	}
	if b, err := os.ReadFile("../testdata/up.txt"); err != nil || string(b) != "up\n" {
		t.Fatalf("../testdata/up.txt: %q, %v", b, err)
	}
	wd, err := os.Getwd()
	if err != nil || wd != os.Getenv("PWD") || filepath.Base(wd) != "pkg" {
		t.Fatalf("Getwd %q, %v; PWD %q", wd, err, os.Getenv("PWD"))
	}
	f := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(f); err != nil || string(b) != "x" {
		t.Fatalf("temp file: %q, %v", b, err)
	}
}

func TestEnvArgs(t *testing.T) {
	if os.Getenv("RT0_T_FAIL") != "" {
		t.Fatal("asked to fail")
	}
	if *extra != "from-args" {
		t.Fatalf("-extra = %q", *extra)
	}
	if testing.Short() {
		t.Log("short mode")
	}
}
`,
	})
	return mod
}

func rt0Test(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := rt0Main(append([]string{"test"}, args...), stdio{strings.NewReader(""), &stdout, &stderr})
	t.Logf("rt0 test %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return code, stdout.String(), stderr.String()
}

func TestTestCommandModule(t *testing.T) {
	mod := testModule(t)
	t.Chdir(mod)

	code, out, _ := rt0Test(t, "./pkg", "./empty", "-args", "-extra=from-args")
	if code != 0 || !regexp.MustCompile(`^ok  \texample.com/m/pkg\t\d+\.\d{3}s\n\?   \texample.com/m/empty\t\[no test files\]\n$`).MatchString(out) {
		t.Errorf("pass: exit %d, stdout %q", code, out)
	}

	code, out, _ = rt0Test(t, "-v", "-short", "-run", "Files|EnvArgs", "./pkg", "-args", "-extra=from-args")
	for _, w := range []string{"=== RUN   TestFiles\n", "--- PASS: TestFiles", "short mode", "PASS\nok  \texample.com/m/pkg\t"} {
		if !strings.Contains(out, w) {
			t.Errorf("-v: stdout lacks %q", w)
		}
	}
	if code != 0 || strings.Contains(out, "TestDouble") {
		t.Errorf("-v -run: exit %d, stdout %q", code, out)
	}

	code, out, _ = rt0Test(t, "-env", "RT0_T_FAIL=1", "./pkg", "-args", "-extra=from-args")
	if code != 1 || !strings.Contains(out, "--- FAIL: TestEnvArgs") || !strings.Contains(out, "asked to fail") ||
		!regexp.MustCompile(`\nFAIL\texample.com/m/pkg\t\d+\.\d{3}s\n$`).MatchString(out) || strings.Contains(out, "--- PASS") {
		t.Errorf("fail: exit %d, stdout %q", code, out)
	}

	code, out, errOut := rt0Test(t, "./bad")
	if code != 1 || out != "FAIL\texample.com/m/bad [build failed]\n" || !strings.Contains(errOut, "undefinedThing") {
		t.Errorf("build failure: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	code, out, _ = rt0Test(t, "-json", "-run", "Double", "./pkg", "./bad")
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct{ Action, Package, Test, ImportPath string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Errorf("-json: %q is not JSON: %v", line, err)
			continue
		}
		if e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "start" || e.Action == "build-fail") {
			actions = append(actions, e.Action+" "+e.Package+e.ImportPath)
		}
		if e.Test != "" && e.Action == "pass" {
			actions = append(actions, "pass "+e.Test)
		}
	}
	want := "start example.com/m/pkg|pass TestDouble|pass example.com/m/pkg|build-fail example.com/m/bad|start example.com/m/bad|fail example.com/m/bad"
	if got := strings.Join(actions, "|"); code != 1 || got != want {
		t.Errorf("-json: exit %d, events\n got %s\nwant %s", code, got, want)
	}

	// -c writes the image and its archive into the current directory.
	work := filepath.Join(mod, "pkg")
	t.Chdir(work)
	code, _, _ = rt0Test(t, "-c", ".")
	if code != 0 {
		t.Fatalf("-c: exit %d", code)
	}
	f, err := os.Open(filepath.Join(work, "pkg.test.cpio"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ents, err := readArchive(f)
	if err != nil {
		t.Fatal(err)
	}
	in := strings.TrimPrefix(filepath.ToSlash(filepath.Join(mod, "pkg/testdata/in.txt")), "/")
	up := strings.TrimPrefix(filepath.ToSlash(filepath.Join(mod, "testdata/up.txt")), "/")
	if ents[in].Data != "hello\n" || ents[up].Data != "up\n" {
		t.Errorf("archive lacks the package's files: %q %q", in, up)
	}
	if fi, err := os.Stat(filepath.Join(work, "pkg.test")); err != nil || fi.Size() < 1<<20 {
		t.Errorf("pkg.test: %v, %v", fi, err)
	}
}

// A standard-library package, through the private GOROOT.
func TestTestCommandStd(t *testing.T) {
	code, out, _ := rt0Test(t, "-run", "^TestRuneCount$|^TestValidRune$", "-v", "unicode/utf8")
	if code != 0 || !strings.Contains(out, "--- PASS: TestRuneCount") || !regexp.MustCompile(`\nok  \tunicode/utf8\t\d+\.\d{3}s\n$`).MatchString(out) {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

// rt0 run -files: the program starts in the directory and can read it.
func TestRunFilesFlag(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, map[string]string{
		"data/in.txt": "contents",
		"prog.go": `package main

import (
	"fmt"
	"os"
)

func main() {
	wd, _ := os.Getwd()
	b, err := os.ReadFile("data/in.txt")
	fmt.Printf("%s %q %v\n", wd, b, err)
}
`,
	})
	var stdout, stderr bytes.Buffer
	code := rt0Main([]string{"run", "-timeout", boottest.Timeout.String(), "-files", dir, filepath.Join(dir, "prog.go")}, stdio{strings.NewReader(""), &stdout, &stderr})
	if want := dir + ` "contents" <nil>` + "\n"; code != 0 || stdout.String() != want {
		t.Errorf("rt0 run -files: exit %d, stdout %q, want %q; stderr:\n%s", code, stdout.String(), want, stderr.String())
	}
	code = rt0Main([]string{"run", "-files", filepath.Join(dir, "nope"), filepath.Join(dir, "prog.go")}, stdio{strings.NewReader(""), &stdout, &stderr})
	if code == 0 {
		t.Error("rt0 run -files with a missing directory: exit 0")
	}
}

// rt0 test of a package whose external test serves HTTP on the loopback
// and calls itself: the test binary's overlay file enables sockets.
func TestBootTestCommandNet(t *testing.T) {
	mod := filepath.Join(t.TempDir(), "mod")
	boottest.WriteFiles(t, mod, map[string]string{
		"go.mod":          "module example.com/web\n\ngo 1.26\n",
		"greet/greet.go":  "package greet\n\nfunc Greeting(name string) string { return \"hello, \" + name }\n",
		"greet/x_test.go": greetHTTPTest,
	})
	t.Chdir(mod)
	code, out, _ := rt0Test(t, "./greet")
	if code != 0 || !regexp.MustCompile(`^ok  \texample.com/web/greet\t\d+\.\d{3}s\n$`).MatchString(out) {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

const greetHTTPTest = `package greet_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"example.com/web/greet"
)

func TestOverHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, greet.Greeting(r.URL.Query().Get("name")))
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "?name=rt0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "hello, rt0" {
		t.Fatalf("body %q, %v", body, err)
	}
}
`
