// console is a small shell for a PC booted with rt0: type a command, get an
// answer, see the Go runtime alive on bare metal. Commands: help, mem,
// goroutines, gc, uptime, time, smbios, acpi, echo WORDS, exit [CODE].
//
// smbios and acpi show the machine's firmware tables through u-root's
// pkg/smbios and pkg/acpi, unmodified: they read the files Linux exports
// under /sys/firmware, and rt0's kernel creates the same files at boot.
package main

// Its banner names the CPU count, which the machine decides:
//
//rt0diff:smp-varies ^rt0 console: Go \S+ on linux/amd64, \d+ CPU, GOMAXPROCS \d+\. Type help\.$

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/u-root/u-root/pkg/acpi"
	"github.com/u-root/u-root/pkg/smbios"
)

var start = time.Now()

func main() {
	fmt.Printf("rt0 console: Go %s on %s/%s, %d CPU, GOMAXPROCS %d. Type help.\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	in := bufio.NewScanner(os.Stdin)
	for {
		fmt.Print("> ")
		if !in.Scan() {
			fmt.Println()
			return
		}
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "help":
			fmt.Println("help, mem, goroutines, gc, uptime, time, smbios, acpi, echo WORDS, exit [CODE]")
		case "mem":
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Printf("heap %d KiB in use, %d KiB from the system, %d GCs\n", m.HeapInuse>>10, m.Sys>>10, m.NumGC)
		case "goroutines":
			done := make(chan bool)
			for i := 0; i < 100; i++ {
				go func() { <-done }()
			}
			n := runtime.NumGoroutine()
			close(done)
			fmt.Printf("%d goroutines (100 started for the count)\n", n)
		case "gc":
			t := time.Now()
			runtime.GC()
			fmt.Printf("GC took %v\n", time.Since(t).Round(time.Microsecond))
		case "uptime":
			fmt.Printf("up %v\n", time.Since(start).Round(time.Millisecond))
		case "time":
			fmt.Println(time.Now().UTC().Format(time.RFC1123))
		case "smbios":
			showSMBIOS()
		case "acpi":
			showACPI()
		case "echo":
			fmt.Println(strings.Join(f[1:], " "))
		case "exit":
			code := 0
			if len(f) > 1 {
				code, _ = strconv.Atoi(f[1])
			}
			os.Exit(code)
		default:
			fmt.Printf("%s: unknown command (try help)\n", f[0])
		}
	}
}

// showSMBIOS names the firmware and the machine, from the SMBIOS tables in
// /sys/firmware/dmi/tables.
func showSMBIOS() {
	info, err := smbios.FromSysfs()
	if err != nil {
		fmt.Println("smbios:", err)
		return
	}
	fmt.Println(info)
	if b, err := info.GetBIOSInfo(); err == nil {
		fmt.Printf("BIOS: %s, version %s (%s)\n", b.Vendor, b.Version, b.ReleaseDate)
	}
	if s, err := info.GetSystemInfo(); err == nil {
		fmt.Printf("system: %s, %s\n", s.Manufacturer, s.ProductName)
	}
}

// showACPI lists the ACPI tables in /sys/firmware/acpi/tables: signature,
// length, revision, the OEM that made each, and whether its bytes add up to
// zero, as a table's must.
func showACPI() {
	tabs, err := acpi.RawTablesFromSys()
	if err != nil {
		fmt.Println("acpi:", err)
		return
	}
	for _, t := range tabs {
		if t.Sig() == "FACS" {
			// The odd one out: the OS writes into the FACS (the waking
			// vector, the global lock), so it has neither the common
			// header past its length nor a checksum.
			fmt.Printf("%s %6d bytes\n", t.Sig(), t.Len())
			continue
		}
		var sum byte
		for _, b := range t.Data() {
			sum += b
		}
		check := "ok"
		if sum != 0 {
			check = "BAD"
		}
		fmt.Printf("%s %6d bytes, revision %d, OEM %s %s, checksum %s\n", t.Sig(), t.Len(), t.Revision(), t.OEMID(), t.OEMTableID(), check)
	}
}
