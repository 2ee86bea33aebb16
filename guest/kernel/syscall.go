package kernel

import (
	"rt0/guest/arch/amd64"
)

// The system call table: one Linux x86-64 number, one handler. This file is
// the answer to "what does rt0 serve": everything the go1.26 runtime and the
// standard library's common paths ask of Linux. Numbers come from
// golang.org/x/sys/unix zsysnum_linux_amd64.go; TestSyscallNumbers checks
// them against the syscall package.
//
// A handler reads its arguments from the frame (RDI, RSI, RDX, R10, R8, R9)
// and returns the value for RAX: a result, or -errno. A handler that blocks
// its thread returns blocked: the result arrives later, written by
// whoever wakes the thread (sched.Wake).

const (
	SYS_read              = 0
	SYS_write             = 1
	SYS_open              = 2
	SYS_close             = 3
	SYS_stat              = 4
	SYS_fstat             = 5
	SYS_lstat             = 6
	SYS_lseek             = 8
	SYS_mmap              = 9
	SYS_mprotect          = 10
	SYS_munmap            = 11
	SYS_brk               = 12
	SYS_rt_sigaction      = 13
	SYS_rt_sigprocmask    = 14
	SYS_rt_sigreturn      = 15
	SYS_ioctl             = 16
	SYS_pread64           = 17
	SYS_pwrite64          = 18
	SYS_readv             = 19
	SYS_writev            = 20
	SYS_access            = 21
	SYS_pipe              = 22
	SYS_dup               = 32
	SYS_dup2              = 33
	SYS_sched_yield       = 24
	SYS_mincore           = 27
	SYS_madvise           = 28
	SYS_nanosleep         = 35
	SYS_getpid            = 39
	SYS_clone             = 56
	SYS_fork              = 57
	SYS_vfork             = 58
	SYS_execve            = 59
	SYS_exit              = 60
	SYS_wait4             = 61
	SYS_kill              = 62
	SYS_uname             = 63
	SYS_fcntl             = 72
	SYS_fsync             = 74
	SYS_fdatasync         = 75
	SYS_truncate          = 76
	SYS_ftruncate         = 77
	SYS_getcwd            = 79
	SYS_chdir             = 80
	SYS_fchdir            = 81
	SYS_rename            = 82
	SYS_mkdir             = 83
	SYS_rmdir             = 84
	SYS_creat             = 85
	SYS_link              = 86
	SYS_unlink            = 87
	SYS_symlink           = 88
	SYS_readlink          = 89
	SYS_chmod             = 90
	SYS_fchmod            = 91
	SYS_chown             = 92
	SYS_fchown            = 93
	SYS_lchown            = 94
	SYS_umask             = 95
	SYS_gettimeofday      = 96
	SYS_getrlimit         = 97
	SYS_getuid            = 102
	SYS_getgid            = 104
	SYS_getgroups         = 115
	SYS_geteuid           = 107
	SYS_getegid           = 108
	SYS_getppid           = 110
	SYS_getpgrp           = 111
	SYS_sigaltstack       = 131
	SYS_statfs            = 137
	SYS_fstatfs           = 138
	SYS_prctl             = 157
	SYS_arch_prctl        = 158
	SYS_setrlimit         = 160
	SYS_gettid            = 186
	SYS_tkill             = 200
	SYS_time              = 201
	SYS_futex             = 202
	SYS_sched_setaffinity = 203
	SYS_sched_getaffinity = 204
	SYS_epoll_create      = 213
	SYS_getdents64        = 217
	SYS_set_tid_address   = 218
	SYS_waitid            = 247
	SYS_clock_gettime     = 228
	SYS_clock_getres      = 229
	SYS_clock_nanosleep   = 230
	SYS_exit_group        = 231
	SYS_epoll_wait        = 232
	SYS_epoll_ctl         = 233
	SYS_tgkill            = 234
	SYS_openat            = 257
	SYS_mkdirat           = 258
	SYS_fchownat          = 260
	SYS_newfstatat        = 262
	SYS_unlinkat          = 263
	SYS_renameat          = 264
	SYS_linkat            = 265
	SYS_symlinkat         = 266
	SYS_readlinkat        = 267
	SYS_fchmodat          = 268
	SYS_faccessat         = 269
	SYS_set_robust_list   = 273
	SYS_utimensat         = 280
	SYS_epoll_pwait       = 281
	SYS_eventfd           = 284
	SYS_eventfd2          = 290
	SYS_epoll_create1     = 291
	SYS_dup3              = 292
	SYS_pipe2             = 293
	SYS_sendfile          = 40
	SYS_mknod             = 133
	SYS_mknodat           = 259
	SYS_socket            = 41
	SYS_connect           = 42
	SYS_accept            = 43
	SYS_sendto            = 44
	SYS_recvfrom          = 45
	SYS_sendmsg           = 46
	SYS_recvmsg           = 47
	SYS_shutdown          = 48
	SYS_bind              = 49
	SYS_listen            = 50
	SYS_getsockname       = 51
	SYS_getpeername       = 52
	SYS_socketpair        = 53
	SYS_setsockopt        = 54
	SYS_getsockopt        = 55
	SYS_splice            = 275
	SYS_accept4           = 288
	SYS_prlimit64         = 302
	SYS_renameat2         = 316
	SYS_getrandom         = 318
	SYS_rseq              = 334
	SYS_epoll_pwait2      = 441
	SYS_fchmodat2         = 452
)

// Linux errno values.
const (
	EPERM        = 1
	ENOENT       = 2
	ESRCH        = 3
	EINTR        = 4
	ENXIO        = 6
	EBADF        = 9
	ECHILD       = 10
	EAGAIN       = 11
	ENOMEM       = 12
	EACCES       = 13
	EFAULT       = 14
	EBUSY        = 16
	EEXIST       = 17
	EXDEV        = 18
	ENODEV       = 19
	ENOTDIR      = 20
	EISDIR       = 21
	EINVAL       = 22
	ENFILE       = 23
	EMFILE       = 24
	ENOTTY       = 25
	EFBIG        = 27
	ENOSPC       = 28
	ESPIPE       = 29
	ERANGE       = 34
	ENAMETOOLONG = 36
	ENOSYS       = 38
	ENOTEMPTY    = 39
	EPIPE        = 32
	ELOOP        = 40
	ETIMEDOUT    = 110
	ECONNRESET   = 104
	EOPNOTSUPP   = 95
)

// atCWD is AT_FDCWD as a syscall argument register holds it.
const atCWD = uint64(0xFFFFFFFF_FFFFFF9C)

// blocked is what a handler returns when its thread now sleeps; keepRAX
// what rt_sigreturn returns, having restored RAX with the rest.
const (
	blocked = -1 << 62
	keepRAX = -1<<62 + 1
)

// syscallRare serves the calls numbered far above the rest, and says
// ENOSYS to the unknown ones. (In the main switch, the few numbers past
// 316 would stretch the jump table the compiler makes of it, 8 bytes a
// number, from 317 numbers to 453.)
func syscallRare(nr, a0, a1, a2, a3 uint64) int64 {
	switch nr {
	case SYS_rseq:
		return -ENOSYS // glibc's; not needed by Go
	case SYS_fchmodat2:
		return sysFchmodat2(a0, a1, a2, a3)
	}
	unknownSyscall(nr)
	return -ENOSYS
}

// syscallNR is the number of the system call being served (what a call
// that waits to run again, blockRestart, runs again).
var syscallNR uint64

func syscall(tf *amd64.TrapFrame) {
	stats.syscalls++
	nr := tf.RAX
	syscallNR = nr
	a0, a1, a2, a3, a4 := tf.RDI, tf.RSI, tf.RDX, tf.R10, tf.R8
	var r int64
	switch nr {
	// Memory (sys_mem.go)
	case SYS_mmap:
		r = sysMmap(a0, a1, a2, a3, a4, tf.R9)
	case SYS_munmap:
		r = sysMunmap(a0, a1)
	case SYS_mprotect:
		r = sysMprotect(a0, a1, a2)
	case SYS_madvise:
		r = sysMadvise(a0, a1, a2)
	case SYS_brk:
		r = 0 // no heap segment: Go never uses brk; 0 tells a caller "no"
	case SYS_mincore:
		r = -ENOSYS

	// Threads (sys_thread.go)
	case SYS_clone:
		r = sysClone(tf, a0, a1, a2, a3, a4)
	case SYS_exit:
		r = sysExit(tf, a0)
	case SYS_exit_group:
		stop(int(a0 & 0xFF))
	case SYS_gettid:
		r = int64(curTid())
	case SYS_getpid:
		r = 1
	case SYS_getppid, SYS_getpgrp:
		r = 0
	case SYS_set_tid_address:
		r = sysSetTidAddress(a0)
	case SYS_arch_prctl:
		r = sysArchPrctl(tf, a0, a1)
	case SYS_sched_yield:
		r = sysSchedYield()
	case SYS_sched_getaffinity:
		r = sysSchedGetaffinity(a0, a1, a2)
	case SYS_sched_setaffinity:
		r = 0
	case SYS_futex:
		r = sysFutex(a0, a1, a2, a3)
	case SYS_set_robust_list:
		r = -ENOSYS // glibc's; not needed by Go
	case SYS_fork, SYS_vfork, SYS_execve:
		r = -ENOSYS // one process, no other programs: fails as a kernel without them would

	// Time (sys_time.go)
	case SYS_clock_gettime:
		r = sysClockGettime(a0, a1)
	case SYS_clock_getres:
		r = sysClockGetres(a0, a1)
	case SYS_gettimeofday:
		r = sysGettimeofday(a0)
	case SYS_time:
		r = sysTime(a0)
	case SYS_nanosleep:
		r = sysNanosleep(a0)
	case SYS_clock_nanosleep:
		r = sysClockNanosleep(a0, a1, a2)

	// Signals (sys_signal.go): recorded, not yet delivered
	case SYS_rt_sigaction:
		r = sysRtSigaction(a0, a1, a2, a3)
	case SYS_rt_sigprocmask:
		r = sysRtSigprocmask(a0, a1, a2, a3)
	case SYS_sigaltstack:
		r = sysSigaltstack(a0, a1)
	case SYS_tgkill:
		r = sysTgkill(a0, a1, a2)
	case SYS_tkill:
		r = sysTgkill(1, a0, a1)
	case SYS_kill:
		r = sysKill(a0, a1)
	case SYS_rt_sigreturn:
		r = sysRtSigreturn(tf)

	// Files (sys_file.go, sys_fs.go)
	case SYS_read:
		r = sysRead(a0, a1, a2)
	case SYS_write:
		r = sysWrite(a0, a1, a2)
	case SYS_readv:
		r = sysReadv(a0, a1, a2, false)
	case SYS_writev:
		r = sysReadv(a0, a1, a2, true)
	case SYS_pread64:
		r = sysPread(a0, a1, a2, a3)
	case SYS_pwrite64:
		r = sysPwrite(a0, a1, a2, a3)
	case SYS_lseek:
		r = sysLseek(a0, a1, a2)
	case SYS_close:
		r = sysClose(a0)
	case SYS_open:
		r = sysOpen(a0, a1, a2)
	case SYS_creat:
		r = sysCreat(a0, a1)
	case SYS_openat:
		r = sysOpenat(a0, a1, a2, a3)
	case SYS_stat:
		r = sysStat(a0, a1)
	case SYS_lstat:
		r = sysLstat(a0, a1)
	case SYS_fstat:
		r = sysFstat(a0, a1)
	case SYS_newfstatat:
		r = sysNewfstatat(a0, a1, a2, a3)
	case SYS_getdents64:
		r = sysGetdents64(a0, a1, a2)
	case SYS_readlinkat:
		r = sysReadlinkat(a0, a1, a2, a3)
	case SYS_readlink:
		r = sysReadlink(a0, a1, a2)
	case SYS_mkdirat:
		r = sysMkdirat(a0, a1, a2)
	case SYS_mknodat:
		r = sysMknodat(a0, a1, a2, a3)
	case SYS_mknod:
		r = sysMknodat(atCWD, a0, a1, a2)
	case SYS_mkdir:
		r = sysMkdirat(atCWD, a0, a1)
	case SYS_unlinkat:
		r = sysUnlinkat(a0, a1, a2)
	case SYS_unlink:
		r = sysUnlinkat(atCWD, a0, 0)
	case SYS_rmdir:
		r = sysUnlinkat(atCWD, a0, atRemovedir)
	case SYS_renameat2:
		r = sysRenameat2(a0, a1, a2, a3, a4)
	case SYS_renameat:
		r = sysRenameat2(a0, a1, a2, a3, 0)
	case SYS_rename:
		r = sysRenameat2(atCWD, a0, atCWD, a1, 0)
	case SYS_symlinkat:
		r = sysSymlinkat(a0, a1, a2)
	case SYS_symlink:
		r = sysSymlinkat(a0, atCWD, a1)
	case SYS_link, SYS_linkat:
		r = -EPERM // one name per inode: no hard links
	case SYS_chown:
		r = sysChownat(atCWD, a0, 0)
	case SYS_lchown:
		r = sysChownat(atCWD, a0, atSymlinkNofollow)
	case SYS_fchownat:
		r = sysChownat(a0, a1, a4)
	case SYS_fchown:
		if r = 0; getFile(a0) == nil {
			r = -EBADF
		}
	case SYS_wait4, SYS_waitid:
		r = -ECHILD // no other processes, so no children
	case SYS_getcwd:
		r = sysGetcwd(a0, a1)
	case SYS_chdir:
		r = sysChdir(a0)
	case SYS_fchdir:
		r = sysFchdir(a0)
	case SYS_truncate:
		r = sysTruncate(a0, a1)
	case SYS_ftruncate:
		r = sysFtruncate(a0, a1)
	case SYS_fsync, SYS_fdatasync:
		if getFile(a0) == nil {
			r = -EBADF
		}
	case SYS_access:
		r = sysFaccessat(atCWD, a0, a1, 0)
	case SYS_faccessat:
		r = sysFaccessat(a0, a1, a2, 0)
	case SYS_chmod:
		r = sysFchmodat(atCWD, a0, a1)
	case SYS_fchmodat:
		r = sysFchmodat(a0, a1, a2)
	case SYS_fchmod:
		r = sysFchmod(a0, a1)
	case SYS_utimensat:
		r = sysUtimensat(a0, a1, a2, a3)
	case SYS_umask:
		r = sysUmask(a0)
	case SYS_statfs:
		r = sysStatfs(a1)
	case SYS_fstatfs:
		if getFile(a0) == nil {
			r = -EBADF
		} else {
			r = sysStatfs(a1)
		}
	case SYS_dup:
		r = sysDup(a0)
	case SYS_dup2:
		r = sysDup2(a0, a1)
	case SYS_dup3:
		r = sysDup3(a0, a1, a2)
	case SYS_fcntl:
		r = sysFcntl(a0, a1, a2)
	case SYS_ioctl:
		r = sysIoctl(a0, a1, a2)
	case SYS_pipe2:
		r = sysPipe2(a0, a1)
	case SYS_pipe:
		r = sysPipe2(a0, 0)

	// Polling (sys_poll.go)
	case SYS_epoll_create1:
		r = sysEpollCreate(a0)
	case SYS_epoll_create:
		r = sysEpollCreate(0)
	case SYS_epoll_ctl:
		r = sysEpollCtl(a0, a1, a2, a3)
	case SYS_epoll_pwait, SYS_epoll_wait:
		r = sysEpollWait(a0, a1, a2, int64(int32(a3)))
	case SYS_eventfd2, SYS_eventfd:
		r = sysEventfd(a0, a1)

	// Process (sys_misc.go)
	case SYS_uname:
		r = sysUname(a0)
	case SYS_getgroups:
		r = 0 // root, in no supplementary group
	case SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid:
		r = 0
	case SYS_prlimit64:
		r = sysPrlimit(a0, a1, a2, a3)
	case SYS_getrlimit:
		r = sysPrlimit(0, a0, 0, a1)
	case SYS_setrlimit:
		r = 0
	case SYS_prctl:
		r = sysPrctl(a0, a1)
	case SYS_getrandom:
		r = sysGetrandom(a0, a1)

	case SYS_splice:
		// No splice between any of rt0's files. EINVAL, not ENOSYS, is
		// Linux's answer for descriptors that cannot splice, and the one
		// Go's io.Copy between sockets falls back to plain reads on.
		r = -EINVAL

	// Sockets (sys_socket.go), in programs that use package net
	case SYS_socket, SYS_socketpair, SYS_bind, SYS_listen, SYS_accept, SYS_accept4, SYS_connect,
		SYS_getsockname, SYS_getpeername, SYS_shutdown, SYS_setsockopt, SYS_getsockopt,
		SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg, SYS_sendfile:
		if socketCall == nil {
			r = -ENOSYS
		} else {
			r = socketCall(nr, a0, a1, a2, a3, a4, tf.R9)
		}

	default:
		r = syscallRare(nr, a0, a1, a2, a3)
	}
	if r != blocked && r != keepRAX {
		tf.RAX = uint64(r)
	}
	if nr < uint64(len(syscallCounts)) {
		syscallCounts[nr]++
	}
	if strace {
		traceSyscall(nr, a0, a1, a2, a3, r)
	}
}

var (
	// strace (kernel option rt0.strace) logs every syscall.
	strace bool
	// syscallCounts counts syscalls by number (kernel option rt0.stats
	// prints them at exit).
	syscallCounts [512]uint64
)

func traceSyscall(nr, a0, a1, a2, a3 uint64, r int64) {
	kprint("rt0: [")
	kprintDec(int64(curTid()))
	kprint("] ")
	kprint(syscallName(nr))
	kprint("(")
	kprintHex(a0)
	kprint(", ")
	kprintHex(a1)
	kprint(", ")
	kprintHex(a2)
	kprint(", ")
	kprintHex(a3)
	kprint(") = ")
	if r == blocked {
		kprint("(blocks)\n")
		return
	}
	if r == keepRAX {
		kprint("(context restored)\n")
		return
	}
	if r < 0 && r > -4096 {
		kprint("-")
		kprint(errnoName(-r))
	} else {
		kprintHex(uint64(r))
	}
	kprint("\n")
}

// printSyscallCounts logs how many times each syscall ran.
func printSyscallCounts() {
	kprint("rt0: syscalls:")
	for nr, n := range syscallCounts {
		if n != 0 {
			kprint(" ")
			kprint(syscallName(uint64(nr)))
			kprint("=")
			kprintDec(int64(n))
		}
	}
	kprint("\n")
}

func errnoName(e int64) string {
	switch e {
	case EPERM:
		return "EPERM"
	case ENOENT:
		return "ENOENT"
	case EBADF:
		return "EBADF"
	case EAGAIN:
		return "EAGAIN"
	case ENOMEM:
		return "ENOMEM"
	case EFAULT:
		return "EFAULT"
	case EEXIST:
		return "EEXIST"
	case EINVAL:
		return "EINVAL"
	case ENOTTY:
		return "ENOTTY"
	case ESPIPE:
		return "ESPIPE"
	case ENOSYS:
		return "ENOSYS"
	case ETIMEDOUT:
		return "ETIMEDOUT"
	case ENODEV:
		return "ENODEV"
	}
	return "errno"
}

var unknownLogged [8]uint64 // bitmap of numbers already reported

// unknownSyscall logs an unserved syscall, once per number.
func unknownSyscall(nr uint64) {
	if nr < 512 {
		if unknownLogged[nr/64]&(1<<(nr%64)) != 0 {
			return
		}
		unknownLogged[nr/64] |= 1 << (nr % 64)
	}
	kprint("rt0: unknown syscall ")
	kprintDec(int64(nr))
	kprint(" (")
	kprint(syscallName(nr))
	kprint("): ENOSYS\n")
}
