package qemu

import "encoding/binary"

// Special status values for MinimalKernel.
const (
	HangForever = -1
	TripleFault = -2
)

// MinimalKernel returns a tiny multiboot (v1) kernel image, hand-assembled,
// that follows rt0's exit protocol without any Go code: it writes serial to
// COM1 (port 0x3f8), debug to the debugcon port (0xe9), then writes status
// to isa-debug-exit (port 0xf4) and halts.
//
// Tests use it to check the QEMU plumbing (command line, pipes, exit
// status) independently of the kernel. It is not what the KVM probe boots:
// a nested KVM runs it and still fails rt0's kernel (accel.go).
// Pass debug = "rt0: exit 7\n" and status = 7 for a well-behaved guest, or
// leave the exit line out to exercise the fallback paths.
//
// The image is a flat binary using the multiboot "a.out kludge" (header
// flags 0x00010003: page-align modules, memory info, address fields valid),
// loaded at 1 MiB and entered in 32-bit protected mode.
//
// status is the value written to isa-debug-exit (0..255), or one of
// HangForever (halt with interrupts off, never exit: for timeout tests) and
// TripleFault (load an empty IDT and trap: the CPU resets, and with
// -no-reboot QEMU stops with status 0 and no exit line).
func MinimalKernel(serial, debug string, status int) []byte {
	return minimalKernel(nil, serial, debug, status)
}

// minimalKernel is MinimalKernel with extra 32-bit code run first (tests
// use it to echo COM1 input or print the multiboot command line).
func minimalKernel(prefix []byte, serial, debug string, status int) []byte {
	const (
		magic    = 0x1BADB002
		flags    = 0x00010003
		loadAddr = 0x00100000
		hdrSize  = 32
	)
	code := append([]byte(nil), prefix...)
	out := func(port uint16, s string) {
		if s == "" {
			return
		}
		code = append(code, 0x66, 0xBA, byte(port), byte(port>>8)) // mov dx, port
		for i := 0; i < len(s); i++ {
			code = append(code, 0xB0, s[i], 0xEE) // mov al, c; out dx, al
		}
	}
	out(0x3f8, serial)
	out(0xe9, debug)
	switch {
	case status == TripleFault:
		code = append(code,
			0x6A, 0x00, // push 0
			0x6A, 0x00, // push 0
			0x0F, 0x01, 0x1C, 0x24, // lidt [esp]: limit 0, base 0
			0x0F, 0x0B, // ud2: #UD -> #GP -> #DF -> triple fault
		)
	case status >= 0:
		code = append(code,
			0xB8, byte(status), 0, 0, 0, // mov eax, status
			0xE7, 0xF4, // out 0xf4, eax
		)
	}
	code = append(code,
		0xFA,       // cli
		0xF4,       // hlt
		0xEB, 0xFD, // jmp hlt
	)

	img := make([]byte, hdrSize, hdrSize+len(code))
	le := binary.LittleEndian
	le.PutUint32(img[0:], magic)
	le.PutUint32(img[4:], flags)
	sum := uint32(magic + flags)
	le.PutUint32(img[8:], -sum)              // checksum: magic+flags+checksum == 0
	le.PutUint32(img[12:], loadAddr)         // header_addr
	le.PutUint32(img[16:], loadAddr)         // load_addr
	le.PutUint32(img[20:], 0)                // load_end_addr: whole file
	le.PutUint32(img[24:], 0)                // bss_end_addr: no bss
	le.PutUint32(img[28:], loadAddr+hdrSize) // entry_addr
	return append(img, code...)
}
