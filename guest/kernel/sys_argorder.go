package kernel

import "rt0/guest/linux"

// Linux's order of argument checks. A call with several bad arguments
// fails with the errno of the one Linux checks first, and programs (and
// Go's own tests) see that errno: pread64 with a negative offset on a bad
// descriptor is EINVAL, not EBADF; dup3 with unknown flags is EINVAL
// whatever the descriptors. Most of those first checks look at the
// arguments alone — flags, a negative length, a user pointer — before any
// descriptor or path, so they are made here, once, before the call's
// handler runs; what Linux checks later (descriptors, then paths, then the
// file) stays in the handlers. The syscall fuzzer's compare phase
// (testdata/progs/sysfuzz) checks the order against Linux's.
//
// prechecked marks the calls precheck has a case for: syscall calls it
// only for them (its call and return are 20 ns of a 500 ns getpid under
// TCG). host/rules's TestPrecheckTable checks that the two lists agree.
var prechecked = [...]bool{
	linux.SYS_ACCESS:     true,
	linux.SYS_DUP3:       true,
	linux.SYS_EPOLL_CTL:  true,
	linux.SYS_FACCESSAT:  true,
	linux.SYS_FCHOWNAT:   true,
	linux.SYS_FTRUNCATE:  true,
	linux.SYS_GETRLIMIT:  true,
	linux.SYS_LINKAT:     true,
	linux.SYS_MKNOD:      true,
	linux.SYS_MKNODAT:    true,
	linux.SYS_NEWFSTATAT: true,
	linux.SYS_OPEN:       true,
	linux.SYS_OPENAT:     true,
	linux.SYS_PIPE2:      true,
	linux.SYS_PREAD64:    true,
	linux.SYS_PWRITE64:   true,
	linux.SYS_READLINK:   true,
	linux.SYS_READLINKAT: true,
	linux.SYS_RECVFROM:   true,
	linux.SYS_RENAMEAT2:  true,
	linux.SYS_SENDFILE:   true,
	linux.SYS_SENDTO:     true,
	linux.SYS_SPLICE:     true,
	linux.SYS_TRUNCATE:   true,
	linux.SYS_UNLINKAT:   true,
	linux.SYS_UTIMENSAT:  true,
}

// precheck returns -errno to fail the call with, or done with the result
// of a call Linux finishes before looking at anything else (a splice of
// length 0).
func precheck(nr, a0, a1, a2, a3, a4, a5 uint64) (r int64, done bool) {
	fail := func(bad bool, e int64) (int64, bool) {
		if bad {
			return -e, true
		}
		return 0, false
	}
	switch nr {
	case linux.SYS_PREAD64, linux.SYS_PWRITE64:
		return fail(int64(a3) < 0, linux.EINVAL)
	case linux.SYS_TRUNCATE, linux.SYS_FTRUNCATE:
		return fail(int64(a1) < 0, linux.EINVAL)
	case linux.SYS_DUP3:
		return fail(a2&^linux.O_CLOEXEC != 0 || int32(a0) == int32(a1), linux.EINVAL)
	case linux.SYS_PIPE2:
		// O_EXCL is O_NOTIFICATION_PIPE here: rt0 has no watch queues,
		// and says so as a Linux built without them does.
		if a1&^(linux.O_CLOEXEC|linux.O_NONBLOCK|linux.O_DIRECT|linux.O_EXCL) != 0 {
			return -linux.EINVAL, true
		}
		return fail(a1&linux.O_EXCL != 0, linux.ENOPKG)
	case linux.SYS_ACCESS:
		return fail(a1&^7 != 0, linux.EINVAL)
	case linux.SYS_FACCESSAT:
		return fail(a2&^7 != 0, linux.EINVAL)
	case linux.SYS_READLINK:
		return fail(int32(a2) <= 0, linux.EINVAL)
	case linux.SYS_READLINKAT:
		return fail(int32(a3) <= 0, linux.EINVAL)
	case linux.SYS_UNLINKAT:
		return fail(a2&^linux.AT_REMOVEDIR != 0, linux.EINVAL)
	case linux.SYS_LINKAT:
		return fail(a4&^(linux.AT_SYMLINK_FOLLOW|linux.AT_EMPTY_PATH) != 0, linux.EINVAL)
	case linux.SYS_FCHOWNAT:
		return fail(a4&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0, linux.EINVAL)
	case linux.SYS_NEWFSTATAT:
		if uint32(a3)&linux.AT_EMPTY_PATH != 0 && emptyAt(a0, a1) {
			return 0, false // fstat of dirfd, whatever the other flags
		}
		const sync = linux.AT_STATX_FORCE_SYNC | linux.AT_STATX_DONT_SYNC
		f := uint32(a3)
		return fail(f&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_NO_AUTOMOUNT|linux.AT_EMPTY_PATH|sync) != 0 || f&sync == sync, linux.EINVAL)
	case linux.SYS_RENAMEAT2:
		ex := a4&linux.RENAME_EXCHANGE != 0
		return fail(a4&^(linux.RENAME_NOREPLACE|linux.RENAME_EXCHANGE|linux.RENAME_WHITEOUT) != 0 ||
			ex && a4&(linux.RENAME_NOREPLACE|linux.RENAME_WHITEOUT) != 0, linux.EINVAL)
	case linux.SYS_MKNOD:
		return mknodType(a1)
	case linux.SYS_MKNODAT:
		return mknodType(a2)
	case linux.SYS_OPEN:
		return openFlags(a1)
	case linux.SYS_OPENAT:
		return openFlags(a2)
	case linux.SYS_GETRLIMIT:
		return fail(uint32(a0) > linux.RLIMIT_RTTIME, linux.EINVAL)
	case linux.SYS_SPLICE:
		if a4 == 0 {
			return 0, true
		}
		return fail(a5&^(linux.SPLICE_F_MOVE|linux.SPLICE_F_NONBLOCK|linux.SPLICE_F_MORE|linux.SPLICE_F_GIFT) != 0, linux.EINVAL)
	case linux.SYS_SENDFILE:
		// The offset is read before the descriptors are looked at, and
		// written back after, whatever the result: one that cannot be
		// both is EFAULT.
		if a2 != 0 {
			if _, ok := userBytes(a2, 8, true); !ok {
				return -linux.EFAULT, true
			}
		}
	case linux.SYS_EPOLL_CTL:
		// So is the event, for every operation but EPOLL_CTL_DEL.
		if a1 != linux.EPOLL_CTL_DEL {
			if _, ok := userBytes(a3, 12, false); !ok {
				return -linux.EFAULT, true
			}
		}
	case linux.SYS_SENDTO, linux.SYS_RECVFROM:
		// The buffer's range (not its pages) is checked before the
		// descriptor: access_ok of at most MAX_RW_COUNT bytes.
		return fail(!accessOK(a1, min(a2, maxRWCount)), linux.EFAULT)
	case linux.SYS_UTIMENSAT:
		return utimensArgs(a2, a3)
	}
	return 0, false
}

// emptyAt is Linux's vfs_empty_path: with AT_EMPTY_PATH, a NULL or empty
// name and a descriptor (not AT_FDCWD) mean that descriptor's file, before
// anything else is checked.
func emptyAt(dirfd, path uint64) bool {
	return int32(dirfd) >= 0 && (path == 0 || emptyPath(path))
}

// maxRWCount is Linux's MAX_RW_COUNT: the most one read or write moves.
const maxRWCount = 0x7ffff000

// accessOK is Linux's access_ok: the range lies in the user half
// (below TASK_SIZE_MAX), whatever is mapped there.
func accessOK(addr, n uint64) bool {
	const taskSizeMax = 1<<47 - 4096
	return n <= taskSizeMax && addr <= taskSizeMax-n
}

// openFlags is build_open_flags' first tests: O_TMPFILE only with
// O_DIRECTORY, without O_CREAT, and for writing; O_CREAT not with
// O_DIRECTORY. (O_PATH drops every other flag, O_TMPFILE's bit too.)
func openFlags(flags64 uint64) (int64, bool) {
	const tmpfileBit = linux.O_TMPFILE &^ linux.O_DIRECTORY
	flags := uint32(flags64) // an int
	if flags&linux.O_PATH != 0 {
		return 0, false
	}
	if flags&(linux.O_CREAT|linux.O_DIRECTORY) == linux.O_CREAT|linux.O_DIRECTORY && flags&tmpfileBit == 0 {
		return -linux.EINVAL, true // a directory cannot be created by open (Linux 6.4 on)
	}
	if flags&tmpfileBit == 0 {
		return 0, false
	}
	if flags&(linux.O_TMPFILE|linux.O_CREAT) != linux.O_TMPFILE || flags&linux.O_ACCMODE == linux.O_RDONLY {
		return -linux.EINVAL, true
	}
	return 0, false
}

// mknodType is may_mknod: regular files, devices, FIFOs and sockets may be
// made, a directory may not (EPERM), anything else is EINVAL.
func mknodType(mode uint64) (int64, bool) {
	switch mode & linux.S_IFMT {
	case 0, linux.S_IFREG, linux.S_IFCHR, linux.S_IFBLK, linux.S_IFIFO, linux.S_IFSOCK:
		return 0, false
	case linux.S_IFDIR:
		return -linux.EPERM, true
	}
	return -linux.EINVAL, true
}

// utimensArgs checks what utimensat checks first: its times can be read
// (EFAULT), then its flags (the times' values are checked after the path).
func utimensArgs(times, flags uint64) (int64, bool) {
	if times != 0 {
		if _, ok := userBytes(times, 32, false); !ok {
			return -linux.EFAULT, true
		}
	}
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return -linux.EINVAL, true
	}
	return 0, false
}
