package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"rt0/host/bootimg"
	"rt0/host/build"
)

const imageUsage = `usage: rt0 image [-o file.img] [image flags] [build flags] <package | files.go...> [arguments...]

Image builds the program like rt0 build and writes one hybrid boot image
that boots it on a PC, or in QEMU, as a CD and as a USB disk, under legacy
BIOS and under UEFI: GRUB (from Debian's grub-pc-bin and grub-efi-amd64-bin,
put together by grub-mkrescue, xorriso and mtools) loads the program with
multiboot2, or else multiboot. Write it to a USB stick with dd (see
docs/usb.md); Secure Boot must be off.

The output defaults to <name>.img in the current directory; a directory
output (existing, or ending in a slash) receives <name>.img. Arguments after
the package (or after the .go files) are the program's; the kernel command
line in grub.cfg is: the program's name (argv[0]), the -env words, the
-append words, then -- and the arguments. GRUB cannot pass an empty word, nor
one holding a tab or a newline but no space: image refuses them. The kernel
is built with -trimpath, so that no host path goes into the image (image
warns when one does), and the image is reproducible: the same program gives
the same bytes (dates come from $SOURCE_DATE_EPOCH, else 2000-01-01).

Flags:
`

func runImage(args []string, sio stdio) int {
	fs := flag.NewFlagSet("rt0 image", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var bf build.Flags
	var env stringsFlag
	var output, appendTo string
	var grubTimeout int
	fs.StringVar(&output, "o", "", "write the image to `file` (or into a directory: <dir>/<name>.img)")
	fs.StringVar(&appendTo, "append", "", "raw kernel command line `words` (rt0.KEY=VALUE options), added before the program's arguments")
	fs.Var(&env, "env", "set the program's environment variable (`KEY=VALUE`, or KEY to copy rt0's own); repeatable")
	fs.IntVar(&grubTimeout, "grub-timeout", 0, "show GRUB's menu for `seconds` before booting (0: boot at once)")
	bf.Register(fs, false)
	// No host paths in an image meant to be handed around.
	if f := fs.Lookup("trimpath"); f != nil {
		f.Value.Set("true")
		f.DefValue = "true"
	}
	if code, ok := parseCommand(fs, imageUsage, args); !ok {
		return code
	}
	if !namesPackage(fs, sio, "image") {
		return 2
	}
	if grubTimeout < 0 {
		fmt.Fprintf(sio.err, "rt0 image: -grub-timeout %d: want 0 or more seconds\n", grubTimeout)
		return 2
	}
	targets, progArgs := splitRunArgs(fs.Args())
	env2, err := envWords(env)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 image: %v\n", err)
		return 2
	}
	appendWords, err := splitAppend(appendTo)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 image: -append: %v\n", err)
		return 2
	}
	// Refuse what GRUB cannot pass before building anything.
	if _, err := imageCmdline("prog", env2, appendWords, progArgs); err != nil {
		fmt.Fprintf(sio.err, "rt0 image: %v\n", err)
		return 2
	}
	if err := bootimg.Check(""); err != nil {
		fmt.Fprintf(sio.err, "rt0 image: %v\n", err)
		return 1
	}

	b, err := build.New(sio.err, bf.Verbose)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 image: %v\n", err)
		return 1
	}
	tmp, cleanup, err := build.WorkDir(sio.err, "rt0-image-", bf.Work)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 image: %v\n", err)
		return 1
	}
	defer cleanup()
	kernel, err := b.BuildImage(targets, &bf, tmp+string(os.PathSeparator))
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 image: %v\n", err)
		return 1
	}
	if data, err := os.ReadFile(kernel); err == nil && bytes.Contains(data, []byte(b.Root+"\t")) {
		// The temporary module for .go files outside any module replaces
		// rt0 by its directory, and go build records that replacement in
		// the build information even with -trimpath.
		fmt.Fprintf(sio.err, "rt0 image: warning: the program's build information holds rt0's directory %s\n", b.Root)
	}
	name := strings.TrimSuffix(filepath.Base(kernel), ".elf")
	words, err := imageCmdline(name, env2, appendWords, progArgs)
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 image: %v\n", err)
		return 2
	}
	out, err := build.OutputPath(output, name, ".img")
	if err != nil {
		fmt.Fprintf(sio.err, "rt0 image: %v\n", err)
		return 1
	}
	cfg := bootimg.Config{
		Kernel:  kernel,
		Name:    name,
		Cmdline: words,
		Timeout: grubTimeout,
	}
	if bf.Verbose {
		cfg.Log = sio.err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bootimg.Build(ctx, cfg, out); err != nil {
		fmt.Fprintf(sio.err, "rt0 image: %v\n", err)
		return 1
	}
	return 0
}

// imageCmdline returns the words of the kernel command line for GRUB:
// argv[0], the environment words, the -append words, then -- (unless the
// -append words hold one) and the program's arguments. It refuses a word
// GRUB cannot pass unchanged.
func imageCmdline(name string, env, appendWords, args []string) ([]string, error) {
	words := []string{name}
	words = append(words, env...)
	words = append(words, appendWords...)
	if len(args) > 0 && !containsWord(appendWords, "--") {
		words = append(words, "--")
	}
	words = append(words, args...)
	for i, w := range words {
		if err := bootimg.CheckWord(w); err != nil {
			switch {
			case i == 0:
				return nil, fmt.Errorf("program name: %v", err)
			case i > len(words)-len(args)-1:
				return nil, fmt.Errorf("argument %d: %v", i-(len(words)-len(args))+1, err)
			case i <= len(env):
				return nil, fmt.Errorf("-env: %v", err)
			default:
				return nil, fmt.Errorf("-append: %v", err)
			}
		}
	}
	return words, nil
}

func containsWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// splitAppend splits raw kernel command-line words (rt0 image -append) by
// the kernel's own rules (rt0/guest/kernel/cmdline.Split): runs of spaces, tabs,
// newlines and carriage returns separate words; double quotes group and
// are removed; a backslash makes the next character ordinary, and one at
// the very end stands for itself. A quote left open is an error here.
func splitAppend(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			return nil, errors.New("a NUL byte ends the kernel command line")
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			inWord = true
		case c == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("%q ends inside a double quote", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
