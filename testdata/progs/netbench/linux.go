package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// linuxModules are the modules the cloud kernel needs for a virtio-net
// card, in the order their symbols need each other (modules.dep's).
var linuxModules = []string{
	"kernel/drivers/virtio/virtio_ring.ko",
	"kernel/drivers/virtio/virtio.ko",
	"kernel/drivers/virtio/virtio_pci_modern_dev.ko",
	"kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
	"kernel/drivers/virtio/virtio_pci.ko",
	"kernel/net/core/failover.ko",
	"kernel/drivers/net/net_failover.ko",
	"kernel/drivers/net/virtio_net.ko",
}

// linuxUp loads the modules from /lib/modules/$(uname -r) (the harness
// packs them into the initramfs) and configures lo and eth0 by netlink.
func linuxUp() error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return err
	}
	rel := unix.ByteSliceToString(u.Release[:])
	for _, m := range linuxModules {
		f, err := os.Open(filepath.Join("/lib/modules", rel, m))
		if err != nil {
			return err
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && err != unix.EEXIST {
			return fmt.Errorf("loading %s: %w", m, err)
		}
	}
	nl, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(nl)
	for _, name := range []string{"lo", "eth0"} {
		ifi, err := ifIndex(name)
		if err != nil {
			return err
		}
		if err := nlDo(nl, unix.RTM_NEWLINK, 0, ifinfo(ifi, unix.IFF_UP, unix.IFF_UP)); err != nil {
			return fmt.Errorf("%s up: %w", name, err)
		}
		if name == "eth0" {
			addr := ifaddr(ifi, 24, attr(unix.IFA_LOCAL, []byte{10, 0, 2, 15}), attr(unix.IFA_ADDRESS, []byte{10, 0, 2, 15}))
			if err := nlDo(nl, unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, addr); err != nil {
				return fmt.Errorf("eth0 address: %w", err)
			}
			var oif [4]byte
			binary.LittleEndian.PutUint32(oif[:], uint32(ifi))
			rt := append([]byte{unix.AF_INET, 0, 0, 0, unix.RT_TABLE_MAIN, unix.RTPROT_BOOT, unix.RT_SCOPE_UNIVERSE, unix.RTN_UNICAST, 0, 0, 0, 0},
				append(attr(unix.RTA_GATEWAY, []byte{10, 0, 2, 2}), attr(unix.RTA_OIF, oif[:])...)...)
			if err := nlDo(nl, unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, rt); err != nil {
				return fmt.Errorf("default route: %w", err)
			}
		}
	}
	return nil
}

func ifIndex(name string) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return int(ifr.Uint32()), nil
}

func attr(typ uint16, v []byte) []byte {
	b := make([]byte, (4+len(v)+3)&^3)
	binary.LittleEndian.PutUint16(b, uint16(4+len(v)))
	binary.LittleEndian.PutUint16(b[2:], typ)
	copy(b[4:], v)
	return b
}

func ifinfo(index int, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	binary.LittleEndian.PutUint32(b[4:], uint32(index))
	binary.LittleEndian.PutUint32(b[8:], flags)
	binary.LittleEndian.PutUint32(b[12:], change)
	return b
}

func ifaddr(index int, prefix uint8, attrs ...[]byte) []byte {
	b := []byte{unix.AF_INET, prefix, 0, unix.RT_SCOPE_UNIVERSE, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[4:], uint32(index))
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

// nlDo sends one request and reads its acknowledgement.
func nlDo(fd int, typ uint16, flags uint16, body []byte) error {
	msg := make([]byte, unix.NLMSG_HDRLEN+len(body))
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
	binary.LittleEndian.PutUint16(msg[4:], typ)
	binary.LittleEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.LittleEndian.PutUint32(msg[8:], 1)
	copy(msg[unix.NLMSG_HDRLEN:], body)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return err
	}
	if n >= unix.NLMSG_HDRLEN+4 && binary.LittleEndian.Uint16(buf[4:]) == unix.NLMSG_ERROR {
		if e := int32(binary.LittleEndian.Uint32(buf[unix.NLMSG_HDRLEN:])); e != 0 {
			return syscall.Errno(-e)
		}
	}
	return nil
}
