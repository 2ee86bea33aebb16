// Package netstack is rt0's network for programs that import package net:
// it finds the network card, runs its driver and gVisor's TCP/IP stack
// (gvisor.dev/gvisor/pkg/tcpip) in goroutines, configures the interface
// as Linux's kernel would (DHCP, or the ip= parameter), and serves the
// kernel's sockets that go off the machine through /dev/rt0net (see
// rt0/guest/kernel/netsvc). All of it is ordinary Go above the runtime:
// rt0 build links it, with the kernel's sockets, into every program that
// imports net, and into no other.
//
// rt0 build's overlay calls Start from the main package's init, right
// after it enabled the kernel's sockets, so the network is up before
// main runs: a program whose main dials at once finds the interface
// configured, as under Linux. No card, a card no driver here knows, or no
// DHCP answer in a few seconds: one line in the kernel log, and the
// program runs with the loopback alone.
package netstack

import (
	"fmt"
	"os"
	"time"

	"rt0/guest/net/link"
	"rt0/guest/net/pcidev"
)

// Start brings the network up (once the kernel's sockets are enabled).
func Start() {
	start := time.Now()
	n, err := up()
	switch {
	case err != nil:
		logf("rt0: net: %v: the program has the loopback only", err)
	case n != nil:
		logf("rt0: net: %s up in %v", n, time.Since(start).Round(time.Millisecond))
	}
}

// logf writes a line to the kernel log (/dev/kmsg, as a Linux driver's
// messages go to the kernel's), not to the program's output.
func logf(format string, args ...any) {
	f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	fmt.Fprintf(f, format+"\n", args...)
	f.Close()
}

// A driver: which devices it takes, and how it starts one.
type driver struct {
	name  string
	match func(vendor, device uint16) bool
	open  func(d *pcidev.Dev) (link.Device, error)
}

// up brings the network up, or says why not (nil, nil: ip=off).
func up() (*iface, error) {
	cfg, err := readIPConfig()
	if err != nil {
		return nil, err
	}
	if cfg.off {
		logf("rt0: net: ip=%s: no network", cfg.param)
		return nil, nil
	}
	devs, err := pcidev.List()
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var dev link.Device
	var found []string
	for _, d := range devs {
		if d.Class>>16 != 0x02 { // network controllers only
			continue
		}
		found = append(found, d.String())
		for _, drv := range drivers {
			if drv.match(d.Vendor, d.Device) {
				if dev, err = drv.open(d); err != nil {
					return nil, fmt.Errorf("%s (%s): %w", d.Name, drv.name, err)
				}
				break
			}
		}
		if dev != nil {
			break
		}
	}
	if dev == nil {
		if len(found) == 0 {
			return nil, fmt.Errorf("no network card")
		}
		return nil, fmt.Errorf("no driver for the network card %v", found)
	}
	n, err := newIface("eth0", dev)
	if err != nil {
		return nil, err
	}
	if err := n.configure(cfg); err != nil {
		return nil, err
	}
	if err := n.serve(); err != nil {
		return nil, err
	}
	return n, nil
}
