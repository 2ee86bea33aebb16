package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/linux"
)

// Filesystem syscalls over the tree of fs.go, with Linux's semantics and
// errors: open/openat with O_CREAT/O_EXCL/O_TRUNC/O_APPEND/O_DIRECTORY,
// read/write/pread/pwrite/lseek, stat and friends, getdents64, mkdir,
// unlink, rename, symlink, readlink, chdir/getcwd, truncate, access,
// chmod, utimensat.

func releaseInode(i int32) {
	if i < 0 {
		return
	}
	n := ino(i)
	n.opens--
	if n.opens <= 0 && n.parent < 0 && i != 0 {
		freeInode(i) // unlinked while open: gone with its last descriptor
	}
}

func sysOpenat(dirfd, path, flags, mode uint64) int64 {
	p, e := userPath(path, 0)
	if e != 0 {
		return e
	}
	start, e := dirFor(dirfd, p)
	if e != 0 {
		return e
	}
	fl := uint32(flags)
	dir, name, node, e := walk(start, p, fl&linux.O_NOFOLLOW == 0, fl&linux.O_CREAT != 0)
	if e != 0 {
		return e
	}
	if len(name) > 255 {
		return -linux.ENAMETOOLONG // O_CREAT's last name (walk leaves it to the caller)
	}
	if fl&linux.O_CREAT != 0 {
		if node >= 0 && fl&linux.O_EXCL != 0 {
			return -linux.EEXIST
		}
		if node >= 0 && ino(node).kind == iLink {
			// O_CREAT follows a final symlink: resolve it fully.
			if fl&linux.O_NOFOLLOW != 0 {
				return -linux.ELOOP
			}
			linkDir := ino(node).parent
			_, _, node, e = walk(start, p, true, false)
			if e == -linux.ENOENT {
				// A dangling link: create its target, as Linux does.
				var d2 int32
				var n2 []byte
				target := ino(lookup(dir, name)).contents()
				if len(target) > 0 && target[len(target)-1] == '/' || p[len(p)-1] == '/' {
					return -linux.EISDIR // the link names a directory to be: no file there
				}
				d2, n2, node, e = walk(linkDir, target, true, true)
				if e != 0 {
					return e
				}
				if node < 0 {
					node, e = mknod(d2, n2, iReg, uint32(mode)&^umask)
					if e != 0 {
						return e
					}
				}
			} else if e != 0 {
				return e
			}
		}
		if node < 0 {
			if p[len(p)-1] == '/' {
				return -linux.EISDIR
			}
			node, e = mknod(dir, name, iReg, uint32(mode)&^umask)
			if e != 0 {
				return e
			}
		}
	}
	n := ino(node)
	switch {
	case n.kind == iLink && fl&linux.O_PATH == 0:
		return -linux.ELOOP // O_NOFOLLOW on a symlink
	case n.kind == iDir && fl&linux.O_ACCMODE != linux.O_RDONLY:
		return -linux.EISDIR
	case n.kind != iDir && fl&linux.O_DIRECTORY != 0:
		return -linux.ENOTDIR
	}
	if fl&linux.O_TRUNC != 0 && n.kind == iReg && fl&linux.O_ACCMODE != linux.O_RDONLY {
		if e := truncate(node, 0); e != 0 {
			return e
		}
	}
	if n.kind == iSock && fl&linux.O_PATH == 0 {
		return -linux.ENXIO // a socket's name is connected to, not opened
	}
	if n.kind == iFifo && fl&linux.O_PATH == 0 {
		return fifoOpen(node, fl&(linux.O_ACCMODE|linux.O_NONBLOCK|linux.O_CLOEXEC))
	}
	if n.kind == iDev && n.dev == devNetSvc && fl&linux.O_PATH == 0 && socketCall == nil {
		return -linux.ENODEV // a program without sockets has no network
	}
	if n.kind == iDev && n.dev == devNetSvc && fl&linux.O_PATH == 0 && netsvcState.open {
		return -linux.EBUSY // one service
	}
	if n.kind == iDev && n.dev == devTTY && fl&linux.O_PATH == 0 {
		// /dev/tty0 and /dev/console are the console that fds 0-2 are.
		return allocFD(fdConsole, fl&(linux.O_ACCMODE|linux.O_NONBLOCK|linux.O_CLOEXEC))
	}
	fd := allocFD(fdFile, fl&(linux.O_ACCMODE|linux.O_APPEND|linux.O_NONBLOCK|linux.O_PATH|linux.O_CLOEXEC|linux.O_DIRECTORY))
	if fd < 0 {
		return fd
	}
	f := getFile(uint64(fd))
	f.ino = node
	n.opens++
	if n.kind == iDev && n.dev == devUIO && fl&linux.O_PATH == 0 {
		uioOpened(f, int(n.data))
	}
	if n.kind == iDev && n.dev == devNetSvc && fl&linux.O_PATH == 0 {
		socketOp(sockOpNetOpen, ofdIndex(f), 0, 0, 0)
	}
	return fd
}

func sysOpen(path, flags, mode uint64) int64 {
	return sysOpenat(atCWD, path, flags, mode)
}

func sysCreat(path, mode uint64) int64 {
	return sysOpen(path, linux.O_CREAT|linux.O_WRONLY|linux.O_TRUNC, mode)
}

// fileRead copies up to n bytes from offset off of f's inode to user buf.
func fileRead(f *ofd, off, buf, n uint64) int64 {
	node := ino(f.ino)
	switch node.kind {
	case iDir:
		return -linux.EISDIR
	case iDev:
		if node.dev >= devPCIConfig {
			return pciDevRead(f, node, off, buf, n)
		}
		p, ok := userBytes(buf, n, true)
		if !ok {
			return -linux.EFAULT
		}
		switch node.dev {
		case devZero:
			clear(p)
		case devRandom:
			fillRandom(p)
		case devVcsa, devFB:
			return screenDevRead(f, node.dev, off, p)
		default:
			return 0 // /dev/null: end of file
		}
		return int64(n)
	}
	if off >= node.size {
		return 0
	}
	if n > node.size-off {
		n = node.size - off
	}
	p, ok := userBytes(buf, n, true)
	if !ok {
		return -linux.EFAULT
	}
	copy(p, amd64.Bytes(uintptr(node.data+off), int(n)))
	return int64(n)
}

// fileWriteUser writes n bytes of user buf at offset off of f's inode.
func fileWriteUser(f *ofd, off, buf, n uint64) int64 {
	node := ino(f.ino)
	switch node.kind {
	case iDir:
		return -linux.EISDIR
	case iDev:
		if node.dev != devFB && node.dev < devPCIConfig {
			return int64(n) // /dev/null and friends swallow writes
		}
		p, ok := userBytes(buf, n, false)
		if !ok {
			return -linux.EFAULT
		}
		if node.dev >= devPCIConfig {
			return pciDevWrite(node, off, p)
		}
		return screenDevWrite(node.dev, off, p)
	}
	p, ok := userBytes(buf, n, false)
	if !ok {
		return -linux.EFAULT
	}
	return fileWrite(f.ino, off, p)
}

func sysLseek(fd, off, whence uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	if f.kind != fdFile {
		return -linux.ESPIPE
	}
	var base int64
	switch whence {
	case 0: // SEEK_SET
	case 1: // SEEK_CUR
		base = int64(f.off)
	case 2: // SEEK_END
		base = int64(ino(f.ino).size)
	default:
		return -linux.EINVAL
	}
	pos := base + int64(off)
	if pos < 0 {
		return -linux.EINVAL
	}
	f.off = uint64(pos)
	return pos
}

// Linux's struct stat on x86-64 (144 bytes).
const (
	stIno     = 8
	stNlink   = 16
	stMode    = 24
	stRdev    = 40
	stSize    = 48
	stBlksize = 56
	stBlocks  = 64
	stAtim    = 72
	stMtim    = 88
	stCtim    = 104
	statSize  = 144

	sIFDIR  = 0o040000
	sIFREG  = 0o100000
	sIFLNK  = 0o120000
	sIFCHR  = 0o020000
	sIFSOCK = 0o140000
	sIFIFO  = 0o010000
)

func fillStat(p []byte, i int32, console bool) {
	clear(p[:statSize])
	var mode uint32
	var nlink, size, rdev uint64 = 1, 0, 0
	var mtime, atime int64
	if console {
		mode = sIFCHR | 0o620
		rdev = 5<<8 | 1 // /dev/console
		mtime, atime = wall0, wall0
	} else {
		n := ino(i)
		mode = n.mode
		size = n.size
		mtime, atime = n.mtime, n.atime
		switch n.kind {
		case iDir:
			mode |= sIFDIR
			nlink = 2
		case iReg:
			mode |= sIFREG
		case iLink:
			mode |= sIFLNK
		case iDev:
			mode |= sIFCHR
			rdev = devNumber(n.dev)
			size = 0
		case iSock:
			mode |= sIFSOCK
		case iFifo:
			mode |= sIFIFO
		}
	}
	put64(p[stIno:], uint64(i)+1)
	put64(p[stNlink:], nlink)
	put32(p[stMode:], mode)
	put64(p[stRdev:], rdev)
	put64(p[stSize:], size)
	put64(p[stBlksize:], 4096)
	put64(p[stBlocks:], (size+511)/512)
	for k, o := range [3]int{stAtim, stMtim, stCtim} {
		t := mtime
		if k == 0 {
			t = atime
		}
		put64(p[o:], uint64(t/1e9))
		put64(p[o+8:], uint64(t%1e9))
	}
}

func sysFstat(fd, st uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	p, ok := userBytes(st, statSize, true)
	if !ok {
		return -linux.EFAULT
	}
	switch f.kind {
	case fdFile:
		fillStat(p, f.ino, false)
	case fdConsole:
		fillStat(p, 0, true)
	case fdSocket:
		clear(p)
		put32(p[stMode:], sIFSOCK|0o777)
		put64(p[stNlink:], 1)
	default: // epoll, eventfd: anonymous inodes
		clear(p)
		put32(p[stMode:], 0o600)
		put64(p[stNlink:], 1)
	}
	return 0
}

func sysNewfstatat(dirfd, path, st, flags uint64) int64 {
	if flags&linux.AT_EMPTY_PATH != 0 && emptyAt(dirfd, path) {
		return sysFstat(dirfd, st)
	}
	if flags&linux.AT_EMPTY_PATH != 0 {
		if p, e := userPath(path, 0); e == -linux.ENOENT || (e == 0 && len(p) == 0) {
			if int32(dirfd) == atFDCWD {
				p, ok := userBytes(st, statSize, true)
				if !ok {
					return -linux.EFAULT
				}
				fillStat(p, fsys.cwd, false)
				return 0
			}
			return sysFstat(dirfd, st)
		}
	}
	node, e := resolveAt(dirfd, path, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return e
	}
	b, ok := userBytes(st, statSize, true)
	if !ok {
		return -linux.EFAULT
	}
	fillStat(b, node, false)
	return 0
}

func sysStat(path, st uint64) int64 {
	return sysNewfstatat(atCWD, path, st, 0)
}

func sysLstat(path, st uint64) int64 {
	return sysNewfstatat(atCWD, path, st, linux.AT_SYMLINK_NOFOLLOW)
}

// sysGetdents64 lists a directory: ".", "..", then the entries, as
// struct linux_dirent64 {ino u64; off s64; reclen u16; type u8; name}.
func sysGetdents64(fd, buf, count uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	if f.kind != fdFile || ino(f.ino).kind != iDir {
		return -linux.ENOTDIR
	}
	out, ok := userBytes(buf, count, true)
	if !ok {
		return -linux.EFAULT
	}
	d := f.ino
	used := 0
	idx := uint64(0)
	c := ino(d).child
	for {
		var name []byte
		var node int32
		switch {
		case idx == 0:
			name, node = []byte("."), d
		case idx == 1:
			name, node = []byte(".."), ino(d).parentOrSelf(d)
		default:
			if c < 0 {
				f.off = idx
				return int64(used)
			}
			name, node = ino(c).nameBytes(), c
			c = ino(c).next
		}
		if idx < f.off {
			idx++
			continue
		}
		reclen := (19 + len(name) + 1 + 7) &^ 7
		if used+reclen > len(out) {
			f.off = idx
			if used == 0 {
				return -linux.EINVAL // buffer too small for one entry
			}
			return int64(used)
		}
		r := out[used : used+reclen]
		clear(r)
		put64(r[0:], uint64(node)+1)
		put64(r[8:], idx+1)
		r[16], r[17] = byte(reclen), byte(reclen>>8)
		r[18] = direntType(node)
		copy(r[19:], name)
		used += reclen
		idx++
	}
}

func direntType(i int32) byte {
	switch ino(i).kind {
	case iDir:
		return 4 // DT_DIR
	case iReg:
		return 8 // DT_REG
	case iLink:
		return 10 // DT_LNK
	case iDev:
		return 2 // DT_CHR
	case iSock:
		return 12 // DT_SOCK
	case iFifo:
		return 1 // DT_FIFO
	}
	return 0
}

func sysReadlinkat(dirfd, path, buf, size uint64) int64 {
	var node int32
	if emptyPath(path) {
		// An empty name means dirfd itself (a link opened with
		// O_PATH): a bad one is EBADF, one that is not a link ENOENT.
		if int32(dirfd) == atFDCWD {
			return -linux.ENOENT
		}
		f := getFile(dirfd)
		if f == nil {
			return -linux.EBADF
		}
		if f.kind != fdFile || ino(f.ino).kind != iLink {
			return -linux.ENOENT
		}
		node = f.ino
	} else {
		var e int64
		if node, e = resolveAt(dirfd, path, false); e != 0 {
			return e
		}
	}
	n := ino(node)
	if n.kind != iLink {
		return -linux.EINVAL
	}
	size = uint64(int32(size)) // an int, positive (precheck)
	t := n.contents()
	if uint64(len(t)) < size {
		size = uint64(len(t))
	}
	out, ok := userBytes(buf, size, true)
	if !ok {
		return -linux.EFAULT
	}
	return int64(copy(out, t))
}

func sysReadlink(path, buf, size uint64) int64 {
	return sysReadlinkat(atCWD, path, buf, size)
}

// emptyPath reports whether the user string at addr is "" (readable, and
// its first byte NUL).
func emptyPath(addr uint64) bool {
	b, ok := userBytes(addr, 1, false)
	return ok && b[0] == 0
}

// resolveAt resolves a *at syscall's (dirfd, path) to an inode, following
// a final symlink if follow is set.
func resolveAt(dirfd, path uint64, follow bool) (int32, int64) {
	p, e := userPath(path, 0)
	if e != 0 {
		return -1, e
	}
	start, e := dirFor(dirfd, p)
	if e != 0 {
		return -1, e
	}
	_, _, node, e := walk(start, p, follow, false)
	return node, e
}

// parentOf resolves the parent directory and last name of a path that a
// creating or removing call names.
func parentOf(dirfd, path uint64, k int) (dir int32, name []byte, node int32, e int64) {
	dir, name, node, e = parentAt(dirfd, path, k)
	if e == 0 && len(name) > 255 {
		return -1, nil, -1, -linux.ENAMETOOLONG
	}
	return dir, name, node, e
}

// parentAt is parentOf without the check of the last name's length.
func parentAt(dirfd, path uint64, k int) (dir int32, name []byte, node int32, e int64) {
	p, e := userPath(path, k)
	if e != 0 {
		return -1, nil, -1, e
	}
	start, e := dirFor(dirfd, p)
	if e != 0 {
		return -1, nil, -1, e
	}
	return walk(start, p, false, true)
}

// sysLinkat fails as link(2) does on a filesystem without hard links
// (one name per inode here): EPERM, but only once both names are good —
// the old one exists, the new one's directory exists and the name is free
// — so that a bad path fails with the errno Linux gives it.
func sysLinkat(olddirfd, oldpath, newdirfd, newpath, flags uint64) int64 {
	if flags&linux.AT_EMPTY_PATH != 0 && emptyPath(oldpath) {
		// The file olddirfd is open on.
		if int32(olddirfd) == atFDCWD {
			return -linux.EPERM // the working directory: a directory
		}
		if getFile(olddirfd) == nil {
			return -linux.EBADF
		}
	} else if _, e := resolveAt(olddirfd, oldpath, flags&linux.AT_SYMLINK_FOLLOW != 0); e != 0 {
		return e
	}
	_, _, node, e := parentOf(newdirfd, newpath, 1)
	if e != 0 {
		return e
	}
	if node >= 0 {
		return -linux.EEXIST
	}
	return -linux.EPERM
}

func sysMkdirat(dirfd, path, mode uint64) int64 {
	dir, name, node, e := parentOf(dirfd, path, 0)
	if e != 0 {
		return e
	}
	if node >= 0 {
		return -linux.EEXIST
	}
	_, e = mknod(dir, name, iDir, uint32(mode)&^umask)
	return e
}

func sysSymlinkat(target, dirfd, path uint64) int64 {
	t, e := userPath(target, 1)
	if e != 0 {
		return e
	}
	dir, name, node, e := parentOf(dirfd, path, 0)
	if e != 0 {
		return e
	}
	if node >= 0 {
		return -linux.EEXIST
	}
	i, e := mknod(dir, name, iLink, 0o777)
	if e != 0 {
		return e
	}
	if r := fileWrite(i, 0, t); r < 0 {
		unlink(i)
		freeInode(i)
		return r
	}
	return 0
}

func sysUnlinkat(dirfd, path, flags uint64) int64 {
	_, name, node, e := parentOf(dirfd, path, 0)
	if e != 0 {
		return e
	}
	if node < 0 {
		return -linux.ENOENT
	}
	if string(name) == "." || string(name) == ".." {
		return -linux.EINVAL
	}
	n := ino(node)
	if p, _ := userPath(path, 1); n.kind == iLink && len(p) > 1 && p[len(p)-1] == '/' {
		return -linux.ENOTDIR // "link/" names what the link points to, which unlink does not remove
	}
	if flags&linux.AT_REMOVEDIR != 0 {
		if n.kind != iDir {
			return -linux.ENOTDIR
		}
		if n.child >= 0 {
			return -linux.ENOTEMPTY
		}
		if node == fsys.cwd || node == 0 {
			return -linux.EBUSY
		}
	} else if n.kind == iDir {
		return -linux.EISDIR
	}
	unlink(node)
	if n.opens <= 0 {
		freeInode(node)
	}
	return 0
}

// sysRenameat2 moves an entry, replacing what the new name held (a file,
// or an empty directory for a directory), like rename(2).
func sysRenameat2(olddirfd, oldpath, newdirfd, newpath, flags uint64) int64 {
	const noReplace = 1
	// Both parents first, then the names (too long: ENAMETOOLONG).
	od, oname, on, e := parentAt(olddirfd, oldpath, 0)
	if e != 0 {
		return e
	}
	if _, _, _, e := parentAt(newdirfd, newpath, 1); e != 0 {
		return e
	}
	if len(oname) > 255 {
		return -linux.ENAMETOOLONG
	}
	if string(oname) == "." || string(oname) == ".." {
		return -linux.EBUSY // a directory by "." or "..": Linux does not move it
	}
	// A trailing slash says "a directory": a file or a symlink there is
	// ENOTDIR.
	if p, _ := userPath(oldpath, 1); on >= 0 && ino(on).kind != iDir && len(p) > 1 && p[len(p)-1] == '/' {
		return -linux.ENOTDIR
	}
	nd, nname, nn, e := parentOf(newdirfd, newpath, 1)
	if e != 0 {
		return e
	}
	_ = od
	if on < 0 {
		return -linux.ENOENT
	}
	if on == nn {
		return 0
	}
	// A directory cannot move into itself.
	for d := nd; d >= 0; d = ino(d).parent {
		if d == on {
			return -linux.EINVAL
		}
		if d == 0 {
			break
		}
	}
	if nn >= 0 {
		if flags&noReplace != 0 {
			return -linux.EEXIST
		}
		o, n := ino(on), ino(nn)
		switch {
		case o.kind == iDir && n.kind != iDir:
			return -linux.ENOTDIR
		case o.kind != iDir && n.kind == iDir:
			return -linux.EISDIR
		case n.kind == iDir && n.child >= 0:
			return -linux.ENOTEMPTY
		}
		unlink(nn)
		if n.opens <= 0 {
			freeInode(nn)
		}
	}
	if !setName(on, nname) {
		return -linux.ENOMEM
	}
	unlink(on)
	link(nd, on)
	return 0
}

func sysGetcwd(buf, size uint64) int64 {
	// Build the path backwards from the cwd to the root.
	var tmp [maxPath]byte
	pos := len(tmp)
	for d := fsys.cwd; d != 0; d = ino(d).parent {
		if d < 0 {
			return -linux.ENOENT // the working directory was removed
		}
		name := ino(d).nameBytes()
		if pos-len(name)-1 < 0 {
			return -linux.ENAMETOOLONG
		}
		pos -= len(name)
		copy(tmp[pos:], name)
		pos--
		tmp[pos] = '/'
	}
	if pos == len(tmp) {
		pos--
		tmp[pos] = '/'
	}
	n := uint64(len(tmp) - pos + 1)
	if size < n {
		return -linux.ERANGE
	}
	p, ok := userBytes(buf, n, true)
	if !ok {
		return -linux.EFAULT
	}
	copy(p, tmp[pos:])
	p[n-1] = 0
	return int64(n)
}

func sysChdir(path uint64) int64 {
	p, e := userPath(path, 0)
	if e != 0 {
		return e
	}
	_, _, node, e := walk(fsys.cwd, p, true, false)
	if e != 0 {
		return e
	}
	if ino(node).kind != iDir {
		return -linux.ENOTDIR
	}
	fsys.cwd = node
	return 0
}

func sysFchdir(fd uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	if f.kind != fdFile || ino(f.ino).kind != iDir {
		return -linux.ENOTDIR
	}
	fsys.cwd = f.ino
	return 0
}

func sysFtruncate(fd, length uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	if f.kind != fdFile || ino(f.ino).kind != iReg || f.flags&linux.O_ACCMODE == linux.O_RDONLY {
		return -linux.EINVAL
	}
	if int64(length) < 0 {
		return -linux.EINVAL
	}
	return truncate(f.ino, length)
}

func sysTruncate(path, length uint64) int64 {
	p, e := userPath(path, 0)
	if e != 0 {
		return e
	}
	_, _, node, e := walk(fsys.cwd, p, true, false)
	if e != 0 {
		return e
	}
	if ino(node).kind == iDir {
		return -linux.EISDIR
	}
	if ino(node).kind != iReg || int64(length) < 0 {
		return -linux.EINVAL
	}
	return truncate(node, length)
}

// sysFaccessat: the program runs as root, so only existence (and, for
// execute, an x bit) matter.
func sysFaccessat(dirfd, path, mode, flags uint64) int64 {
	node, e := resolveAt(dirfd, path, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return e
	}
	if mode&1 != 0 && ino(node).kind != iDir && ino(node).mode&0o111 == 0 {
		return -linux.EACCES
	}
	return 0
}

func sysFchmodat(dirfd, path, mode uint64) int64 {
	node, e := resolveAt(dirfd, path, true)
	if e != 0 {
		return e
	}
	ino(node).mode = uint32(mode) & 0o7777
	return 0
}

// sysFchmodat2 is fchmodat with flags: AT_SYMLINK_NOFOLLOW changes a
// symlink's own mode, which Linux refuses (EOPNOTSUPP); on anything else
// it is fchmodat.
func sysFchmodat2(dirfd, path, mode, flags uint64) int64 {
	if flags&^uint64(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return -linux.EINVAL
	}
	if flags&linux.AT_SYMLINK_NOFOLLOW != 0 {
		node, e := resolveAt(dirfd, path, false)
		if e != 0 {
			return e
		}
		if ino(node).kind == iLink {
			return -linux.EOPNOTSUPP
		}
		ino(node).mode = uint32(mode) & 0o7777
		return 0
	}
	return sysFchmodat(dirfd, path, mode)
}

func sysFchmod(fd, mode uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	if f.kind != fdFile {
		return 0
	}
	ino(f.ino).mode = uint32(mode) & 0o7777
	return 0
}

// sysUtimensat sets the modification time (UTIME_NOW and UTIME_OMIT too).
func sysUtimensat(dirfd, path, times, flags uint64) int64 {
	var node int32
	if path == 0 {
		// The descriptor itself (no flags allowed), or, for AT_FDCWD,
		// a NULL name: EFAULT.
		if int32(dirfd) == atFDCWD {
			return -linux.EFAULT
		}
		if flags != 0 {
			return -linux.EINVAL
		}
		f := getFile(dirfd)
		if f == nil || f.kind != fdFile {
			return -linux.EBADF
		}
		node = f.ino
	} else {
		var e int64
		if node, e = resolveAt(dirfd, path, flags&linux.AT_SYMLINK_NOFOLLOW == 0); e != 0 {
			return e
		}
	}
	now := walltime()
	if times == 0 {
		ino(node).atime, ino(node).mtime = now, now
		return 0
	}
	b, ok := userBytes(times, 32, false)
	if !ok {
		return -linux.EFAULT
	}
	// times[0] is the access time, times[1] the modification time; each
	// may say UTIME_NOW or UTIME_OMIT.
	const utimeNow, utimeOmit = 1<<30 - 1, 1<<30 - 2
	for k := 0; k < 2; k++ {
		if nsec := int64(le64(b[16*k+8:])); (nsec < 0 || nsec >= 1e9) && nsec != utimeNow && nsec != utimeOmit {
			return -linux.EINVAL // both are checked before either is set
		}
	}
	for k, field := range [2]*int64{&ino(node).atime, &ino(node).mtime} {
		sec, nsec := int64(le64(b[16*k:])), int64(le64(b[16*k+8:]))
		switch nsec {
		case utimeOmit:
		case utimeNow:
			*field = now
		default:
			*field = sec*1e9 + nsec
		}
	}
	return 0
}

var umask uint32 = 0o022

func sysUmask(mask uint64) int64 {
	old := umask
	umask = uint32(mask) & 0o777
	return int64(old)
}

// sysStatfs describes the in-memory filesystem (TMPFS_MAGIC) that path is
// on (every path is on it, but it must exist, as on Linux).
func sysStatfs(path, buf uint64) int64 {
	if _, e := resolveAt(atCWD, path, true); e != 0 {
		return e
	}
	return statfsInto(buf)
}

// statfsInto writes the filesystem's struct statfs.
func statfsInto(buf uint64) int64 {
	p, ok := userBytes(buf, 120, true)
	if !ok {
		return -linux.EFAULT
	}
	clear(p)
	put64(p[0:], 0x01021994)                // f_type
	put64(p[8:], 4096)                      // f_bsize
	put64(p[16:], frames.Total())           // f_blocks
	put64(p[24:], frames.FreeCount())       // f_bfree
	put64(p[32:], frames.FreeCount())       // f_bavail
	put64(p[40:], maxChunks*inodesPerChunk) // f_files
	put64(p[48:], maxChunks*inodesPerChunk-uint64(fsys.n))
	put64(p[64:], 255)  // f_namelen
	put64(p[72:], 4096) // f_frsize
	return 0
}

// sysChownat succeeds on any file that exists: the program is root and
// ownership is not recorded (every file says uid 0, gid 0). The path is
// still resolved, so that a missing file or a bad path fails as on Linux.
func sysChownat(dirfd, path, flags uint64) int64 {
	if flags&linux.AT_EMPTY_PATH != 0 {
		if p, e := userPath(path, 0); e == 0 && len(p) == 0 {
			if dirfd == atCWD || getFile(dirfd) != nil {
				return 0
			}
			return -linux.EBADF
		}
	}
	_, e := resolveAt(dirfd, path, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	return e
}
