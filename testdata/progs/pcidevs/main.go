// Pcidevs checks the kernel's files for drivers in user space
// (rt0/guest/net/pcidev) on every PCI function of the machine: it prints
// each function's BARs from the resource file, reads its vendor and device
// IDs back through the config file, maps its memory BARs and reads their
// first register, and finds the frames of fresh DMA memory in
// /proc/self/pagemap. With -irq, it also waits for the first interrupt of
// each function that has a uio device, after making the device interrupt
// (an e1000's Interrupt Cause Set register).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"rt0/guest/net/pcidev"
)

func main() {
	irq := flag.Bool("irq", false, "make each e1000 interrupt and wait for it")
	flag.Parse()
	devs, err := pcidev.List()
	if err != nil {
		fmt.Println("list:", err)
		os.Exit(1)
	}
	for _, d := range devs {
		v, err1 := d.ReadConfig(0, 2)
		id, err2 := d.ReadConfig(2, 2)
		fmt.Printf("%s: %04x:%04x class %06x, config %04x:%04x %v %v\n", d.Name, d.Vendor, d.Device, d.Class, v, id, err1, err2)
		bars, err := d.BARs()
		if err != nil {
			fmt.Println("  resource:", err)
			continue
		}
		for i, b := range bars {
			if b.Size == 0 {
				continue
			}
			fmt.Printf("  BAR%d %#x size %#x io=%v\n", i, b.Start, b.Size, b.IO)
			if !b.IO {
				m, err := d.MapBAR(i)
				if err != nil {
					fmt.Println("  map:", err)
					continue
				}
				fmt.Printf("  BAR%d word 0: %#x\n", i, m.Read32(0))
			}
		}
		if d.Vendor == 0x8086 && (d.Device == 0x100e || d.Device == 0x10d3) && *irq {
			waitIRQ(d)
		}
	}
	m, err := pcidev.AllocDMA(3 * 4096)
	if err != nil {
		fmt.Println("dma:", err)
		os.Exit(1)
	}
	fmt.Printf("dma: 3 pages, first frame nonzero %v, page aligned %v\n", m.Phys(0) != 0, m.Phys(0)%4096 == 0)
}

// waitIRQ makes an e1000 raise an interrupt through its Interrupt Cause
// Set register (ICS, 0xC8) with the cause unmasked (IMS, 0xD0), and waits
// for it on /dev/uioN.
func waitIRQ(d *pcidev.Dev) {
	q, err := d.OpenIRQ()
	if err != nil {
		fmt.Println("  irq:", err)
		return
	}
	if err := d.Enable(); err != nil {
		fmt.Println("  enable:", err)
		return
	}
	m, err := d.MapBAR(0)
	if err != nil {
		fmt.Println("  map:", err)
		return
	}
	done := make(chan uint32, 1)
	go func() {
		n, err := q.Wait()
		if err != nil {
			fmt.Println("  wait:", err)
		}
		done <- n
	}()
	time.Sleep(50 * time.Millisecond)
	m.Write32(0xD0, 1<<2) // IMS: LSC
	m.Write32(0xC8, 1<<2) // ICS: LSC
	select {
	case n := <-done:
		fmt.Printf("  interrupt %d\n", n)
		m.Read32(0xC0) // ICR: read clears the cause, the line drops
		m.Write32(0xD8, ^uint32(0))
		if err := q.Enable(); err != nil {
			fmt.Println("  irq enable:", err)
		}
	case <-time.After(5 * time.Second):
		fmt.Println("  no interrupt in 5 s")
	}
}
