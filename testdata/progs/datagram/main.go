// datagram checks the sockets beside TCP that rt0 serves, against what
// Linux does (cmd/rt0's TestBootDatagram compares the output with the
// host's): UDP over the loopback, Unix stream sockets named by a path or
// an abstract name, Unix datagram and seqpacket sockets. It prints only
// what is the same on every run (no ports, no temporary paths).
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	dir, err := os.MkdirTemp("", "datagram")
	if err != nil {
		fmt.Println("mkdtemp:", err)
		return
	}
	defer os.RemoveAll(dir)
	udp()
	udpDualStack()
	unixStream(filepath.Join(dir, "stream.sock"))
	unixStream("@rt0-datagram-test")
	unixgram(filepath.Join(dir, "gram.sock"))
	unixpacket(filepath.Join(dir, "packet.sock"))
	blockingReceive()
}

// blockingReceive receives on blocking datagram and seqpacket sockets with
// raw system calls (Go's own sockets never block in the kernel): each
// receive waits until the other goroutine sends.
func blockingReceive() {
	for _, typ := range []int{syscall.SOCK_DGRAM, syscall.SOCK_SEQPACKET} {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, typ, 0)
		if err != nil {
			fmt.Println("socketpair:", err)
			return
		}
		got := make(chan string)
		go func() {
			b := make([]byte, 16)
			n, _, err := syscall.Recvfrom(fds[0], b, 0)
			got <- fmt.Sprintf("%q %v", b[:max(n, 0)], err)
		}()
		time.Sleep(50 * time.Millisecond) // the receiver is asleep in the kernel by now
		syscall.Write(fds[1], []byte("woken"))
		fmt.Printf("blocking receive (type %d) got %s\n", typ, <-got)
		syscall.Close(fds[0])
		syscall.Close(fds[1])
	}
	// UDP: a blocking socket bound to the loopback.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		fmt.Println("udp socket:", err)
		return
	}
	defer syscall.Close(fd)
	syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	sa, _ := syscall.Getsockname(fd)
	got := make(chan string)
	go func() {
		b := make([]byte, 16)
		n, from, err := syscall.Recvfrom(fd, b, 0)
		_, isV4 := from.(*syscall.SockaddrInet4)
		got <- fmt.Sprintf("%q from an IPv4 address %v, %v", b[:max(n, 0)], isV4, err)
	}()
	time.Sleep(50 * time.Millisecond)
	c, _ := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	syscall.Sendto(c, []byte("udp woken"), 0, sa)
	syscall.Close(c)
	fmt.Println("blocking UDP receive got", <-got)
}

func udp() {
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println("udp listen:", err)
		return
	}
	defer srv.Close()
	c, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		fmt.Println("udp dial:", err)
		return
	}
	defer c.Close()
	c.Write([]byte("ping"))
	c.Write([]byte("second datagram"))
	buf := make([]byte, 8)
	n, from, err := srv.ReadFromUDP(buf)
	fmt.Printf("udp: server got %q from the client: %v, %v\n", buf[:n], from.String() == c.LocalAddr().String(), err)
	n, _, _, _, err = srv.ReadMsgUDP(buf[:4], nil)
	fmt.Printf("udp: a short buffer gets %q of the next datagram, %v\n", buf[:n], err)
	srv.WriteToUDP([]byte("pong"), from)
	n, err = c.Read(buf)
	fmt.Printf("udp: client got %q %v\n", buf[:n], err)
	// Nobody listens: the datagram is lost, the write still succeeds.
	lost, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	addr := lost.LocalAddr().(*net.UDPAddr)
	lost.Close()
	o, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	_, err = o.WriteToUDP([]byte("x"), addr)
	fmt.Println("udp: a send to a closed port succeeds:", err == nil)
	o.Close()
}

func udpDualStack() {
	srv, err := net.ListenPacket("udp", ":0")
	if err != nil {
		fmt.Println("udp dual-stack listen:", err)
		return
	}
	defer srv.Close()
	port := srv.LocalAddr().(*net.UDPAddr).Port
	for _, ip := range []string{"127.0.0.1", "::1"} {
		c, err := net.Dial("udp", net.JoinHostPort(ip, fmt.Sprint(port)))
		if err != nil {
			fmt.Println("udp dial", ip, err)
			continue
		}
		c.Write([]byte("hi " + ip))
		buf := make([]byte, 32)
		n, from, err := srv.ReadFrom(buf)
		fmt.Printf("udp dual-stack: %q from %s %v\n", buf[:n], from.(*net.UDPAddr).IP, err)
		c.Close()
	}
}

func unixStream(name string) {
	kind := "path"
	if name[0] == '@' {
		kind = "abstract"
	}
	ln, err := net.Listen("unix", name)
	if err != nil {
		fmt.Println("unix listen:", err)
		return
	}
	defer ln.Close()
	if kind == "path" {
		fi, err := os.Stat(name)
		fmt.Println("unix: the path is a socket:", err == nil && fi.Mode()&os.ModeSocket != 0)
		_, err = os.Open(name)
		fmt.Println("unix: opening it fails with ENXIO:", errors.Is(err, syscall.ENXIO))
		_, err = net.Listen("unix", name)
		fmt.Println("unix: binding it again fails with EADDRINUSE:", errors.Is(err, syscall.EADDRINUSE))
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := net.Dial("unix", name)
	if err != nil {
		fmt.Println("unix dial:", err)
		return
	}
	fmt.Printf("unix %s: client's peer is the listener's name: %v\n", kind, c.RemoteAddr().String() == name)
	c.Write([]byte("echo me"))
	c.(*net.UnixConn).CloseWrite()
	b, err := io.ReadAll(c)
	fmt.Printf("unix %s: echoed %q %v\n", kind, b, err)
	c.Close()
}

func unixgram(name string) {
	srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		fmt.Println("unixgram listen:", err)
		return
	}
	defer srv.Close()
	c, err := net.DialUnix("unixgram", nil, srv.LocalAddr().(*net.UnixAddr))
	if err != nil {
		fmt.Println("unixgram dial:", err)
		return
	}
	defer c.Close()
	c.Write([]byte("one"))
	c.Write([]byte("two"))
	buf := make([]byte, 16)
	for i := 0; i < 2; i++ {
		n, from, err := srv.ReadFromUnix(buf)
		fmt.Printf("unixgram: %q from an unnamed sender (nil address: %v) %v\n", buf[:n], from == nil, err)
	}
}

func unixpacket(name string) {
	ln, err := net.Listen("unixpacket", name)
	if err != nil {
		fmt.Println("unixpacket listen:", err)
		return
	}
	defer ln.Close()
	done := make(chan bool)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- true
			return
		}
		buf := make([]byte, 16)
		for {
			n, err := c.Read(buf)
			if n == 0 || err != nil {
				fmt.Println("unixpacket: then end of file:", n == 0 || err == io.EOF)
				break
			}
			fmt.Printf("unixpacket: one read, one message: %q\n", buf[:n])
		}
		c.Close()
		done <- true
	}()
	c, err := net.Dial("unixpacket", name)
	if err != nil {
		fmt.Println("unixpacket dial:", err)
		return
	}
	c.Write([]byte("a"))
	c.Write([]byte("bc"))
	c.Write([]byte("def"))
	c.Close()
	<-done
}
