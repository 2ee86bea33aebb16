package main

// The guest's files: rt0's kernel takes a newc cpio archive, loaded as the
// first multiboot module, as its root file system (in memory, writable,
// nothing persists). rt0 run -files and rt0 test build that archive from
// host directories, each placed at a path of the guest's choosing (usually
// its own absolute path, so that the program sees the same names as on the
// host).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/u-root/mkuimage/cpio"
)

// fileTree is a host file or directory (Src, followed if it is a symbolic
// link) that appears in the guest at the absolute path Dst, with
// everything below it. Symbolic links below Src are kept as links.
type fileTree struct {
	Src, Dst string
}

// maxArchive bounds the bytes of file data an archive may carry: the
// kernel holds the whole archive in guest memory.
const maxArchive = 512 << 20

// skipDirs are directories never packed (version control metadata).
var skipDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, ".bzr": true}

// archiveWriter writes one archive: directories first named, each path
// once (the first tree to name a path wins), unique inode numbers.
type archiveWriter struct {
	w     cpio.RecordWriter
	seen  map[string]bool
	ino   uint64
	size  int64
	limit int64
	files int
}

// writeArchive writes a newc cpio archive holding /tmp (mode 1777) and the
// trees, to w. Entry names are relative to / ("work/x/y"), parents before
// children; the parents of each Dst that no tree provides are 0755
// directories.
func writeArchive(w io.Writer, trees []fileTree) (files int, size int64, err error) {
	a := &archiveWriter{w: cpio.Newc.Writer(w), seen: map[string]bool{}, ino: 1, limit: maxArchive}
	if err := a.dir("tmp", fs.ModeDir|fs.ModeSticky|0o777, 0); err != nil {
		return 0, 0, err
	}
	for _, t := range trees {
		if err := a.tree(t); err != nil {
			return 0, 0, err
		}
	}
	if err := a.w.WriteRecord(cpio.TrailerRecord); err != nil {
		return 0, 0, err
	}
	return a.files, a.size, nil
}

// writeArchiveFile writes the archive into the file name.
func writeArchiveFile(name string, trees []fileTree) (files int, size int64, err error) {
	f, err := os.Create(name)
	if err != nil {
		return 0, 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	files, size, err = writeArchive(bw, trees)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
	}
	return files, size, err
}

// guestName turns an absolute guest path into an archive entry name
// ("/a/b" -> "a/b"); "" for the root.
func guestName(dst string) (string, error) {
	if !strings.HasPrefix(dst, "/") {
		return "", fmt.Errorf("guest path %q is not absolute", dst)
	}
	return strings.TrimPrefix(path.Clean(dst), "/"), nil
}

// cpioMode is the Unix st_mode of a Go file mode.
func cpioMode(m fs.FileMode) uint64 {
	mode := uint64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= cpio.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		mode |= cpio.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		mode |= cpio.S_ISVTX
	}
	switch {
	case m.IsDir():
		mode |= cpio.S_IFDIR
	case m&fs.ModeSymlink != 0:
		mode |= cpio.S_IFLNK
	default:
		mode |= cpio.S_IFREG
	}
	return mode
}

func (a *archiveWriter) record(name string, mode fs.FileMode, mtime int64, data io.ReaderAt, size int64) error {
	nlink := uint64(1)
	if mode.IsDir() {
		nlink = 2
	}
	if mtime < 0 {
		mtime = 0
	}
	r := cpio.Record{ReaderAt: data, Info: cpio.Info{
		Ino:      a.ino,
		Mode:     cpioMode(mode),
		NLink:    nlink,
		MTime:    uint64(mtime),
		FileSize: uint64(size),
		Name:     name,
	}}
	a.ino++
	a.seen[name] = true
	a.files++
	return a.w.WriteRecord(r)
}

// dir writes a directory entry (once) after its missing parents.
func (a *archiveWriter) dir(name string, mode fs.FileMode, mtime int64) error {
	if name == "" || a.seen[name] {
		return nil
	}
	if err := a.parents(name); err != nil {
		return err
	}
	return a.record(name, mode, mtime, nil, 0)
}

// parents writes the missing parent directories of name.
func (a *archiveWriter) parents(name string) error {
	parent := path.Dir(name)
	if parent == "." || a.seen[parent] {
		return nil
	}
	return a.dir(parent, 0o755|fs.ModeDir, 0)
}

func (a *archiveWriter) tree(t fileTree) error {
	name, err := guestName(t.Dst)
	if err != nil {
		return err
	}
	fi, err := os.Stat(t.Src) // follows a link at the top
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		if name == "" {
			return fmt.Errorf("%s: a file cannot be the guest's root directory", t.Src)
		}
		if err := a.parents(name); err != nil {
			return err
		}
		return a.file(t.Src, name, fi)
	}
	return a.walk(t.Src, name, fi)
}

// walk writes directory src (described by fi) as name, and what it holds.
func (a *archiveWriter) walk(src, name string, fi fs.FileInfo) error {
	if name != "" {
		if err := a.dir(name, fi.Mode(), fi.ModTime().Unix()); err != nil {
			return err
		}
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		child := path.Join(name, e.Name())
		csrc := filepath.Join(src, e.Name())
		if a.seen[child] {
			continue
		}
		cfi, err := os.Lstat(csrc)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed while we walked
			}
			return err
		}
		switch {
		case cfi.IsDir():
			if skipDirs[e.Name()] {
				continue
			}
			if err := a.walk(csrc, child, cfi); err != nil {
				return err
			}
		case cfi.Mode()&fs.ModeSymlink != 0, cfi.Mode().IsRegular():
			if err := a.file(csrc, child, cfi); err != nil {
				return err
			}
		default:
			// Devices, FIFOs and sockets have no place in the archive.
		}
	}
	return nil
}

// file writes a regular file or a symbolic link.
func (a *archiveWriter) file(src, name string, fi fs.FileInfo) error {
	if a.seen[name] {
		return nil
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return a.record(name, fi.Mode(), fi.ModTime().Unix(), strings.NewReader(target), int64(len(target)))
	}
	a.size += fi.Size()
	if a.size > a.limit {
		return fmt.Errorf("the files to pack exceed %d MiB (at %s)", a.limit>>20, src)
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return a.record(name, fi.Mode(), fi.ModTime().Unix(), io.NewSectionReader(f, 0, fi.Size()), fi.Size())
}

// readArchive lists an archive's entries (for tests and -x output):
// name -> mode, and the contents of regular files and links.
func readArchive(r io.ReaderAt) (map[string]archiveEntry, error) {
	out := map[string]archiveEntry{}
	rr := cpio.EOFReader{RecordReader: cpio.Newc.Reader(r)}
	for {
		rec, err := rr.ReadRecord()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		e := archiveEntry{Mode: rec.Mode, Ino: rec.Ino, MTime: rec.MTime}
		if rec.ReaderAt != nil && rec.FileSize > 0 {
			b := make([]byte, rec.FileSize)
			if _, err := rec.ReadAt(b, 0); err != nil && err != io.EOF {
				return nil, err
			}
			e.Data = string(b)
		}
		if _, dup := out[rec.Name]; dup {
			return nil, fmt.Errorf("archive names %s twice", rec.Name)
		}
		out[rec.Name] = e
	}
}

// archiveEntry is one entry as readArchive sees it.
type archiveEntry struct {
	Mode, Ino, MTime uint64
	Data             string
}

// cwdOption is the kernel option word that sets the program's initial
// working directory.
func cwdOption(dir string) string { return "rt0.cwd=" + dir }

// packFiles writes the archive for rt0 run -files: each directory at its
// absolute path. It returns the first one, the working directory.
func packFiles(name string, dirs []string) (cwd string, err error) {
	var trees []fileTree
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", err
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return "", err
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("%s is not a directory", d)
		}
		if cwd == "" {
			cwd = abs
		}
		trees = append(trees, fileTree{Src: abs, Dst: filepath.ToSlash(abs)})
	}
	if _, _, err := writeArchiveFile(name, trees); err != nil {
		return "", err
	}
	return cwd, nil
}
