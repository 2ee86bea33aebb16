// Package cpio reads "newc" cpio archives (magic 070701), the format of
// Linux initramfs images and of the archives `rt0 test` and `rt0 run
// -files` hand the kernel as a boot module.
//
// An archive is a run of entries, each a 110-byte header of ASCII hex
// fields, the NUL-terminated name padded to a multiple of 4 bytes (counting
// from the header's start), then the file data padded to 4, ending with an
// entry named "TRAILER!!!". The reader works in place: names and data are
// subslices of the archive, so the kernel can serve files straight out of
// the module's memory. It allocates nothing and never panics on bad input.
package cpio

// Errors, as small integers (an error interface would allocate).
const (
	OK = iota
	ErrShort
	ErrMagic
	ErrHex
	ErrName
	ErrData
)

// Entry is one archive member.
type Entry struct {
	Name  []byte // without the trailing NUL; may start with "/" or "./"
	Mode  uint32 // file type and permission bits, as st_mode
	Mtime uint32
	Data  []byte // file contents, or a symlink's target
	// Ino and NLink let a reader recognize hard links (same Ino).
	Ino, NLink uint32
}

// Mode bits for the file type.
const (
	TypeMask  = 0o170000
	TypeDir   = 0o040000
	TypeReg   = 0o100000
	TypeLink  = 0o120000
	TypeChr   = 0o020000
	headerLen = 110
)

func hex8(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b[:8] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint32(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint32(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

func align4(n int) int { return (n + 3) &^ 3 }

// Next reads the entry at offset off of archive. It returns the entry, the
// offset of the next one, whether this was the trailer, and an error code.
func Next(archive []byte, off int) (e Entry, next int, trailer bool, err int) {
	if off < 0 || off > len(archive) || len(archive)-off < headerLen {
		return e, off, false, ErrShort
	}
	h := archive[off : off+headerLen]
	if string(h[:6]) != "070701" && string(h[:6]) != "070702" {
		return e, off, false, ErrMagic
	}
	var f [13]uint32
	for i := range f {
		v, ok := hex8(h[6+8*i:])
		if !ok {
			return e, off, false, ErrHex
		}
		f[i] = v
	}
	e.Ino, e.Mode, e.NLink, e.Mtime = f[0], f[1], f[4], f[5]
	size, namesize := int(f[6]), int(f[11])
	if namesize < 1 || namesize > 4096 || namesize > len(archive)-off-headerLen {
		return e, off, false, ErrName
	}
	name := archive[off+headerLen : off+headerLen+namesize]
	if name[namesize-1] != 0 {
		return e, off, false, ErrName
	}
	e.Name = name[:namesize-1]
	data := off + align4(headerLen+namesize)
	if data > len(archive) || size > len(archive)-data {
		return e, off, false, ErrData
	}
	e.Data = archive[data : data+size : data+size]
	next = data + align4(size)
	if next > len(archive) {
		next = len(archive)
	}
	if string(e.Name) == "TRAILER!!!" {
		return e, next, true, OK
	}
	return e, next, false, OK
}
