package bootimg

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rt0/guest/kernel/cmdline"
	"rt0/host/qemu"
)

func TestGrubConfig(t *testing.T) {
	c := &Config{Name: "hello", Cmdline: []string{"hello", "X=a b", "--", "it's", `q"\`, "$HOME", "-"}}
	got, err := GrubConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `# Made by rt0 image: boots the rt0 kernel /boot/hello.elf.
# GRUB passes the words after the file name to the kernel; the first is argv[0].
set default=0
set fallback=1
set timeout=0
set timeout_style=hidden
# Video drivers: without them GRUB on UEFI finds no video mode to hand over.
insmod all_video
menuentry 'hello (multiboot2)' {
	multiboot2 /boot/hello.elf hello 'X=a b' -- 'it'\''s' 'q"\' '$HOME' -
	boot
}
menuentry 'hello (multiboot)' {
	multiboot /boot/hello.elf hello 'X=a b' -- 'it'\''s' 'q"\' '$HOME' -
	boot
}
`
	if got != want {
		t.Errorf("grub.cfg:\n%s\nwant:\n%s", got, want)
	}

	c = &Config{Cmdline: []string{"a b"}, Timeout: 5, Protocols: []string{Multiboot}}
	got, err = GrubConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"set timeout=5\nset timeout_style=menu\n", "menuentry 'a b (multiboot)' {\n\tmultiboot /boot/kernel.elf 'a b'\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("grub.cfg lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "fallback") || strings.Contains(got, "multiboot2") {
		t.Errorf("one protocol, yet:\n%s", got)
	}

	for _, bad := range []*Config{
		{},
		{Cmdline: []string{"a", ""}},
		{Cmdline: []string{"a", "b\tc"}},
		{Cmdline: []string{"a\n"}},
		{Cmdline: []string{"a"}, Timeout: -1},
		{Cmdline: []string{"a"}, Protocols: []string{"linux"}},
	} {
		if _, err := GrubConfig(bad); err == nil {
			t.Errorf("GrubConfig(%+v): no error", bad)
		}
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"hello": "hello.elf", "": "kernel.elf", "a b/c": "a_b_c.elf", "..": "kernel.elf", "x.y-z_1": "x.y-z_1.elf",
	} {
		if got := FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := volumeID("hello-world"); got != "RT0_HELLO_WORLD" {
		t.Errorf("volumeID = %q", got)
	}
	if got := volumeID(strings.Repeat("x", 50)); len(got) != 32 {
		t.Errorf("volumeID %q: longer than 32", got)
	}
}

// grubLoaderCmdline is GRUB 2.06's grub_create_loader_cmdline
// (grub-core/lib/cmdline.c), which both multiboot loaders use to turn the
// words after the file name into the kernel's command line: a word with a
// space is put in double quotes, and '\', '\” and '"' get a backslash.
func grubLoaderCmdline(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		space := strings.Contains(a, " ")
		if space {
			b.WriteByte('"')
		}
		for _, c := range []byte(a) {
			if c == '\\' || c == '\'' || c == '"' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		if space {
			b.WriteByte('"')
		}
	}
	return b.String()
}

// splitArgs runs the kernel's split and returns argv.
func splitArgs(line string) []string {
	var r cmdline.Result
	out := make([]byte, len(line)+64)
	cmdline.Split([]byte(line), out, &r)
	var argv []string
	for i := 0; i < r.Argc; i++ {
		s := out[r.Argv[i]:]
		argv = append(argv, string(s[:bytes.IndexByte(s, 0)]))
	}
	return argv
}

// Every word CheckWord accepts reaches the program unchanged through
// GRUB's quoting and the kernel's split; the words it refuses do not.
func TestWordsThroughGRUB(t *testing.T) {
	const alphabet = "ab \\\"'$#{};|&<>=-é\t\n\r"
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"a b", `q"\`, "it's", "$HOME", "", "\t", "a\nb", "  ", `\`, `"`, "--"}
	for i := 0; i < 2000; i++ {
		var w []byte
		for n := rng.IntN(6); n > 0; n-- {
			w = append(w, alphabet[rng.IntN(len(alphabet))])
		}
		words = append(words, string(w))
	}
	for _, w := range words {
		argv := []string{"prog", "--", w}
		got := splitArgs(grubLoaderCmdline(argv))
		through := slices.Equal(got, []string{"prog", w})
		if ok := CheckWord(w) == nil; ok != through {
			t.Errorf("word %q: CheckWord accepts it: %v; GRUB+kernel give %q", w, ok, got)
		}
	}
}

func TestCheckMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := Check(t.TempDir())
	if err == nil {
		t.Fatal("Check passed with nothing installed")
	}
	for _, w := range []string{"grub-mkrescue", "grub-common", "xorriso", "mtools", "grub-pc-bin", "grub-efi-amd64-bin", "x86_64-efi", "apt-get install"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Check's error lacks %q:\n%v", w, err)
		}
	}
	if err := Build(context.Background(), Config{Kernel: "k", Cmdline: []string{"k"}}, filepath.Join(t.TempDir(), "x.img")); err == nil || !strings.Contains(err.Error(), "grub-mkrescue") {
		t.Errorf("Build without tools: %v", err)
	}
}

// Only the UEFI GRUB files missing (grub-efi-amd64-bin not installed):
// Check says so, where grub-mkrescue would quietly make a BIOS-only image.
func TestCheckMissingEFI(t *testing.T) {
	if err := Check(""); err != nil {
		t.Fatalf("the host lacks what the tests need (make deps installs it): %v", err)
	}
	lib := t.TempDir()
	for _, f := range []string{"i386-pc/cdboot.img", "i386-pc/boot_hybrid.img"} {
		os.MkdirAll(filepath.Join(lib, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(lib, f), nil, 0o644)
	}
	err := Check(lib)
	if err == nil || !strings.Contains(err.Error(), "GRUB for UEFI") || !strings.HasSuffix(err.Error(), "apt-get install grub-efi-amd64-bin") {
		t.Fatalf("Check: %v", err)
	}
	if strings.Contains(err.Error(), "grub-pc-bin") {
		t.Errorf("Check blames grub-pc-bin: %v", err)
	}
}

// minimalImage builds an image of qemu.MinimalKernel (multiboot v1 only)
// into dir.
func minimalImage(t *testing.T, dir string, c Config) (string, []byte) {
	t.Helper()
	k := filepath.Join(dir, "k.elf")
	if err := os.WriteFile(k, qemu.MinimalKernel("ok\n", "rt0: exit 7\n", 7), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Kernel = k
	img := filepath.Join(dir, "m.img")
	var log bytes.Buffer
	c.Log = &log
	if err := Build(context.Background(), c, img); err != nil {
		t.Fatalf("Build: %v\n%s", err, log.String())
	}
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	return img, data
}

// The same kernel and command line give the same bytes, whatever the time;
// the image boots every way (Verify) and holds no path of the host.
func TestBuildReproducible(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	dir := t.TempDir()
	c := Config{Name: "m", Cmdline: []string{"m", "--", "a b"}}
	_, a := minimalImage(t, dir, c)
	time.Sleep(1100 * time.Millisecond) // another second for every clock
	_, b := minimalImage(t, dir, c)
	if !bytes.Equal(a, b) {
		n := 0
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				if n < 10 {
					t.Errorf("byte %#x (sector %d) differs: %#x vs %#x", i, i/sectorSize, a[i], b[i])
				}
				n++
			}
		}
		t.Fatalf("two builds differ (%d vs %d bytes, %d bytes differ)", len(a), len(b), n)
	}
	if err := Verify(a); err != nil {
		t.Error(err)
	}
	for _, p := range []string{dir, os.TempDir() + "/rt0-image-", "/tmp/grub."} {
		if bytes.Contains(a, []byte(p)) {
			t.Errorf("the image holds the host path %s", p)
		}
	}
	if !bytes.Contains(a, []byte("2000010100000000")) {
		t.Errorf("the volume dates are not DefaultEpoch's")
	}

	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	_, e := minimalImage(t, dir, c)
	if bytes.Equal(a, e) || !bytes.Contains(e, []byte("2023111422132000")) {
		t.Errorf("SOURCE_DATE_EPOCH=1700000000 ignored")
	}
	t.Setenv("SOURCE_DATE_EPOCH", "soon")
	if err := Build(context.Background(), Config{Kernel: filepath.Join(dir, "k.elf"), Cmdline: []string{"m"}}, filepath.Join(dir, "x.img")); err == nil {
		t.Errorf("a bad SOURCE_DATE_EPOCH accepted")
	}
}

func TestVerifyRejects(t *testing.T) {
	_, img := minimalImage(t, t.TempDir(), Config{Cmdline: []string{"m"}})
	entries, err := BootEntries(img)
	if err != nil || len(entries) != 2 || entries[0].Platform != platformX86 || entries[1].Platform != platformEFI {
		t.Fatalf("BootEntries: %+v, %v; want BIOS then UEFI", entries, err)
	}
	for name, spoil := range map[string]func([]byte){
		"no MBR code":      func(b []byte) { clear(b[:440]) },
		"no MBR signature": func(b []byte) { b[510] = 0 },
		"no ESP":           func(b []byte) { clear(b[446:510]) },
		"no FAT":           func(b []byte) { clear(b[entries[1].LBA*sectorSize : entries[1].LBA*sectorSize+512]) },
		"no UEFI entry":    func(b []byte) { b[catalogOffset(t, b)+65] = 0x42 },
		"no El Torito": func(b []byte) {
			clear(b[17*sectorSize : 18*sectorSize])
			b[17*sectorSize] = 255
			copy(b[17*sectorSize+1:], "CD001")
		},
		"not an ISO at all": func(b []byte) { clear(b[16*sectorSize : 17*sectorSize]) },
	} {
		b := slices.Clone(img)
		spoil(b)
		if err := Verify(b); err == nil {
			t.Errorf("%s: Verify passed", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// catalogOffset returns the byte offset of the El Torito boot catalog.
func catalogOffset(t *testing.T, img []byte) int {
	vd := img[17*sectorSize:]
	if string(vd[7:7+len(elToritoSystem)]) != elToritoSystem {
		t.Fatal("sector 17 is not the El Torito boot record")
	}
	return int(uint32(vd[0x47])|uint32(vd[0x48])<<8|uint32(vd[0x49])<<16|uint32(vd[0x4a])<<24) * sectorSize
}

// GRUB falls back to the multiboot entry when multiboot2 cannot load the
// kernel: qemu.MinimalKernel has a multiboot (v1) header only.
func TestBootFallback(t *testing.T) {
	img, _ := minimalImage(t, t.TempDir(), Config{Cmdline: []string{"m"}})
	res, err := qemu.Run(context.Background(), qemu.Config{BootISO: img, Accel: qemu.AccelTCG, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wall %v", res.Wall)
	if string(res.Serial) != "ok\n" || res.ExitCode != 7 || !res.ExitLine {
		t.Errorf("serial %q, exit %d (%s); want \"ok\\n\", 7\ndebugcon: %q", res.Serial, res.ExitCode, res.Reason, res.Debug)
	}
}
