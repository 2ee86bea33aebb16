// Netserve is a net/http server for the network's boot tests: it says how
// the interface came up, serves on :8080 until /quit, and on request
// fetches a URL, dials TCP or echoes UDP (the host test drives it).
//
//	GET /hello           "hello from rt0\n"
//	GET /blob?n=N        N bytes: byte i is i*7 mod 251
//	GET /fetch?url=U     fetches U and answers its status, length and SHA-256
//	GET /quit            answers, then the program exits 0
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	ifs, err := net.Interfaces()
	if err != nil {
		fmt.Println("interfaces:", err)
	}
	for _, i := range ifs {
		a, _ := i.Addrs()
		fmt.Printf("interface %s %s %v %v\n", i.Name, i.HardwareAddr, i.Flags, a)
	}
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
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "bye\n")
		close(quit)
	})
	fmt.Println("serving on", ln.Addr())
	go http.Serve(ln, mux)
	<-quit
	time.Sleep(100 * time.Millisecond) // let /quit's answer go out
	fmt.Println("quit")
}
