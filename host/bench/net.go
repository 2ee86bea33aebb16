package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"rt0/host/linuxguest"
	"rt0/host/qemu"
)

// netVs measures the network (-only net): testdata/progs/netbench on rt0
// and as the init of a Linux guest (the same binary; Debian's cloud kernel
// with its virtio-net modules), -runs pairs in turn, the same QEMU (TCG,
// -cpu max -m 512M, -smp -linux-smp, the user network with a hostfwd to
// the guest's :8080, model -net-model). From the host, in each boot: a
// -net-mib POST (host to guest), a -net-mib GET (guest to host), and
// -net-rps-time of GET /small from 8 keep-alive connections (requests per
// second). Medians [min-max] and rt0/Linux (higher is better).
func netVs(dir string) {
	ctx := context.Background()
	kernel, err := linuxguest.Kernel(ctx)
	check(err)
	img, plain := buildBoth(dir, "./testdata/progs/netbench")
	mods := map[string]string{}
	for _, m := range []string{
		"kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
		"kernel/drivers/virtio/virtio_pci_modern_dev.ko", "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
		"kernel/drivers/virtio/virtio_pci.ko", "kernel/net/core/failover.ko",
		"kernel/drivers/net/net_failover.ko", "kernel/drivers/net/virtio_net.ko",
	} {
		mods[path.Join("lib/modules", linuxguest.Release(kernel), m)] = filepath.Join(linuxguest.ModulesDir(kernel), m)
	}
	initrd := filepath.Join(dir, "netbench.cpio")
	check(linuxguest.InitramfsWith(plain, initrd, mods))

	type metric struct{ name, unit string }
	metrics := []metric{{"TCP host->guest", "MB/s"}, {"TCP guest->host", "MB/s"}, {"HTTP small", "req/s"}}
	res := map[string][][]float64{"rt0": make([][]float64, 3), "linux": make([][]float64, 3)}
	for i := 0; i < *runs; i++ {
		for _, side := range []string{"rt0", "linux"} {
			v, err := netRun(ctx, side, img, kernel, initrd)
			check(err, side+" run")
			for k := range v {
				res[side][k] = append(res[side][k], v[k])
			}
		}
		fmt.Fprintf(os.Stderr, "bench: pair %d of %d done\n", i+1, *runs)
	}
	fmt.Printf("network, rt0 vs Linux (%s, %s), same QEMU: -accel tcg -cpu max -m 512M -smp %d, -nic user,model=%s; %d pairs, median [min-max]\n",
		filepath.Base(kernel), goVersion(), *linuxSMP, *netModel, *runs)
	fmt.Printf("%-18s %28s %28s %10s\n", "measure", "rt0", "Linux", "rt0/Linux")
	for k, m := range metrics {
		a, b := res["rt0"][k], res["linux"][k]
		ratio := fmt.Sprintf("%10.2f", medianF(a)/medianF(b))
		if noisy(a) || noisy(b) {
			ratio = "     noisy"
		}
		fmt.Printf("%-18s %22s %5s %22s %5s %s\n", m.name, spread(a), m.unit, spread(b), m.unit, ratio)
	}
	fmt.Printf("(%d MiB each way; %v of GET /small from 8 connections)\n", *netMiB, *netRPSTime)
}

var (
	netMiB     = flag.Int("net-mib", 100, "MiB each way in -only net")
	netRPSTime = flag.Duration("net-rps-time", 10*time.Second, "how long -only net loads GET /small")
	netModel   = flag.String("net-model", "virtio-net-pci", "the card of -only net (the Linux guest's cloud kernel drives virtio-net only)")
)

// netRun boots one side and measures it.
func netRun(ctx context.Context, side, img, kernel, initrd string) ([3]float64, error) {
	var v [3]float64
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return v, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	m := qemu.Config{Accel: qemu.AccelTCG, CPU: "max", Memory: "512M", SMP: *linuxSMP,
		Net: []string{fmt.Sprintf("user,hostfwd=tcp:127.0.0.1:%d-:8080,model=%s", port, *netModel)}}
	type result struct {
		r   *qemu.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r *qemu.Result
		var err error
		if side == "rt0" {
			c := m
			c.Kernel, c.Timeout = img, 10*time.Minute
			r, err = qemu.Run(ctx, c)
		} else {
			r, err = linuxguest.Run(ctx, kernel, initrd, linuxguest.Config{Machine: m, Timeout: 10 * time.Minute})
		}
		done <- result{r, err}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 5 * time.Minute}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r, err := client.Get(base + "/small")
		if err == nil {
			io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		select {
		case res := <-done:
			return v, fmt.Errorf("the guest ended before serving (%v):\n%s", res.err, serialOf(res.r))
		default:
		}
		if time.Now().After(deadline) {
			client.Get(base + "/quit")
			return v, errors.New("the guest did not serve in 3 minutes")
		}
		time.Sleep(300 * time.Millisecond)
	}
	n := int64(*netMiB) << 20
	// Host to guest.
	t0 := time.Now()
	r, err := client.Post(base+"/sink", "application/octet-stream", io.LimitReader(zeroReader{}, n))
	if err != nil {
		return v, err
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.HasPrefix(string(body), fmt.Sprintf("%d <nil>", n)) {
		return v, fmt.Errorf("POST /sink: %q", body)
	}
	v[0] = float64(n) / 1e6 / time.Since(t0).Seconds()
	// Guest to host.
	t0 = time.Now()
	r, err = client.Get(fmt.Sprintf("%s/source?n=%d", base, n))
	if err != nil {
		return v, err
	}
	got, err := io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if err != nil || got != n {
		return v, fmt.Errorf("GET /source: %d bytes, %v", got, err)
	}
	v[1] = float64(n) / 1e6 / time.Since(t0).Seconds()
	// Requests per second: 8 connections, each a request at a time.
	var count atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(*netRPSTime)
	errc := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second)
			if err != nil {
				errc <- err
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for time.Now().Before(stop) {
				c.SetDeadline(time.Now().Add(time.Minute))
				if _, err := io.WriteString(c, "GET /small HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
					errc <- err
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					errc <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				count.Add(1)
			}
		}()
	}
	t0 = time.Now()
	wg.Wait()
	v[2] = float64(count.Load()) / time.Since(t0).Seconds()
	close(errc)
	for err := range errc {
		return v, fmt.Errorf("GET /small: %v", err)
	}
	client.Get(base + "/quit")
	select {
	case res := <-done:
		if res.err != nil {
			return v, res.err
		}
	case <-time.After(time.Minute):
		return v, errors.New("the guest did not stop after /quit")
	}
	return v, nil
}

func serialOf(r *qemu.Result) string {
	if r == nil {
		return ""
	}
	return string(r.Serial)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
