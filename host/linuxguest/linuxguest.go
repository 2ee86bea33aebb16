// Package linuxguest boots a Go program as the init of a Linux guest in
// the same QEMU rt0 runs in, with the same flags: the machine to compare
// rt0 against (host/bench -only linux).
//
// The kernel is Debian's linux-image-cloud-amd64, fetched with apt-get
// download (not installed: unpacked with dpkg-deb into a cache) the first
// time. The initramfs (written with github.com/u-root/mkuimage/cpio)
// holds /dev/console and the program as /init; the program powers the
// machine off when it is done (see testdata/progs/vsbench), so the QEMU
// run ends as an rt0 run does.
package linuxguest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/u-root/mkuimage/cpio"

	"rt0/host/qemu"
)

// Package is the Debian metapackage whose kernel is used.
const Package = "linux-image-cloud-amd64"

// CacheDir is where the kernel is kept: $RT0_CACHE/linux, else the user
// cache directory's rt0/linux.
func CacheDir() (string, error) {
	if d := os.Getenv("RT0_CACHE"); d != "" {
		return filepath.Join(d, "linux"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "rt0", "linux"), nil
}

// Kernel returns the path of the Linux kernel image (bzImage), fetching
// and unpacking it into the cache first if it is not there.
func Kernel(ctx context.Context) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	if k, _ := filepath.Glob(filepath.Join(dir, "boot", "vmlinuz-*")); len(k) > 0 {
		return k[0], nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// The metapackage names the versioned image package it depends on.
	// A machine without Debian's package lists (never apt-get updated)
	// knows no such package: fetch the lists once and ask again.
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", Package).Output()
	if err != nil {
		update := exec.CommandContext(ctx, "apt-get", "update", "-qq")
		if os.Geteuid() != 0 {
			update = exec.CommandContext(ctx, "sudo", "apt-get", "update", "-qq")
		}
		if b, uerr := update.CombinedOutput(); uerr != nil {
			return "", fmt.Errorf("apt-cache depends %s: %v; apt-get update: %v\n%s", Package, err, uerr, b)
		}
		if out, err = exec.CommandContext(ctx, "apt-cache", "depends", Package).Output(); err != nil {
			return "", fmt.Errorf("apt-cache depends %s (after apt-get update): %v", Package, err)
		}
	}
	var pkg string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "Depends:" && strings.HasPrefix(f[1], "linux-image-") {
			pkg = f[1]
		}
	}
	if pkg == "" {
		return "", fmt.Errorf("apt-cache depends %s names no linux-image package:\n%s", Package, out)
	}
	dl := exec.CommandContext(ctx, "apt-get", "download", pkg)
	dl.Dir = dir
	if b, err := dl.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download %s: %v\n%s", pkg, err, b)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(debs) == 0 {
		return "", fmt.Errorf("apt-get download %s left no .deb in %s", pkg, dir)
	}
	if b, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb -x %s: %v\n%s", debs[0], err, b)
	}
	os.Remove(debs[0])
	k, _ := filepath.Glob(filepath.Join(dir, "boot", "vmlinuz-*"))
	if len(k) == 0 {
		return "", fmt.Errorf("%s holds no boot/vmlinuz-*", debs[0])
	}
	return k[0], nil
}

// Initramfs writes a newc archive to out with /dev/console and the file
// init as /init.
func Initramfs(init, out string) error { return InitramfsWith(init, out, nil) }

// InitramfsWith is Initramfs with more files: archive path -> host path,
// each with its host file's permission bits (their directories are made).
func InitramfsWith(init, out string, files map[string]string) error {
	b, err := os.ReadFile(init)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	recs := []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.Directory("tmp", 0o1777),
		cpio.StaticFile("init", string(b), 0o755),
	}
	dirs := map[string]bool{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var parents []string
		for d := path.Dir(name); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			recs = append(recs, cpio.Directory(d, 0o755))
		}
		data, err := os.ReadFile(files[name])
		if err != nil {
			return err
		}
		st, err := os.Stat(files[name])
		if err != nil {
			return err
		}
		recs = append(recs, cpio.StaticFile(name, string(data), uint64(st.Mode().Perm())))
	}
	if err := cpio.WriteRecords(w, recs); err != nil {
		return err
	}
	if err := cpio.WriteTrailer(w); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// Config is one Linux guest run: the machine as qemu.Config says it (SMP,
// Memory, CPU, Accel), the program's arguments, and the bound of the run
// (0: 10 minutes; QEMU is killed at it).
type Config struct {
	Machine qemu.Config
	Args    []string
	Timeout time.Duration
}

// Run boots kernel with initrd and returns what the program printed on
// the serial console (the kernel's own messages are kept off it: quiet,
// and loglevel 0 once init runs).
func Run(ctx context.Context, kernel, initrd string, c Config) (*qemu.Result, error) {
	m := c.Machine
	m.Kernel = kernel
	m.Initrd = []string{initrd}
	m.Timeout = c.Timeout
	if m.Timeout == 0 {
		m.Timeout = 10 * time.Minute // every run is bounded
	}
	// Kernel parameters, then -- and init's arguments.
	m.Append = "console=ttyS0 quiet loglevel=0 panic=-1 -- " + strings.Join(c.Args, " ")
	return qemu.Run(ctx, m)
}

// Release is the kernel's release (uname -r) from its image's name
// (boot/vmlinuz-RELEASE), and ModulesDir where its modules are unpacked.
func Release(kernel string) string {
	return strings.TrimPrefix(filepath.Base(kernel), "vmlinuz-")
}

// ModulesDir is the unpacked package's lib/modules/RELEASE.
func ModulesDir(kernel string) string {
	return filepath.Join(filepath.Dir(filepath.Dir(kernel)), "lib", "modules", Release(kernel))
}
