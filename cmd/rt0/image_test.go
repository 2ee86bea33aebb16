package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rt0/guest/kernel/cmdline"
	"rt0/host/bootimg"
	"rt0/host/boottest"
	"rt0/host/build"
)

// splitAppend reads -append's words exactly as the kernel would: the words
// re-quoted one by one split into the same argv, environment and options
// as the raw line.
func TestSplitAppend(t *testing.T) {
	for _, raw := range []string{
		``, `a`, `  a  b  `, `rt0.strace X=1 -- a`, `X="a b" "--" c`, `a\ b "c\"d" e\\`, `"" x`,
		`trailing\`, "tab\tnl\ncr\r", `rt0."x y"=1`, `=x`, `"a"b"c"`, `é \"`,
	} {
		words, err := splitAppend(raw)
		if err != nil {
			t.Errorf("%q: %v", raw, err)
			continue
		}
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, cmdline.Quote(w))
		}
		a, b := splitAll("prog "+raw), splitAll("prog "+strings.Join(quoted, " "))
		if !slices.Equal(a, b) {
			t.Errorf("%q: words %q; kernel reads %q, re-quoted %q", raw, words, a, b)
		}
	}
	for _, bad := range []string{`"open`, `a "b c`, "a\x00b"} {
		if _, err := splitAppend(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// splitAll returns what the kernel's split makes of line, as tagged
// strings in table order.
func splitAll(line string) []string {
	var r cmdline.Result
	out := make([]byte, len(line)+64)
	cmdline.Split([]byte(line), out, &r)
	str := func(off uint32) string {
		s := out[off:]
		return string(s[:bytes.IndexByte(s, 0)])
	}
	var all []string
	for i := 0; i < r.Argc; i++ {
		all = append(all, "arg:"+str(r.Argv[i]))
	}
	for i := 0; i < r.Envc; i++ {
		all = append(all, "env:"+str(r.Envv[i]))
	}
	for i := 0; i < r.Optc; i++ {
		all = append(all, "opt:"+str(r.Optv[i]))
	}
	return all
}

func TestImageCmdline(t *testing.T) {
	got, err := imageCmdline("p", []string{"K=V"}, []string{"rt0.stats"}, []string{"a b", "--"})
	if want := []string{"p", "K=V", "rt0.stats", "--", "a b", "--"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	got, err = imageCmdline("p", nil, []string{"x", "--", "y"}, []string{"z"})
	if want := []string{"p", "x", "--", "y", "z"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	got, err = imageCmdline("p", nil, nil, nil)
	if want := []string{"p"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	for _, tc := range []struct {
		env, app, args []string
		msg            string
	}{
		{args: []string{"a", ""}, msg: "argument 2: "},
		{args: []string{"x\ty"}, msg: "argument 1: "},
		{app: []string{""}, msg: "-append: "},
		{env: []string{"A=\n"}, msg: "-env: "},
	} {
		if _, err := imageCmdline("p", tc.env, tc.app, tc.args); err == nil || !strings.HasPrefix(err.Error(), tc.msg) {
			t.Errorf("%+v: %v; want an error starting %q", tc, err, tc.msg)
		}
	}
}

func TestImageOutputPath(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range [][3]string{
		{"", "hello", "hello.img"},
		{"x.iso", "hello", "x.iso"},
		{dir, "hello", filepath.Join(dir, "hello.img")},
		{dir + "/new/", "hello", filepath.Join(dir, "new", "hello.img")},
	} {
		if got, err := build.OutputPath(tc[0], tc[1], ".img"); err != nil || got != tc[2] {
			t.Errorf("build.OutputPath(%q, %q, .img) = %q, %v; want %q", tc[0], tc[1], got, err, tc[2])
		}
	}
}

// rt0 image refuses, before building anything, what GRUB cannot pass, and
// says which packages to install when the tools are missing.
func TestImageRefuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"./examples/hello", "a", ""}, 2, "argument 2: GRUB cannot pass an empty word"},
		{[]string{"./examples/hello", "a\tb"}, 2, "argument 1: "},
		{[]string{"-append", `"open`, "./examples/hello"}, 2, "-append: "},
		{[]string{"-grub-timeout", "-1", "./examples/hello"}, 2, "-grub-timeout -1"},
		{[]string{}, 2, "no package"},
	} {
		var stdout, stderr bytes.Buffer
		code := rt0Main(append([]string{"image"}, tc.args...), stdio{strings.NewReader(""), &stdout, &stderr})
		if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("rt0 image %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}

	t.Setenv("PATH", t.TempDir())
	var stdout, stderr bytes.Buffer
	code := rt0Main([]string{"image", "./examples/hello"}, stdio{strings.NewReader(""), &stdout, &stderr})
	if code != 1 || !strings.Contains(stderr.String(), "grub-mkrescue") || !strings.Contains(stderr.String(), "apt-get install grub-common xorriso mtools") {
		t.Errorf("rt0 image without GRUB: exit %d, stderr %q", code, stderr.String())
	}
}

// Arguments, environment and raw words go through grub.cfg, GRUB's own
// quoting and the kernel's split unchanged, and the exit status comes back,
// under BIOS (CD) and UEFI (USB stick); the image holds no host path.
func TestImageArgs(t *testing.T) {
	needImageTools(t)
	root, err := build.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "args")
	os.Mkdir(dir, 0o755)
	// A module of its own (built in a go.work with rt0). Lone .go files
	// would be built in a temporary module whose go.mod replaces rt0 by
	// its directory, which go build records in the build information, even
	// with -trimpath.
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/args\n\ngo 1.26\n"), 0o644)
	prog := filepath.Join(dir, "args.go")
	os.WriteFile(prog, []byte(`package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("%q\n", os.Args)
	fmt.Printf("%q %q %q\n", os.Getenv("GREETING"), os.Getenv("X"), os.Getenv("Y"))
	os.Exit(3)
}
`), 0o644)
	args := []string{"a b", `q"\`, "it's", "$HOME", "${x}", "é", "--", "rt0.x=1", "K=V", "a  b", "#c", ";", "{", "}", `\`, "tab\tand space", "new\nline and space"}
	img := filepath.Join(dir, "args.img")
	var stdout, stderr bytes.Buffer
	code := rt0Main(append([]string{"image", "-o", img, "-env", "GREETING=hello, world", "-append", `X="a b" Y=\$z\'`, dir}, args...),
		stdio{strings.NewReader(""), &stdout, &stderr})
	if code != 0 {
		t.Fatalf("rt0 image: exit %d\n%s", code, stderr.String())
	}
	want := `["args" "a b" "q\"\\" "it's" "$HOME" "${x}" "é" "--" "rt0.x=1" "K=V" "a  b" "#c" ";" "{" "}" "\\" "tab\tand space" "new\nline and space"]` + "\n" +
		`"hello, world" "a b" "$z'"` + "\n"
	for _, p := range []bootPath{{machine: "pc", medium: "cd"}, {uefi: true, machine: "q35", medium: "usb-xhci"}} {
		res := bootImage(t, p, img)
		checkBoot(t, p, res, want, 3, "2")
	}

	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(mustGo(), "env", "GOROOT", "GOMODCACHE").Output()
	paths := append(strings.Fields(string(out)), root, dir, os.TempDir()+"/rt0-")
	if home, err := os.UserHomeDir(); err == nil && home != "/" {
		paths = append(paths, home+"/")
	}
	for _, p := range paths {
		if bytes.Contains(data, []byte(p)) {
			t.Errorf("the image holds the host path %s", p)
		}
	}
}

// The fallback entry: multiboot (v1) boots the same kernel, under BIOS and
// UEFI.
func TestImageMultibootV1(t *testing.T) {
	needImageTools(t)
	kernel := boottest.Build(t, "examples/hello")
	img := filepath.Join(t.TempDir(), "v1.img")
	c := bootimg.Config{Kernel: kernel, Name: "hello", Cmdline: []string{"hello"}, Protocols: []string{bootimg.Multiboot}}
	if err := bootimg.Build(context.Background(), c, img); err != nil {
		t.Fatal(err)
	}
	for _, p := range []bootPath{{machine: "pc", medium: "cd"}, {uefi: true, machine: "q35", medium: "cd"}} {
		res := bootImage(t, p, img)
		checkBoot(t, p, res, "hello,world\n", 0, "1")
	}
}
