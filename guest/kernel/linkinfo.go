package kernel

import "rt0/guest/arch/amd64"

// linkInfo mirrors the linkinfo table of entry_amd64.s.
type linkInfo struct {
	Magic      uint64
	Entry64    uint64
	PageTables uint64
	GoEntry    uint64 // _rt0_amd64_linux
	M0TLS      uint64
	ImageStart uint64
	ImageEnd   uint64
	LoadEnd    uint64
	Patched    uint64
	MainMain   uint64 // main.main, 0 if the program has none
	ROEnd      uint64 // end of the read-only segments (text, rodata)
	TextEnd    uint64 // end of the executable segment (text)
}

// bootTSC is the TSC at the first instruction of the 32-bit stub.
var bootTSC uint64

func linkinfoAddr() uintptr

//go:noinline
func links() *linkInfo { return (*linkInfo)(amd64.Ptr(linkinfoAddr())) }

func bootStackBase() uintptr
