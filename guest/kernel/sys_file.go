package kernel

import (
	"rt0/guest/linux"
	"rt0/guest/sched"
	"unsafe"
)

// File descriptors, Linux's two levels: a descriptor (a small number, with
// its close-on-exec flag) refers to an open file description (what open
// returned: kind, offset, flags), which dup shares. Kinds: the console
// (0, 1, 2), files and directories of the filesystem (fs.go, sys_fs.go),
// devices, epoll instances and eventfds (sys_poll.go).

type fileKind uint8

const (
	fdFree fileKind = iota
	fdConsole
	fdFile // a regular file, directory, symlink (O_PATH) or device
	fdEpoll
	fdEventfd
	fdPipe   // ino: the pipe; O_RDONLY: the read end, O_WRONLY: the write end
	fdSocket // ino: the socket (sys_socket.go)
)

const (
	maxFDs  = 1024
	maxOFDs = 1024
)

// ofd is an open file description.
type ofd struct {
	kind  fileKind
	refs  int32
	flags uint32 // O_ACCMODE, O_APPEND, O_NONBLOCK as fcntl(F_GETFL) reports
	ino   int32  // fdFile
	off   uint64 // fdFile: offset; for a directory, the next entry's index
	count uint64 // fdEventfd: the counter
	ep    int32  // fdEpoll: index in epolls
}

var (
	ofds [maxOFDs]ofd
	// ofdTop is one past the highest description ever taken: the loops
	// that look for the descriptions of a pipe or socket (after every
	// write or read, to tell their epoll watchers) stop there, not at
	// maxOFDs — a scan of all of them was 24 000 TSC cycles of a
	// 64-byte pipe write under TCG.
	ofdTop int
	// fdTop is the same for descriptors (fileChanged looks for the
	// descriptors of a description).
	fdTop int
	// fdt maps a descriptor to its description: index+1 (0: closed), and
	// bit 16 for FD_CLOEXEC.
	fdt [maxFDs]uint32
)

const (
	fdCloexec = 1 << 16
)

func initFiles() {
	for fd := 0; fd < 3; fd++ {
		o, _ := newOFD(fdConsole, linux.O_RDWR)
		installFD(o, 0, 0)
	}
}

// newOFD takes a free open file description.
func newOFD(k fileKind, flags uint32) (int32, int64) {
	for i := range ofds {
		if ofds[i].kind == fdFree {
			ofds[i] = ofd{kind: k, flags: flags, refs: 0, ino: -1, ep: -1}
			ofdTop = max(ofdTop, i+1)
			return int32(i), 0
		}
	}
	return -1, -linux.ENFILE
}

// installFD gives description o the lowest free descriptor >= min.
func installFD(o int32, min int, flags uint32) int64 {
	for fd := min; fd < maxFDs; fd++ {
		if fdt[fd] == 0 {
			fdt[fd] = uint32(o+1) | flags
			fdTop = max(fdTop, fd+1)
			ofds[o].refs++
			return int64(fd)
		}
	}
	return -linux.EMFILE
}

// allocFD makes a new description and a descriptor for it.
func allocFD(k fileKind, flags uint32) int64 {
	o, e := newOFD(k, flags&^linux.O_CLOEXEC)
	if e != 0 {
		return e
	}
	var cl uint32
	if flags&linux.O_CLOEXEC != 0 {
		cl = fdCloexec
	}
	fd := installFD(o, 0, cl)
	if fd < 0 {
		ofds[o].kind = fdFree
	}
	return fd
}

// ofdIndex is description f's index in ofds.
func ofdIndex(f *ofd) uint64 {
	return uint64((uintptr(unsafe.Pointer(f)) - uintptr(unsafe.Pointer(&ofds[0]))) / unsafe.Sizeof(ofds[0]))
}

// ofdOf returns the description index of open descriptor fd.
func ofdOf(fd uint64) int32 { return int32(fdt[fd]&0xFFFF) - 1 }

// getFile returns the description of descriptor fd, nil if it is closed.
func getFile(fd uint64) *ofd {
	if fd >= maxFDs || fdt[fd] == 0 {
		return nil
	}
	return &ofds[ofdOf(fd)]
}

// closeFD drops descriptor fd; the last reference closes the description.
func closeFD(fd uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	fdt[fd] = 0
	f.refs--
	if f.refs > 0 {
		return 0
	}
	epollForget(int32(fd))
	switch f.kind {
	case fdFile:
		if f.ino >= 0 && ino(f.ino).kind == iDev && ino(f.ino).dev == devNetSvc && f.flags&linux.O_PATH == 0 {
			socketOp(sockOpNetClose, 0, 0, 0, 0)
		}
		releaseInode(f.ino)
	case fdEpoll:
		epolls[f.ep].used = false
	case fdPipe:
		pipeClose(f)
	case fdSocket:
		socketOp(sockOpClose, uint64(f.ino), 0, 0, 0)
	}
	f.kind = fdFree
	return 0
}

func sysClose(fd uint64) int64 { return closeFD(fd) }

func sysDup(fd uint64) int64 {
	if getFile(fd) == nil {
		return -linux.EBADF
	}
	return installFD(ofdOf(fd), 0, 0)
}

func sysDup3(old, new, flags uint64) int64 {
	if getFile(old) == nil || new >= maxFDs {
		return -linux.EBADF // (unknown flags and old == new: precheck)
	}
	if fdt[new] != 0 {
		closeFD(new)
	}
	var cl uint32
	if flags&linux.O_CLOEXEC != 0 {
		cl = fdCloexec
	}
	return installFD(ofdOf(old), int(new), cl)
}

func sysDup2(old, new uint64) int64 {
	if old == new {
		if getFile(old) == nil {
			return -linux.EBADF
		}
		return int64(new)
	}
	return sysDup3(old, new, 0)
}

func sysRead(fd, buf, n uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	if f.flags&linux.O_ACCMODE == linux.O_WRONLY && f.kind != fdPipe || f.flags&linux.O_PATH != 0 {
		return -linux.EBADF
	}
	switch f.kind {
	case fdConsole:
		return consoleRead(f, buf, n)
	case fdEventfd:
		return eventfdRead(f, buf, n)
	case fdPipe:
		return pipeRead(f, buf, n)
	case fdSocket:
		return socketOp(sockOpRead, uint64(f.ino), uint64(f.flags), buf, n)
	case fdFile:
		r := fileRead(f, f.off, buf, n)
		if r > 0 {
			f.off += uint64(r)
		}
		return r
	}
	return -linux.EINVAL
}

func sysWrite(fd, buf, n uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	if f.flags&linux.O_ACCMODE == linux.O_RDONLY && f.kind != fdConsole && f.kind != fdEventfd && f.kind != fdPipe || f.flags&linux.O_PATH != 0 {
		return -linux.EBADF
	}
	switch f.kind {
	case fdConsole:
		p, ok := userBytes(buf, n, false)
		if !ok {
			return -linux.EFAULT
		}
		consoleWrite(p)
		return int64(n)
	case fdEventfd:
		return eventfdWrite(f, buf, n)
	case fdPipe:
		return pipeWrite(f, buf, n)
	case fdSocket:
		return socketOp(sockOpWrite, uint64(f.ino), uint64(f.flags), buf, n)
	case fdFile:
		off := f.off
		if f.flags&linux.O_APPEND != 0 {
			off = ino(f.ino).size
		}
		r := fileWriteUser(f, off, buf, n)
		if r > 0 {
			f.off = off + uint64(r)
		}
		return r
	}
	return -linux.EINVAL
}

func sysPread(fd, buf, n, off uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	if f.kind != fdFile {
		return -linux.ESPIPE
	}
	if int64(off) < 0 {
		return -linux.EINVAL
	}
	return fileRead(f, off, buf, n)
}

func sysPwrite(fd, buf, n, off uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	if f.kind != fdFile {
		return -linux.ESPIPE
	}
	if int64(off) < 0 {
		return -linux.EINVAL
	}
	if f.flags&linux.O_ACCMODE == linux.O_RDONLY {
		return -linux.EBADF
	}
	return fileWriteUser(f, off, buf, n)
}

// iovecs applies rw to each (base, len) of the user iovec array.
//
// Linux looks the descriptor up first, then the count, then each iovec.
// When a later iovec would wait (an empty pipe after the first buffer
// filled), the call returns what it moved so far instead: the thread, put
// to sleep by that buffer's read, is woken at once with the partial count.
func sysReadv(fd, iov, cnt uint64, write bool) int64 {
	if getFile(fd) == nil {
		return -linux.EBADF
	}
	if cnt > 1024 {
		return -linux.EINVAL
	}
	var total int64
	for i := uint64(0); i < cnt; i++ {
		p, ok := userBytes(iov+16*i, 16, false)
		if !ok {
			return -linux.EFAULT
		}
		base, n := le64(p[0:]), le64(p[8:])
		var r int64
		if write {
			r = sysWrite(fd, base, n)
		} else {
			r = sysRead(fd, base, n)
		}
		if r == blocked && total > 0 {
			sched.Wake(sched.Current(), total)
			return blocked
		}
		if r < 0 {
			if total > 0 {
				return total
			}
			return r
		}
		total += r
		if uint64(r) < n {
			break
		}
	}
	return total
}

func sysFcntl(fd, cmd, arg uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	switch cmd {
	case 0, 1030: // F_DUPFD, F_DUPFD_CLOEXEC
		if arg >= maxFDs {
			return -linux.EINVAL
		}
		var cl uint32
		if cmd == 1030 {
			cl = fdCloexec
		}
		return installFD(ofdOf(fd), int(arg), cl)
	case 1: // F_GETFD
		if fdt[fd]&fdCloexec != 0 {
			return 1
		}
		return 0
	case 2: // F_SETFD
		fdt[fd] &^= fdCloexec
		if arg&1 != 0 {
			fdt[fd] |= fdCloexec
		}
		return 0
	case 3: // F_GETFL
		return int64(f.flags)
	case 4: // F_SETFL
		const settable = linux.O_APPEND | linux.O_NONBLOCK
		f.flags = f.flags&^settable | uint32(arg)&settable
		return 0
	case 5, 6, 7, 36, 37, 38: // F_GETLK, F_SETLK, F_SETLKW and OFD locks: one process, no contention
		return 0
	}
	return -linux.EINVAL
}

func sysIoctl(fd, req, arg uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -linux.EBADF
	}
	switch {
	case f.kind == fdConsole:
		return screenIoctl(devTTY, req, arg)
	case f.kind == fdFile && ino(f.ino).kind == iDev && ino(f.ino).dev == devNetSvc:
		return socketOp(sockOpNetIoctl, req, arg, 0, 0)
	case f.kind == fdFile && ino(f.ino).kind == iDev:
		return screenIoctl(ino(f.ino).dev, req, arg)
	}
	// No terminal ioctls (TCGETS): isatty is false, output is not
	// line-edited by the program.
	return -linux.ENOTTY
}
