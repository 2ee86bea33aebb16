package linuxguest

import (
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
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]cpio.Record{}
	for _, r := range recs {
		seen[r.Name] = r
	}
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
