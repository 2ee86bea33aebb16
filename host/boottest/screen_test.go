package boottest

// Screen and keyboard tests: the program's output must be on the PC's
// screen, and what is typed on the PS/2 keyboard must reach its stdin.
// QEMU's monitor reads the screen (VGA text memory with pmemsave; the
// framebuffer with screendump) and types (sendkey); the machines have no
// COM1, so the screen and the keyboard are the only console.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rt0/host/bootimg"
	"rt0/host/image"
	"rt0/host/qemu"
)

// monitor is a connection to QEMU's QMP socket; cmd runs human-monitor
// commands through it (QMP's replies are one JSON object a line, unlike the
// human monitor's terminal echo).
type monitor struct {
	c net.Conn
	r *bufio.Reader
}

func dialMonitor(t *testing.T, path string) *monitor {
	t.Helper()
	var c net.Conn
	var err error
	for i := 0; i < 100; i++ {
		if c, err = net.Dial("unix", path); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("monitor: %v", err)
	}
	m := &monitor{c: c, r: bufio.NewReader(c)}
	m.reply(t) // greeting
	fmt.Fprintf(c, `{"execute":"qmp_capabilities"}`+"\n")
	m.reply(t)
	return m
}

// reply returns the next line that is not an asynchronous event.
func (m *monitor) reply(t *testing.T) string {
	t.Helper()
	for {
		m.c.SetReadDeadline(time.Now().Add(20 * time.Second))
		line, err := m.r.ReadString('\n')
		if err != nil {
			t.Fatalf("QMP: %v", err)
		}
		if !strings.Contains(line, `"event"`) {
			return line
		}
	}
}

// cmd runs one human-monitor command and returns QMP's reply line.
func (m *monitor) cmd(t *testing.T, line string) string {
	t.Helper()
	q, _ := json.Marshal(line)
	fmt.Fprintf(m.c, `{"execute":"human-monitor-command","arguments":{"command-line":%s}}`+"\n", q)
	return m.reply(t)
}

// typeLine sends a line of lowercase letters, digits and spaces, then Enter.
func (m *monitor) typeLine(t *testing.T, s string) {
	m.typeKeys(t, s)
	m.cmd(t, "sendkey ret")
}

// typeLastLine is typeLine for a line the program ends on: QEMU may exit
// before it answers the last sendkey (seen: "connection reset by peer"),
// so that answer is not waited for; the boot's result says how it ended.
func (m *monitor) typeLastLine(t *testing.T, s string) {
	m.typeKeys(t, s)
	fmt.Fprintf(m.c, `{"execute":"human-monitor-command","arguments":{"command-line":"sendkey ret"}}`+"\n")
}

// typeKeys sends the keys of s (lowercase letters, digits, spaces).
func (m *monitor) typeKeys(t *testing.T, s string) {
	for _, r := range s {
		k := string(r)
		if r == ' ' {
			k = "spc"
		}
		m.cmd(t, "sendkey "+k)
	}
}

// vgaText reads the 80x25 VGA text screen as lines.
func (m *monitor) vgaText(t *testing.T) []string { return vgaLines(m.vgaMemory(t)) }

// vgaMemory reads the 80x25 VGA text screen: (character, attribute) pairs.
func (m *monitor) vgaMemory(t *testing.T) []byte {
	f := filepath.Join(t.TempDir(), "vga.bin")
	if r := m.cmd(t, fmt.Sprintf("pmemsave 0xb8000 4000 \"%s\"", f)); !strings.Contains(r, `"return": ""`) {
		t.Fatalf("pmemsave: %s", r)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vgaLines returns the characters of VGA text memory as lines.
func vgaLines(b []byte) []string {
	var lines []string
	for y := 0; y < 25 && (y+1)*160 <= len(b); y++ {
		var l []byte
		for x := 0; x < 80; x++ {
			l = append(l, b[y*160+2*x])
		}
		lines = append(lines, strings.TrimRight(string(l), " \x00"))
	}
	return lines
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if f() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// startBoot runs QEMU in the background; the result arrives on the channel.
func startBoot(t *testing.T, c qemu.Config) <-chan *qemu.Result {
	ch := make(chan *qemu.Result, 1)
	c.Timeout = Timeout
	go func() {
		res, err := qemu.Run(context.Background(), c)
		if err != nil {
			t.Errorf("qemu: %v", err)
		}
		ch <- res
	}()
	return ch
}

// bootWithMonitor boots c on a machine with a VGA card and a QMP monitor
// to read its screen and type on its keyboard; uefi boots it under OVMF
// on q35.
func bootWithMonitor(t *testing.T, c qemu.Config, uefi bool, extra ...string) (<-chan *qemu.Result, *monitor) {
	mon := filepath.Join(t.TempDir(), "mon.sock")
	if uefi {
		c.Machine, c.Firmware, c.FirmwareVars = "q35", qemu.OVMFCode, qemu.OVMFVars
	}
	c.ExtraArgs = append([]string{"-device", "VGA", "-qmp", "unix:" + mon + ",server=on,wait=off"}, extra...)
	done := startBoot(t, c)
	return done, dialMonitor(t, mon)
}

// VGA text mode (QEMU -kernel leaves it): examples/console's output on the
// screen, commands typed on the keyboard, echoed as typed, answered.
func TestScreenVGATextKeyboard(t *testing.T) {
	img := Build(t, "examples/console")
	done, m := bootWithMonitor(t, qemu.Config{Kernel: img, NoSerial: true}, false)
	var screen []string
	waitFor(t, "the prompt", func() bool {
		screen = m.vgaText(t)
		return len(screen) > 1 && screen[1] == ">"
	})
	if !strings.HasPrefix(screen[0], "rt0 console: Go go1.") {
		t.Errorf("banner %q", screen[0])
	}
	m.typeLine(t, "echo gopher 42")
	waitFor(t, "the answer", func() bool {
		screen = m.vgaText(t)
		return len(screen) > 3 && screen[3] == ">"
	})
	if screen[1] != "> echo gopher 42" || screen[2] != "gopher 42" {
		t.Errorf("screen %q", screen[:4])
	}
	m.typeLastLine(t, "exit 7")
	res := <-done
	if res.ExitCode != 7 {
		t.Errorf("exit %d, want 7", res.ExitCode)
	}
}

// Escape sequences on the VGA text screen: colours (attributes), erasing,
// cursor movement, as a terminal shows them.
func TestScreenEscapes(t *testing.T) {
	img := Build(t, "testdata/progs/ansi")
	done, m := bootWithMonitor(t, qemu.Config{Kernel: img, NoSerial: true}, false)
	var screen []string
	var cells []byte
	waitFor(t, "the last text", func() bool {
		cells = m.vgaMemory(t)
		screen = vgaLines(cells)
		// The program's last words, not just anything: before the
		// firmware clears it, the text memory reads all 0xFF (seen when
		// the whole suite loads the machine and QEMU starts slowly).
		return len(screen) > 5 && strings.Contains(screen[5], "at row")
	})
	want := []string{"plain red bright green", "reverse yellow on blue", "kept moved", "", "", "    at row 6 col 5"}
	for i, w := range want {
		if screen[i] != w {
			t.Errorf("row %d = %q, want %q", i, screen[i], w)
		}
	}
	for i := len(want); i < len(screen); i++ {
		if screen[i] != "" {
			t.Errorf("row %d = %q, want it blank", i, screen[i])
		}
	}
	// Attributes: VGA's colour numbers (red 4, green 2, blue 1, yellow 6;
	// +8 bright; background in the high nibble).
	for _, a := range []struct {
		row, col int
		attr     byte
		what     string
	}{
		{0, 0, 0x07, "plain"}, {0, 6, 0x04, "red"}, {0, 9, 0x07, "after reset"}, {0, 10, 0x0A, "bold green"},
		{1, 0, 0x70, "reverse"}, {1, 7, 0x07, "not reversed"}, {1, 8, 0x1E, "bright yellow on blue"},
		{2, 5, 0x07, "moved"},
	} {
		if got := cells[a.row*160+a.col*2+1]; got != a.attr {
			t.Errorf("%s: attribute at row %d col %d = %#02x, want %#02x", a.what, a.row, a.col, got, a.attr)
		}
	}
	m.typeLastLine(t, "")
	if res := <-done; res.ExitCode != 0 {
		t.Errorf("exit %d, want 0", res.ExitCode)
	}
}

// The UEFI framebuffer (GRUB multiboot2 under OVMF): the screen must show
// the program's output drawn with the kernel's font, pixel for pixel,
// painted by the painter goroutine (package rt0/guest/painter), and, with
// rt0.painter=off, by the kernel itself.
func TestScreenFramebuffer(t *testing.T) {
	img := Build(t, "testdata/progs/console")
	for _, tc := range []struct {
		name    string
		cmdline []string
		painter bool
	}{
		{"goroutine", nil, true},
		{"kernel", []string{"rt0.painter=off"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iso := bootISO(t, img, "console", tc.cmdline...)
			res := screenFramebuffer(t, iso)
			const switched = "rt0: screen: a program paints the console (KD_GRAPHICS)"
			if got := strings.Contains(string(res.Debug), switched); got != tc.painter {
				t.Errorf("kernel log has %q: %v, want %v", switched, got, tc.painter)
			}
		})
	}
}

func screenFramebuffer(t *testing.T, iso string) *qemu.Result {
	done, m := bootWithMonitor(t, qemu.Config{BootISO: iso, NoSerial: true}, true)
	font, err := image.FontTable()
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{"rt0 screen console", "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"}
	var last string
	screenShows := func(what string, lines []string, cursor, blank [2]int) {
		waitFor(t, what, func() bool {
			shot := filepath.Join(t.TempDir(), "shot.ppm")
			m.cmd(t, "screendump \""+shot+"\"")
			w, h, px, err := readPPM(shot)
			if err != nil {
				last = err.Error()
				return false
			}
			last = comparePixels(w, h, px, font, lines)
			if last == "" {
				// Line 3: "red" in VGA red, "bright blue" in VGA's bright blue.
				last = compareColour(w, h, px, font, 3, 0, "red", [3]byte{0xAA, 0, 0})
			}
			if last == "" {
				last = compareColour(w, h, px, font, 3, 4, "bright blue", [3]byte{0x55, 0x55, 0xFF})
			}
			if last == "" {
				last = compareCell(w, h, px, cursor, true)
			}
			if last == "" {
				last = compareCell(w, h, px, blank, false)
			}
			return last == ""
		})
	}
	// The prompt, with the cursor after it.
	screenShows("the program's lines on the framebuffer", append(lines, "", "name? "), [2]int{6, 4}, [2]int{0, 5})
	// Typed keys are echoed (the kernel's line discipline); the answer
	// follows, the cursor moves to the next line and leaves no trace.
	m.typeLine(t, "gopher")
	screenShows("the echo and the answer", append(lines, "", "name? gopher", `hello, "gopher\n" (<nil>)`), [2]int{0, 6}, [2]int{12, 4})
	res := <-done
	if res.ExitCode != 7 {
		t.Errorf("exit %d, want 7 (%s)", res.ExitCode, last)
	}
	return res
}

// bootISO makes a BIOS+UEFI GRUB image of kernel as rt0 image does.
func bootISO(t *testing.T, kernel, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".img")
	c := bootimg.Config{Kernel: kernel, Name: name, Cmdline: append([]string{name}, args...)}
	if err := bootimg.Build(context.Background(), c, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func readPPM(path string) (w, h int, px []byte, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, nil, err
	}
	var maxv int
	n, err := fmt.Sscanf(string(b), "P6\n%d %d\n%d\n", &w, &h, &maxv)
	if n != 3 || err != nil {
		return 0, 0, nil, fmt.Errorf("not a P6 PPM: %v", err)
	}
	hdr := len(fmt.Sprintf("P6\n%d %d\n%d\n", w, h, maxv))
	if len(b) < hdr+w*h*3 {
		return 0, 0, nil, fmt.Errorf("short PPM")
	}
	return w, h, b[hdr:], nil
}

// comparePixels checks that the top-left of the screen shows lines in the
// font, grey on black, each cell 7x13: it returns "" or what differs.
func comparePixels(w, h int, px, font []byte, lines []string) string {
	for row, line := range lines {
		for col := 0; col < len(line); col++ {
			c := line[col]
			glyph := font[int(c-' ')*image.FontRows:][:image.FontRows]
			for y := 0; y < 13; y++ {
				for x := 0; x < 7; x++ {
					X, Y := col*7+x, row*13+y
					if X >= w || Y >= h {
						return "screen too small"
					}
					p := px[(Y*w+X)*3:]
					on := x < 8 && glyph[y]&(0x80>>x) != 0
					lit := p[0] > 0x80 && p[1] > 0x80 && p[2] > 0x80
					dark := p[0] < 0x20 && p[1] < 0x20 && p[2] < 0x20
					if on && !lit || !on && !dark {
						return fmt.Sprintf("line %d char %q pixel (%d,%d) = %v, want lit=%v", row, c, X, Y, p[:3], on)
					}
				}
			}
		}
	}
	return ""
}

// The last words on the screen of a PC: a program that crashes while the
// painter goroutine owns the framebuffer; the kernel takes the screen back
// when the machine stops, so the panic and the exit status (in the
// kernel's yellow) are on it after the power-off. (-no-shutdown keeps
// QEMU's screen after the guest powers off.)
func TestScreenLastWords(t *testing.T) {
	img := Build(t, "testdata/progs/panics")
	iso := bootISO(t, img, "panics", "crash")
	done, m := bootWithMonitor(t, qemu.Config{BootISO: iso, NoExitDevice: true}, true, "-no-shutdown")
	waitFor(t, "the power-off", func() bool {
		return strings.Contains(m.cmd(t, "info status"), "shutdown")
	})
	font, err := image.FontTable()
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "shot.ppm")
	m.cmd(t, "screendump \""+shot+"\"")
	w, h, px, err := readPPM(shot)
	if err != nil {
		t.Fatal(err)
	}
	const crash = "panic: runtime error: invalid memory address or nil pointer dereference"
	if d := comparePixels(w, h, px, font, []string{"nil: runtime error: invalid memory address or nil pointer dereference", "", "", crash}); d != "" {
		t.Errorf("the program's output: %s", d)
	}
	status := -1
	for row := 4; row < h/13; row++ {
		if compareColour(w, h, px, font, row, 0, "rt0: program exited with status 2; powering off", [3]byte{0xFF, 0xFF, 0x55}) == "" {
			status = row
		}
	}
	if status < 0 {
		t.Errorf("no exit status in yellow on the screen")
	}
	m.cmd(t, "quit")
	res := <-done
	if res.ExitCode != 2 || !strings.Contains(string(res.Debug), "(KD_GRAPHICS)") {
		t.Errorf("exit %d, want 2, with the painter at work; kernel log:\n%s", res.ExitCode, res.Debug)
	}
}

// compareColour checks that text is drawn at (col, row) in colour rgb, on
// black.
func compareColour(w, h int, px, font []byte, row, col int, text string, rgb [3]byte) string {
	for i := 0; i < len(text); i++ {
		glyph := font[int(text[i]-' ')*image.FontRows:][:image.FontRows]
		for y := 0; y < 13; y++ {
			for x := 0; x < 7; x++ {
				X, Y := (col+i)*7+x, row*13+y
				if X >= w || Y >= h {
					return "screen too small"
				}
				p := px[(Y*w+X)*3:]
				want := [3]byte{}
				if glyph[y]&(0x80>>x) != 0 {
					want = rgb
				}
				if [3]byte(p[:3]) != want {
					return fmt.Sprintf("line %d char %q pixel (%d,%d) = %v, want %v", row, text[i], X, Y, p[:3], want)
				}
			}
		}
	}
	return ""
}

// compareCell checks that the cell at (col, row) is blank, with the
// cursor's underline (its last two scan lines lit) if cursor is set.
func compareCell(w, h int, px []byte, at [2]int, cursor bool) string {
	for y := 0; y < 13; y++ {
		for x := 0; x < 7; x++ {
			X, Y := at[0]*7+x, at[1]*13+y
			if X >= w || Y >= h {
				return "screen too small"
			}
			p := px[(Y*w+X)*3:]
			on := cursor && y >= 11
			lit := p[0] > 0x80 && p[1] > 0x80 && p[2] > 0x80
			dark := p[0] < 0x20 && p[1] < 0x20 && p[2] < 0x20
			if on && !lit || !on && !dark {
				return fmt.Sprintf("cell %v pixel (%d,%d) = %v, want cursor=%v", at, X, Y, p[:3], on)
			}
		}
	}
	return ""
}

// Without isa-debug-exit (a real PC), the machine powers itself off through
// ACPI when the program ends, under SeaBIOS and OVMF; the status still
// arrives on the kernel log.
func TestPowerOff(t *testing.T) {
	img := Build(t, "examples/hello")
	iso := bootISO(t, img, "hello")
	for _, fw := range []string{"bios", "uefi"} {
		t.Run(fw, func(t *testing.T) {
			c := qemu.Config{BootISO: iso, NoExitDevice: true, Machine: "q35", Timeout: Timeout,
				ExtraArgs: []string{"-device", "VGA"}}
			if fw == "uefi" {
				c.Firmware, c.FirmwareVars = qemu.OVMFCode, qemu.OVMFVars
			}
			res, err := qemu.Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if res.TimedOut || res.QEMUStatus != 0 || res.ExitCode != 0 || !res.ExitLine {
				t.Errorf("%s: timed out %v, QEMU status %d, exit %d (line %v); want QEMU to stop by itself", fw, res.TimedOut, res.QEMUStatus, res.ExitCode, res.ExitLine)
			}
			// The firmware's SMBIOS tables name the machine (found through
			// the BIOS area, or the EFI configuration table under UEFI).
			wantContains(t, "kernel log", res.Debug, "rt0: SMBIOS ", " BIOS: ", " system: QEMU Standard PC (Q35")
			if t.Failed() {
				t.Logf("kernel log:\n%s", res.Debug)
			}
			if !strings.Contains(string(res.Debug), "powering off") || !strings.HasSuffix(string(res.Serial), "hello,world\n") && !strings.Contains(string(res.Serial), "hello,world\n") {
				t.Errorf("serial %q\nlog:\n%s", res.Serial, res.Debug)
			}
		})
	}
}
