package netstack

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// ipConfig is what the kernel command line's ip= parameter asks, in
// Linux's syntax (Documentation/admin-guide/nfs/nfsroot.rst):
//
//	ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>:<dns0-ip>:<dns1-ip>:<ntp0-ip>
//	ip=off | none          no configuration
//	ip=dhcp | on | any     DHCP (also the default, without ip=)
//
// A client address makes the configuration static; without one, autoconf
// decides (off or none: no address, else DHCP). A static address without
// a netmask gets its class's, as Linux gives it. server-ip and ntp0-ip
// mean nothing here and are ignored; device must be empty or eth0.
type ipConfig struct {
	param    string // the parameter as given
	off      bool
	static   bool
	addr     netip.Prefix
	gateway  netip.Addr
	hostname string
	dns      []netip.Addr
}

func readIPConfig() (ipConfig, error) {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return ipConfig{}, nil
	}
	return parseCmdline(string(b))
}

// parseCmdline finds the last ip= word of a kernel command line (Linux
// takes the last) before "--", where the program's arguments begin.
func parseCmdline(cmdline string) (ipConfig, error) {
	param, found := "", false
	for _, w := range strings.Fields(cmdline) {
		if w == "--" {
			break
		}
		if v, ok := strings.CutPrefix(w, "ip="); ok {
			param, found = v, true
		}
	}
	if !found {
		return ipConfig{param: "dhcp"}, nil
	}
	return parseIP(param)
}

func parseIP(param string) (ipConfig, error) {
	c := ipConfig{param: param}
	switch param {
	case "off", "none":
		c.off = true
		return c, nil
	case "", "on", "any", "dhcp", "bootp", "rarp", "both":
		return c, nil
	}
	f := strings.Split(param, ":")
	if len(f) > 10 {
		return c, fmt.Errorf("ip=%s: %d fields, Linux's syntax has at most 10", param, len(f))
	}
	f = append(f, make([]string, 10-len(f))...)
	bad := func(what, v string) (ipConfig, error) {
		return c, fmt.Errorf("ip=%s: %s %q is not an IPv4 address", param, what, v)
	}
	if f[5] != "" && f[5] != "eth0" {
		return c, fmt.Errorf("ip=%s: device %q: the one interface is eth0", param, f[5])
	}
	switch f[6] {
	case "", "off", "none", "on", "any", "dhcp", "bootp", "rarp", "both":
	default:
		return c, fmt.Errorf("ip=%s: autoconf %q: want off, none, on, any, dhcp, bootp, rarp or both", param, f[6])
	}
	c.hostname = f[4]
	if f[0] == "" {
		if f[6] == "off" || f[6] == "none" {
			c.off = true
		}
		return c, nil // DHCP (its answer is what counts)
	}
	a, err := netip.ParseAddr(f[0])
	if err != nil || !a.Is4() {
		return bad("client-ip", f[0])
	}
	bits := classBits(a)
	if f[3] != "" {
		m, err := netip.ParseAddr(f[3])
		if err != nil || !m.Is4() {
			return bad("netmask", f[3])
		}
		if bits = maskBits(m.As4()); bits < 0 {
			return c, fmt.Errorf("ip=%s: netmask %s is not contiguous", param, f[3])
		}
	}
	c.static, c.addr = true, netip.PrefixFrom(a, bits)
	if f[2] != "" {
		g, err := netip.ParseAddr(f[2])
		if err != nil || !g.Is4() {
			return bad("gw-ip", f[2])
		}
		c.gateway = g
	}
	for _, d := range f[7:9] {
		if d == "" {
			continue
		}
		a, err := netip.ParseAddr(d)
		if err != nil || !a.Is4() {
			return bad("dns", d)
		}
		c.dns = append(c.dns, a)
	}
	return c, nil
}

// classBits is the prefix length of a's address class (A, B or C).
func classBits(a netip.Addr) int {
	switch b := a.As4()[0]; {
	case b < 128:
		return 8
	case b < 192:
		return 16
	}
	return 24
}

// maskBits is the prefix length of netmask m, or -1 if its ones are not
// contiguous.
func maskBits(m [4]byte) int {
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	n := 0
	for v&0x80000000 != 0 {
		v <<= 1
		n++
	}
	if v != 0 {
		return -1
	}
	return n
}

// writeResolvConf writes /etc/resolv.conf for Go's resolver, as a
// DHCP client on Linux does.
func writeResolvConf(dns []netip.Addr, search []string) error {
	if len(dns) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("# written by rt0's network (rt0/guest/net/netstack)\n")
	for _, d := range dns {
		fmt.Fprintf(&b, "nameserver %s\n", d)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	if err := os.MkdirAll("/etc", 0o755); err != nil {
		return err
	}
	return os.WriteFile("/etc/resolv.conf", []byte(b.String()), 0o644)
}
