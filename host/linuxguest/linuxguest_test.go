package linuxguest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/u-root/mkuimage/cpio"
)

// The initramfs holds what a Linux kernel needs to run the program as
// init: /dev/console (char 5:1, for init's standard streams) and /init,
// executable, byte for byte.
func TestInitramfs(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	os.WriteFile(prog, []byte("\x7fELF not really"), 0o755)
	out := filepath.Join(dir, "initrd.cpio")
	if err := Initramfs(prog, out); err != nil {
		t.Fatal(err)
	}
	seen := readArchive(t, out)
	con, ok := seen["dev/console"]
	if !ok || con.Mode&cpio.S_IFMT != cpio.S_IFCHR || con.Rmajor != 5 || con.Rminor != 1 {
		t.Errorf("dev/console: %+v", con.Info)
	}
	init, ok := seen["init"]
	if !ok || init.Mode&0o111 == 0 {
		t.Fatalf("init: %+v", init.Info)
	}
	b, _ := io.ReadAll(io.NewSectionReader(init.ReaderAt, 0, int64(init.FileSize)))
	if string(b) != "\x7fELF not really" {
		t.Errorf("init holds %q", b)
	}
}

// InitramfsWith's files keep their host permission bits (a program beside
// init must stay executable, a data file must not become one), and their
// directories are made.
func TestInitramfsWithModes(t *testing.T) {
	dir := t.TempDir()
	prog, data := filepath.Join(dir, "prog"), filepath.Join(dir, "data")
	os.WriteFile(prog, []byte("p"), 0o755)
	os.WriteFile(data, []byte("d"), 0o600)
	out := filepath.Join(dir, "initrd.cpio")
	if err := InitramfsWith(prog, out, map[string]string{"bin/prog": prog, "etc/data": data}); err != nil {
		t.Fatal(err)
	}
	seen := readArchive(t, out)
	for name, want := range map[string]uint64{"bin": cpio.S_IFDIR | 0o755, "bin/prog": cpio.S_IFREG | 0o755, "etc/data": cpio.S_IFREG | 0o600} {
		if r, ok := seen[name]; !ok || r.Mode != want {
			t.Errorf("%s: mode %o (present %v), want %o", name, r.Mode, ok, want)
		}
	}
}

// readArchive reads the newc archive at path: its records by name (their
// contents read from memory, so they stay readable after it returns).
func readArchive(t *testing.T, path string) map[string]cpio.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]cpio.Record{}
	for _, r := range recs {
		seen[r.Name] = r
	}
	return seen
}
