// tcp exercises loopback networking the way ordinary Go programs use it:
// TCP over 127.0.0.1 and ::1 (dual-stack and single-family listeners),
// half-close, refused connections, addresses in use, net/http, many
// concurrent connections, deadlines, "localhost" through /etc/hosts, a
// Unix socketpair, and writing to a connection the peer has closed.
//
// It prints only what must be the same on every run and every kernel: what
// was read, whether something worked, which error it was, and IP addresses
// (never ports, which the kernel picks, nor timings). The boot tests
// compare its output on rt0 with its output on the Linux host.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	echoUpper()
	dualStack()
	singleFamily("tcp4", "127.0.0.1:0")
	singleFamily("tcp6", "[::1]:0")
	refused()
	addressInUse()
	httpGet()
	concurrentEcho(50, 64<<10)
	readDeadline()
	localhost()
	socketpair()
	writeAfterPeerClose()
	blockingAccept()
}

// blockingAccept accepts on a blocking listening socket with raw system
// calls (Go's own listeners never block in the kernel): the accept waits
// until a client connects.
func blockingAccept() {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		fail("socket", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		fail("bind", err)
	}
	if err := syscall.Listen(fd, 1); err != nil {
		fail("listen", err)
	}
	sa, _ := syscall.Getsockname(fd)
	got := make(chan string)
	go func() {
		nfd, from, err := syscall.Accept(fd)
		if err == nil {
			syscall.Close(nfd)
		}
		f, ok := from.(*syscall.SockaddrInet4)
		got <- fmt.Sprintf("a connection from 127.0.0.1: %v, %v", ok && f.Addr == [4]byte{127, 0, 0, 1}, err)
	}()
	time.Sleep(50 * time.Millisecond) // the accept is asleep in the kernel by now
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port))
	if err != nil {
		fail("dial", err)
	}
	fmt.Println("blocking accept:", <-got)
	c.Close()
}

// fail reports an unexpected error and stops: the output then differs from
// the host's, and says where.
func fail(what string, err error) {
	fmt.Println(what+":", err)
	os.Exit(1)
}

// ip is the address part of a TCP endpoint, without the port.
func ip(a net.Addr) string { return a.(*net.TCPAddr).IP.String() }

// port is the port part of a listener's address.
func port(ln net.Listener) string { return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) }

// echoUpper: the client writes and half-closes; the server reads to EOF,
// answers in upper case and closes; the client reads the answer to EOF.
func echoUpper() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen", err)
	}
	defer ln.Close()
	fmt.Println("listening on", ip(ln.Addr()))
	serverRead := make(chan string)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			serverRead <- "accept: " + err.Error()
			return
		}
		b, err := io.ReadAll(c) // to the client's CloseWrite
		if err == nil {
			_, err = c.Write(bytes.ToUpper(b))
		}
		c.Close()
		serverRead <- fmt.Sprintf("%q then EOF, err %v", b, err)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fail("dial", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		fail("write", err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		fail("CloseWrite", err)
	}
	got, err := io.ReadAll(c) // to the server's close
	fmt.Println("server read", <-serverRead)
	fmt.Printf("client read %q then EOF, err %v\n", got, err)
}

// dualStack: a listener on ":0" takes both families; the server sees each
// client by its own family's address (an IPv4 client as 127.0.0.1, not as
// ::ffff:127.0.0.1 in its String form).
func dualStack() {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		fail("listen :0", err)
	}
	defer ln.Close()
	fmt.Println("dual-stack listener on", ip(ln.Addr()))
	for _, host := range []string{"127.0.0.1", "::1"} {
		c, err := net.Dial("tcp", net.JoinHostPort(host, port(ln)))
		if err != nil {
			fmt.Printf("dial %s: %v\n", host, err)
			continue
		}
		s, err := ln.Accept()
		if err != nil {
			fail("accept", err)
		}
		fmt.Printf("dial %s: connected; server sees local %s remote %s; client sees local %s remote %s\n",
			host, ip(s.LocalAddr()), ip(s.RemoteAddr()), ip(c.LocalAddr()), ip(c.RemoteAddr()))
		s.Close()
		c.Close()
	}
}

// singleFamily: a listener of one family, dialed with the same network.
func singleFamily(network, addr string) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		fail("listen "+network, err)
	}
	defer ln.Close()
	c, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		fmt.Printf("%s listener on %s: dial: %v\n", network, ip(ln.Addr()), err)
		return
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		fail("accept", err)
	}
	defer s.Close()
	// One byte each way proves the connection carries data.
	c.Write([]byte("x"))
	b := make([]byte, 1)
	_, rerr := io.ReadFull(s, b)
	fmt.Printf("%s listener on %s: connected; server sees remote %s; read %q %v\n", network, ip(ln.Addr()), ip(s.RemoteAddr()), b, rerr)
}

// refused: nothing listens on a port any more.
func refused() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := net.Dial("tcp", addr)
	if c != nil {
		c.Close()
	}
	fmt.Println("dial a closed port: ECONNREFUSED:", errors.Is(err, syscall.ECONNREFUSED))
}

// addressInUse: a second listener on a port that is taken.
func addressInUse() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen", err)
	}
	defer ln.Close()
	ln2, err := net.Listen("tcp", ln.Addr().String())
	if ln2 != nil {
		ln2.Close()
	}
	fmt.Println("listen on a taken port: EADDRINUSE:", errors.Is(err, syscall.EADDRINUSE))
}

// httpGet: net/http's server and client, both ends in this program.
func httpGet() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok "+r.URL.Path)
	})}
	served := make(chan error)
	go func() { served <- srv.Serve(ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/some/path")
	if err != nil {
		fail("http.Get", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("http: %s %q %v\n", resp.Status, body, err)
	http.DefaultClient.CloseIdleConnections()
	srv.Close()
	fmt.Println("http: Serve returned ErrServerClosed:", errors.Is(<-served, http.ErrServerClosed))
}

// concurrentEcho: n clients at once against one echo server, each sending
// size bytes of its own pattern and reading them back.
func concurrentEcho(n, size int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener closed
			}
			go func() {
				// To the client's CloseWrite. This is how most echo
				// servers read: on Linux io.Copy between TCP
				// connections is TCPConn.ReadFrom, which splices
				// through a pipe, and falls back to reads and writes
				// only when splice fails with EINVAL.
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	good := 0
	for i := range n {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte('a' + i%26), byte(i)}, size/2)
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return
			}
			defer c.Close()
			// Write and read at once: the data is more than the
			// buffers on both sides hold.
			wrote := make(chan error, 1)
			go func() {
				_, err := c.Write(data)
				if err == nil {
					err = c.(*net.TCPConn).CloseWrite()
				}
				wrote <- err
			}()
			got, err := io.ReadAll(c)
			if <-wrote == nil && err == nil && bytes.Equal(got, data) {
				mu.Lock()
				good++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	fmt.Printf("echo: %d of %d clients got their %d KiB back\n", good, n, size>>10)
}

// connected returns a listener on 127.0.0.1, a connection to it and the
// connection's accepted end.
func connected() (net.Listener, net.Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen", err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fail("dial", err)
	}
	s, err := ln.Accept()
	if err != nil {
		fail("accept", err)
	}
	return ln, c, s
}

// readDeadline: a read on a connection whose peer stays silent ends at the
// deadline.
func readDeadline() {
	ln, c, s := connected()
	defer ln.Close()
	defer c.Close()
	defer s.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	fmt.Println("read past the deadline:", n, "bytes; ErrDeadlineExceeded:", errors.Is(err, os.ErrDeadlineExceeded),
		"timeout:", errors.As(err, &ne) && ne.Timeout())
}

// localhost: the name resolves through /etc/hosts (if the resolver tries
// ::1 first, that is refused and it goes on to 127.0.0.1).
func localhost() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen", err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", "localhost:"+port(ln))
	if err != nil {
		fmt.Println("dial localhost:", err)
		return
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		fail("accept", err)
	}
	s.Close()
	fmt.Println("dial localhost: connected to", ip(c.RemoteAddr()))
}

// socketpair: a connected pair of Unix stream sockets, used directly
// through system calls: data both ways, then EOF once one end is closed.
func socketpair() {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		fail("socketpair", err)
	}
	buf := make([]byte, 16)
	xfer := func(from, to int, msg string) {
		if _, err := syscall.Write(fds[from], []byte(msg)); err != nil {
			fail("socketpair write", err)
		}
		n, err := syscall.Read(fds[to], buf)
		fmt.Printf("socketpair: %d -> %d: %q %v\n", from, to, buf[:max(n, 0)], err)
	}
	xfer(0, 1, "ping")
	xfer(1, 0, "pong")
	syscall.Close(fds[0])
	n, err := syscall.Read(fds[1], buf)
	fmt.Println("socketpair: read after the other end closed:", n, "bytes, err", err)
	syscall.Close(fds[1])
}

// writeAfterPeerClose: the peer closed its end, so writes soon fail. Which
// error comes first (EPIPE, or ECONNRESET from the peer's reset) depends
// on timing even on Linux, so only the failure is printed.
func writeAfterPeerClose() {
	ln, c, s := connected()
	defer ln.Close()
	defer c.Close()
	s.Close()
	chunk := make([]byte, 1024)
	var err error
	for range 10000 { // a bound, in case writes never fail
		if _, err = c.Write(chunk); err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Println("write after peer close fails:", errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET))
}
