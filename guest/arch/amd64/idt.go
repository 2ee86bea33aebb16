package amd64

import "unsafe"

//go:generate go run gen_vectors.go

// The IDT: 256 interrupt gates, all on IST stacks. An IST stack is loaded on
// every entry whatever the CPU was doing, which is what a ring-0-only kernel
// needs: the first touch of a fresh goroutine stack page faults with RSP on
// that very page, and a fault that tried to push there would double fault.
// Vectors that may fire while another handler runs (#PF from the kernel
// touching memory, #DF, NMI, #MC) get stacks of their own so they do not
// overwrite the frame of the handler they interrupt.

var idt [256 * 2]uint64
var idtr [5]uint16

// istFor returns the IST slot of vector v.
func istFor(v int) int {
	switch {
	case v == VecPageFault:
		return StackPageFault
	case v == VecDoubleFault:
		return StackDouble
	case v == VecNMI || v == VecMachine:
		return StackNMI
	case v == VecDebug || v == VecBreakpoint:
		return StackDebug
	case v < 32:
		return StackException
	}
	return StackIRQ
}

// InitIDT fills and loads the IDT (shared by all CPUs).
func InitIDT() {
	table := vectorTableAddr()
	for v := 0; v < 256; v++ {
		h := *U64(table + uintptr(v)*8)
		const interruptGate = 0x8E // present, DPL0, 64-bit interrupt gate (clears IF)
		idt[2*v] = h&0xFFFF | SelCode<<16 | uint64(istFor(v))<<32 | interruptGate<<40 | (h>>16&0xFFFF)<<48
		idt[2*v+1] = h >> 32
	}
	idtr[0] = uint16(len(idt)*8 - 1)
	a := uint64(uintptr(unsafe.Pointer(&idt[0])))
	idtr[1] = uint16(a)
	idtr[2] = uint16(a >> 16)
	idtr[3] = uint16(a >> 32)
	idtr[4] = uint16(a >> 48)
	Lidt(uintptr(unsafe.Pointer(&idtr[0])))
}

func vectorTableAddr() uintptr
