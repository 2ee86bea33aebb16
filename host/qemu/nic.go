package qemu

import (
	"fmt"
	"strings"
)

// Network cards. rt0 run -net and rt0 test -net take QEMU's own -nic
// syntax, TYPE[,option...] (user,hostfwd=tcp:127.0.0.1:8080-:80,...),
// and pass it through as -nic, with the card model rt0 drives: a model=
// option must name one of NICModels; without one, DefaultNICModel. "none"
// is no card (as without -net).

// NICModels are the cards rt0's drivers know (rt0/guest/net/...).
var NICModels = []string{"virtio-net-pci", "e1000", "e1000e"}

// DefaultNICModel is the card -net gives when it names none: the fast
// one in virtual machines.
const DefaultNICModel = "virtio-net-pci"

// netTypes are the -nic backends that make sense for rt0.
var netTypes = []string{"user", "socket", "stream", "dgram", "tap", "bridge", "l2tpv3", "vde", "vhost-user", "none"}

// NICArgs returns the QEMU arguments for one -net value.
func NICArgs(spec string) ([]string, error) {
	typ, opts, _ := strings.Cut(spec, ",")
	ok := false
	for _, t := range netTypes {
		ok = ok || typ == t
	}
	if !ok {
		return nil, fmt.Errorf("-net %s: the network type %q is not one of %s (QEMU's -nic syntax: TYPE[,option...])", spec, typ, strings.Join(netTypes, ", "))
	}
	if typ == "none" {
		if opts != "" {
			return nil, fmt.Errorf("-net %s: none takes no options", spec)
		}
		return nil, nil
	}
	model := ""
	for _, o := range splitOpts(opts) {
		if v, ok := strings.CutPrefix(o, "model="); ok {
			model = v
		}
	}
	switch {
	case model == "":
		spec += ",model=" + DefaultNICModel
	case !contains(NICModels, model):
		return nil, fmt.Errorf("-net %s: rt0 has no driver for model=%s; it drives %s", spec, model, strings.Join(NICModels, ", "))
	}
	return []string{"-nic", spec}, nil
}

// splitOpts splits QEMU options at commas (",," is a literal comma).
func splitOpts(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == ',' && i+1 < len(s) && s[i+1] == ',':
			cur.WriteByte(',')
			i++
		case s[i] == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(out, cur.String())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
