package build

// Whether a program uses the network, so that its overlay file links the
// kernel's sockets (see kernelsrc.go). The answer comes from the go
// command's own view of the program's packages (go list), asked in the
// same place, environment and flags as the build, so that build tags,
// GOOS=linux files, modules, workspaces and the temporary module all count
// exactly as they will when go build links it.
//
// The rule is the import of package net (anywhere in the program, test
// files included for test binaries): every ordinary way to a socket in Go
// goes through it, net/http and friends included. A program that makes
// socket system calls itself (syscall.Socket) without importing net gets
// ENOSYS from them, which is also what programs see on a Linux built
// without networking.

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"
)

// netImport is the package whose presence in a program enables sockets.
const netImport = "net"

// IsNet reports whether importPath, as go list names packages, is package
// net: itself, or recompiled into a test binary ("net [internal/poll.test]",
// when the package under test is one that net imports).
func IsNet(importPath string) bool {
	return importPath == netImport || strings.HasPrefix(importPath, netImport+" [")
}

// AnyNet reports whether importPaths include package net.
func AnyNet(importPaths []string) bool {
	for _, ip := range importPaths {
		if IsNet(ip) {
			return true
		}
	}
	return false
}

// enableSocketsIfNet asks go list whether the program of Plan p imports
// net, and if it does rewrites p's overlay file to enable sockets. The
// overlay (written to overlayFile, mapping the user's files and the kernel
// file) is the one go build will use: for a program outside any module the
// user's files exist only through it. Only the flags that choose the
// program's files and modules matter here (-tags, -mod); the others change
// how packages compile, not which.
func (b *Builder) enableSocketsIfNet(p *Plan, overlayFile string, f *Flags) error {
	args := []string{"list", "-e", "-deps", "-f", "{{.ImportPath}}", "-overlay", overlayFile}
	if f.Tags != "" {
		args = append(args, "-tags="+f.Tags)
	}
	if f.Mod != "" {
		args = append(args, "-mod="+f.Mod)
	}
	args = append(args, p.Pkgs...)
	start := time.Now()
	cmd := b.goCommand(p, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// With -e, package errors (a missing import, a syntax error) are
		// in the listing, for go build to report; a failure here is the
		// go command's own (a flag, the module graph).
		return fmt.Errorf("go list -deps (which packages the program uses): %v\n%s", err, strings.TrimSpace(stderr.String()))
	}
	p.Sockets = AnyNet(strings.Split(string(out), "\n"))
	took := time.Since(start).Round(time.Millisecond)
	if !p.Sockets {
		b.Logf("go list -deps: no package net; the kernel's sockets stay out (%v)", took)
		return nil
	}
	b.Logf("go list -deps: the program imports package net; %s enables the kernel's sockets (%v)", KernelFile, took)
	return os.WriteFile(p.KernelSrc, []byte(MainKernelSource(true)), 0o644)
}
