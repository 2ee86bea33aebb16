package kernel

import "rt0/guest/arch/amd64"

// The PS/2 keyboard (an i8042 controller; also what USB keyboards look like
// to the OS while the firmware's legacy emulation runs). Keys become lines
// of standard input the way a terminal makes them: typed characters echo on
// the screen, Backspace erases, Enter sends the line, ^D at the start of a
// line is end of file, ^C interrupts the program (SIGINT).
//
// The controller translates to scancode set 1: one byte per key press,
// the same with bit 7 set on release, 0xE0 before the extended keys.

const (
	kbdData   = 0x60
	kbdStatus = 0x64
	kbdCmd    = 0x64
)

var kbd struct {
	present           bool
	shift, ctrl, caps bool
	extended          bool
	line              [256]byte
	n                 int
}

// US layout, scancode set 1: unshifted and shifted.
var (
	keymap = [...]byte{
		0x02: '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', '\b',
		0x0F: '\t', 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\n',
		0x1E: 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`',
		0x2B: '\\', 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.', '/',
		0x37: '*', 0x39: ' ',
	}
	keymapShift = [...]byte{
		0x02: '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '\b',
		0x0F: '\t', 'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\n',
		0x1E: 'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~',
		0x2B: '|', 'Z', 'X', 'C', 'V', 'B', 'N', 'M', '<', '>', '?',
		0x37: '*', 0x39: ' ',
	}
)

// kbdWait waits until the controller can take a byte (or gives up).
func kbdWait() bool {
	for i := 0; i < 100000; i++ {
		if amd64.Inb(kbdStatus)&2 == 0 {
			return true
		}
	}
	return false
}

// initKeyboard finds the i8042 (unless ACPI says there is none), turns on
// its keyboard interrupt and translation, and routes IRQ 1.
func initKeyboard() {
	if acpi.no8042 || ioapic == 0 {
		return
	}
	if amd64.Inb(kbdStatus) == 0xFF {
		return // nothing decodes the port
	}
	for i := 0; i < 64 && amd64.Inb(kbdStatus)&1 != 0; i++ {
		amd64.Inb(kbdData) // stale bytes
	}
	if !kbdWait() {
		return
	}
	amd64.Outb(kbdCmd, 0x20) // read the configuration byte
	var cfg uint8
	got := false
	for i := 0; i < 100000; i++ {
		if amd64.Inb(kbdStatus)&1 != 0 {
			cfg = amd64.Inb(kbdData)
			got = true
			break
		}
	}
	if !got || !kbdWait() {
		return
	}
	cfg |= 1 | 0x40 // keyboard interrupt, translation to set 1
	cfg &^= 0x10    // keyboard clock enabled
	amd64.Outb(kbdCmd, 0x60)
	kbdWait()
	amd64.Outb(kbdData, cfg)
	kbdWait()
	amd64.Outb(kbdCmd, 0xAE) // enable the keyboard port
	enableISA(1)
	kbd.present = true
	input.enabled = true
}

// keyboardInterrupt reads the scancodes the controller holds.
func keyboardInterrupt() {
	for i := 0; i < 16 && amd64.Inb(kbdStatus)&1 != 0; i++ {
		key(amd64.Inb(kbdData))
	}
	inputWake()
}

func key(sc uint8) {
	if sc == 0xE0 {
		kbd.extended = true
		return
	}
	ext := kbd.extended
	kbd.extended = false
	release := sc&0x80 != 0
	code := sc &^ 0x80
	switch code {
	case 0x2A, 0x36: // shift
		kbd.shift = !release
		return
	case 0x1D: // ctrl (right ctrl is E0 1D)
		kbd.ctrl = !release
		return
	case 0x3A: // caps lock
		if !release {
			kbd.caps = !kbd.caps
		}
		return
	}
	if release || ext && code != 0x1C && code != 0x35 {
		return // releases, arrows and the other extended keys
	}
	var c byte
	if int(code) < len(keymap) {
		c = keymap[code]
		if kbd.shift {
			c = keymapShift[code]
		}
		if kbd.caps && c >= 'a' && c <= 'z' && !kbd.shift {
			c -= 'a' - 'A'
		} else if kbd.caps && c >= 'A' && c <= 'Z' && kbd.shift {
			c += 'a' - 'A'
		}
	}
	if ext && code == 0x35 {
		c = '/' // keypad slash
	}
	if c == 0 {
		return
	}
	if kbd.ctrl && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		c &= 0x1F // ^A .. ^Z
	}
	lineInput(c)
	screenShow() // the echo
}

// lineInput is the line discipline of the keyboard.
func lineInput(c byte) {
	switch c {
	case '\b', 0x7F:
		if kbd.n > 0 {
			kbd.n--
			screenPut('\b')
		}
	case 0x03, 0x1c: // ^C, ^\: the line is dropped, the signal sent
		screenPut('^')
		if c == 0x03 {
			screenPut('C')
		} else {
			screenPut('\\')
		}
		screenPut('\n')
		kbd.n = 0
		consoleByte(c)
	case 0x04: // ^D: send what is typed; alone, end of file
		flushLine()
		if !inputFull() {
			inputPush(eot)
		}
	case '\n', '\r':
		screenPut('\n')
		if kbd.n < len(kbd.line) {
			kbd.line[kbd.n] = '\n'
			kbd.n++
		}
		flushLine()
	default:
		if c < ' ' && c != '\t' {
			return
		}
		if kbd.n < len(kbd.line)-1 {
			kbd.line[kbd.n] = c
			kbd.n++
			screenPut(c)
		}
	}
}

func flushLine() {
	for i := 0; i < kbd.n && !inputFull(); i++ {
		inputPush(kbd.line[i])
	}
	kbd.n = 0
}
