package kernel

import "rt0/arch/amd64"

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

// initSerial detects COM1 (scratch register, then loopback) and sets it to
// 115200 8N1 with FIFOs.
func initSerial() {
	amd64.Outb(com1+7, 0x5A)
	if amd64.Inb(com1+7) != 0x5A {
		return
	}
	amd64.Outb(com1+1, 0x00) // no interrupts
	amd64.Outb(com1+3, 0x80) // DLAB
	amd64.Outb(com1+0, 0x01) // divisor 1: 115200 baud
	amd64.Outb(com1+1, 0x00)
	amd64.Outb(com1+3, 0x03) // 8N1
	amd64.Outb(com1+2, 0xC7) // FIFO on, cleared, 14-byte threshold
	amd64.Outb(com1+4, 0x1E) // loopback, to test the chip
	amd64.Outb(com1+0, 0xAE)
	if amd64.Inb(com1+0) != 0xAE {
		return
	}
	amd64.Outb(com1+4, 0x0B) // normal operation: DTR, RTS, OUT2
	hasCOM1 = true
}

func serialPut(b byte) {
	for i := 0; i < 100000 && amd64.Inb(com1+5)&0x20 == 0; i++ {
	}
	amd64.Outb(com1, b)
}

// consoleWrite writes the program's bytes to the console.
func consoleWrite(p []byte) {
	if !hasCOM1 {
		return
	}
	for _, b := range p {
		serialPut(b)
	}
}

// Kernel log. Allocation-free printing of strings and numbers.

// logToConsole, when set, copies kernel messages to the console (panics).
var logToConsole bool

func logByte(b byte) {
	amd64.Outb(debugcon, b)
	if logToConsole && hasCOM1 {
		serialPut(b)
	}
}

func kprint(s string) {
	for i := 0; i < len(s); i++ {
		logByte(s[i])
	}
}

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
