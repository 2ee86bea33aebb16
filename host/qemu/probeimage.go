package qemu

// The kernel the KVM probe boots: rt0's own, linked into the program in
// ./kvmprobe by rt0/host/build, exactly as rt0 build links any program. It is
// built once per version of rt0's code and kept in the cache directory
// beside the verdicts.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"rt0/host/build"
)

// What ./kvmprobe prints and its exit status (TestProbeImageUnderTCG boots
// it and checks both).
const (
	probeLine   = "rt0 kvm probe: ok\n"
	probeStatus = 7
)

var (
	versionOnce sync.Once
	versionVal  string
	versionErr  error
)

// rt0Version names the code a probe kernel is built from: a hash of every
// Go and assembly source file, go.mod and go.sum of the rt0 module (tests
// and testdata aside), and of the go command's version. Any change to the
// kernel, to the way images are built or to how QEMU is run changes it.
// Hashing the tree takes a few milliseconds; it is done once per process.
func rt0Version() (string, error) {
	versionOnce.Do(func() {
		b, err := build.New(io.Discard, false)
		if err != nil {
			versionErr = err
			return
		}
		gover, err := b.GoVersion()
		if err != nil {
			versionErr = err
			return
		}
		h := sha256.New()
		fmt.Fprintf(h, "go %s\n", gover)
		err = filepath.WalkDir(b.Root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path != b.Root && (strings.HasPrefix(name, ".") || name == "testdata") {
					return filepath.SkipDir
				}
				return nil
			}
			if !(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") ||
				strings.HasSuffix(name, ".s") || name == "go.mod" || name == "go.sum") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(b.Root, path)
			fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(data))
			h.Write(data)
			return nil
		})
		if err != nil {
			versionErr = fmt.Errorf("hashing rt0's source: %w", err)
			return
		}
		versionVal = hex.EncodeToString(h.Sum(nil)[:12])
	})
	return versionVal, versionErr
}

// buildProbeImage returns the probe's kernel for this version of rt0,
// building it if the cache does not hold it yet.
func buildProbeImage() (ProbeImage, error) {
	img := ProbeImage{Serial: probeLine, Status: probeStatus}
	version, err := rt0Version()
	if err != nil {
		return img, err
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return img, err
	}
	img.Kernel = filepath.Join(dir, "rt0", "kvmprobe-"+version+".elf")
	if _, err := os.Stat(img.Kernel); err == nil {
		return img, nil
	}
	if err := os.MkdirAll(filepath.Dir(img.Kernel), 0o755); err != nil {
		return img, err
	}
	b, err := build.New(io.Discard, false)
	if err != nil {
		return img, err
	}
	var out strings.Builder
	b.Stderr = &out
	if _, err := b.BuildImage([]string{filepath.Join(b.Root, "host", "qemu", "kvmprobe")}, &build.Flags{BuildVCS: "false"}, img.Kernel); err != nil {
		return img, fmt.Errorf("%v\n%s", err, strings.TrimSpace(out.String()))
	}
	// Kernels of older versions of rt0 are of no more use.
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(img.Kernel), "kvmprobe-*.elf"))
	for _, o := range old {
		if o != img.Kernel {
			os.Remove(o)
		}
	}
	return img, nil
}
