package build

// The source of the one file rt0's -overlay adds to a program: the import
// that links the kernel in, and, for programs that use the network, the
// call that links the kernel's sockets in too.
//
// Why a call and not just an import: the Go linker keeps only code that is
// reachable. The kernel reaches its socket system calls solely through
// kernel.EnableSockets, so a program that never calls it (hello) carries
// none of that code, and its image stays small. A program that imports
// package net may open sockets, so its overlay file calls EnableSockets
// from an init function; that runs after the init functions of every
// imported package, before main.
//
// The import is named rt0kernel rather than kernel: a file's import names
// share a scope with its package's top-level names, and a user's package
// may well declare something called kernel.

// kernelImportName is the name the generated files give rt0/guest/kernel when
// they call into it.
const kernelImportName = "rt0kernel"

// enableSockets is the generated call, with its reason: the kernel's
// sockets, then the network card and TCP/IP for them (rt0/guest/net/netstack).
const enableSockets = "// The program imports package net: link the kernel's sockets and the network.\nfunc init() {\n\t" + kernelImportName + ".EnableSockets()\n\t" + netstackImportName + ".Start()\n}\n"

// enableSocketsOnly is the call for a test binary without the network.
const enableSocketsOnly = "// The test binary imports package net: link the kernel's sockets.\nfunc init() { " + kernelImportName + ".EnableSockets() }\n"

// netstackImportName is the name the generated files give rt0/guest/net/netstack.
const netstackImportName = "rt0netstack"

// NetstackImport is the network's package.
const NetstackImport = "rt0/guest/net/netstack"

// MainKernelSource is the file added to a main package that rt0 builds;
// sockets says whether the program imports package net.
func MainKernelSource(sockets bool) string {
	if !sockets {
		return "package main\n\nimport (\n\t_ \"" + KernelImport + "\"\n\t_ \"" + painterImport + "\"\n)\n"
	}
	return "package main\n\nimport (\n\t" + kernelImportName + " \"" + KernelImport + "\"\n\t" + netstackImportName + " \"" + NetstackImport + "\"\n\t_ \"" + painterImport + "\"\n)\n\n" + enableSockets
}

// TestKernelSource is the external test file (package <pkgName>_test, so
// that it may import the kernel even into packages the kernel imports)
// added to a package that rt0 test builds; sockets says whether the test
// binary imports package net, network whether it links the network
// card's stack too (into a standard-library package only with rt0 test
// -net, whose private GOROOT then vendors the modules gVisor's stack needs:
// cmd/rt0/test_stdnet.go; without, its sockets stay on the loopback).
func TestKernelSource(pkgName string, sockets, network bool) string {
	if !sockets {
		return "package " + pkgName + "_test\n\nimport _ \"" + KernelImport + "\"\n"
	}
	if !network {
		return "package " + pkgName + "_test\n\nimport " + kernelImportName + " \"" + KernelImport + "\"\n\n" + enableSocketsOnly
	}
	return "package " + pkgName + "_test\n\nimport (\n\t" + kernelImportName + " \"" + KernelImport + "\"\n\t" + netstackImportName + " \"" + NetstackImport + "\"\n)\n\n" + enableSockets
}
