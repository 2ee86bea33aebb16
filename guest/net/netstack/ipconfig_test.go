package netstack

import (
	"net/netip"
	"slices"
	"testing"
)

func TestParseCmdline(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	for _, c := range []struct {
		cmdline string
		want    ipConfig
		err     bool
	}{
		{cmdline: "console=ttyS0", want: ipConfig{param: "dhcp"}},
		{cmdline: "ip=off", want: ipConfig{param: "off", off: true}},
		{cmdline: "ip=none", want: ipConfig{param: "none", off: true}},
		{cmdline: "ip=dhcp", want: ipConfig{param: "dhcp"}},
		{cmdline: "ip=off ip=dhcp", want: ipConfig{param: "dhcp"}}, // the last one counts
		{cmdline: "-- ip=off", want: ipConfig{param: "dhcp"}},      // a program's argument
		{cmdline: "ip=10.0.2.15::10.0.2.2:255.255.255.0", want: ipConfig{param: "10.0.2.15::10.0.2.2:255.255.255.0", static: true, addr: p("10.0.2.15/24"), gateway: a("10.0.2.2")}},
		{cmdline: "ip=10.0.2.15", want: ipConfig{param: "10.0.2.15", static: true, addr: p("10.0.2.15/8")}},
		{cmdline: "ip=192.168.1.5:::::eth0:off:1.1.1.1:8.8.8.8", want: ipConfig{param: "192.168.1.5:::::eth0:off:1.1.1.1:8.8.8.8", static: true, addr: p("192.168.1.5/24"), dns: []netip.Addr{a("1.1.1.1"), a("8.8.8.8")}}},
		{cmdline: "ip=172.16.0.9::::box", want: ipConfig{param: "172.16.0.9::::box", static: true, addr: p("172.16.0.9/16"), hostname: "box"}},
		{cmdline: "ip=::::::off", want: ipConfig{param: "::::::off", off: true}},
		{cmdline: "ip=::::::dhcp", want: ipConfig{param: "::::::dhcp"}},
		{cmdline: "ip=10.0.2.300", err: true},
		{cmdline: "ip=10.0.2.15:::255.0.255.0", err: true},
		{cmdline: "ip=10.0.2.15:::::eth1", err: true},
		{cmdline: "ip=10.0.2.15::::::maybe", err: true},
		{cmdline: "ip=10.0.2.15::x", err: true},
		{cmdline: "ip=1:2:3:4:5:6:7:8:9:10:11", err: true},
		{cmdline: "ip=fe80::1", err: true},
	} {
		got, err := parseCmdline(c.cmdline)
		if (err != nil) != c.err {
			t.Errorf("%q: error %v, want error %v", c.cmdline, err, c.err)
			continue
		}
		if c.err {
			continue
		}
		if got.param != c.want.param || got.off != c.want.off || got.static != c.want.static || got.addr != c.want.addr ||
			got.gateway != c.want.gateway || got.hostname != c.want.hostname || !slices.Equal(got.dns, c.want.dns) {
			t.Errorf("%q: %+v, want %+v", c.cmdline, got, c.want)
		}
	}
}
