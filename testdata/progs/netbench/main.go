// Netbench is the guest side of the network benchmark (go run ./host/bench
// -only net): the same program on rt0 and as the init of a Linux guest, a
// net/http server on :8080 that the host loads.
//
//	GET  /small          "ok\n" (requests per second)
//	POST /sink           reads the body, answers its length (host to guest)
//	GET  /source?n=N     N bytes (guest to host)
//	GET  /quit           answers, then the program exits (Linux: powers off)
//
// On Linux it first brings its network up itself, as an initramfs would:
// the virtio modules (the cloud kernel has them as modules), then eth0 at
// 10.0.2.15/24 with its default route through 10.0.2.2 (linux.go). On rt0
// the kernel's DHCP did it.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if _, err := os.Stat("/dev/rt0net"); err != nil {
		if err := linuxUp(); err != nil {
			fmt.Println("netbench: bringing Linux's network up:", err)
			end(1)
		}
	}
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		fmt.Println("netbench:", err)
		end(1)
	}
	quit := make(chan struct{})
	zeros := make([]byte, 256<<10)
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/sink", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.CopyBuffer(io.Discard, r.Body, zeros[:64<<10])
		fmt.Fprintf(w, "%d %v\n", n, err)
	})
	mux.HandleFunc("/source", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		for n > 0 {
			k := min(n, int64(len(zeros)))
			if _, err := w.Write(zeros[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "bye\n")
		close(quit)
	})
	go http.Serve(ln, mux)
	fmt.Println("netbench ready")
	<-quit
	time.Sleep(100 * time.Millisecond)
	end(0)
}

// end exits; as Linux's init, it powers the machine off instead (init may
// not exit).
func end(code int) {
	if os.Getpid() == 1 {
		syscall.Sync()
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	}
	os.Exit(code)
}
