package netstack

import (
	"rt0/guest/net/e1000"
	"rt0/guest/net/virtionet"
)

// The drivers, in the order they are tried.
var drivers = []driver{
	{"virtio-net", virtionet.Match, virtionet.Open},
	{"e1000", e1000.Match, e1000.Open},
}
