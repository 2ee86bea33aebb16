// Netserve is a net/http server for the network's boot tests: it serves
// on :8080 until /quit, and on request lists the interfaces, fetches a
// URL or sends UDP (the host test drives it).
//
//	GET /hello           "hello from rt0\n"
//	GET /interfaces      net.Interfaces, a line each: name, MAC, flags, addresses
//	GET /blob?n=N        N bytes: byte i is i*7 mod 251
//	GET /fetch?url=U     fetches U and answers its status, length and SHA-256
//	GET /udp?addr=A&msg=M  sends M to UDP address A, answers the reply (5 s)
//	GET /resolve?name=N&server=S  resolves N with Go's resolver asking S (by
//	                     TCP: /etc/resolv.conf rewritten), answers the addresses
//	GET /stacks          every goroutine's stack (the network's among them)
//	GET /quit            answers, then the program exits 0
//	UDP :9999            echoes every datagram back, "echo: " before it;
//	                     "quit" ends the program as /quit does
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"rt0/guest/net/netstack"
)

func main() {
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	quit := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from rt0\n")
	})
	mux.HandleFunc("/interfaces", func(w http.ResponseWriter, r *http.Request) {
		ifs, err := net.Interfaces()
		if err != nil {
			fmt.Fprintln(w, "interfaces:", err)
		}
		for _, i := range ifs {
			a, _ := i.Addrs()
			fmt.Fprintf(w, "interface %s %s %v %v\n", i.Name, i.HardwareAddr, i.Flags, a)
		}
	})
	mux.HandleFunc("/blob", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7 % 251)
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(b)
	})
	mux.HandleFunc("/fetch", func(w http.ResponseWriter, r *http.Request) {
		c := &http.Client{Timeout: 20 * time.Second}
		resp, err := c.Get(r.URL.Query().Get("url"))
		if err != nil {
			fmt.Fprintf(w, "error %v\n", err)
			return
		}
		defer resp.Body.Close()
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		fmt.Fprintf(w, "%s %d %x %v\n", resp.Status, n, h.Sum(nil), err)
	})
	mux.HandleFunc("/udp", func(w http.ResponseWriter, r *http.Request) {
		c, err := net.Dial("udp", r.URL.Query().Get("addr"))
		if err != nil {
			fmt.Fprintf(w, "error %v\n", err)
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(r.URL.Query().Get("msg"))); err != nil {
			fmt.Fprintf(w, "error %v\n", err)
			return
		}
		b := make([]byte, 2048)
		n, err := c.Read(b)
		if err != nil {
			fmt.Fprintf(w, "error %v\n", err)
			return
		}
		fmt.Fprintf(w, "from %v: %s\n", c.RemoteAddr(), b[:n])
	})
	mux.HandleFunc("/resolve", func(w http.ResponseWriter, r *http.Request) {
		conf := "nameserver " + r.URL.Query().Get("server") + "\noptions use-vc single-request attempts:1 timeout:5\n"
		if err := os.WriteFile("/etc/resolv.conf", []byte(conf), 0o644); err != nil {
			fmt.Fprintf(w, "error %v\n", err)
			return
		}
		addrs, err := net.LookupHost(r.URL.Query().Get("name"))
		slices.Sort(addrs) // the resolver orders them by RFC 6724, which the interface's addresses decide
		fmt.Fprintf(w, "%v %v\n", addrs, err)
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, netstack.Stats())
	})
	mux.HandleFunc("/stacks", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1<<20)
		w.Write(b[:runtime.Stack(b, true)])
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "bye\n")
		close(quit)
	})
	pc, err := net.ListenPacket("udp", ":9999")
	if err != nil {
		fmt.Println("listen udp:", err)
		os.Exit(1)
	}
	go func() {
		b := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte("echo: "), b[:n]...), from)
			if string(b[:n]) == "quit" {
				close(quit)
				return
			}
		}
	}()
	fmt.Println("serving on", ln.Addr())
	go http.Serve(ln, mux)
	<-quit
	time.Sleep(100 * time.Millisecond) // let /quit's answer go out
	fmt.Println("quit")
}
