package boottest

// Boot tests of networking: loopback TCP and socketpair compared with the
// host, the kernel's socket code linked only into programs that import
// net, and rt0 test for a package whose tests serve HTTP to themselves.

import (
	"debug/elf"
	"slices"
	"strings"
	"testing"

	"rt0/host/build"
	"rt0/host/qemu"
)

// bootLikeHost boots prog on rt0 and wants the output and exit status it
// has on this Linux host.
func bootLikeHost(t *testing.T, prog string) {
	t.Helper()
	want := hostRun(t, prog)
	wantOutput(t, Boot(t, Build(t, prog), qemu.Config{}), want, 0)
}

// TCP over 127.0.0.1 and ::1, net/http, deadlines, localhost, socketpair:
// the same output as on the host.
func TestBootTCP(t *testing.T) {
	bootLikeHost(t, "testdata/progs/tcp")
}

// UDP, Unix stream sockets (path and abstract names), Unix datagram and
// seqpacket sockets, compared with the host's Linux.
func TestBootDatagram(t *testing.T) {
	bootLikeHost(t, "testdata/progs/datagram")
}

// net.Interfaces through netlink: the loopback, as a Linux machine without
// a network card lists it (index 1, "lo", MTU 65536, 127.0.0.1/8, ::1/128;
// the groups Linux joins on it, from /proc/net/igmp and igmp6, whose lines
// for it are Linux's byte for byte).
func TestBootInterfaces(t *testing.T) {
	// The loopback's lines of /proc/net/igmp6 and igmp, byte for byte as
	// Linux writes them; where the host has them, they must be its own.
	igmp := "igmp6: \"1    lo              ff020000000000000000000000000001     1 0000000C 0\\n\"\n" +
		"igmp6: \"1    lo              ff010000000000000000000000000001     1 00000008 0\\n\"\n" +
		"igmp: \"1\\tlo        :     1      V3\\n\" \"\\t\\t\\t\\t010000E0     1 0:00000000\\t\\t0\\n\"\n"
	var host []string
	for _, l := range strings.SplitAfter(hostRun(t, "testdata/progs/ifaces"), "\n") {
		if strings.HasPrefix(l, "igmp") {
			host = append(host, l)
		}
	}
	if len(host) == 3 && strings.Join(host, "") != igmp {
		t.Errorf("the host's loopback groups:\n%s\nthe test's:\n%s", strings.Join(host, ""), igmp)
	}
	want := "1 lo mtu 65536 flags up|loopback|running addrs [127.0.0.1/8 ::1/128] <nil>\n" +
		"1 lo multicast [224.0.0.1 ff02::1 ff01::1] <nil>\n" +
		"by name: true <nil>\n" +
		"all addresses: [127.0.0.1/8 ::1/128] <nil>\n" + igmp
	wantOutput(t, Boot(t, Build(t, "testdata/progs/ifaces"), qemu.Config{}), want, 0)
}

// socketCodeSymbols returns the functions of package rt0/guest/kernel in the ELF
// at path that belong to its sockets: those with "sock" in their name
// (socketSyscall, sysSocket, sockConnect, ...), but EnableSockets, the way
// in, which is there exactly when the program calls it, and socketOp, the
// forwarder the rest of the kernel calls (a call through socketCall,
// which is nil until EnableSockets ran).
func socketCodeSymbols(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var names []string
	for _, s := range syms {
		name, ok := strings.CutPrefix(s.Name, build.KernelImport+".")
		if !ok || elf.ST_TYPE(s.Info) != elf.STT_FUNC || name == "EnableSockets" || name == "socketOp" {
			continue
		}
		if strings.Contains(strings.ToLower(name), "sock") {
			names = append(names, s.Name)
		}
	}
	return names
}

// hello links none of the kernel's socket code (it does not import net);
// the tcp program links it.
func TestBootSocketsOnlyWithNet(t *testing.T) {
	if got := socketCodeSymbols(t, Build(t, "examples/hello")); len(got) > 0 {
		t.Errorf("hello links socket code: %q", got)
	}
	got := socketCodeSymbols(t, Build(t, "testdata/progs/tcp"))
	for _, want := range []string{build.KernelImport + ".socketSyscall", build.KernelImport + ".sysSocket"} {
		if !slices.Contains(got, want) {
			t.Errorf("the tcp program lacks %s; its socket code: %q", want, got)
		}
	}
}
