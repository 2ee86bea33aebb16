// Package contract holds what the host and the guest agree on by name or
// by number, in one place: the import path of the kernel, the names of the
// kernel symbols the host's tools look up in a built image (the post-link
// step, the startup tracer, the tour, the GDB script), and the layout of
// the linkinfo table that the post-link step fills and the kernel reads.
//
// Both sides name these from here; tests on each side check them against
// what the code really has: TestKernelSymbols (host/rules) that every
// symbol is in a built kernel, TestLinkinfoLayout and TestLinkinfoStruct
// (host/image) that entry_amd64.s and the kernel's linkInfo struct put
// each field at its offset.
//
// It is constants and a table of them: the kernel may import it.
package contract

// KernelPkg is the import path of rt0's kernel: the overlay imports it,
// and its symbols are named KernelPkg + "." + name.
const KernelPkg = "rt0/guest/kernel"

// Kernel symbols the host reads by name.
const (
	SymLinkinfo         = KernelPkg + ".linkinfo"         // the table below (entry_amd64.s)
	SymEntry64          = KernelPkg + ".entry64"          // the first 64-bit instruction
	SymBoot             = KernelPkg + ".boot"             // the Go boot sequence
	SymBootStack        = KernelPkg + ".bootStack"        // the boot stack
	SymCgoInitHook      = KernelPkg + ".cgoInitHook"      // _cgo_init's target: FS by WRMSR
	SymVDSOImage        = KernelPkg + ".vdsoImage"        // the vDSO ELF the post-link step writes
	SymVDSOClockGettime = KernelPkg + ".vdsoClockGettime" // __vdso_clock_gettime's code
	SymFontGlyphs       = KernelPkg + ".fontGlyphs"       // the console font table
	SymTraceTable       = KernelPkg + ".traceTable"       // the startup tracer's breakpoints
	SymKernelData       = KernelPkg + ".kernelData"       // where the kernel's own variables are
)

// KernelDataEntries is the capacity of the kernelData table
// (entry_amd64.s): a count word, then this many [start, end) pairs of
// 32-bit addresses, the runs of the image's data and bss that hold the
// variables of packages below the runtime. System calls refuse user
// pointers into them (EFAULT), as Linux refuses pointers into its own
// memory.
const KernelDataEntries = 256

// AboveRuntimePkgs are the guest packages that run as ordinary Go, in
// goroutines, and are never linked by the kernel: their variables are the
// program's, not the kernel's. Every other package under GuestPrefix is
// the kernel's (host/rules checks that the kernel links exactly those).
var AboveRuntimePkgs = []string{
	"rt0/guest/painter",
	// The network: drivers and the TCP/IP stack, linked into programs that
	// import package net.
	"rt0/guest/net/pcidev", "rt0/guest/net/link", "rt0/guest/net/virtionet",
	"rt0/guest/net/e1000", "rt0/guest/net/netstack",
}

// GuestPrefix is the import path prefix of rt0's guest packages.
const GuestPrefix = "rt0/guest/"

// KernelSymbols lists every Sym constant, for the test that finds each in
// a built kernel.
var KernelSymbols = []string{
	SymLinkinfo, SymEntry64, SymBoot, SymBootStack, SymCgoInitHook,
	SymVDSOImage, SymVDSOClockGettime, SymFontGlyphs, SymTraceTable, SymKernelData,
}

// The linkinfo table: 8-byte words at these offsets. The linker fills the
// first three (DATA in entry_amd64.s), the post-link step the rest.
const (
	LinkMagic      = 0  // "rt0linki"
	LinkEntry64    = 8  // linker: the 64-bit entry (entry64)
	LinkPageTables = 16 // linker: the boot page-table area
	LinkGoEntry    = 24 // post-link: ELF e_entry (_rt0_amd64_linux)
	LinkM0TLS      = 32 // post-link: &runtime.m0.tls[0]
	LinkImageStart = 40 // post-link: load address
	LinkImageEnd   = 48 // post-link: end of bss
	LinkLoadEnd    = 56 // post-link: end of the file-backed part
	LinkPatched    = 64 // post-link: 1 once patched
	LinkMainMain   = 72 // post-link: main.main (0 if absent), for timing and tracing
	LinkROEnd      = 80 // post-link: end of the read-only segments, page aligned
	LinkTextEnd    = 88 // post-link: end of the executable segment, page aligned
	LinkSize       = 96
)
