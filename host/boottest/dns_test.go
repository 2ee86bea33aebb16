package boottest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
)

// The test's DNS server answers Go's resolver (over TCP) on the host, as
// the guest's resolver will ask it.
func TestHostDNS(t *testing.T) {
	port := hostDNS(t)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	}}
	addrs, err := r.LookupHost(context.Background(), "rt0.test")
	slices.Sort(addrs)
	if err != nil || !slices.Equal(addrs, []string{"192.0.2.7", "2001:db8::7"}) {
		t.Errorf("rt0.test: %v %v", addrs, err)
	}
	if _, err := r.LookupHost(context.Background(), "other.test"); err == nil {
		t.Error("other.test resolved")
	}
}
