package qemu

// Choosing the accelerator: KVM where it really runs rt0, TCG elsewhere.
//
// A /dev/kvm that opens is no proof that KVM runs rt0. On a nested,
// paravirtual KVM (the machines rt0 is developed on) QEMU starts, runs a
// trivial multiboot kernel, then stops rt0's real kernel at its first SSE
// instruction with "KVM internal error. Suberror: 1 ... emulation failure"
// and waits forever with the VM stopped. So:
//
//   - The probe boots what rt0 really runs: a real rt0 kernel (a small
//     program built by rt0 itself, see probeimage.go) under -accel kvm, and
//     requires its exact output and exit status within ProbeTimeout.
//   - Its verdict is cached on disk (os.UserCacheDir()/rt0) under a key
//     made of the QEMU binary, the identity of /dev/kvm and of the host
//     kernel, and the version of rt0's code: a run pays the probe once, a
//     "no" is not retried on every run, and a changed QEMU, host or rt0
//     probes again.
//   - Every run under KVM watches QEMU's stderr for KVM's failure messages
//     (watchKVM). A run whose KVM was chosen automatically then falls back:
//     QEMU is killed at once, the verdict becomes "no", and the same image
//     boots again under TCG (Run, in qemu.go). An explicit -accel kvm ends
//     in ExitFailure with QEMU's message instead, never in a hang.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ProbeTimeout bounds the probe's boot. rt0's probe kernel reaches its exit
// in well under a second under a working KVM (its TSC calibration alone
// takes 6 ms); a guest still running after this long is not one to trust.
const ProbeTimeout = 10 * time.Second

// kvmDevice is the KVM device the probe opens; tests point it elsewhere.
var kvmDevice = "/dev/kvm"

// ProbeImage is the real rt0 kernel the probe boots.
type ProbeImage struct {
	Kernel string // path of the bootable image
	Serial string // exactly what the program prints on COM1
	Status int    // its exit status
}

// The probe's kernel: probeVersion names the code it would be built from
// (cheap: no build), probeBuild builds it. probeimage.go gives both; tests
// replace them.
var (
	probeVersion = rt0Version
	probeBuild   = buildProbeImage
)

// Choice is a resolved accelerator and the reason for it.
type Choice struct {
	Accel string // AccelTCG or AccelKVM
	Why   string // for rt0 run -v: what decided it
	// Auto is set when KVM was chosen automatically: a run that KVM cannot
	// carry then falls back to TCG instead of failing.
	Auto bool
	key  string // the verdict's cache key, for recording a fallback
}

// Accelerator resolves c.Accel (or $RT0_ACCEL) to the accelerator a run
// uses and says why. AccelAuto consults the cached KVM verdict, and probes
// when there is none.
func (c *Config) Accelerator() (Choice, error) {
	a, from := c.Accel, "-accel"
	if a == "" {
		a, from = os.Getenv("RT0_ACCEL"), "RT0_ACCEL"
	}
	switch a {
	case AccelTCG, AccelKVM:
		return Choice{Accel: a, Why: from + "=" + a}, nil
	case "", AccelAuto:
		v, err := kvmVerdict(c.binary())
		if err != nil {
			return Choice{Accel: AccelTCG, Why: "no KVM: " + err.Error()}, nil
		}
		if !v.KVM {
			return Choice{Accel: AccelTCG, Why: "no KVM: " + v.Reason + v.cached()}, nil
		}
		return Choice{Accel: AccelKVM, Why: "KVM: " + v.Reason + v.cached(), Auto: true, key: v.Key}, nil
	}
	return Choice{}, fmt.Errorf("qemu: unknown accelerator %q (want auto, tcg or kvm)", a)
}

// KVMUsable reports whether ProbeKVM(binary) passes.
func KVMUsable(binary string) bool { return ProbeKVM(binary) == nil }

// ProbeKVM decides whether KVM runs rt0's kernel with this QEMU binary
// ("" means the default): the cached verdict if there is one for this
// binary, host and rt0, else a probe boot, whose verdict is then cached.
// The error says why KVM is not used.
func ProbeKVM(binary string) error {
	if binary == "" {
		binary = (&Config{}).binary()
	}
	v, err := kvmVerdict(binary)
	if err != nil {
		return fmt.Errorf("kvm probe: %w", err)
	}
	if !v.KVM {
		return errors.New("kvm probe: " + v.Reason)
	}
	return nil
}

// verdict is what the probe (or a failed run) found, as cached on disk.
type verdict struct {
	Key    string    `json:"key"` // what it holds for: see verdictKey
	KVM    bool      `json:"kvm"`
	Reason string    `json:"reason"`
	When   time.Time `json:"when"`

	fromDisk bool // read from the cache, not found by this process
}

func (v *verdict) cached() string {
	if v.fromDisk {
		return " (cached " + v.When.Format(time.DateTime) + ")"
	}
	return ""
}

var (
	verdictMu sync.Mutex
	verdicts  = map[string]*verdict{} // by key: this process's answers
)

// kvmVerdict returns the KVM verdict for binary on this host: this
// process's, else the disk cache's, else a fresh probe's. An error means
// KVM is out of the question without a probe (no device, no QEMU, no way
// to build the probe's kernel); it is not cached, as it costs nothing to
// find again.
func kvmVerdict(binary string) (*verdict, error) {
	f, err := os.OpenFile(kvmDevice, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	f.Close()
	key, err := verdictKey(binary)
	if err != nil {
		return nil, err
	}
	verdictMu.Lock()
	defer verdictMu.Unlock()
	if v := verdicts[key]; v != nil {
		return v, nil
	}
	if v := readVerdict(key); v != nil {
		verdicts[key] = v
		return v, nil
	}
	v, err := probe(binary)
	if err != nil {
		return nil, err
	}
	v.Key, v.When = key, time.Now()
	verdicts[key] = v
	writeVerdict(v)
	return v, nil
}

// recordKVMFailure turns the verdict under key into "no": a run found what
// the probe did not.
func recordKVMFailure(key, reason string) {
	if key == "" {
		return
	}
	v := &verdict{Key: key, Reason: reason, When: time.Now()}
	verdictMu.Lock()
	verdicts[key] = v
	verdictMu.Unlock()
	writeVerdict(v)
}

// probe boots the probe's kernel under KVM, with no fallback, and judges.
func probe(binary string) (*verdict, error) {
	img, err := probeBuild()
	if err != nil {
		return nil, fmt.Errorf("cannot build the probe's kernel: %w", err)
	}
	res, err := Run(context.Background(), Config{
		QEMU:    binary,
		Kernel:  img.Kernel,
		Accel:   AccelKVM,
		Memory:  "64M",
		Timeout: ProbeTimeout,
	})
	if err != nil {
		return nil, err
	}
	switch {
	case res.KVMError != "":
		return &verdict{Reason: "the probe kernel failed under KVM: " + res.KVMError}, nil
	case res.TimedOut:
		return &verdict{Reason: "the probe kernel did not stop within " + ProbeTimeout.String() + " under KVM"}, nil
	case !res.ExitLine || res.ExitCode != img.Status || string(res.Serial) != img.Serial:
		why := res.Reason
		if why == "" {
			why = fmt.Sprintf("exit %d, output %q; want exit %d, output %q", res.ExitCode, res.Serial, img.Status, img.Serial)
		}
		return &verdict{Reason: "the probe kernel did not run right under KVM: " + why}, nil
	}
	return &verdict{KVM: true, Reason: fmt.Sprintf("the probe kernel ran under KVM in %v", res.Wall.Round(time.Millisecond))}, nil
}

// verdictKey names what a verdict depends on: the QEMU binary (its path,
// size, modification time and inode, so that an upgrade or a rebuild
// changes it), /dev/kvm (its device number and change time: a reboot or a
// reloaded module changes it), the host kernel's release, and the version
// of rt0's code.
func verdictKey(binary string) (string, error) {
	path, err := exec.LookPath(binary)
	if err != nil {
		return "", err
	}
	if path, err = filepath.Abs(path); err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	var q, k syscall.Stat_t
	if err := syscall.Stat(path, &q); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if err := syscall.Stat(kvmDevice, &k); err != nil {
		return "", fmt.Errorf("%s: %w", kvmDevice, err)
	}
	var u syscall.Utsname
	syscall.Uname(&u)
	rt0, err := probeVersion()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("qemu %s size %d mtime %d.%09d inode %d; kvm %s rdev %#x ctime %d.%09d; host %s; rt0 %s",
		path, q.Size, q.Mtim.Sec, q.Mtim.Nsec, q.Ino,
		kvmDevice, k.Rdev, k.Ctim.Sec, k.Ctim.Nsec, utsString(u.Release[:]), rt0), nil
}

func utsString(b []int8) string {
	s := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// verdictFile is where the verdict for key is cached.
func verdictFile(key string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, "rt0", "kvm-"+hex.EncodeToString(sum[:8])+".json"), nil
}

func readVerdict(key string) *verdict {
	name, err := verdictFile(key)
	if err != nil {
		return nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	var v verdict
	if json.Unmarshal(data, &v) != nil || v.Key != key {
		return nil
	}
	v.fromDisk = true
	return &v
}

// writeVerdict caches v; a cache that cannot be written only costs a probe
// next time.
func writeVerdict(v *verdict) {
	name, err := verdictFile(v.Key)
	if err != nil {
		return
	}
	data, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		return
	}
	if os.MkdirAll(filepath.Dir(name), 0o755) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".kvm-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), name) != nil {
		os.Remove(tmp.Name())
	}
}

// kvmFailureMarks are the beginnings of the lines QEMU (7.2's
// accel/kvm/kvm-all.c and target/i386/kvm) prints on stderr when KVM cannot
// run the guest or cannot start at all.
var kvmFailureMarks = []string{
	"KVM internal error",
	"emulation failure",
	"error: kvm run failed",
	"KVM: entry failed",
	"kvm: failed to",
	"Could not access KVM kernel module",
	"failed to initialize kvm",
	"failed to initialize KVM",
}

// kvmWatcher sees QEMU's stderr and closes failed at the first line that
// says KVM failed. It keeps that line and the next two such lines
// ("KVM internal error. Suberror: 1", then "emulation failure").
type kvmWatcher struct {
	mu     sync.Mutex
	line   []byte
	lines  []string
	failed chan struct{}
}

func newKVMWatcher() *kvmWatcher { return &kvmWatcher{failed: make(chan struct{})} }

func (w *kvmWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range p {
		if len(w.lines) == 3 {
			break
		}
		if b != '\n' {
			if len(w.line) < 256 {
				w.line = append(w.line, b)
			}
			continue
		}
		line := strings.TrimSpace(string(w.line))
		w.line = w.line[:0]
		for _, m := range kvmFailureMarks {
			if strings.Contains(line, m) {
				w.lines = append(w.lines, line)
				if len(w.lines) == 1 {
					close(w.failed)
				}
				break
			}
		}
	}
	return len(p), nil
}

// message is the failure line seen, or "".
func (w *kvmWatcher) message() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, ": ")
}
