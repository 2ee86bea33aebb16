package kernel

// File descriptors. Today there are three kinds: the console (0, 1, 2),
// epoll instances and eventfds (sys_poll.go), all in one small table. Files
// on disk come with a later step.

type fileKind uint8

const (
	fdFree fileKind = iota
	fdConsole
	fdEpoll
	fdEventfd
)

const (
	maxFiles    = 64
	maxInterest = 16
)

type file struct {
	kind  fileKind
	flags uint32 // O_NONBLOCK etc. as fcntl(F_GETFL) reports them
	// eventfd
	count uint64
	// epoll: the interest list
	n      int
	fds    [maxInterest]int32
	events [maxInterest]uint32
	data   [maxInterest]uint64
}

var files [maxFiles]file

const (
	oRdwr     = 2
	oNonblock = 0x800
	oCloexec  = 0x80000
)

func initFiles() {
	for fd := 0; fd < 3; fd++ {
		files[fd].kind = fdConsole
		files[fd].flags = oRdwr
	}
}

func allocFD(k fileKind, flags uint32) int64 {
	for fd := 3; fd < maxFiles; fd++ {
		if files[fd].kind == fdFree {
			files[fd] = file{kind: k, flags: flags}
			return int64(fd)
		}
	}
	return -EMFILE
}

func getFile(fd uint64) *file {
	if fd >= maxFiles || files[fd].kind == fdFree {
		return nil
	}
	return &files[fd]
}

func sysRead(fd, buf, n uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -EBADF
	}
	switch f.kind {
	case fdConsole:
		// No input device yet: end of file, as for </dev/null.
		return 0
	case fdEventfd:
		return eventfdRead(f, buf, n)
	}
	return -EINVAL
}

func sysWrite(fd, buf, n uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -EBADF
	}
	switch f.kind {
	case fdConsole:
		p, ok := userBytes(buf, n, false)
		if !ok {
			return -EFAULT
		}
		consoleWrite(p)
		return int64(n)
	case fdEventfd:
		return eventfdWrite(f, buf, n)
	}
	return -EINVAL
}

func sysWritev(fd, iov, cnt uint64) int64 {
	if cnt > 1024 {
		return -EINVAL
	}
	var total int64
	for i := uint64(0); i < cnt; i++ {
		p, ok := userBytes(iov+16*i, 16, false)
		if !ok {
			return -EFAULT
		}
		r := sysWrite(fd, le64(p[0:]), le64(p[8:]))
		if r < 0 {
			if total > 0 {
				return total
			}
			return r
		}
		total += r
	}
	return total
}

func sysClose(fd uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -EBADF
	}
	f.kind = fdFree
	return 0
}

// sysFstat describes the console as a character device (so the os package
// treats stdout as a terminal-less stream) and other fds as anonymous.
func sysFstat(fd, st uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -EBADF
	}
	p, ok := userBytes(st, 144, true)
	if !ok {
		return -EFAULT
	}
	clear(p)
	const sIFCHR = 0o020000
	mode := uint32(0o600)
	if f.kind == fdConsole {
		mode |= sIFCHR
	}
	put32(p[24:], mode) // st_mode
	put64(p[16:], 1)    // st_nlink
	put64(p[56:], 4096) // st_blksize
	return 0
}

func sysFcntl(fd, cmd, arg uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -EBADF
	}
	switch cmd {
	case 1, 2: // F_GETFD, F_SETFD
		return 0
	case 3: // F_GETFL
		return int64(f.flags)
	case 4: // F_SETFL
		f.flags = f.flags&^oNonblock | uint32(arg)&oNonblock
		return 0
	}
	return -EINVAL
}

func sysIoctl(fd, req uint64) int64 {
	if getFile(fd) == nil {
		return -EBADF
	}
	return -ENOTTY // no terminal: isatty is false, output is not line-edited
}

func sysGetcwd(buf, size uint64) int64 {
	if size < 2 {
		return -ERANGE
	}
	p, ok := userBytes(buf, 2, true)
	if !ok {
		return -EFAULT
	}
	p[0], p[1] = '/', 0
	return 2
}

// waitingForInput reports whether a thread waits for a device that may
// wake it without a deadline (none today: console input comes later).
func waitingForInput() bool { return false }
