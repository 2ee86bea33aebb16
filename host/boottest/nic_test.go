package boottest

// Boot tests of the network card: for each model rt0 drives, netserve
// (testdata/progs/netserve) comes up by DHCP on QEMU's user network and
// serves net/http to this test through hostfwd; it fetches a file from a
// server this test runs, reached as 10.0.2.2 (QEMU's alias for the host's
// loopback). No traffic leaves this machine: the guest connects only to
// 10.0.2.2, and resolves no name.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"rt0/host/qemu"
)

// blob is the file the guest fetches: 300 KB, not compressible.
var blob = func() []byte {
	b := make([]byte, 300_000)
	x := uint32(1)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}()

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// hostServer serves blob at /blob on the host's loopback, 127.0.0.1 and
// ::1 (QEMU's user network gives the guest the host's loopback as
// 10.0.2.2 and fec0::2), and returns its port.
func hostServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l6, err := net.Listen("tcp", fmt.Sprintf("[::1]:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/blob" {
			http.NotFound(w, r)
			return
		}
		w.Write(blob)
	})}
	go srv.Serve(l)
	go srv.Serve(l6)
	t.Cleanup(func() { srv.Close() })
	return port
}

// hostUDPEcho answers every datagram on the host's loopback with "host
// echo: " and the datagram, and returns its port.
func hostUDPEcho(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		b := make([]byte, 2048)
		for {
			n, from, err := c.ReadFrom(b)
			if err != nil {
				return
			}
			c.WriteTo(append([]byte("host echo: "), b[:n]...), from)
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// guest is a booted netserve, reached through hostfwd.
type guest struct {
	t      *testing.T
	base   string // http://127.0.0.1:PORT
	udp    int    // the host's port forwarded to the guest's UDP 9999
	client *http.Client
	done   chan struct{}
	res    *qemu.Result
	err    error
}

// bootServer boots netserve with one card of model on machine, ip= (if
// not empty) on the command line.
func bootServer(t *testing.T, img, machine, model, ip string) *guest {
	t.Helper()
	port, uport := freePort(t), freePort(t) // (a TCP port free is as good a guess for UDP)
	cfg := qemu.Config{
		Kernel:  img,
		Machine: machine,
		SMP:     1,
		Net: []string{fmt.Sprintf("user,hostfwd=tcp:127.0.0.1:%d-:8080,hostfwd=udp:127.0.0.1:%d-:9999,guestfwd=tcp:10.0.2.100:53-tcp:127.0.0.1:%d,model=%s",
			port, uport, hostDNS(t), model)},
		Timeout: 3 * time.Minute,
	}
	if ip != "" {
		cfg.Append = "ip=" + ip
	}
	g := &guest{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), udp: uport, done: make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	go func() {
		defer close(g.done)
		g.res, g.err = qemu.Run(context.Background(), cfg)
	}()
	t.Cleanup(func() {
		g.get("/quit")
		<-g.done
	})
	// Until netserve listens, QEMU accepts each connection and drops it.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		body, err := g.get("/hello")
		if err == nil && body == "hello from rt0\n" {
			return g
		}
		select {
		case <-g.done:
			g.fail("netserve ended before it served: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			g.fail("no answer from netserve in 2 minutes: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (g *guest) get(path string) (string, error) {
	r, err := g.client.Get(g.base + path)
	if err != nil {
		return "", err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err == nil && r.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s", r.Status)
	}
	return string(b), err
}

// fail stops the machine and the test, with the guest's logs.
func (g *guest) fail(format string, args ...any) {
	g.t.Helper()
	g.client.Get(g.base + "/quit")
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
	}
	if g.res != nil {
		g.t.Logf("serial:\n%s\ndebugcon:\n%s", g.res.Serial, g.res.Debug)
	}
	g.t.Fatalf(format, args...)
}

// quit asks netserve to exit and returns its machine's result.
func (g *guest) quit() *qemu.Result {
	g.t.Helper()
	if body, err := g.get("/quit"); err != nil || body != "bye\n" {
		g.fail("/quit: %q %v", body, err)
	}
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
		g.fail("netserve did not exit after /quit")
	}
	if g.err != nil {
		g.t.Fatalf("qemu: %v", g.err)
	}
	return g.res
}

func TestBootNIC(t *testing.T) {
	img := Build(t, "testdata/progs/netserve")
	for _, c := range []struct{ machine, model, mac, card string }{
		{"pc", "virtio-net-pci", "52:54:00:12:34:56", "virtio-net"},
		{"pc", "e1000", "52:54:00:12:34:56", "e1000 82540EM"},
		{"q35", "e1000e", "52:54:00:12:34:56", "e1000e 82574L"},
	} {
		t.Run(c.model, func(t *testing.T) {
			hostPort, echoPort := hostServer(t), hostUDPEcho(t)
			g := bootServer(t, img, c.machine, c.model, "")

			// The guest fetches from the host: byte for byte.
			body, err := g.get(fmt.Sprintf("/fetch?url=http://10.0.2.2:%d/blob", hostPort))
			if want := fmt.Sprintf("200 OK %d %x <nil>\n", len(blob), sha256.Sum256(blob)); err != nil || body != want {
				g.fail("fetch from the host: %q %v, want %q", body, err, want)
			}
			// IPv6 by SLAAC from QEMU's router advertisements: the
			// interface gets fec0::/64 and a link-local address (EUI-64
			// both), and the guest fetches from the host over IPv6.
			deadline := time.Now().Add(30 * time.Second)
			for {
				body, err = g.get("/interfaces")
				if err == nil && strings.Contains(body, " fec0::") || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			eui := eui64(c.mac)
			if want := "interface eth0 " + c.mac + " up|broadcast|multicast|running [10.0.2.15/24 fec0::" + eui + "/64 fe80::" + eui + "/64]\n"; err != nil || !strings.Contains(body, want) {
				g.fail("interfaces:\n%s(%v)\nwant the line %q", body, err, want)
			}
			if want := "interface lo  up|loopback|running [127.0.0.1/8 ::1/128]\n"; !strings.HasPrefix(body, want) {
				g.fail("interfaces:\n%s\nwant first %q", body, want)
			}
			body, err = g.get(fmt.Sprintf("/fetch?url=http://[fec0::2]:%d/blob", hostPort))
			if want := fmt.Sprintf("200 OK %d %x <nil>\n", len(blob), sha256.Sum256(blob)); err != nil || body != want {
				g.fail("fetch from the host over IPv6: %q %v, want %q", body, err, want)
			}
			// The host fetches from the guest: 1 MB.
			body, err = g.get("/blob?n=1000000")
			want := make([]byte, 1_000_000)
			for i := range want {
				want[i] = byte(i * 7 % 251)
			}
			if err != nil || !bytes.Equal([]byte(body), want) {
				g.fail("1 MB from the guest: %d bytes, %v", len(body), err)
			}
			// 200 requests one after another, each its own connection.
			for i := range 200 {
				if body, err := g.get("/hello"); err != nil || body != "hello from rt0\n" {
					g.fail("sequential request %d: %q %v", i, body, err)
				}
			}
			// 50 at once: 50 connections open together, each with its
			// request in flight. (They are opened one after another:
			// QEMU's hostfwd listens with a backlog of 1, so the host
			// drops the SYNs of connections opened all at once and retries
			// them after 1, 3, 7... s; a Linux guest sees the same.)
			conns := make([]net.Conn, 50)
			for i := range conns {
				c, err := net.DialTimeout("tcp", strings.TrimPrefix(g.base, "http://"), 30*time.Second)
				if err != nil {
					g.fail("connection %d: %v", i, err)
				}
				defer c.Close()
				conns[i] = c
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(conns))
			for i, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.SetDeadline(time.Now().Add(60 * time.Second))
					fmt.Fprintf(c, "GET /blob?n=%d HTTP/1.1\r\nHost: rt0\r\nConnection: close\r\n\r\n", 1000+i)
					r, err := http.ReadResponse(bufio.NewReader(c), nil)
					if err != nil {
						errs <- fmt.Errorf("concurrent request %d: %v", i, err)
						return
					}
					b, err := io.ReadAll(r.Body)
					if err != nil || len(b) != 1000+i || !bytes.Equal(b, want[:1000+i]) {
						errs <- fmt.Errorf("concurrent request %d: %d bytes, %v", i, len(b), err)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				g.fail("%v", err)
			}
			// A name, resolved by Go's resolver from the DNS server this
			// test runs (10.0.2.100:53 in the guest, by guestfwd).
			body, err = g.get("/resolve?name=rt0.test&server=10.0.2.100")
			if want := "[192.0.2.7 2001:db8::7] <nil>\n"; err != nil || body != want {
				g.fail("resolving rt0.test: %q %v, want %q", body, err, want)
			}
			// UDP, the guest asking: to the host's echo server and back.
			body, err = g.get(fmt.Sprintf("/udp?addr=10.0.2.2:%d&msg=ping", echoPort))
			if want := fmt.Sprintf("from 10.0.2.2:%d: host echo: ping\n", echoPort); err != nil || body != want {
				g.fail("UDP from the guest: %q %v, want %q", body, err, want)
			}
			// UDP, the host asking: the guest's echo on port 9999.
			if got, err := udpAsk(g.udp, "hi guest"); err != nil || got != "echo: hi guest" {
				g.fail("UDP to the guest: %q %v", got, err)
			}
			res := g.quit()
			if res.ExitCode != 0 {
				t.Fatalf("exit %d\nserial:\n%s\ndebugcon:\n%s", res.ExitCode, res.Serial, res.Debug)
			}
			wantContains(t, "output", res.Serial, "serving on [::]:8080\n", "quit\n")
			wantContains(t, "kernel log", res.Debug, "rt0: net: eth0 (", "): 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3 (DHCP from 10.0.2.2) up in ")
			if want := "rt0: net: eth0 (" + c.card + " " + c.mac + "): "; !strings.Contains(string(res.Debug), want) {
				t.Errorf("kernel log has no %q:\n%s", want, res.Debug)
			}
		})
	}
}

// udpAsk sends msg to 127.0.0.1:port and returns the answer (5 s, three
// tries: QEMU forwards only once the guest is up, and UDP may lose one).
func udpAsk(port int, msg string) (string, error) {
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return "", err
	}
	defer c.Close()
	b := make([]byte, 2048)
	for range 3 {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err = c.Write([]byte(msg)); err != nil {
			continue
		}
		var n int
		if n, err = c.Read(b); err == nil {
			return string(b[:n]), nil
		}
	}
	return "", err
}

// A static address from the kernel's ip= parameter (Linux's syntax):
// no DHCP, the address, route and DNS server as given.
func TestBootNICStatic(t *testing.T) {
	img := Build(t, "testdata/progs/netserve")
	hostPort := hostServer(t)
	g := bootServer(t, img, "pc", "virtio-net-pci", "10.0.2.15::10.0.2.2:255.255.255.0::eth0:off:10.0.2.3")
	body, err := g.get(fmt.Sprintf("/fetch?url=http://10.0.2.2:%d/blob", hostPort))
	if want := fmt.Sprintf("200 OK %d %x <nil>\n", len(blob), sha256.Sum256(blob)); err != nil || body != want {
		g.fail("fetch from the host: %q %v, want %q", body, err, want)
	}
	body, err = g.get("/interfaces")
	if want := "interface eth0 52:54:00:12:34:56 up|broadcast|multicast|running [10.0.2.15/24"; err != nil || !strings.Contains(body, want) {
		g.fail("interfaces:\n%s(%v)\nwant %q", body, err, want)
	}
	res := g.quit()
	wantContains(t, "kernel log", res.Debug, "): 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3 (ip=) up in ")
}

// Without a network the program runs with the loopback, and the kernel
// log says why: no card; a card but no DHCP answer (a socket network
// nobody is at the other end of); ip=off; ip= that is not Linux's syntax.
func TestBootNICAbsent(t *testing.T) {
	img := Build(t, "testdata/progs/netsmoke")
	quiet, err := net.ListenPacket("udp", "127.0.0.1:0") // receives the guest's frames, answers none
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	silent := fmt.Sprintf("socket,udp=%s,localaddr=127.0.0.1:%d", quiet.LocalAddr(), freePort(t))
	for _, c := range []struct {
		name, net, append, log string
	}{
		{"no card", "", "", "rt0: net: no network card: the program has the loopback only\n"},
		{"no DHCP answer", silent, "", "rt0: net: eth0: DHCP: DHCPDISCOVER: no answer in 4s: the program has the loopback only\n"},
		{"ip=off", "user,restrict=on", "ip=off", "rt0: net: ip=off: no network\n"},
		{"bad ip=", "user,restrict=on", "ip=10.0.2.300", "rt0: net: ip=10.0.2.300: client-ip \"10.0.2.300\" is not an IPv4 address: the program has the loopback only\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := qemu.Config{SMP: 1, Append: c.append}
			if c.net != "" {
				cfg.Net = []string{c.net}
			}
			res := Boot(t, img, cfg)
			if res.ExitCode != 0 {
				t.Fatalf("exit %d", res.ExitCode)
			}
			wantContains(t, "kernel log", res.Debug, c.log)
			if want := "if 1 lo  up|loopback|running [127.0.0.1/8 ::1/128]\n"; string(res.Serial) != want {
				t.Errorf("output %q, want %q", res.Serial, want)
			}
		})
	}
}

// eui64 is the interface identifier SLAAC makes of a MAC (RFC 4291
// appendix A), as Linux prints it: 52:54:00:12:34:56 -> 5054:ff:fe12:3456.
func eui64(mac string) string {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		panic(err)
	}
	id := [8]byte{hw[0] ^ 2, hw[1], hw[2], 0xff, 0xfe, hw[3], hw[4], hw[5]}
	ip := make(net.IP, 16)
	copy(ip[8:], id[:])
	return strings.TrimPrefix(ip.String(), "::")
}

// hostDNS answers DNS queries over TCP on the host's loopback (RFC 1035
// 4.2.2: each message after its 2-byte length) for one name, rt0.test:
// 192.0.2.7 and 2001:db8::7 (documentation addresses), NXDOMAIN for
// others. It returns the port.
func hostDNS(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					// QEMU's guestfwd connects once, when it starts, and
					// carries every guest connection to 10.0.2.100:53 on
					// this one: no deadline.
					var n [2]byte
					if _, err := io.ReadFull(c, n[:]); err != nil {
						return
					}
					q := make([]byte, int(n[0])<<8|int(n[1]))
					if _, err := io.ReadFull(c, q); err != nil {
						return
					}
					a, err := dnsAnswer(q)
					if err != nil {
						return
					}
					c.Write(append([]byte{byte(len(a) >> 8), byte(len(a))}, a...))
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func dnsAnswer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	h.Response, h.Authoritative, h.RecursionAvailable = true, true, true
	b := dnsmessage.NewBuilder(nil, h)
	b.EnableCompression()
	ours := strings.EqualFold(q.Name.String(), "rt0.test.")
	if !ours {
		h.RCode = dnsmessage.RCodeNameError
		b = dnsmessage.NewBuilder(nil, h)
	}
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	switch {
	case ours && q.Type == dnsmessage.TypeA:
		b.AResource(rh, dnsmessage.AResource{A: [4]byte{192, 0, 2, 7}})
	case ours && q.Type == dnsmessage.TypeAAAA:
		b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 7}})
	}
	return b.Finish()
}
