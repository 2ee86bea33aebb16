// Command rt0 builds an unmodified Go main package into a bare-metal x86-64
// kernel (the program with rt0's kernel linked in) and boots it in QEMU.
//
//	rt0 build [-o out.elf] [build flags] <package | files.go...>
//	rt0 run [run flags] [build flags] <package | files.go...> [arguments...]
//
// rt0 build runs the stock go command (GOOS=linux GOARCH=amd64
// CGO_ENABLED=0) with an -overlay that adds one file to the main package,
// importing rt0/guest/kernel, so the user's source is never modified; then
// rt0/host/image.Patch makes the ELF multiboot-bootable. No C toolchain is
// involved. rt0 run does the same into a temporary directory and boots the
// result with rt0/host/qemu: the program's output is rt0's standard output, byte
// for byte, standard input is forwarded to the guest, and rt0 exits with the
// program's exit status (124 on timeout, 125 when the kernel panicked or the
// machine stopped without an exit status).
//
// rt0 finds its own source (the kernel it links in) through $RT0ROOT, or
// else the checkout this binary was built from.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// stdio is where a command reads and writes; tests substitute it.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one rt0 subcommand.
type command struct {
	name  string
	short string
	run   func(args []string, io stdio) int
}

// commands are rt0's subcommands, in usage order.
var commands []*command

func init() {
	commands = []*command{
		{"build", "compile a Go program into a bootable kernel image", runBuild},
		{"run", "build a Go program and boot it in QEMU", runRun},
		{"image", "build a Go program into a USB/CD boot image for PCs (BIOS and UEFI)", runImage},
		{"test", "test packages (std too) with their test binaries booted in QEMU", runTest},
		{"tour", "print the annotated disassembly of a program's startup path", runTour},
		{"debug", "boot a Go program in QEMU under GDB, stopping at each startup milestone", runDebug},
	}
}

func main() {
	os.Exit(rt0Main(os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}))
}

func rt0Main(args []string, sio stdio) int {
	if len(args) == 0 {
		usage(sio.err)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" {
			if c := lookup(args[1]); c != nil {
				return c.run([]string{"-h"}, stdio{sio.in, sio.out, sio.out})
			}
			fmt.Fprintf(sio.err, "rt0 help %s: unknown command\n", args[1])
			return 2
		}
		usage(sio.out)
		return 0
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(sio.err, "rt0 %s: unknown command\nRun 'rt0 help' for usage.\n", name)
		return 2
	}
	return c.run(args[1:], sio)
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("rt0 boots unmodified Go programs on bare-metal x86-64 (in QEMU).\n\nUsage:\n\n\trt0 <command> [arguments]\n\nThe commands are:\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "\t%-8s %s\n", c.name, c.short)
	}
	b.WriteString("\nUse \"rt0 help <command>\" for more information about a command.\n")
	io.WriteString(w, b.String())
}
