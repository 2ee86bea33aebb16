package kernel

import (
	"rt0/guest/arch/amd64"
	"rt0/guest/linux"
)

// The system call table: one Linux x86-64 number, one handler. This file is
// the answer to "what does rt0 serve": everything the go1.26 runtime and the
// standard library's common paths ask of Linux. Numbers, errno values and
// flags are package linux's (rt0/guest/linux, generated from
// golang.org/x/sys/unix and checked against the syscall package and the
// runtime's own copies).
//
// A handler reads its arguments from the frame (RDI, RSI, RDX, R10, R8, R9)
// and returns the value for RAX: a result, or -errno. A handler that blocks
// its thread returns blocked: the result arrives later, written by
// whoever wakes the thread (sched.Wake).

// atCWD is AT_FDCWD as a syscall argument register holds it.
const atCWD = uint64(1<<64 + linux.AT_FDCWD)

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
	case linux.SYS_RSEQ:
		return -linux.ENOSYS // glibc's; not needed by Go
	case linux.SYS_FCHMODAT2:
		return sysFchmodat2(a0, a1, a2, a3)
	}
	unknownSyscall(nr)
	return -linux.ENOSYS
}

// syscallNR is the number of the system call being served (what a call
// that waits to run again, blockRestart, runs again).
var syscallNR uint64

func syscall(tf *amd64.TrapFrame) {
	stats.syscalls++
	nr := tf.RAX
	syscallNR = nr
	a0, a1, a2, a3, a4 := tf.RDI, tf.RSI, tf.RDX, tf.R10, tf.R8
	if crashTest != 0 {
		runCrashTest()
	}
	var r int64
	var done bool
	if nr < uint64(len(prechecked)) && prechecked[nr] {
		r, done = precheck(nr, a0, a1, a2, a3, a4, tf.R9)
	}
	if !done {
		switch nr {
		// Memory (sys_mem.go)
		case linux.SYS_MMAP:
			r = sysMmap(a0, a1, a2, a3, a4, tf.R9)
		case linux.SYS_MUNMAP:
			r = sysMunmap(a0, a1)
		case linux.SYS_MPROTECT:
			r = sysMprotect(a0, a1, a2)
		case linux.SYS_MADVISE:
			r = sysMadvise(a0, a1, a2)
		case linux.SYS_BRK:
			r = 0 // no heap segment: Go never uses brk; 0 tells a caller "no"
		case linux.SYS_MINCORE:
			r = -linux.ENOSYS

		// Threads (sys_thread.go)
		case linux.SYS_CLONE:
			r = sysClone(tf, a0, a1, a2, a3, a4)
		case linux.SYS_EXIT:
			r = sysExit(tf, a0)
		case linux.SYS_EXIT_GROUP:
			stop(int(a0 & 0xFF))
		case linux.SYS_GETTID:
			r = int64(curTid())
		case linux.SYS_GETPID:
			r = 1
		case linux.SYS_GETPPID, linux.SYS_GETPGRP:
			r = 0
		case linux.SYS_SET_TID_ADDRESS:
			r = sysSetTidAddress(a0)
		case linux.SYS_ARCH_PRCTL:
			r = sysArchPrctl(tf, a0, a1)
		case linux.SYS_SCHED_YIELD:
			r = sysSchedYield()
		case linux.SYS_SCHED_GETAFFINITY:
			r = sysSchedGetaffinity(a0, a1, a2)
		case linux.SYS_SCHED_SETAFFINITY:
			r = sysSchedSetaffinity(a0, a1, a2)
		case linux.SYS_GETCPU:
			r = sysGetcpu(a0, a1)
		case linux.SYS_FUTEX:
			r = sysFutex(a0, a1, a2, a3)
		case linux.SYS_SET_ROBUST_LIST:
			r = -linux.ENOSYS // glibc's; not needed by Go
		case linux.SYS_FORK, linux.SYS_VFORK, linux.SYS_EXECVE:
			r = -linux.ENOSYS // one process, no other programs: fails as a kernel without them would

		// Time (sys_time.go)
		case linux.SYS_CLOCK_GETTIME:
			r = sysClockGettime(a0, a1)
		case linux.SYS_CLOCK_GETRES:
			r = sysClockGetres(a0, a1)
		case linux.SYS_GETTIMEOFDAY:
			r = sysGettimeofday(a0, a1)
		case linux.SYS_TIME:
			r = sysTime(a0)
		case linux.SYS_NANOSLEEP:
			r = sysNanosleep(a0)
		case linux.SYS_CLOCK_NANOSLEEP:
			r = sysClockNanosleep(a0, a1, a2)

		// Timers (sys_timer.go)
		case linux.SYS_SETITIMER:
			r = sysSetitimer(a0, a1, a2)
		case linux.SYS_GETITIMER:
			r = sysGetitimer(a0, a1)
		case linux.SYS_ALARM:
			r = sysAlarm(a0)
		case linux.SYS_TIMER_CREATE:
			r = sysTimerCreate(a0, a1, a2)
		case linux.SYS_TIMER_SETTIME:
			r = sysTimerSettime(a0, a1, a2, a3)
		case linux.SYS_TIMER_GETTIME:
			r = sysTimerGettime(a0, a1)
		case linux.SYS_TIMER_GETOVERRUN:
			r = sysTimerGetoverrun(a0)
		case linux.SYS_TIMER_DELETE:
			r = sysTimerDelete(a0)
		case linux.SYS_GETRUSAGE:
			r = sysGetrusage(a0, a1)

		// Signals (sys_signal.go; delivery in signal.go)
		case linux.SYS_RT_SIGACTION:
			r = sysRtSigaction(a0, a1, a2, a3)
		case linux.SYS_RT_SIGPROCMASK:
			r = sysRtSigprocmask(a0, a1, a2, a3)
		case linux.SYS_SIGALTSTACK:
			r = sysSigaltstack(a0, a1)
		case linux.SYS_TGKILL:
			r = sysTgkill(a0, a1, a2)
		case linux.SYS_TKILL:
			r = sysTgkill(1, a0, a1)
		case linux.SYS_KILL:
			r = sysKill(a0, a1)
		case linux.SYS_RT_SIGRETURN:
			r = sysRtSigreturn(tf)

		// Files (sys_file.go, sys_fs.go)
		case linux.SYS_READ:
			r = sysRead(a0, a1, a2)
		case linux.SYS_WRITE:
			r = sysWrite(a0, a1, a2)
		case linux.SYS_READV:
			r = sysReadv(a0, a1, a2, false)
		case linux.SYS_WRITEV:
			r = sysReadv(a0, a1, a2, true)
		case linux.SYS_PREAD64:
			r = sysPread(a0, a1, a2, a3)
		case linux.SYS_PWRITE64:
			r = sysPwrite(a0, a1, a2, a3)
		case linux.SYS_LSEEK:
			r = sysLseek(a0, a1, a2)
		case linux.SYS_CLOSE:
			r = sysClose(a0)
		case linux.SYS_OPEN:
			r = sysOpen(a0, a1, a2)
		case linux.SYS_CREAT:
			r = sysCreat(a0, a1)
		case linux.SYS_OPENAT:
			r = sysOpenat(a0, a1, a2, a3)
		case linux.SYS_STAT:
			r = sysStat(a0, a1)
		case linux.SYS_LSTAT:
			r = sysLstat(a0, a1)
		case linux.SYS_FSTAT:
			r = sysFstat(a0, a1)
		case linux.SYS_NEWFSTATAT:
			r = sysNewfstatat(a0, a1, a2, a3)
		case linux.SYS_GETDENTS64:
			r = sysGetdents64(a0, a1, a2)
		case linux.SYS_READLINKAT:
			r = sysReadlinkat(a0, a1, a2, a3)
		case linux.SYS_READLINK:
			r = sysReadlink(a0, a1, a2)
		case linux.SYS_MKDIRAT:
			r = sysMkdirat(a0, a1, a2)
		case linux.SYS_MKNODAT:
			r = sysMknodat(a0, a1, a2, a3)
		case linux.SYS_MKNOD:
			r = sysMknodat(atCWD, a0, a1, a2)
		case linux.SYS_MKDIR:
			r = sysMkdirat(atCWD, a0, a1)
		case linux.SYS_UNLINKAT:
			r = sysUnlinkat(a0, a1, a2)
		case linux.SYS_UNLINK:
			r = sysUnlinkat(atCWD, a0, 0)
		case linux.SYS_RMDIR:
			r = sysUnlinkat(atCWD, a0, linux.AT_REMOVEDIR)
		case linux.SYS_RENAMEAT2:
			r = sysRenameat2(a0, a1, a2, a3, a4)
		case linux.SYS_RENAMEAT:
			r = sysRenameat2(a0, a1, a2, a3, 0)
		case linux.SYS_RENAME:
			r = sysRenameat2(atCWD, a0, atCWD, a1, 0)
		case linux.SYS_SYMLINKAT:
			r = sysSymlinkat(a0, a1, a2)
		case linux.SYS_SYMLINK:
			r = sysSymlinkat(a0, atCWD, a1)
		case linux.SYS_LINK:
			r = sysLinkat(atCWD, a0, atCWD, a1, 0)
		case linux.SYS_LINKAT:
			r = sysLinkat(a0, a1, a2, a3, a4)
		case linux.SYS_CHOWN:
			r = sysChownat(atCWD, a0, 0)
		case linux.SYS_LCHOWN:
			r = sysChownat(atCWD, a0, linux.AT_SYMLINK_NOFOLLOW)
		case linux.SYS_FCHOWNAT:
			r = sysChownat(a0, a1, a4)
		case linux.SYS_FCHOWN:
			if r = 0; getFile(a0) == nil {
				r = -linux.EBADF
			}
		case linux.SYS_WAIT4, linux.SYS_WAITID:
			r = -linux.ECHILD // no other processes, so no children
		case linux.SYS_GETCWD:
			r = sysGetcwd(a0, a1)
		case linux.SYS_CHDIR:
			r = sysChdir(a0)
		case linux.SYS_FCHDIR:
			r = sysFchdir(a0)
		case linux.SYS_TRUNCATE:
			r = sysTruncate(a0, a1)
		case linux.SYS_FTRUNCATE:
			r = sysFtruncate(a0, a1)
		case linux.SYS_FSYNC, linux.SYS_FDATASYNC, linux.SYS_SYNCFS:
			if getFile(a0) == nil {
				r = -linux.EBADF
			}
		case linux.SYS_SYNC:
			// Files are in memory: nothing to write back.
		case linux.SYS_REBOOT:
			r = sysReboot(a0, a1, a2)
		case linux.SYS_ACCESS:
			r = sysFaccessat(atCWD, a0, a1, 0)
		case linux.SYS_FACCESSAT:
			r = sysFaccessat(a0, a1, a2, 0)
		case linux.SYS_CHMOD:
			r = sysFchmodat(atCWD, a0, a1)
		case linux.SYS_FCHMODAT:
			r = sysFchmodat(a0, a1, a2)
		case linux.SYS_FCHMOD:
			r = sysFchmod(a0, a1)
		case linux.SYS_UTIMENSAT:
			r = sysUtimensat(a0, a1, a2, a3)
		case linux.SYS_UMASK:
			r = sysUmask(a0)
		case linux.SYS_STATFS:
			r = sysStatfs(a0, a1)
		case linux.SYS_FSTATFS:
			if getFile(a0) == nil {
				r = -linux.EBADF
			} else {
				r = statfsInto(a1)
			}
		case linux.SYS_DUP:
			r = sysDup(a0)
		case linux.SYS_DUP2:
			r = sysDup2(a0, a1)
		case linux.SYS_DUP3:
			r = sysDup3(a0, a1, a2)
		case linux.SYS_FCNTL:
			r = sysFcntl(a0, a1, a2)
		case linux.SYS_IOCTL:
			r = sysIoctl(a0, a1, a2)
		case linux.SYS_PIPE2:
			r = sysPipe2(a0, a1)
		case linux.SYS_PIPE:
			r = sysPipe2(a0, 0)

		// Polling (sys_poll.go)
		case linux.SYS_EPOLL_CREATE1:
			r = sysEpollCreate(a0)
		case linux.SYS_EPOLL_CREATE:
			r = sysEpollCreate(0)
		case linux.SYS_EPOLL_CTL:
			r = sysEpollCtl(a0, a1, a2, a3)
		case linux.SYS_EPOLL_PWAIT, linux.SYS_EPOLL_WAIT:
			r = sysEpollWait(a0, a1, a2, int64(int32(a3)))
		case linux.SYS_EVENTFD2, linux.SYS_EVENTFD:
			r = sysEventfd(a0, a1)

		// Process (sys_misc.go)
		case linux.SYS_UNAME:
			r = sysUname(a0)
		case linux.SYS_GETGROUPS:
			r = 0 // root, in no supplementary group
		case linux.SYS_GETUID, linux.SYS_GETEUID, linux.SYS_GETGID, linux.SYS_GETEGID:
			r = 0
		case linux.SYS_PRLIMIT64:
			r = sysPrlimit(a0, a1, a2, a3)
		case linux.SYS_GETRLIMIT:
			r = -linux.EFAULT // the limit must be written somewhere
			if a1 != 0 {
				r = sysPrlimit(0, a0, 0, a1)
			}
		case linux.SYS_SETRLIMIT:
			r = 0
		case linux.SYS_PRCTL:
			r = sysPrctl(a0, a1)
		case linux.SYS_GETRANDOM:
			r = sysGetrandom(a0, a1)

		case linux.SYS_SPLICE:
			// No splice between any of rt0's files. EINVAL, not ENOSYS, is
			// Linux's answer for descriptors that cannot splice, and the one
			// Go's io.Copy between sockets falls back to plain reads on
			// (once both descriptors are known good: else EBADF).
			if getFile(a0) == nil || getFile(a2) == nil {
				r = -linux.EBADF
			} else {
				r = -linux.EINVAL
			}

		// Sockets (sys_socket.go), in programs that use package net
		case linux.SYS_SOCKET, linux.SYS_SOCKETPAIR, linux.SYS_BIND, linux.SYS_LISTEN, linux.SYS_ACCEPT, linux.SYS_ACCEPT4, linux.SYS_CONNECT,
			linux.SYS_GETSOCKNAME, linux.SYS_GETPEERNAME, linux.SYS_SHUTDOWN, linux.SYS_SETSOCKOPT, linux.SYS_GETSOCKOPT,
			linux.SYS_SENDTO, linux.SYS_RECVFROM, linux.SYS_SENDMSG, linux.SYS_RECVMSG, linux.SYS_SENDFILE:
			if socketCall == nil {
				r = -linux.ENOSYS
			} else {
				r = socketCall(nr, a0, a1, a2, a3, a4, tf.R9)
			}

		default:
			r = syscallRare(nr, a0, a1, a2, a3)
		}
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
	kprint(linux.SyscallName(nr))
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
			kprint(linux.SyscallName(uint64(nr)))
			kprint("=")
			kprintDec(int64(n))
		}
	}
	kprint("\n")
}

func errnoName(e int64) string {
	switch e {
	case linux.EPERM:
		return "EPERM"
	case linux.ENOENT:
		return "ENOENT"
	case linux.EBADF:
		return "EBADF"
	case linux.EAGAIN:
		return "EAGAIN"
	case linux.ENOMEM:
		return "ENOMEM"
	case linux.EFAULT:
		return "EFAULT"
	case linux.EEXIST:
		return "EEXIST"
	case linux.EINVAL:
		return "EINVAL"
	case linux.ENOTTY:
		return "ENOTTY"
	case linux.ESPIPE:
		return "ESPIPE"
	case linux.ENOSYS:
		return "ENOSYS"
	case linux.ETIMEDOUT:
		return "ETIMEDOUT"
	case linux.ENODEV:
		return "ENODEV"
	}
	return "errno"
}

var unknownLogged [8]uint64 // bitmap of numbers already reported

// unknownSyscall logs an unserved syscall, once per number.
func unknownSyscall(nr uint64) {
	// Each number once; the numbers past 511 (none exists on Linux yet)
	// share the last bit, so that a program trying random numbers cannot
	// flood the log.
	k := min(nr, 511)
	if unknownLogged[k/64]&(1<<(k%64)) != 0 {
		return
	}
	unknownLogged[k/64] |= 1 << (k % 64)
	kprint("rt0: unknown syscall ")
	kprintDec(int64(nr))
	kprint(" (")
	kprint(linux.SyscallName(nr))
	kprint("): ENOSYS\n")
}
