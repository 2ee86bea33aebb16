package kernel

import "rt0/guest/arch/amd64"

// Two outputs. The program's stdout and stderr go to COM1, byte for byte.
// Kernel messages go to QEMU's debugcon (port 0xe9), which `rt0 run` captures
// separately and shows with -v: so a program's output is exactly what it
// wrote. On a PC without a debugcon, writes to port 0xe9 go nowhere.
//
// A kernel panic goes to both: a user must see why the machine stopped.

const (
	com1     = 0x3F8
	debugcon = 0xE9
)

var hasCOM1 bool

// initSerial detects COM1 (a UART answers its scratch register and its
// loopback test) and sets it to 115200 8N1 with its FIFO on. Both the FIFO
// reset and the loopback test may throw away bytes that already arrived, so
// the host side (`rt0 run`) sends standard input only after the kernel
// logs "rt0: input ready" (enableSerialInput).
func initSerial() {
	amd64.Outb(com1+7, 0x5A)
	if amd64.Inb(com1+7) != 0x5A {
		return
	}
	amd64.Outb(com1+1, 0x00) // no interrupts yet
	amd64.Outb(com1+3, 0x80) // DLAB
	amd64.Outb(com1+0, 0x01) // divisor 1: 115200 baud
	amd64.Outb(com1+1, 0x00)
	amd64.Outb(com1+3, 0x03) // 8N1
	// Keep the byte a sender may already have put in the receive buffer:
	// turning the FIFO on clears it. (rt0 run waits for "rt0: input
	// ready"; a plain qemu -serial stdio with piped input does not.)
	for i := 0; i < 16 && amd64.Inb(com1+5)&1 != 0; i++ {
		consoleByte(amd64.Inb(com1))
	}
	amd64.Outb(com1+2, 0xC7) // FIFO on, both cleared, interrupt at 14 bytes (or a short timeout)
	amd64.Outb(com1+4, 0x1E) // loopback, to test the chip
	amd64.Outb(com1+0, 0xAE)
	ok := amd64.Inb(com1+0) == 0xAE
	amd64.Outb(com1+4, 0x0B) // normal operation: DTR, RTS, OUT2 (gates the IRQ)
	if !ok {
		return
	}
	hasCOM1 = true
	drainSerial()
}

// drainSerial moves bytes the UART holds into the input ring.
func drainSerial() {
	if !hasCOM1 {
		return // (an absent UART reads as 0xFF: "data ready", forever)
	}
	for i := 0; i < 4096 && !inputFull() && amd64.Inb(com1+5)&1 != 0; i++ {
		consoleByte(amd64.Inb(com1))
	}
}

// enableSerialInput turns on COM1's receive interrupt (IRQ 4).
func enableSerialInput() {
	if !hasCOM1 || ioapic == 0 {
		return
	}
	drainSerial()
	amd64.Outb(com1+1, 0x01) // interrupt on received data
	enableISA(4)
	input.enabled = true
	kprint("rt0: input ready\n")
}

// serialInterrupt moves received bytes into the input ring.
func serialInterrupt() {
	drainSerial()
	inputWake()
}

func serialPut(b byte) {
	for i := 0; i < 100000 && amd64.Inb(com1+5)&0x20 == 0; i++ {
	}
	amd64.Outb(com1, b)
}

// consoleWrite writes the program's bytes to the console: COM1 (byte for
// byte) and the screen.
func consoleWrite(p []byte) {
	for _, b := range p {
		if hasCOM1 {
			serialPut(b)
		}
		screenPut(b)
	}
	screenShow()
}

// Kernel log. Allocation-free printing of strings and numbers.

// logToConsole, when set, copies kernel messages to the console (panics).
var logToConsole bool

func logByte(b byte) {
	amd64.Outb(debugcon, b)
	if logToConsole {
		if hasCOM1 {
			serialPut(b)
		}
		// Kernel messages on the console are warnings at boot and the
		// last words of a stopping machine: the kernel paints them itself.
		screenTakeOver()
		screenLog(b)
	}
}

// kprint is called from some 150 places: not inlined, it is one call each
// instead of a copy of its loop (9 KiB of the image).
//
//go:noinline
func kprint(s string) {
	for i := 0; i < len(s); i++ {
		logByte(s[i])
	}
}

//go:noinline
func kprintBytes(p []byte) {
	for _, b := range p {
		logByte(b)
	}
}

func kprintHex(v uint64) {
	const digits = "0123456789abcdef"
	var buf [18]byte
	buf[0], buf[1] = '0', 'x'
	for i := 0; i < 16; i++ {
		buf[17-i] = digits[v&15]
		v >>= 4
	}
	i := 2
	for i < 17 && buf[i] == '0' {
		i++
	}
	logByte('0')
	logByte('x')
	for ; i < 18; i++ {
		logByte(buf[i])
	}
}

func kprintDec(v int64) {
	if v < 0 {
		logByte('-')
		v = -v
	}
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 || i == 0 {
			break
		}
	}
	for ; i < len(buf); i++ {
		logByte(buf[i])
	}
}
