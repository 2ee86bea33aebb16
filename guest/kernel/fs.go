package kernel

import (
	"unsafe"

	"rt0/guest/arch/amd64"
	"rt0/guest/kernel/cpio"
	"rt0/guest/linux"
)

// The filesystem: one tree of inodes in kernel memory, like Linux's tmpfs.
//
// At boot the tree holds /, /tmp, /dev (null, zero, random, urandom) and
// /proc/cmdline; if the loader gave a boot module, it is read as a newc cpio
// archive and its directories, files and symlinks are added (rt0 test packs
// the package directory this way, rt0 run -files any directory). Files from
// the archive are served from the module's memory where it lies; the first
// write copies a file into the kernel heap (kheap.go). Everything is
// writable and nothing persists.
//
// A directory's entries are a linked list of its children (child, next);
// an inode has one name and one parent (no hard links). Inodes live in
// chunks of the kernel heap that never move, so an *inode stays valid
// across allocations; the number of an inode is its index.

type inodeKind uint8

const (
	iFree inodeKind = iota
	iDir
	iReg
	iLink
	iDev
	iSock // a Unix socket's name (sys_socket.go)
	iFifo // a named pipe (fifo.go)
)

// Character devices under /dev.
const (
	devNull = iota + 1
	devZero
	devRandom
)

type inode struct {
	kind   inodeKind
	dev    uint8
	_      uint16
	mode   uint32 // permission bits
	parent int32
	child  int32 // first entry, for directories; -1 none
	next   int32 // next entry of the parent; -1 none
	opens  int32 // open file descriptions
	name   uint64
	nlen   uint64
	size   uint64
	data   uint64 // contents (or symlink target)
	cap    uint64 // kheap block size of data; 0: data lies in the archive
	mtime  int64
	atime  int64
}

const (
	inodesPerChunk = 64
	maxChunks      = 4096 // 262144 inodes
	maxPath        = 4096
	maxSymlinks    = 40
)

var fsys struct {
	chunks [maxChunks]uint64
	n      int32 // inodes ever used (high-water mark)
	free   int32 // a hint: lowest possibly free inode
	cwd    int32
	ready  bool
}

// ino returns inode i.
func ino(i int32) *inode {
	c := fsys.chunks[i/inodesPerChunk]
	return (*inode)(amd64.Ptr(uintptr(c + uint64(i%inodesPerChunk)*uint64(unsafe.Sizeof(inode{})))))
}

func (n *inode) nameBytes() []byte { return amd64.Bytes(uintptr(n.name), int(n.nlen)) }

func (n *inode) contents() []byte {
	if n.size == 0 {
		return nil
	}
	return amd64.Bytes(uintptr(n.data), int(n.size))
}

// newInode takes a free inode, -1 if none.
func newInode(k inodeKind, mode uint32) int32 {
	for i := fsys.free; i < maxChunks*inodesPerChunk; i++ {
		if i >= fsys.n {
			if i%inodesPerChunk == 0 && fsys.chunks[i/inodesPerChunk] == 0 {
				c, ok := kalloc(inodesPerChunk * uint64(unsafe.Sizeof(inode{})))
				if !ok {
					return -1
				}
				fsys.chunks[i/inodesPerChunk] = c
			}
			fsys.n = i + 1
		}
		n := ino(i)
		if n.kind == iFree {
			now := walltime()
			*n = inode{kind: k, mode: mode & 0o7777, parent: -1, child: -1, next: -1, mtime: now, atime: now}
			fsys.free = i + 1
			return i
		}
	}
	return -1
}

// freeInode releases i and its contents.
func freeInode(i int32) {
	n := ino(i)
	if n.cap != 0 {
		kfree(n.data, n.cap)
	}
	if n.kind == iFifo && n.data != 0 {
		pipes[n.data-1].fifo = 0 // still open: the ring lives on without its node
	}
	if n.name != 0 && n.nlen != 0 && !inArchive(n.name) {
		kfree(n.name, n.nlen)
	}
	*n = inode{}
	if i < fsys.free {
		fsys.free = i
	}
}

var archive struct{ start, end uint64 }

func inArchive(a uint64) bool { return a >= archive.start && a < archive.end }

// setName gives inode i the name b (copied to the kernel heap).
func setName(i int32, b []byte) bool {
	n := ino(i)
	if n.name != 0 && n.nlen != 0 && !inArchive(n.name) {
		kfree(n.name, n.nlen)
	}
	n.name, n.nlen = 0, 0
	if len(b) == 0 {
		return true
	}
	a, ok := kalloc(uint64(len(b)))
	if !ok {
		return false
	}
	copy(amd64.Bytes(uintptr(a), len(b)), b)
	n.name, n.nlen = a, uint64(len(b))
	return true
}

// link adds child c to directory d.
func link(d, c int32) {
	dn, cn := ino(d), ino(c)
	cn.parent = d
	cn.next = dn.child
	dn.child = c
	dn.mtime = walltime()
}

// unlink removes c from its parent's entries.
func unlink(c int32) {
	cn := ino(c)
	d := cn.parent
	if d < 0 {
		return
	}
	dn := ino(d)
	if dn.child == c {
		dn.child = cn.next
	} else {
		for p := dn.child; p >= 0; p = ino(p).next {
			if ino(p).next == c {
				ino(p).next = cn.next
				break
			}
		}
	}
	cn.parent, cn.next = -1, -1
	dn.mtime = walltime()
}

// lookup finds the entry called name in directory d.
func lookup(d int32, name []byte) int32 {
	if string(name) == "." {
		return d
	}
	if string(name) == ".." {
		if p := ino(d).parent; p >= 0 {
			return p
		}
		return d // the root is its own parent
	}
	for c := ino(d).child; c >= 0; c = ino(c).next {
		if string(ino(c).nameBytes()) == string(name) {
			return c
		}
	}
	return -1
}

// mknod creates name in directory d (which must not have it).
func mknod(d int32, name []byte, k inodeKind, mode uint32) (int32, int64) {
	if len(name) > 255 {
		return -1, -linux.ENAMETOOLONG
	}
	i := newInode(k, mode)
	if i < 0 {
		return -1, -linux.ENOSPC
	}
	if !setName(i, name) {
		freeInode(i)
		return -1, -linux.ENOMEM
	}
	link(d, i)
	return i, 0
}

// Path resolution.

var (
	pathBuf  [2][maxPath]byte // user paths copied in (rename needs two)
	linkBuf  [maxPath]byte    // splicing symlink targets
	linkBuf2 [maxPath]byte
)

// userPath copies the NUL-terminated user string at addr into buffer k.
func userPath(addr uint64, k int) ([]byte, int64) {
	buf := pathBuf[k][:]
	for i := 0; i < len(buf); i++ {
		// Check page by page: the string may end before a bad page.
		if i == 0 || (addr+uint64(i))%4096 == 0 {
			if !userOK(addr+uint64(i), 1, false) {
				return nil, -linux.EFAULT
			}
		}
		c := *(*byte)(amd64.Ptr(uintptr(addr + uint64(i))))
		if c == 0 {
			if i == 0 {
				return nil, -linux.ENOENT
			}
			return buf[:i], 0
		}
		buf[i] = c
	}
	return nil, -linux.ENAMETOOLONG
}

// walk resolves path from directory start. With parent set it stops at the
// last component and returns its directory and name (which need not
// exist); otherwise it returns the inode, following a final symlink if
// follow is set.
func walk(start int32, path []byte, follow, parent bool) (dir int32, last []byte, node int32, errno int64) {
	// A trailing slash says the last component is a directory: follow it
	// if it is a symlink, and fail with ENOTDIR if it is not a directory.
	trailing := len(path) > 1 && path[len(path)-1] == '/'
	if trailing {
		follow = true
	}
	cur := start
	if len(path) > 0 && path[0] == '/' {
		cur = 0
	}
	links := 0
	for {
		// Skip slashes, take the next component.
		for len(path) > 0 && path[0] == '/' {
			path = path[1:]
		}
		if len(path) == 0 {
			if parent {
				return ino(cur).parentOrSelf(cur), dotName[:], cur, 0
			}
			return cur, nil, cur, 0
		}
		end := 0
		for end < len(path) && path[end] != '/' {
			end++
		}
		name, rest := path[:end], path[end:]
		isLast := true
		for _, c := range rest {
			if c != '/' {
				isLast = false
				break
			}
		}
		// A name too long is an error when it is looked up; in parent
		// mode the last one is the caller's to look up (parentOf), and
		// rename looks both parents up first, as Linux does.
		if len(name) > 255 && !(isLast && parent) {
			return -1, nil, -1, -linux.ENAMETOOLONG
		}
		if ino(cur).kind != iDir {
			return -1, nil, -1, -linux.ENOTDIR
		}
		if isLast && parent {
			node := lookup(cur, name)
			if trailing && node >= 0 && ino(node).kind != iDir && ino(node).kind != iLink {
				return -1, nil, -1, -linux.ENOTDIR
			}
			return cur, name, node, 0
		}
		next := lookup(cur, name)
		if next < 0 {
			return -1, nil, -1, -linux.ENOENT
		}
		n := ino(next)
		if n.kind == iLink && (!isLast || follow) {
			links++
			if links > maxSymlinks {
				return -1, nil, -1, -linux.ELOOP
			}
			// path = target + rest, in a buffer that is not path's.
			target := n.contents()
			buf := linkBuf[:]
			if len(rest) > 0 && within(rest, linkBuf[:]) {
				buf = linkBuf2[:]
			}
			if len(target)+len(rest) > len(buf) {
				return -1, nil, -1, -linux.ENAMETOOLONG
			}
			k := copy(buf, target)
			k += copy(buf[k:], rest)
			path = buf[:k]
			if isLast && len(target) > 0 && target[len(target)-1] == '/' {
				// A link to "x/" names a directory, as a trailing slash
				// does: a file there is ENOTDIR.
				trailing = true
			}
			if len(target) > 0 && target[0] == '/' {
				cur = 0
			}
			continue
		}
		if isLast {
			if trailing && n.kind != iDir {
				return -1, nil, -1, -linux.ENOTDIR
			}
			return cur, name, next, 0
		}
		cur = next
		path = rest
	}
}

// within reports whether p lies inside buf.
func within(p, buf []byte) bool {
	a := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return a >= b && a < b+uintptr(len(buf))
}

func (n *inode) parentOrSelf(self int32) int32 {
	if n.parent >= 0 {
		return n.parent
	}
	return self
}

// dirFor returns the directory a *at syscall's dirfd names.
//
// An absolute path starts at the root whatever dirfd is: Linux does not
// look dirfd up then, so a bad one is no error.
func dirFor(dirfd uint64, path []byte) (int32, int64) {
	if len(path) > 0 && path[0] == '/' {
		return 0, 0
	}
	if int32(dirfd) == atFDCWD {
		return fsys.cwd, 0
	}
	f := getFile(dirfd)
	if f == nil {
		return -1, -linux.EBADF
	}
	if f.kind != fdFile || ino(f.ino).kind != iDir {
		return -1, -linux.ENOTDIR
	}
	return f.ino, 0
}

const atFDCWD = -100

// dotName is ".", as a slice that needs no allocation.
var dotName = [1]byte{'.'}

// Contents.

// ensureOwned gives file i its own kheap copy of the contents with room
// for at least n bytes.
func ensureOwned(i int32, n uint64) int64 {
	f := ino(i)
	if f.cap != 0 && n <= f.cap {
		return 0
	}
	want := n
	if want < 64 {
		want = 64
	}
	if f.cap == 0 {
		a, ok := kalloc(want)
		if !ok {
			return -linux.ENOSPC
		}
		if f.size > 0 {
			copy(amd64.Bytes(uintptr(a), int(f.size)), amd64.Bytes(uintptr(f.data), int(f.size)))
		}
		f.data = a
		k, _ := sizeClass(want)
		f.cap = 1 << k
		return 0
	}
	a, ok := krealloc(f.data, f.cap, want)
	if !ok {
		return -linux.ENOSPC
	}
	k, _ := sizeClass(want)
	f.data, f.cap = a, 1<<k
	return 0
}

// truncate sets file i's size, zero-filling any growth.
func truncate(i int32, size uint64) int64 {
	f := ino(i)
	if size == f.size {
		return 0
	}
	if e := ensureOwned(i, size); e != 0 {
		return e
	}
	if size < f.size {
		clear(amd64.Bytes(uintptr(f.data+size), int(f.size-size)))
	}
	f.size = size
	f.mtime = walltime()
	return 0
}

// fileWrite writes p at off into file i.
func fileWrite(i int32, off uint64, p []byte) int64 {
	f := ino(i)
	end := off + uint64(len(p))
	if end < off {
		return -linux.EFBIG
	}
	if e := ensureOwned(i, max(end, f.size)); e != 0 {
		return e
	}
	copy(amd64.Bytes(uintptr(f.data+off), len(p)), p)
	if end > f.size {
		f.size = end
	}
	f.mtime = walltime()
	return int64(len(p))
}

// Boot.

// initFS builds the tree: the fixed nodes, then the boot module's archive.
func initFS() {
	root := newInode(iDir, 0o755)
	if root != 0 {
		panicMsg("filesystem: no memory for the root directory")
	}
	fsys.cwd = 0
	mkdirs([]byte("tmp"), 0o1777)
	dev, _ := mkdirs([]byte("dev"), 0o755)
	mknod(dev, []byte("null"), iDev, 0o666)
	ino(lookup(dev, []byte("null"))).dev = devNull
	mknod(dev, []byte("zero"), iDev, 0o666)
	ino(lookup(dev, []byte("zero"))).dev = devZero
	mknod(dev, []byte("urandom"), iDev, 0o444)
	ino(lookup(dev, []byte("urandom"))).dev = devRandom
	mknod(dev, []byte("random"), iDev, 0o444)
	ino(lookup(dev, []byte("random"))).dev = devRandom
	makeScreenDevices(dev)
	pciNode(dev, []byte("rt0net"), devNetSvc, 0)
	pciNode(dev, []byte("kmsg"), devKmsg, 0)
	proc, _ := mkdirs([]byte("proc"), 0o555)
	self, e := mknod(proc, []byte("self"), iDir, 0o555)
	if e == 0 {
		pciNode(self, []byte("pagemap"), devPagemap, 0)
	}
	if e == 0 && args.Argc > 0 {
		// os.Executable reads this link: the program's path as argv[0] gave it.
		if exe, e := mknod(self, []byte("exe"), iLink, 0o777); e == 0 {
			a := argsBuf[args.Argv[0]:]
			n := 0
			for n < len(a) && a[n] != 0 {
				n++
			}
			fileWrite(exe, 0, a[:n])
		}
	}
	if pn, e := mknod(proc, []byte("net"), iDir, 0o555); e == 0 {
		for i, name := range [...]string{"igmp", "igmp6"} {
			if n, e := mknod(pn, []byte(name), iDev, 0o444); e == 0 {
				ino(n).dev, ino(n).data = devProcNet, uint64(i)
			}
		}
	}
	if c, e := mknod(proc, []byte("cmdline"), iReg, 0o444); e == 0 {
		fileWrite(c, 0, cmdlineBuf[:cmdlineLen])
		fileWrite(c, uint64(cmdlineLen), []byte("\n"))
	}
	fsys.ready = true
	if bootInfo.NModules > 0 {
		m := bootInfo.Modules[0]
		loadArchive(m.Start, m.End)
	}
	initFirmwareFiles()
	initCPUFiles()
	initPCIFiles()
	initEtcHosts()
}

// mkdirs creates the directories of path (relative to /) that are missing
// and returns the last one.
func mkdirs(path []byte, mode uint32) (int32, int64) {
	cur := int32(0)
	for len(path) > 0 {
		for len(path) > 0 && path[0] == '/' {
			path = path[1:]
		}
		end := 0
		for end < len(path) && path[end] != '/' {
			end++
		}
		if end == 0 {
			break
		}
		name := path[:end]
		path = path[end:]
		next := lookup(cur, name)
		if next < 0 {
			var e int64
			next, e = mknod(cur, name, iDir, mode)
			if e != 0 {
				return -1, e
			}
		} else if ino(next).kind != iDir {
			return -1, -linux.ENOTDIR
		}
		cur = next
	}
	return cur, 0
}

// loadArchive adds the entries of the cpio archive in [start, end).
func loadArchive(start, end uint64) {
	archive.start, archive.end = start, end
	ar := amd64.Bytes(uintptr(start), int(end-start))
	files, bytes := 0, 0
	for off := 0; ; {
		e, next, trailer, err := cpio.Next(ar, off)
		if err != cpio.OK {
			logToConsole = true
			kprint("rt0: boot module is not a newc cpio archive (or is damaged) at byte ")
			kprintDec(int64(off))
			kprint("; files after that are missing\n")
			logToConsole = false
			return
		}
		if trailer {
			break
		}
		off = next
		name := e.Name
		for len(name) > 0 && (name[0] == '/' || (name[0] == '.' && (len(name) == 1 || name[1] == '/'))) {
			name = name[1:]
		}
		if len(name) == 0 {
			continue // the root itself
		}
		dirEnd := len(name)
		for dirEnd > 0 && name[dirEnd-1] != '/' {
			dirEnd--
		}
		dir, errno := mkdirs(name[:dirEnd], 0o755)
		if errno != 0 {
			continue
		}
		base := name[dirEnd:]
		mode := e.Mode & 0o7777
		var kind inodeKind
		switch e.Mode & cpio.TypeMask {
		case cpio.TypeDir:
			kind = iDir
		case cpio.TypeReg:
			kind = iReg
		case cpio.TypeLink:
			kind = iLink
		default:
			continue // devices, fifos, sockets: not served
		}
		i := lookup(dir, base)
		if i >= 0 {
			if kind == iDir && ino(i).kind == iDir {
				ino(i).mode = mode // a directory listed after its contents
				continue
			}
			unlink(i)
			freeInode(i)
		}
		i = newInode(kind, mode)
		if i < 0 {
			panicMsg("filesystem: out of inodes loading the boot archive")
		}
		n := ino(i)
		n.name = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(base))))
		n.nlen = uint64(len(base))
		n.mtime = int64(e.Mtime) * 1e9
		if len(e.Data) > 0 {
			n.data = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(e.Data))))
			n.size = uint64(len(e.Data))
		}
		link(dir, i)
		files++
		bytes += len(e.Data)
	}
	kprint("rt0: boot archive: ")
	kprintDec(int64(files))
	kprint(" entries, ")
	kprintDec(int64(bytes >> 10))
	kprint(" KiB\n")
}

// initEtcHosts gives the machine the /etc/hosts every Linux has, unless
// the boot archive brought one: Go's resolver reads it, and "localhost"
// (a name programs dial their own servers by) resolves through it, not
// through DNS, which there is none of.
func initEtcHosts() {
	etc, e := mkdirs([]byte("etc"), 0o755)
	if e != 0 || lookup(etc, []byte("hosts")) >= 0 {
		return
	}
	if h, e := mknod(etc, []byte("hosts"), iReg, 0o644); e == 0 {
		fileWrite(h, 0, []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"))
	}
}
