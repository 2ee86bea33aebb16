// pcifiles lists the PCI devices the way a Go program finds them on Linux:
// the directories of /sys/bus/pci/devices and their vendor, device and
// class files, one line each, sorted by address.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	ents, err := os.ReadDir("/sys/bus/pci/devices")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	for _, e := range ents {
		var f []string
		for _, name := range []string{"vendor", "device", "class"} {
			b, err := os.ReadFile(filepath.Join("/sys/bus/pci/devices", e.Name(), name))
			if err != nil {
				f = append(f, err.Error())
				continue
			}
			f = append(f, strings.TrimSpace(string(b)))
		}
		fmt.Println(e.Name(), strings.Join(f, " "))
	}
}
