package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ProbeTimeout bounds the KVM probe boot. MinimalKernel stops within a few
// milliseconds under KVM; anything slower means KVM does not really work.
const ProbeTimeout = 3 * time.Second

var (
	probeMu    sync.Mutex
	probeCache = map[string]error{}
)

// KVMUsable reports whether ProbeKVM(binary) passed.
func KVMUsable(binary string) bool { return ProbeKVM(binary) == nil }

// ProbeKVM decides, once per process and QEMU binary, whether KVM really
// works: /dev/kvm must open read-write, and a real boot of MinimalKernel
// with -accel kvm must print its serial line and stop with its exit status
// within ProbeTimeout. A /dev/kvm that exists but cannot run a guest (as on
// some nested or sandboxed hosts, where QEMU aborts on MSR writes) fails
// here instead of failing every run. The error says why KVM is not used.
func ProbeKVM(binary string) error {
	if binary == "" {
		binary = (&Config{}).binary()
	}
	probeMu.Lock()
	defer probeMu.Unlock()
	if err, ok := probeCache[binary]; ok {
		return err
	}
	err := probeKVM(binary)
	probeCache[binary] = err
	return err
}

func probeKVM(binary string) error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("kvm probe: %w", err)
	}
	f.Close()

	dir, err := os.MkdirTemp("", "rt0-kvmprobe-")
	if err != nil {
		return fmt.Errorf("kvm probe: %w", err)
	}
	defer os.RemoveAll(dir)
	kernel := filepath.Join(dir, "probe.elf")
	if err := os.WriteFile(kernel, MinimalKernel("ok\n", "rt0: exit 7\n", 7), 0o644); err != nil {
		return fmt.Errorf("kvm probe: %w", err)
	}
	res, err := Run(context.Background(), Config{
		QEMU:    binary,
		Kernel:  kernel,
		Accel:   AccelKVM,
		Memory:  "32M",
		Timeout: ProbeTimeout,
	})
	if err != nil {
		return fmt.Errorf("kvm probe: %w", err)
	}
	if res.TimedOut {
		return errors.New("kvm probe: guest did not stop within " + ProbeTimeout.String())
	}
	if res.ExitCode != 7 || !res.ExitLine || string(res.Serial) != "ok\n" {
		msg := strings.TrimSpace(string(res.Stderr))
		if msg == "" {
			msg = res.Reason
		}
		return fmt.Errorf("kvm probe: guest did not run (QEMU status %d): %s", res.QEMUStatus, msg)
	}
	return nil
}
