package boottest

// Boot tests of the PCI scan: the kernel log lists the devices QEMU's
// machines have, a NIC added to them, and one behind a PCI-to-PCI bridge.

import (
	"testing"

	"rt0/host/qemu"
)

func TestBootPCI(t *testing.T) {
	img := Build(t, "examples/hello")
	for _, tc := range []struct {
		machine string
		args    []string
		want    []string
	}{
		{"pc", []string{"-device", "e1000"}, []string{
			"rt0: PCI 00:00.0 8086:1237 class 06.00 (host bridge)",
			"rt0: PCI 00:01.1 8086:7010 class 01.01 (IDE controller)", // function 1 of the multi-function PIIX
			"8086:100e class 02.00 (Ethernet controller)",
		}},
		{"q35", []string{"-device", "e1000e"}, []string{
			"rt0: PCI 00:00.0 8086:29c0 class 06.00 (host bridge)",
			"8086:10d3 class 02.00 (Ethernet controller)",
			"rt0: PCI 00:1f.3 8086:2930 class 0c.05 (SMBus controller)",
		}},
		{"pc", []string{"-device", "pci-bridge,id=br1,chassis_nr=1", "-device", "virtio-net-pci,bus=br1,addr=3"}, []string{
			"class 06.04 (PCI bridge)",
			"rt0: PCI 01:03.0 1af4:1000 class 02.00 (Ethernet controller)", // on the bridge's secondary bus
		}},
	} {
		t.Run(tc.machine+"/"+tc.args[1], func(t *testing.T) {
			res := Boot(t, img, qemu.Config{Machine: tc.machine, ExtraArgs: tc.args})
			wantOutput(t, res, "hello,world\n", 0)
			wantContains(t, "kernel log", res.Debug, tc.want...)
		})
	}
}

// A Go program finds the devices where Linux lists them: the directories of
// /sys/bus/pci/devices, with vendor, device and class files.
func TestBootPCIFiles(t *testing.T) {
	img := Build(t, "testdata/progs/pcifiles")
	res := Boot(t, img, qemu.Config{Machine: "pc", ExtraArgs: []string{
		"-device", "e1000", "-device", "pci-bridge,id=br1,chassis_nr=1", "-device", "virtio-net-pci,bus=br1,addr=3"}})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d", res.ExitCode)
	}
	wantContains(t, "output", res.Serial,
		"0000:00:00.0 0x8086 0x1237 0x060000\n", // the host bridge
		"0000:00:01.1 0x8086 0x7010 0x010180\n", // PIIX IDE, function 1
		" 0x8086 0x100e 0x020000\n",             // the e1000
		" 0x1b36 0x0001 0x060400\n",             // the PCI-to-PCI bridge
		"0000:01:03.0 0x1af4 0x1000 0x020000\n") // virtio-net behind it
}
