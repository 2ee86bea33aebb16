// Package trace turns the startup trace of an rt0 kernel into a timeline:
// the host side of `rt0 run -trace`.
//
// With the kernel option rt0.trace the kernel (guest/kernel/trace.go) stops at
// each milestone of Go's startup with a debug-register breakpoint, records
// the TSC, the registers and 256 bytes at the pointer the milestone's table
// entry names (host/image.Milestones), and at exit writes everything to its
// debugcon log as hex:
//
//	rt0: trace begin tsc-hz <decimal> milestones <n> [calibration <decimal cycles>]
//	rt0: trace k <name> <tsc>
//	rt0: trace m <index> <tsc> <rip> <rsp> <fsbase> <rax> ... <r15> <snapaddr> <snap0> ... <snap31>
//	rt0: trace clone <tsc> <tid> <fn> <mp> <gp> <stk>
//	rt0: trace ap <cpu> <apic id> <sipi> <trampoline> <long mode> <apMain> <first schedule>   (TSCs)
//	rt0: trace thread <tid> <cpu>   (each thread alive at exit, and the CPU it ran on last)
//	rt0: trace end status <status> threads <n>
//
// Parse reads those lines into a Record; Resolve names and decodes them
// with the built ELF (symbols, DWARF field offsets, x86asm) into a
// Timeline, which WriteText, WriteJSON and WriteSVG present. Nothing here
// assumes an address: every one comes from the image the trace was made
// with, so the trace follows the program as it changes.
package trace

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SnapWords is the size of a milestone's memory snapshot, in 8-byte words.
const SnapWords = 32

// RegNames are the general registers of a Hit, in Regs order.
var RegNames = [15]string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// Record is what the kernel's trace lines say, unresolved.
type Record struct {
	TSCHz uint64 // TSC ticks per second, as the kernel calibrated them
	Count int    // milestones in the image's table
	// Calibration is the TSC calibration's duration in cycles, if the
	// kernel reports it (0 if not).
	Calibration uint64
	Kernel      []Stamp        // the kernel's own milestones, in log order
	Hits        []Hit          // milestone records, in log order (an index may repeat)
	Clones      []Clone        // the first clone syscalls
	APs         []AP           // the application processors started, in CPU order
	ThreadCPU   map[uint64]int // tid -> the CPU it ran on last, for threads alive at exit
	Ended       bool           // the end line was seen
	Status      int            // the program's exit status (end line)
	Threads     int            // threads alive at exit (end line)
}

// Stamp is a kernel milestone: a TSC value taken as boot goes.
type Stamp struct {
	Name string
	TSC  uint64
}

// Hit is one stop at a milestone breakpoint.
type Hit struct {
	Index                 int // into host/image.Milestones
	TSC, RIP, RSP, FSBase uint64
	Regs                  [15]uint64 // RegNames order
	SnapAddr              uint64     // where Snap was copied from; 0: no snapshot
	Snap                  [SnapWords]uint64
}

// Reg returns the register called name (RegNames, "rip", "rsp", "fs").
func (h *Hit) Reg(name string) uint64 {
	switch name {
	case "rip":
		return h.RIP
	case "rsp":
		return h.RSP
	case "fs", "fs_base", "fsbase":
		return h.FSBase
	}
	for i, n := range RegNames {
		if n == name {
			return h.Regs[i]
		}
	}
	return 0
}

// Mem returns the n-byte (1, 2, 4 or 8) little-endian value at addr if
// the snapshot covers it.
func (h *Hit) Mem(addr uint64, n int) (uint64, bool) {
	if h.SnapAddr == 0 || addr < h.SnapAddr || addr+uint64(n) > h.SnapAddr+SnapWords*8 || addr+uint64(n) < addr {
		return 0, false
	}
	off := addr - h.SnapAddr
	var v uint64
	for i := n - 1; i >= 0; i-- {
		o := off + uint64(i)
		v = v<<8 | h.Snap[o/8]>>(8*(o%8))&0xFF
	}
	return v, true
}

// Clone is a clone syscall the kernel saw: the new thread's id and the
// runtime's arguments (fn in R12, mp in R13, gp in R9, the stack).
type Clone struct {
	TSC, TID, Fn, MP, GP, Stack uint64
}

// AP is one application processor's start-up: its CPU number and APIC
// ID, and the TSC when the boot CPU sent its startup IPIs, saw it run the
// trampoline and reach long mode, when it entered apMain and when it first
// left the kernel through the scheduler. (The boot CPU watches the first
// two stages in a poll loop, so an AP faster than the loop shows them at
// the apMain time.)
type AP struct {
	CPU, APICID                   int
	SIPI, Real, Long, Main, Sched uint64
}

// ErrNoTrace says the log holds no trace (the kernel ran without
// rt0.trace, or stopped before its exit).
var ErrNoTrace = errors.New("no startup trace in the kernel log (was rt0.trace on, and did the kernel reach its exit?)")

const prefix = "rt0: trace "

// Parse reads the trace lines of a kernel log; other lines are ignored.
func Parse(log []byte) (*Record, error) {
	r := &Record{}
	begun := false
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		i := strings.Index(line, prefix)
		if i < 0 {
			continue
		}
		f := strings.Fields(line[i+len(prefix):])
		if len(f) == 0 {
			continue
		}
		var err error
		switch f[0] {
		case "begin":
			begun = true
			err = r.parseBegin(f[1:])
		case "k":
			if len(f) != 3 {
				err = fmt.Errorf("want 2 fields, have %d", len(f)-1)
				break
			}
			var tsc uint64
			if tsc, err = hex(f[2]); err == nil {
				r.Kernel = append(r.Kernel, Stamp{f[1], tsc})
			}
		case "m":
			var h Hit
			if h, err = parseHit(f[1:]); err == nil {
				r.Hits = append(r.Hits, h)
			}
		case "clone":
			var v []uint64
			if v, err = hexes(f[1:], 6); err == nil {
				r.Clones = append(r.Clones, Clone{v[0], v[1], v[2], v[3], v[4], v[5]})
			}
		case "ap":
			if len(f) != 8 {
				err = fmt.Errorf("want 7 fields, have %d", len(f)-1)
				break
			}
			var cpu, id int
			var v []uint64
			if cpu, err = strconv.Atoi(f[1]); err != nil {
				break
			}
			if id, err = strconv.Atoi(f[2]); err != nil {
				break
			}
			if v, err = hexes(f[3:], 5); err == nil {
				r.APs = append(r.APs, AP{cpu, id, v[0], v[1], v[2], v[3], v[4]})
			}
		case "thread":
			if len(f) != 3 {
				err = fmt.Errorf("want 2 fields, have %d", len(f)-1)
				break
			}
			var tid uint64
			var cpu int
			if tid, err = strconv.ParseUint(f[1], 10, 64); err != nil {
				break
			}
			if cpu, err = strconv.Atoi(f[2]); err == nil {
				if r.ThreadCPU == nil {
					r.ThreadCPU = map[uint64]int{}
				}
				r.ThreadCPU[tid] = cpu
			}
		case "end":
			r.Ended = true
			err = r.parseEnd(f[1:])
		default:
			continue // a newer kernel's line: not ours to judge
		}
		if err != nil {
			return nil, fmt.Errorf("kernel log line %d %q: %v", n, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !begun {
		return nil, ErrNoTrace
	}
	return r, nil
}

func (r *Record) parseBegin(f []string) error {
	for i := 0; i+1 < len(f); i += 2 {
		v, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %v", f[i], err)
		}
		switch f[i] {
		case "tsc-hz":
			r.TSCHz = v
		case "milestones":
			r.Count = int(v)
		case "calibration":
			r.Calibration = v
		}
	}
	if r.TSCHz == 0 {
		return errors.New("no tsc-hz")
	}
	return nil
}

func (r *Record) parseEnd(f []string) error {
	for i := 0; i+1 < len(f); i += 2 {
		v, err := strconv.Atoi(f[i+1])
		if err != nil {
			return fmt.Errorf("%s: %v", f[i], err)
		}
		switch f[i] {
		case "status":
			r.Status = v
		case "threads":
			r.Threads = v
		}
	}
	return nil
}

func parseHit(f []string) (Hit, error) {
	var h Hit
	const n = 1 + 4 + 15 + 1 + SnapWords
	if len(f) < n {
		return h, fmt.Errorf("want %d fields, have %d", n, len(f))
	}
	f = f[:n] // a later kernel may append fields
	idx, err := strconv.Atoi(f[0])
	if err != nil || idx < 0 {
		return h, fmt.Errorf("bad milestone index %q", f[0])
	}
	v, err := hexes(f[1:], n-1)
	if err != nil {
		return h, err
	}
	h.Index = idx
	h.TSC, h.RIP, h.RSP, h.FSBase = v[0], v[1], v[2], v[3]
	copy(h.Regs[:], v[4:19])
	h.SnapAddr = v[19]
	copy(h.Snap[:], v[20:])
	return h, nil
}

func hexes(f []string, n int) ([]uint64, error) {
	if len(f) != n {
		return nil, fmt.Errorf("want %d fields, have %d", n, len(f))
	}
	out := make([]uint64, n)
	for i, s := range f {
		v, err := hex(s)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// hex parses a hex number, with or without 0x.
func hex(s string) (uint64, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	v, err := strconv.ParseUint(t, 16, 64)
	if err != nil || t == "" {
		return 0, fmt.Errorf("bad hex number %q", s)
	}
	return v, nil
}
