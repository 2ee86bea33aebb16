package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"rt0/host/build"
)

// parseCommand gives fs the usage text of a subcommand and parses args;
// ok is false when the subcommand is to end at once with status code: 0
// after -h, 2 after a bad flag (the flag package said why).
func parseCommand(fs *flag.FlagSet, usage string, args []string) (code int, ok bool) {
	fs.Usage = func() {
		io.WriteString(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// namesPackage reports whether the subcommand cmd was given a package or
// files to build, and says what is missing if not.
func namesPackage(fs *flag.FlagSet, sio stdio, cmd string) bool {
	if fs.NArg() > 0 {
		return true
	}
	fmt.Fprintf(sio.err, "rt0 %s: no package or .go files named\n", cmd)
	fs.Usage()
	return false
}

const buildUsage = `usage: rt0 build [-o output] [-v] [build flags] <package | files.go...>

Build compiles a Go main package (a directory, an import path, or .go files
of one directory) with rt0's kernel linked in and writes a multiboot image
that QEMU (-kernel) and GRUB boot. Like go build -o, the output defaults to
<name>.elf in the current directory, and a directory output (existing, or
ending in a slash) receives <name>.elf.

The package may be in the rt0 module, in another module (built in a
temporary go.work with rt0), or in no module at all (built in a temporary
module that requires rt0). The user's files are never modified. A program
that imports package net gets the kernel's loopback sockets too; others
are built without them.

Flags:
`

func runBuild(args []string, sio stdio) int {
	fs := flag.NewFlagSet("rt0 build", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var f build.Flags
	f.Register(fs, true)
	if code, ok := parseCommand(fs, buildUsage, args); !ok {
		return code
	}
	if !namesPackage(fs, sio, "build") {
		return 2
	}
	b, err := build.New(sio.err, f.Verbose)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 build: %v\n", err)
		return 1
	}
	if _, err := b.BuildImage(fs.Args(), &f, f.Output); err != nil {
		fmt.Fprintf(sio.err, "rt0 build: %v\n", err)
		return 1
	}
	return 0
}
