package netstack

import (
	"rt0/guest/net/virtionet"
)

// The drivers, in the order they are tried.
var drivers = []driver{
	{"virtio-net", virtionet.Match, virtionet.Open},
}
