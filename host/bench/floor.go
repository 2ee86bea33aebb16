package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"rt0/host/linuxguest"
	"rt0/host/qemu"
)

// floorImage writes the smallest kernel QEMU boots the way it boots rt0
// (-kernel, multiboot v1): a header with the a.out kludge's addresses and
// three instructions that write 0 to isa-debug-exit. Booting it measures
// what no kernel can save: QEMU's own start, the firmware, the loader.
func floorImage(path string) {
	const load = 0x100000
	b := make([]byte, 48)
	magic, flags := uint32(0x1BADB002), uint32(1<<16) // the address fields are valid
	for i, v := range []uint32{magic, flags, -(magic + flags), load, load, 0, 0, load + 32} {
		binary.LittleEndian.PutUint32(b[4*i:], v) // header, load, load_end (the file), bss_end, entry
	}
	copy(b[32:], []byte{
		0x66, 0xBA, 0xF4, 0x00, // mov dx, 0xf4 (isa-debug-exit)
		0x31, 0xC0, // xor eax, eax
		0xEF,       // out dx, eax
		0xF4,       // hlt
		0xEB, 0xFD, // jmp hlt
	})
	check(os.WriteFile(path, b, 0o644))
}

// bootVsFloor compares QEMU start -> exit of hello with the floor image's,
// paired runs (hello, floor, hello, floor ...), same QEMU flags.
func bootVsFloor(dir, img string) {
	floor := filepath.Join(dir, "floor.bin")
	floorImage(floor)
	var hello, outs, fl []time.Duration
	for i := 0; i < *runs; i++ {
		w := &firstSeen{start: time.Now(), want: *want}
		res, err := qemu.Run(context.Background(), qemu.Config{Kernel: img, Serial: w, Timeout: time.Minute, Accel: qemu.AccelTCG})
		check(err)
		if res.ExitCode != 0 || w.at == 0 {
			check(fmt.Errorf("boot %d failed: exit %d\n%s\n%s", i, res.ExitCode, res.Serial, res.Debug))
		}
		hello, outs = append(hello, res.Wall), append(outs, w.at)
		res, err = qemu.Run(context.Background(), qemu.Config{Kernel: floor, Timeout: time.Minute, Accel: qemu.AccelTCG})
		check(err)
		fl = append(fl, res.Wall)
	}
	h, f := median(hello), median(fl)
	fmt.Printf("boot vs the floor (QEMU TCG, default -smp and -m, %d pairs, median [min-max])\n", *runs)
	fmt.Printf("  hello: QEMU start -> %q %v, -> exit %v [%v-%v]\n", *want, median(outs), h, minD(hello), maxD(hello))
	fmt.Printf("  floor (exits at its first instruction): QEMU start -> exit %v [%v-%v]\n", f, minD(fl), maxD(fl))
	fmt.Printf("  hello / floor: %.2f\n", float64(h)/float64(f))
	fmt.Printf("  1.3x the floor leaves %v for the kernel, the runtime's start and main.main\n", (f * 3 / 10).Round(100*time.Microsecond))
}

// coldRE is one coldstart line of a run whose program exited 0 (a
// failed run prints its error instead of <nil> and is not counted).
var coldRE = regexp.MustCompile(`coldstart: run (\d): first output (\d+) us, exit (\d+) us \(<nil>\)`)

// linuxColdStart boots a Linux guest (host/linuxguest, the same QEMU
// flags as bootVsFloor's) whose init, testdata/progs/coldstart, starts
// the same program three times and times fork+exec -> its first output:
// the Go runtime's own start under this emulator, with Linux's exec in
// front of it instead of rt0. The first run is cold (every instruction
// translated for the first time, as in a boot); the third reuses the
// translations, so the difference is TCG's translation.
func linuxColdStart(dir, plain string) {
	ctx := context.Background()
	kernel, err := linuxguest.Kernel(ctx)
	check(err)
	cs := filepath.Join(dir, "coldstart")
	linuxBuild("./testdata/progs/coldstart", cs)
	initrd := filepath.Join(dir, "coldstart.cpio")
	check(linuxguest.InitramfsWith(cs, initrd, map[string]string{"prog": plain}))
	var cold, warm []time.Duration
	for i := 0; i < *runs; i++ {
		r, err := linuxguest.Run(ctx, kernel, initrd, linuxguest.Config{Machine: qemu.Config{Accel: qemu.AccelTCG}, Timeout: 5 * time.Minute})
		check(err)
		ms := coldRE.FindAllStringSubmatch(string(r.Serial), -1)
		if len(ms) != 3 {
			check(fmt.Errorf("Linux guest run %d: no three coldstart lines (%s):\n%s", i, r.Reason, r.Serial))
		}
		us := func(m []string) time.Duration { v, _ := strconv.Atoi(m[2]); return time.Duration(v) * time.Microsecond }
		cold, warm = append(cold, us(ms[0])), append(warm, us(ms[2]))
	}
	fmt.Printf("the same program on Linux (%s, same QEMU flags, %d boots): fork+exec -> first output\n", filepath.Base(kernel), *runs)
	fmt.Printf("  cold (its code translated for the first time, as in a boot): %v [%v-%v]\n", median(cold), minD(cold), maxD(cold))
	fmt.Printf("  warm (third run, translations reused): %v [%v-%v]\n", median(warm), minD(warm), maxD(warm))
}
