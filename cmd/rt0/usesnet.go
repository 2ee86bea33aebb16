package main

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

// isNet reports whether importPath, as go list names packages, is package
// net: itself, or recompiled into a test binary ("net [internal/poll.test]",
// when the package under test is one that net imports).
func isNet(importPath string) bool {
	return importPath == netImport || strings.HasPrefix(importPath, netImport+" [")
}

// anyNet reports whether importPaths include package net.
func anyNet(importPaths []string) bool {
	for _, ip := range importPaths {
		if isNet(ip) {
			return true
		}
	}
	return false
}

// enableSocketsIfNet asks go list whether the program of plan p imports
// net, and if it does rewrites p's overlay file to enable sockets. The
// overlay (written to overlayFile, mapping the user's files and the kernel
// file) is the one go build will use: for a program outside any module the
// user's files exist only through it. Only the flags that choose the
// program's files and modules matter here (-tags, -mod); the others change
// how packages compile, not which.
func (b *builder) enableSocketsIfNet(p *plan, overlayFile string, f *buildFlags) error {
	args := []string{"list", "-e", "-deps", "-f", "{{.ImportPath}}", "-overlay", overlayFile}
	if f.tags != "" {
		args = append(args, "-tags="+f.tags)
	}
	if f.mod != "" {
		args = append(args, "-mod="+f.mod)
	}
	args = append(args, p.pkgs...)
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
	p.sockets = anyNet(strings.Split(string(out), "\n"))
	took := time.Since(start).Round(time.Millisecond)
	if !p.sockets {
		b.logf("go list -deps: no package net; the kernel's sockets stay out (%v)", took)
		return nil
	}
	b.logf("go list -deps: the program imports package net; %s enables the kernel's sockets (%v)", kernelFile, took)
	return os.WriteFile(p.kernelSrc, []byte(mainKernelSource(true)), 0o644)
}

// foldTestListing turns the records of go list -test into the packages the
// patterns named, each marked with whether its test binary imports net.
// go list -test prints the named packages (ForTest empty, Match set), then
// for each with test files the test binary's main package (neither ForTest
// nor Match) and the package's test variants: "p [p.test]" compiled with
// its internal test files, and "p_test [p.test]" of the external ones
// (ForTest p). The variants' packages and dependencies are all of the test
// binary's but those of the generated main, which imports only os,
// reflect, testing and testing/internal/testdeps: none of them net.
func foldTestListing(records []*listedPkg) []*listedPkg {
	var named []*listedPkg
	byPath := map[string]*listedPkg{}
	for _, r := range records {
		if r.ForTest == "" && len(r.Match) > 0 {
			named = append(named, r)
			byPath[r.ImportPath] = r
		}
	}
	for _, r := range records {
		if p := byPath[r.ForTest]; p != nil && r.ForTest != "" && (isNet(r.ImportPath) || anyNet(r.Deps)) {
			p.testsImportNet = true
		}
	}
	for _, p := range named {
		p.Deps = nil // only the variants' were wanted
	}
	return named
}
