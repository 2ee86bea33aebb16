// Package bootimg makes the bootable disk image of `rt0 image`: one file
// that boots an rt0 kernel as a CD and as a USB disk (or any other disk),
// under legacy BIOS and under UEFI. It runs on the host.
//
// The image is GRUB's own hybrid ISO, made by grub-mkrescue from Debian's
// GRUB packages (grub-common, grub-pc-bin, grub-efi-amd64-bin) with xorriso
// and mtools:
//
//   - an ISO 9660 file system holding /boot/<name>.elf (the rt0 kernel),
//     /boot/grub/grub.cfg and GRUB's modules for both platforms;
//   - El Torito boot entries for BIOS (GRUB's eltorito.img) and UEFI (a FAT
//     image holding \EFI\BOOT\BOOTX64.EFI), for booting as a CD;
//   - an MBR with GRUB's boot_hybrid.img, which loads the BIOS GRUB from a
//     disk, and MBR and GPT partition entries for the FAT image, which is
//     what UEFI firmware looks for on a disk: written to a USB stick the same
//     bytes boot as a disk.
//
// grub.cfg boots the kernel with multiboot2, or else (fallback) multiboot,
// after a short timeout, with the kernel command line given as words.
//
// Images are reproducible: the same kernel and command line give the same
// bytes. All dates are Config.Epoch ($SOURCE_DATE_EPOCH, or DefaultEpoch),
// and the one random number grub-mkrescue leaves (the FAT image's volume
// serial number, from mformat) is replaced by one derived from the image's
// contents. No host path goes into the image (rt0 image builds the kernel
// with -trimpath).
package bootimg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Boot protocols for Config.Protocols: GRUB's commands that load the kernel.
const (
	Multiboot2 = "multiboot2"
	Multiboot  = "multiboot"
)

// DefaultProtocols are tried in this order: multiboot2 first (what GRUB on
// UEFI hands the firmware's memory map and framebuffer through), then
// multiboot as GRUB's fallback entry.
var DefaultProtocols = []string{Multiboot2, Multiboot}

// DefaultGrubLib is where Debian installs GRUB's platform directories
// (i386-pc, x86_64-efi), which grub-mkrescue reads.
const DefaultGrubLib = "/usr/lib/grub"

// DefaultEpoch is the date of every file and volume in an image when
// neither Config.Epoch nor $SOURCE_DATE_EPOCH gives one.
var DefaultEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes one image.
type Config struct {
	// Kernel is the path of the rt0 kernel (the ELF rt0 build writes).
	Kernel string

	// Name names the kernel's file in the image: /boot/<Name>.elf
	// (characters other than letters, digits, '.', '_' and '-' become
	// '_'). Empty means "kernel".
	Name string

	// Cmdline is the kernel command line as the words the kernel should
	// read back; Cmdline[0] is argv[0] (GRUB passes only the words after
	// the kernel's file name, so the program's name must be given). Each
	// word is written into grub.cfg so that GRUB's script parser yields
	// it unchanged; GRUB then joins the words itself, quoting a word that
	// holds a space and escaping double quotes, single quotes and
	// backslashes with a backslash, which
	// the kernel's split (rt0/guest/kernel/cmdline) undoes. GRUB cannot pass an
	// empty word, nor a tab, newline or carriage return in a word without
	// a space (it does not quote those, and the kernel splits there):
	// Build refuses such words (CheckWord).
	Cmdline []string

	// Timeout is how long GRUB shows its menu, in whole seconds (0: boot
	// at once).
	Timeout int

	// Protocols are the GRUB menu entries, in order: the first is the
	// default, each one the fallback of the one before. Empty means
	// DefaultProtocols.
	Protocols []string

	// Epoch is the date of every file and volume in the image. Zero
	// means $SOURCE_DATE_EPOCH (seconds since 1970) if set, else
	// DefaultEpoch.
	Epoch time.Time

	// GrubLib is the directory where Check looks for GRUB's i386-pc and
	// x86_64-efi directories (grub-mkrescue itself uses the one it was
	// built with); empty means DefaultGrubLib.
	GrubLib string

	// Log, if not nil, receives what Build does (the grub.cfg and the
	// grub-mkrescue command line) and grub-mkrescue's own messages.
	Log io.Writer
}

// What the image needs from the host, and the Debian package that
// provides each.
type need struct {
	what    string // human name
	pkg     string // Debian package
	command string // a command looked up in PATH, or
	file    string // a file under GrubLib
}

var needs = []need{
	{what: "grub-mkrescue", pkg: "grub-common", command: "grub-mkrescue"},
	{what: "xorriso", pkg: "xorriso", command: "xorriso"},
	{what: "mformat (mtools)", pkg: "mtools", command: "mformat"},
	{what: "mcopy (mtools)", pkg: "mtools", command: "mcopy"},
	{what: "GRUB for BIOS", pkg: "grub-pc-bin", file: "i386-pc/cdboot.img"},
	{what: "GRUB's hybrid MBR", pkg: "grub-pc-bin", file: "i386-pc/boot_hybrid.img"},
	{what: "GRUB for UEFI", pkg: "grub-efi-amd64-bin", file: "x86_64-efi/kernel.img"},
	{what: "GRUB's UEFI modules", pkg: "grub-efi-amd64-bin", file: "x86_64-efi/multiboot2.mod"},
}

// Packages are the Debian packages Build needs.
var Packages = []string{"grub-common", "grub-pc-bin", "grub-efi-amd64-bin", "xorriso", "mtools"}

// Check reports whether the host has every tool and GRUB file Build needs
// (grub-mkrescue leaves a platform out of the image, silently, when its
// GRUB files are missing). The error names each missing piece, the
// Debian package that provides it, and the apt-get command.
func Check(grubLib string) error {
	if grubLib == "" {
		grubLib = DefaultGrubLib
	}
	var missing []string
	var pkgs []string
	for _, n := range needs {
		var ok bool
		var where string
		if n.command != "" {
			_, err := exec.LookPath(n.command)
			ok = err == nil
			where = n.command + " in PATH"
		} else {
			p := filepath.Join(grubLib, filepath.FromSlash(n.file))
			_, err := os.Stat(p)
			ok = err == nil
			where = p
		}
		if ok {
			continue
		}
		missing = append(missing, fmt.Sprintf("%s (no %s): Debian package %s", n.what, where, n.pkg))
		if !contains(pkgs, n.pkg) {
			pkgs = append(pkgs, n.pkg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("cannot make a BIOS+UEFI boot image; missing:\n\t%s\ninstall with: sudo apt-get install %s",
		strings.Join(missing, "\n\t"), strings.Join(pkgs, " "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FileName returns the kernel's file name in the image for name.
func FileName(name string) string {
	var b strings.Builder
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" {
		s = "kernel"
	}
	return s + ".elf"
}

// volumeID returns the ISO volume label for name: RT0_<NAME>, in ISO
// 9660's d-characters, at most 32 of them.
func volumeID(name string) string {
	var b strings.Builder
	b.WriteString("RT0")
	if name != "" {
		b.WriteByte('_')
	}
	for _, c := range []byte(strings.ToUpper(name)) {
		if 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 32 {
		s = s[:32]
	}
	return s
}

// CheckWord reports why GRUB cannot pass word to the kernel unchanged, or
// nil.
func CheckWord(word string) error {
	switch {
	case word == "":
		return errors.New("GRUB cannot pass an empty word to the kernel (it drops it)")
	case strings.ContainsAny(word, "\t\n\r") && !strings.Contains(word, " "):
		// GRUB quotes a word only when it holds a space.
		return fmt.Errorf("%q: GRUB passes a tab, newline or carriage return unquoted in a word without a space, and the kernel would split the word there", word)
	case strings.ContainsRune(word, 0):
		return fmt.Errorf("%q: a kernel command line cannot hold a NUL byte", word)
	}
	return nil
}

// GrubWord returns word written as one word of GRUB's script language
// (grub.cfg): as it is when it holds only characters GRUB never treats
// specially, else in single quotes (inside which GRUB treats nothing
// specially, not even a backslash or a dollar sign); a single quote inside
// the word closes the quotes, is written escaped (\') and reopens them.
func GrubWord(word string) string {
	if word != "" && strings.Trim(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+@%") == "" {
		return word
	}
	return "'" + strings.ReplaceAll(word, "'", `'\''`) + "'"
}

// GrubConfig returns the grub.cfg for c.
func GrubConfig(c *Config) (string, error) {
	if len(c.Cmdline) == 0 {
		return "", errors.New("bootimg: no command line (its first word is argv[0], the program's name)")
	}
	for _, w := range c.Cmdline {
		if err := CheckWord(w); err != nil {
			return "", err
		}
	}
	if c.Timeout < 0 {
		return "", fmt.Errorf("bootimg: negative GRUB timeout %d", c.Timeout)
	}
	protos := c.Protocols
	if len(protos) == 0 {
		protos = DefaultProtocols
	}
	for _, p := range protos {
		if p != Multiboot2 && p != Multiboot {
			return "", fmt.Errorf("bootimg: unknown boot protocol %q (want %s or %s)", p, Multiboot2, Multiboot)
		}
	}
	file := "/boot/" + FileName(c.Name)
	var line strings.Builder
	line.WriteString(GrubWord(file))
	for _, w := range c.Cmdline {
		line.WriteByte(' ')
		line.WriteString(GrubWord(w))
	}
	title := c.Cmdline[0]

	var b strings.Builder
	b.WriteString("# Made by rt0 image: boots the rt0 kernel " + file + ".\n")
	b.WriteString("# GRUB passes the words after the file name to the kernel; the first is argv[0].\n")
	b.WriteString("set default=0\n")
	if len(protos) > 1 {
		var fb []string
		for i := 1; i < len(protos); i++ {
			fb = append(fb, strconv.Itoa(i))
		}
		b.WriteString("set fallback=" + GrubWord(strings.Join(fb, " ")) + "\n")
	}
	fmt.Fprintf(&b, "set timeout=%d\n", c.Timeout)
	if c.Timeout == 0 {
		b.WriteString("set timeout_style=hidden\n")
	} else {
		b.WriteString("set timeout_style=menu\n")
	}
	b.WriteString("# Video drivers: without them GRUB on UEFI finds no video mode to hand over.\n")
	b.WriteString("insmod all_video\n")
	for _, p := range protos {
		fmt.Fprintf(&b, "menuentry %s {\n", GrubWord(title+" ("+p+")"))
		fmt.Fprintf(&b, "\t%s %s\n", p, line.String())
		b.WriteString("\tboot\n}\n")
	}
	return b.String(), nil
}

// epoch resolves Config.Epoch.
func (c *Config) epoch() (time.Time, error) {
	if !c.Epoch.IsZero() {
		return c.Epoch.UTC(), nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%s: want seconds since 1970", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return DefaultEpoch, nil
}

// Build writes the image for c to out (through a temporary file in out's
// directory, so a failure never leaves half an image).
func Build(ctx context.Context, c Config, out string) error {
	if err := Check(c.GrubLib); err != nil {
		return err
	}
	cfg, err := GrubConfig(&c)
	if err != nil {
		return err
	}
	epoch, err := c.epoch()
	if err != nil {
		return err
	}
	if epoch.Year() < 1980 || epoch.Year() > 2099 {
		return fmt.Errorf("bootimg: date %v out of range (1980-2099, for FAT)", epoch)
	}
	kernel, err := os.ReadFile(c.Kernel)
	if err != nil {
		return fmt.Errorf("bootimg: kernel: %w", err)
	}
	logw := c.Log
	if logw == nil {
		logw = io.Discard
	}

	tmp, err := os.MkdirTemp("", "rt0-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tree := filepath.Join(tmp, "iso")
	if err := os.MkdirAll(filepath.Join(tree, "boot", "grub"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tree, "boot", "grub", "grub.cfg"), []byte(cfg), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tree, "boot", FileName(c.Name)), kernel, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(logw, "rt0: grub.cfg:\n%s", cfg)

	iso := filepath.Join(tmp, "image.iso")
	date := epoch.Format("20060102150405") + "00"
	mkrescue, _ := exec.LookPath("grub-mkrescue")
	args := []string{
		"--output=" + iso,
		// No translations, fonts or themes: GRUB runs in its text console
		// (and they are half of the image).
		"--locales=", "--fonts=", "--themes=",
		// The rest goes to xorriso -as mkisofs, after grub-mkrescue's
		// own options: these override its --modification-date (the
		// current time, which also makes the GPT GUIDs).
		"--modification-date=" + date,
		"--set_all_file_dates", date,
		"-V", volumeID(c.Name),
		tree,
	}
	fmt.Fprintf(logw, "rt0: SOURCE_DATE_EPOCH=%d %s %s\n", epoch.Unix(), mkrescue, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, mkrescue, args...)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(epoch.Unix(), 10), "TZ=UTC", "LC_ALL=C")
	var msgs bytes.Buffer
	cmd.Stdout = io.MultiWriter(&msgs, logw)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("grub-mkrescue failed (%v):\n%s", err, strings.TrimSpace(msgs.String()))
	}
	img, err := os.ReadFile(iso)
	if err != nil {
		return err
	}
	if err := Verify(img); err != nil {
		return fmt.Errorf("grub-mkrescue made an image that would not boot everywhere: %v", err)
	}
	if err := fixFATSerial(img); err != nil {
		return err
	}
	if err := writeFileAtomic(out, img); err != nil {
		return err
	}
	fmt.Fprintf(logw, "rt0: wrote %s (%d bytes)\n", out, len(img))
	return nil
}

// writeFileAtomic writes data to name through a temporary file in the same
// directory.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// ISO 9660 and El Torito layout.
const (
	sectorSize     = 2048
	platformX86    = 0x00
	platformEFI    = 0xef
	bootableEntry  = 0x88
	sectionHeader  = 0x90
	finalSection   = 0x91
	elToritoSystem = "EL TORITO SPECIFICATION"
)

// BootEntry is an El Torito boot catalog entry.
type BootEntry struct {
	Platform byte  // 0: BIOS (x86), 0xef: UEFI
	LBA      int64 // first 2048-byte sector of the boot image
}

// BootEntries returns the bootable entries of an ISO image's El Torito
// boot catalog.
func BootEntries(iso []byte) ([]BootEntry, error) {
	var catalog int64 = -1
	for s := int64(16); ; s++ {
		off := s * sectorSize
		if off+sectorSize > int64(len(iso)) {
			return nil, errors.New("no volume descriptor set terminator")
		}
		vd := iso[off : off+sectorSize]
		if string(vd[1:6]) != "CD001" {
			return nil, fmt.Errorf("sector %d is not an ISO 9660 volume descriptor", s)
		}
		if vd[0] == 255 {
			break
		}
		if vd[0] == 0 && string(bytes.TrimRight(vd[7:39], "\x00")) == elToritoSystem {
			catalog = int64(binary.LittleEndian.Uint32(vd[0x47:]))
		}
	}
	if catalog < 0 {
		return nil, errors.New("no El Torito boot record: not bootable as a CD")
	}
	off := catalog * sectorSize
	if off+sectorSize > int64(len(iso)) {
		return nil, errors.New("boot catalog beyond the end of the image")
	}
	cat := iso[off : off+sectorSize]
	if cat[0] != 1 || cat[30] != 0x55 || cat[31] != 0xaa {
		return nil, errors.New("bad El Torito validation entry")
	}
	var entries []BootEntry
	platform := cat[1]
	if cat[32] == bootableEntry {
		entries = append(entries, BootEntry{platform, int64(binary.LittleEndian.Uint32(cat[32+8:]))})
	}
	for i := 64; i+32 <= len(cat); {
		h := cat[i : i+32]
		if h[0] != sectionHeader && h[0] != finalSection {
			break
		}
		platform = h[1]
		n := int(binary.LittleEndian.Uint16(h[2:]))
		i += 32
		for k := 0; k < n && i+32 <= len(cat); i += 32 {
			e := cat[i : i+32]
			if e[0] == 0x44 { // section entry extension
				continue
			}
			k++
			if e[0] == bootableEntry {
				entries = append(entries, BootEntry{platform, int64(binary.LittleEndian.Uint32(e[8:]))})
			}
		}
		if h[0] == finalSection {
			break
		}
	}
	return entries, nil
}

// Verify checks that an image can boot every way it should: El Torito
// entries for BIOS and UEFI (a CD), an MBR boot signature with code (a
// BIOS disk), and a FAT file system for UEFI that the MBR or GPT makes a
// partition (a UEFI disk).
func Verify(img []byte) error {
	entries, err := BootEntries(img)
	if err != nil {
		return err
	}
	var bios, efi bool
	for _, e := range entries {
		switch e.Platform {
		case platformX86:
			bios = true
		case platformEFI:
			efi = true
			if _, err := fatSerialOffset(img, e.LBA*sectorSize); err != nil {
				return fmt.Errorf("UEFI boot image: %v", err)
			}
		}
	}
	if !bios {
		return errors.New("no BIOS El Torito entry (grub-pc-bin missing?)")
	}
	if !efi {
		return errors.New("no UEFI El Torito entry (grub-efi-amd64-bin missing?)")
	}
	if len(img) < 1024 || img[510] != 0x55 || img[511] != 0xaa || allZero(img[:440]) {
		return errors.New("no hybrid MBR: would not boot as a BIOS disk")
	}
	var esp bool
	for i := 0; i < 4; i++ {
		t := img[446+16*i+4]
		if t == 0xef || t == 0xee { // EFI system partition, or GPT protective
			esp = true
		}
	}
	if !esp {
		return errors.New("no EFI system partition in the MBR: would not boot as a UEFI disk")
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// fatSerialOffset returns the offset in img of the volume serial number of
// the FAT file system starting at off.
func fatSerialOffset(img []byte, off int64) (int64, error) {
	if off < 0 || off+512 > int64(len(img)) {
		return 0, errors.New("FAT boot sector beyond the end of the image")
	}
	bs := img[off : off+512]
	if bs[510] != 0x55 || bs[511] != 0xaa {
		return 0, errors.New("no FAT boot sector signature")
	}
	if bps := binary.LittleEndian.Uint16(bs[11:]); bps != 512 && bps != 1024 && bps != 2048 && bps != 4096 {
		return 0, fmt.Errorf("not a FAT file system (%d bytes per sector)", bps)
	}
	if binary.LittleEndian.Uint16(bs[22:]) == 0 { // FAT32: sectors per FAT in the extended BPB
		if bs[66] != 0x28 && bs[66] != 0x29 {
			return 0, errors.New("FAT32 without an extended boot signature")
		}
		return off + 67, nil
	}
	if bs[38] != 0x28 && bs[38] != 0x29 {
		return 0, errors.New("FAT12/16 without an extended boot signature")
	}
	return off + 39, nil
}

// fixFATSerial replaces the random volume serial number of the UEFI boot
// image's FAT file system by the first bytes of the SHA-256 of the image
// with that serial zeroed: a function of the contents, like everything
// else.
func fixFATSerial(img []byte) error {
	entries, err := BootEntries(img)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Platform != platformEFI {
			continue
		}
		at, err := fatSerialOffset(img, e.LBA*sectorSize)
		if err != nil {
			return err
		}
		copy(img[at:at+4], []byte{0, 0, 0, 0})
		sum := sha256.Sum256(img)
		copy(img[at:at+4], sum[:4])
	}
	return nil
}
