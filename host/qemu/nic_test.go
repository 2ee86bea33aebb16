package qemu

import (
	"slices"
	"testing"
)

func TestNICArgs(t *testing.T) {
	for _, c := range []struct {
		spec string
		want []string
		err  bool
	}{
		{spec: "user", want: []string{"-nic", "user,model=virtio-net-pci"}},
		{spec: "user,model=e1000", want: []string{"-nic", "user,model=e1000"}},
		{spec: "user,hostfwd=tcp:127.0.0.1:8080-:80,model=e1000e", want: []string{"-nic", "user,hostfwd=tcp:127.0.0.1:8080-:80,model=e1000e"}},
		{spec: "user,restrict=on", want: []string{"-nic", "user,restrict=on,model=virtio-net-pci"}},
		{spec: "socket,connect=127.0.0.1:5555", want: []string{"-nic", "socket,connect=127.0.0.1:5555,model=virtio-net-pci"}},
		{spec: "user,smb=a,,model=e1000", want: []string{"-nic", "user,smb=a,,model=e1000,model=virtio-net-pci"}}, // ",," is part of smb's value
		{spec: "none", want: nil},
		{spec: "user,model=rtl8139", err: true},
		{spec: "usr", err: true},
		{spec: "", err: true},
		{spec: "none,model=e1000", err: true},
	} {
		got, err := NICArgs(c.spec)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("NICArgs(%q) = %q, %v; want %q, error %v", c.spec, got, err, c.want, c.err)
		}
	}
}
