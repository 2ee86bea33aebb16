package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"rt0/host/build"
	"rt0/host/study/bin"
	"rt0/host/study/tour"
)

const tourUsage = `usage: rt0 tour [-o file] [-html] [-image elf] [build flags] <package | files.go...>

Tour builds the program like rt0 build (into a temporary directory) and prints
an annotated disassembly of its startup path, read from the built image: rt0's
32-bit stub and 64-bit entry, the runtime's _rt0_amd64_linux, _rt0_amd64 and
rt0_go (with rt0's _cgo_init hook), the ABI wrappers, schedinit, newproc,
newproc1, mstart, schedule, findRunnable, execute, gogo, runtime.main and
main.main, in the order they first run. Instructions are decoded with x86asm in
Go assembler syntax, as go tool objdump prints them; notes explain what each
milestone does and how go1.26 differs from go1.12.

With -image, the tour reads an image rt0 build already made instead of
building one (no package argument then).

Flags:
`

func runTour(args []string, sio stdio) int {
	fs := flag.NewFlagSet("rt0 tour", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var bf build.Flags
	bf.Register(fs, false)
	out := fs.String("o", "", "write the tour to `file` instead of standard output")
	asHTML := fs.Bool("html", false, "write a standalone HTML page instead of plain text")
	image := fs.String("image", "", "tour this already built rt0 image (`elf`) instead of building")
	if code, ok := parseCommand(fs, tourUsage, args); !ok {
		return code
	}
	if (*image == "") == (fs.NArg() == 0) {
		if *image == "" {
			fmt.Fprintln(sio.err, "rt0 tour: no package or .go files named")
		} else {
			fmt.Fprintln(sio.err, "rt0 tour: -image and a package are exclusive")
		}
		fs.Usage()
		return 2
	}
	elfPath := *image
	if elfPath == "" {
		b, err := build.New(sio.err, bf.Verbose)
		if err != nil {
			fmt.Fprintf(sio.err, "rt0 tour: %v\n", err)
			return 1
		}
		tmp, cleanup, err := build.WorkDir(sio.err, "rt0-tour-", bf.Work)
		if err != nil {
			fmt.Fprintf(sio.err, "rt0 tour: %v\n", err)
			return 1
		}
		defer cleanup()
		elfPath, err = b.BuildImage(fs.Args(), &bf, tmp+string(os.PathSeparator))
		if err != nil {
			fmt.Fprintf(sio.err, "rt0 tour: %v\n", err)
			return 1
		}
	}
	t, err := makeTour(elfPath)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 tour: %v\n", err)
		return 1
	}
	var buf bytes.Buffer
	if *asHTML {
		err = t.WriteHTML(&buf)
	} else {
		err = t.WriteText(&buf)
	}
	if err == nil {
		if *out != "" {
			err = build.WriteFileAtomic(*out, buf.Bytes())
		} else {
			_, err = sio.out.Write(buf.Bytes())
		}
	}
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 tour: %v\n", err)
		return 1
	}
	for _, w := range t.Warnings {
		fmt.Fprintf(sio.err, "rt0 tour: warning: %s\n", w)
	}
	return 0
}

// makeTour reads the image at elfPath and builds its tour.
func makeTour(elfPath string) (*tour.Tour, error) {
	b, err := bin.Open(elfPath)
	if err != nil {
		return nil, err
	}
	return tour.Build(b)
}
