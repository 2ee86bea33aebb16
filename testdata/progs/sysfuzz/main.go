// Command sysfuzz calls the system calls rt0 serves with hostile arguments
// from a seed: pointers into text, read-only data, the kernel, unmapped,
// PROT_NONE and PROT_READ pages, page 0, non-canonical addresses; huge
// and negative lengths; bad and wrong-kind descriptors; random flags. The
// kernel must answer each with an error or a result, and go on: it must
// never stop, hang, or damage the program (which checks its own memory at
// the end).
//
// Two phases:
//
//   - compare: calls whose answer depends only on their arguments (bad
//     descriptors, hostile pointers, names that do not exist), one line
//     each: the call and its errno. The same seed on Linux prints the
//     same lines; the boot test compares them.
//   - chaos: every call, on descriptors, files, mappings and sockets of
//     the fuzzer's own (a pool it rebuilds), from several threads at
//     once; a count at the end. On rt0 it also calls numbers rt0 does not
//     serve (on Linux those would really do things).
//
// Everything it touches is its own: files only in a fresh temporary
// directory, mappings only in an arena it reserved, sockets only to its
// own listener on the loopback (or a closed port), descriptors only of its
// pool; it never passes the runtime's own memory or descriptors, and it
// never calls what ends or reshapes the process (exit, clone, execve,
// rt_sigreturn, installing signal handlers, SET_FS). A call that does not
// return within 10 s is a failure: the watchdog prints the seed and the
// call, and exits 1.
//
// Usage: sysfuzz [-seed N] [-compare N] [-chaos N] [-threads N] [-duration D]
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Argument kinds.
type kind uint8

const (
	aInt      kind = iota // a random integer: small, negative, huge
	aFD                   // a descriptor
	aDirFD                // a descriptor or AT_FDCWD for the *at calls
	aIn                   // a pointer the kernel reads
	aOut                  // a pointer the kernel writes
	aLen                  // a length
	aFlags                // random flag bits
	aPath                 // a pointer to a file name
	aAddr                 // a page address for the memory calls
	aSockaddr             // a pointer to a socket address
	aSockLen              // a socket address length
	aLenPtr               // a pointer to a socklen_t
	aTime                 // a pointer to a short timespec
	aSig                  // a signal number that does no harm: 0 or invalid
	aPid                  // a process or thread id
	aIov                  // a pointer to an iovec array
	aIovCnt               // an iovec count
	aMsg                  // a pointer to a msghdr
	aTimeout              // a poll timeout in ms: short
	aZero                 // 0
)

type call struct {
	name string
	nr   uintptr
	args []kind
	// compare: the answer depends on the arguments only, so compare runs
	// it (with bad descriptors and nonexistent names).
	compare bool
	// fix adjusts arguments for what the fuzzer must not do to itself.
	fix func(a *[6]uintptr, r *rand.Rand)
}

func k(ks ...kind) []kind { return ks }

// calls is every system call rt0 serves (syscall.go), but those that end
// or reshape the process, which get their own rules in fix or are left
// out with a reason (see left).
var calls = []call{
	{"read", unix.SYS_READ, k(aFD, aOut, aLen), true, nil},
	{"write", unix.SYS_WRITE, k(aFD, aIn, aLen), true, nil},
	{"readv", unix.SYS_READV, k(aFD, aIov, aIovCnt), true, nil},
	{"writev", unix.SYS_WRITEV, k(aFD, aIov, aIovCnt), true, nil},
	{"pread64", unix.SYS_PREAD64, k(aFD, aOut, aLen, aInt), true, nil},
	{"pwrite64", unix.SYS_PWRITE64, k(aFD, aIn, aLen, aInt), true, nil},
	{"lseek", unix.SYS_LSEEK, k(aFD, aInt, aInt), true, nil},
	{"close", unix.SYS_CLOSE, k(aFD), true, nil},
	{"open", unix.SYS_OPEN, k(aPath, aFlags, aInt), true, fixOpen(1)},
	{"creat", unix.SYS_CREAT, k(aPath, aInt), true, nil},
	{"openat", unix.SYS_OPENAT, k(aDirFD, aPath, aFlags, aInt), true, fixOpen(2)},
	{"stat", unix.SYS_STAT, k(aPath, aOut), true, nil},
	{"lstat", unix.SYS_LSTAT, k(aPath, aOut), true, nil},
	{"fstat", unix.SYS_FSTAT, k(aFD, aOut), true, nil},
	{"newfstatat", unix.SYS_NEWFSTATAT, k(aDirFD, aPath, aOut, aFlags), true, nil},
	{"getdents64", unix.SYS_GETDENTS64, k(aFD, aOut, aLen), true, nil},
	{"readlink", unix.SYS_READLINK, k(aPath, aOut, aLen), true, nil},
	{"readlinkat", unix.SYS_READLINKAT, k(aDirFD, aPath, aOut, aLen), true, nil},
	{"mkdir", unix.SYS_MKDIR, k(aPath, aInt), true, nil},
	{"mkdirat", unix.SYS_MKDIRAT, k(aDirFD, aPath, aInt), true, nil},
	{"mknod", unix.SYS_MKNOD, k(aPath, aInt, aZero), true, fixMknod(1)},
	{"mknodat", unix.SYS_MKNODAT, k(aDirFD, aPath, aInt, aZero), true, fixMknod(2)},
	{"unlink", unix.SYS_UNLINK, k(aPath), true, nil},
	{"unlinkat", unix.SYS_UNLINKAT, k(aDirFD, aPath, aFlags), true, nil},
	{"rmdir", unix.SYS_RMDIR, k(aPath), true, nil},
	{"rename", unix.SYS_RENAME, k(aPath, aPath), true, nil},
	{"renameat", unix.SYS_RENAMEAT, k(aDirFD, aPath, aDirFD, aPath), true, nil},
	{"renameat2", unix.SYS_RENAMEAT2, k(aDirFD, aPath, aDirFD, aPath, aFlags), true, nil},
	{"symlink", unix.SYS_SYMLINK, k(aPath, aPath), true, nil},
	{"symlinkat", unix.SYS_SYMLINKAT, k(aPath, aDirFD, aPath), true, nil},
	{"link", unix.SYS_LINK, k(aPath, aPath), true, nil},
	{"linkat", unix.SYS_LINKAT, k(aDirFD, aPath, aDirFD, aPath, aFlags), true, nil},
	{"chown", unix.SYS_CHOWN, k(aPath, aInt, aInt), true, nil},
	{"lchown", unix.SYS_LCHOWN, k(aPath, aInt, aInt), true, nil},
	{"fchownat", unix.SYS_FCHOWNAT, k(aDirFD, aPath, aInt, aInt, aFlags), true, nil},
	{"fchown", unix.SYS_FCHOWN, k(aFD, aInt, aInt), true, nil},
	{"getcwd", unix.SYS_GETCWD, k(aOut, aLen), true, nil},
	{"chdir", unix.SYS_CHDIR, k(aPath), true, nil},
	{"fchdir", unix.SYS_FCHDIR, k(aFD), true, nil},
	{"truncate", unix.SYS_TRUNCATE, k(aPath, aInt), true, nil},
	{"ftruncate", unix.SYS_FTRUNCATE, k(aFD, aInt), true, nil},
	{"fsync", unix.SYS_FSYNC, k(aFD), true, nil},
	{"fdatasync", unix.SYS_FDATASYNC, k(aFD), true, nil},
	{"syncfs", unix.SYS_SYNCFS, k(aFD), true, nil},
	{"sync", unix.SYS_SYNC, k(), true, nil},
	{"access", unix.SYS_ACCESS, k(aPath, aInt), true, nil},
	{"faccessat", unix.SYS_FACCESSAT, k(aDirFD, aPath, aInt), true, nil},
	{"chmod", unix.SYS_CHMOD, k(aPath, aInt), true, nil},
	{"fchmodat", unix.SYS_FCHMODAT, k(aDirFD, aPath, aInt), true, nil},
	{"fchmodat2", unix.SYS_FCHMODAT2, k(aDirFD, aPath, aInt, aFlags), false, nil},
	{"fchmod", unix.SYS_FCHMOD, k(aFD, aInt), true, nil},
	{"utimensat", unix.SYS_UTIMENSAT, k(aDirFD, aPath, aIn, aFlags), true, nil},
	{"umask", unix.SYS_UMASK, k(aInt), false, fixUmask},
	{"statfs", unix.SYS_STATFS, k(aPath, aOut), true, nil},
	{"fstatfs", unix.SYS_FSTATFS, k(aFD, aOut), true, nil},
	{"dup", unix.SYS_DUP, k(aFD), true, nil},
	{"dup2", unix.SYS_DUP2, k(aFD, aFD), true, nil},
	{"dup3", unix.SYS_DUP3, k(aFD, aFD, aFlags), true, nil},
	{"fcntl", unix.SYS_FCNTL, k(aFD, aInt, aInt), true, fixFcntl},
	{"ioctl", unix.SYS_IOCTL, k(aFD, aInt, aOut), true, fixIoctl},
	{"pipe", unix.SYS_PIPE, k(aOut), true, nil},
	{"pipe2", unix.SYS_PIPE2, k(aOut, aFlags), true, nil},
	{"epoll_create", unix.SYS_EPOLL_CREATE, k(aInt), false, nil},
	{"epoll_create1", unix.SYS_EPOLL_CREATE1, k(aFlags), false, nil},
	{"epoll_ctl", unix.SYS_EPOLL_CTL, k(aFD, aInt, aFD, aIn), true, nil},
	{"epoll_wait", unix.SYS_EPOLL_WAIT, k(aFD, aOut, aInt, aTimeout), true, nil},
	{"epoll_pwait", unix.SYS_EPOLL_PWAIT, k(aFD, aOut, aInt, aTimeout, aZero, aZero), true, nil},
	{"eventfd", unix.SYS_EVENTFD, k(aInt), false, nil},
	{"eventfd2", unix.SYS_EVENTFD2, k(aInt, aFlags), false, nil},
	{"splice", unix.SYS_SPLICE, k(aFD, aOut, aFD, aOut, aLen, aFlags), true, fixSplice},
	{"sendfile", unix.SYS_SENDFILE, k(aFD, aFD, aOut, aLen), true, nil},

	{"mmap", unix.SYS_MMAP, k(aAddr, aLen, aFlags, aFlags, aFD, aInt), false, fixMmap},
	{"munmap", unix.SYS_MUNMAP, k(aAddr, aLen), false, fixArena(0, 1)},
	{"mprotect", unix.SYS_MPROTECT, k(aAddr, aLen, aInt), false, fixArena(0, 1)},
	{"madvise", unix.SYS_MADVISE, k(aAddr, aLen, aInt), false, fixMadvise},
	{"brk", unix.SYS_BRK, k(aZero), false, nil},
	{"mincore", unix.SYS_MINCORE, k(aAddr, aLen, aOut), false, fixArena(0, 1)},

	{"gettid", unix.SYS_GETTID, nil, false, nil},
	{"getpid", unix.SYS_GETPID, nil, false, nil},
	{"getppid", unix.SYS_GETPPID, nil, false, nil},
	{"getpgrp", unix.SYS_GETPGRP, nil, false, nil},
	{"getuid", unix.SYS_GETUID, nil, false, nil},
	{"geteuid", unix.SYS_GETEUID, nil, false, nil},
	{"getgid", unix.SYS_GETGID, nil, false, nil},
	{"getegid", unix.SYS_GETEGID, nil, false, nil},
	{"getgroups", unix.SYS_GETGROUPS, k(aInt, aOut), false, nil},
	{"set_tid_address", unix.SYS_SET_TID_ADDRESS, k(aOut), false, fixHostileOnly(0)},
	{"set_robust_list", unix.SYS_SET_ROBUST_LIST, k(aIn, aLen), false, fixHostileOnly(0)},
	{"arch_prctl", unix.SYS_ARCH_PRCTL, k(aInt, aOut), false, fixArchPrctl},
	{"prctl", unix.SYS_PRCTL, k(aInt, aOut, aInt, aInt, aInt), false, fixPrctl},
	{"sched_yield", unix.SYS_SCHED_YIELD, nil, false, nil},
	{"sched_getaffinity", unix.SYS_SCHED_GETAFFINITY, k(aPid, aLen, aOut), false, nil},
	{"sched_setaffinity", unix.SYS_SCHED_SETAFFINITY, k(aZero, aLen, aIn), false, fixHostileOnly(2)},
	{"getcpu", unix.SYS_GETCPU, k(aOut, aOut, aZero), false, nil},
	{"futex", unix.SYS_FUTEX, k(aOut, aInt, aInt, aTime, aOut, aInt), false, fixFutex},
	{"clock_gettime", unix.SYS_CLOCK_GETTIME, k(aInt, aOut), true, fixClock},
	{"clock_getres", unix.SYS_CLOCK_GETRES, k(aInt, aOut), true, fixClock},
	{"gettimeofday", unix.SYS_GETTIMEOFDAY, k(aOut, aOut), true, nil},
	{"time", unix.SYS_TIME, k(aOut), false, nil},
	{"nanosleep", unix.SYS_NANOSLEEP, k(aTime, aOut), true, nil},
	{"clock_nanosleep", unix.SYS_CLOCK_NANOSLEEP, k(aInt, aFlags, aTime, aOut), true, fixSleepClock},
	// Timers, never armed: a signal the fuzzer does not catch (SIGALRM,
	// SIGPROF, SIGVTALRM) would end it. setitimer and timer_settime get no
	// new value (setitimer disarms, timer_settime says EINVAL), alarm 0.
	{"setitimer", unix.SYS_SETITIMER, k(aInt, aZero, aOut), true, nil},
	{"getitimer", unix.SYS_GETITIMER, k(aInt, aOut), true, nil},
	{"alarm", unix.SYS_ALARM, k(aZero), true, nil},
	{"timer_create", unix.SYS_TIMER_CREATE, k(aInt, aIn, aOut), false, nil}, // the ids given out differ; Linux has clocks of other processes
	{"timer_settime", unix.SYS_TIMER_SETTIME, k(aInt, aFlags, aZero, aOut), true, nil},
	{"timer_gettime", unix.SYS_TIMER_GETTIME, k(aInt, aOut), true, nil},
	{"timer_getoverrun", unix.SYS_TIMER_GETOVERRUN, k(aInt), true, nil},
	{"timer_delete", unix.SYS_TIMER_DELETE, k(aInt), true, nil},
	{"getrusage", unix.SYS_GETRUSAGE, k(aInt, aOut), true, nil},
	{"rt_sigaction", unix.SYS_RT_SIGACTION, k(aInt, aIn, aOut, aLen), false, fixHostileOnly(1)},
	{"rt_sigprocmask", unix.SYS_RT_SIGPROCMASK, k(aInt, aIn, aOut, aLen), false, fixHostileOnly(1)},
	{"sigaltstack", unix.SYS_SIGALTSTACK, k(aIn, aOut), false, fixHostileOnly(0)},
	{"kill", unix.SYS_KILL, k(aPid, aSig), false, nil},
	{"tkill", unix.SYS_TKILL, k(aPid, aSig), false, nil},
	{"tgkill", unix.SYS_TGKILL, k(aPid, aPid, aSig), false, nil},
	{"wait4", unix.SYS_WAIT4, k(aInt, aOut, aFlags, aOut), false, fixWait(2)},
	{"waitid", unix.SYS_WAITID, k(aInt, aInt, aOut, aFlags, aOut), false, fixWait(3)},
	{"uname", unix.SYS_UNAME, k(aOut), true, nil},
	{"getrlimit", unix.SYS_GETRLIMIT, k(aInt, aOut), true, nil},
	{"setrlimit", unix.SYS_SETRLIMIT, k(aInt, aIn), false, fixHostileOnly(1)},
	{"prlimit64", unix.SYS_PRLIMIT64, k(aZero, aInt, aIn, aOut), false, fixHostileOnly(2)},
	{"getrandom", unix.SYS_GETRANDOM, k(aOut, aLen, aFlags), false, fixGetrandom},

	{"socket", unix.SYS_SOCKET, k(aInt, aInt, aInt), false, fixSocket(1)},
	{"socketpair", unix.SYS_SOCKETPAIR, k(aInt, aInt, aInt, aOut), false, fixSocket(1)},
	{"bind", unix.SYS_BIND, k(aFD, aSockaddr, aSockLen), true, nil},
	{"listen", unix.SYS_LISTEN, k(aFD, aInt), true, nil},
	{"accept", unix.SYS_ACCEPT, k(aFD, aOut, aLenPtr), true, nil},
	{"accept4", unix.SYS_ACCEPT4, k(aFD, aOut, aLenPtr, aFlags), true, fixAccept4},
	{"connect", unix.SYS_CONNECT, k(aFD, aSockaddr, aSockLen), true, nil},
	{"getsockname", unix.SYS_GETSOCKNAME, k(aFD, aOut, aLenPtr), true, nil},
	{"getpeername", unix.SYS_GETPEERNAME, k(aFD, aOut, aLenPtr), true, nil},
	{"shutdown", unix.SYS_SHUTDOWN, k(aFD, aInt), true, nil},
	{"setsockopt", unix.SYS_SETSOCKOPT, k(aFD, aInt, aInt, aIn, aLen), true, nil},
	{"getsockopt", unix.SYS_GETSOCKOPT, k(aFD, aInt, aInt, aOut, aLenPtr), true, nil},
	{"sendto", unix.SYS_SENDTO, k(aFD, aIn, aLen, aFlags, aSockaddr, aSockLen), true, fixSend},
	{"recvfrom", unix.SYS_RECVFROM, k(aFD, aOut, aLen, aFlags, aOut, aLenPtr), true, fixRecv(3)},
	{"sendmsg", unix.SYS_SENDMSG, k(aFD, aMsg, aFlags), true, fixSendmsg},
	{"recvmsg", unix.SYS_RECVMSG, k(aFD, aMsg, aFlags), true, fixRecv(2)},
}

// left are the calls rt0 serves that the fuzzer does not make, and why;
// the host test checks that calls and left together name every call of
// the kernel's table.
var left = map[string]string{
	"exit":         "ends the thread",
	"exit_group":   "ends the program",
	"clone":        "a thread on a random stack would crash the program",
	"fork":         "rt0 answers ENOSYS; on Linux a second process",
	"vfork":        "rt0 answers ENOSYS; on Linux a second process",
	"execve":       "would replace the program",
	"rt_sigreturn": "loads a random register frame",
	"rseq":         "registers a critical section the runtime does not expect",
	"reboot":       "with its magic numbers it ends the machine; without CAP_SYS_BOOT Linux answers EPERM first",
}

var (
	hostile     []uintptr // pointers no call may use
	highHostile []uintptr // those of them above the user half
	textPtr     uintptr   // readable, not writable
	roPtr       uintptr   // readable, not writable
	scratch     []byte    // valid memory for pointers
	arena       uintptr   // the fuzzer's own address range for the memory calls
	arenaMem    []byte
	onRT0       bool
	dir         string // the fuzzer's own directory
	names       []string
	lnAddr      *net.TCPAddr
	pool        struct {
		sync.Mutex
		fds []int
	}
)

const (
	arenaAt     = 0x200000000000
	iovBytes    = 1024 * 16
	arenaSize   = 16 << 20
	scratchSize = 1 << 20
	slotLo      = 600 // dup2/dup3 targets the fuzzer owns: [slotLo, slotLo+16)
)

// linuxKernel is an address in Linux's kernel half (its direct map).
const linuxKernel = 0xffff888000100000

const rodata = "a string constant: the fuzzer checks it is intact at the end"

var guard [4096]byte // checked at the end: no call may have written it

func main() {
	seed := flag.Uint64("seed", 1, "random seed")
	ncompare := flag.Int("compare", 2000, "calls in the compare phase")
	nchaos := flag.Int("chaos", 20000, "calls in the chaos phase")
	threads := flag.Int("threads", 2, "chaos threads")
	duration := flag.Duration("duration", 0, "run the chaos phase this long instead of -chaos calls")
	verbose := flag.Bool("v", false, "print each compared call's arguments too")
	kernel := flag.Uint64("kernel", 0, "an address of the kernel's variables, aimed at in the chaos phase (the compare phase aims at Linux's kernel half)")
	flag.Parse()

	var u unix.Utsname
	unix.Uname(&u)
	onRT0 = strings.HasSuffix(unix.ByteSliceToString(u.Release[:]), "-rt0")
	setup()
	for i := range guard {
		guard[i] = byte(i)
	}
	workers = make([]*worker, max(*threads, 1))
	for i := range workers {
		workers[i] = new(worker)
	}
	go watchdog(*seed)

	fmt.Printf("sysfuzz seed %d: %d calls in %d kinds\n", *seed, *ncompare, len(calls))
	r := rand.New(rand.NewPCG(*seed, 0))
	var comparable []call
	for _, c := range calls {
		if c.compare {
			comparable = append(comparable, c)
		}
	}
	for i := 0; i < *ncompare; i++ {
		c := comparable[r.IntN(len(comparable))]
		a := args(c, r, true)
		res := do(workers[0], c, a)
		// A signal (the runtime's preemption SIGURG) may cut a sleep
		// short, on Linux as on rt0: that answer is the timing's, not
		// the arguments'. Ask again, as Go's own wrappers do.
		for try := 0; res == "EINTR" && try < 100; try++ {
			res = do(workers[0], c, a)
		}
		if *verbose {
			// The arguments too (they differ between machines: the
			// addresses of scratch memory, the kernel's).
			fmt.Printf("%s %s\t%v\n", c.name, res, workers[0].current.Load())
		} else {
			fmt.Printf("%s %s\n", c.name, res)
		}
	}

	os.Chdir(dir)
	if *kernel != 0 {
		hostile = append(hostile, uintptr(*kernel), uintptr(*kernel)+4096)
	}
	var total, errs atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(*duration)
	for t := 0; t < *threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			runtime.LockOSThread()
			w := workers[t]
			r := rand.New(rand.NewPCG(*seed, uint64(t+1)))
			for i := 0; ; i++ {
				if *duration > 0 {
					if i%256 == 0 && time.Now().After(deadline) {
						return
					}
				} else if i >= *nchaos / *threads {
					return
				}
				if i%500 == 0 {
					refill()
				}
				var res string
				if onRT0 && r.IntN(50) == 0 {
					res = unknown(w, r)
				} else {
					c := calls[r.IntN(len(calls))]
					res = do(w, c, args(c, r, false))
				}
				total.Add(1)
				if res != "ok" {
					errs.Add(1)
				}
			}
		}(t)
	}
	wg.Wait()
	fmt.Printf("chaos: %d calls on %d threads, %d failed as they should\n", total.Load(), *threads, errs.Load())
	check()
	os.RemoveAll(dir)
	fmt.Println("sysfuzz ok")
}

// setup builds the hostile pointers, the scratch memory, the arena, the
// directory and the pool.
func setup() {
	textPtr = reflect.ValueOf(main).Pointer()
	roPtr = uintptr(unsafe.Pointer(unsafe.StringData(rodata)))
	m := func(n, prot int) []byte {
		b, err := unix.Mmap(-1, 0, n, prot, unix.MAP_ANON|unix.MAP_PRIVATE)
		if err != nil {
			die("mmap: %v", err)
		}
		return b
	}
	addr := func(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
	all := m(scratchSize+4096, unix.PROT_READ|unix.PROT_WRITE)
	scratch = all[:scratchSize]
	rw := addr(all)
	// The page after scratch is PROT_NONE: a pointer near the end of
	// scratch with a long length runs into it.
	unix.Mprotect(all[scratchSize:], unix.PROT_NONE)
	none := addr(m(4096, unix.PROT_NONE))
	// An unmapped page: not a hole left by munmap, which the next mmap
	// (the runtime's too) may fill, but an address nothing maps on Linux
	// or rt0 (16 TiB: below Go's heap hints, far above the program).
	gone := uintptr(0x0000100000000000)
	// One more page than the arena, never made accessible: a call that
	// writes far past a pointer into the arena stops there, not in the
	// runtime's memory that may follow.
	//
	// At a fixed, low address (32 TiB): mmap(NULL) fills the highest
	// hole that fits, on Linux and on rt0, so the holes munmap leaves in
	// the arena are never given to the runtime, whose memory a later
	// munmap of the fuzzer's would then take away.
	b, aerr := unix.MmapPtr(-1, 0, unsafe.Add(nil, arenaAt), arenaSize+4096, unix.PROT_NONE,
		unix.MAP_ANON|unix.MAP_PRIVATE|unix.MAP_FIXED_NOREPLACE)
	if aerr != nil {
		die("arena at %#x: %v", arenaAt, aerr)
	}
	arenaMem = unsafe.Slice((*byte)(b), arenaSize)
	arena = addr(arenaMem)
	highHostile = []uintptr{linuxKernel, linuxKernel + 4096, 0x0000800000000000, ^uintptr(0) - 7, 0xffffffff81000000}
	hostile = append([]uintptr{0, 8, 0x1000, none, gone, rw + scratchSize}, highHostile...)

	// A name of one length everywhere (getcwd's answer depends on it).
	dir = fmt.Sprintf("/tmp/sysfuzz-%08x", uint32(time.Now().UnixNano()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		die("%v", err)
	}
	if err := os.Chdir(dir); err != nil {
		die("%v", err)
	}
	// Names relative to the directory and absolute ones inside it; none
	// leads out of it (symlinks are made only to these names).
	for _, n := range []string{"a", "b", "d", "d/c", "fifo", "l"} {
		names = append(names, n, filepath.Join(dir, n))
	}
	os.WriteFile("a", []byte("file a"), 0o644)
	os.Mkdir("d", 0o755)
	os.WriteFile("d/c", []byte("file c"), 0o644)

	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		die("listen: %v", err)
	}
	lnAddr = ln.Addr().(*net.TCPAddr)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				b := make([]byte, 4096)
				for {
					n, err := c.Read(b)
					if err != nil {
						c.Close()
						return
					}
					c.Write(b[:n])
				}
			}()
		}
	}()
	refill()
}

// refill rebuilds the pool: the fuzzer's own descriptors of every kind, all
// nonblocking, so that no call waits for long.
func refill() {
	pool.Lock()
	defer pool.Unlock()
	for _, fd := range pool.fds {
		unix.Close(fd)
	}
	for fd := slotLo; fd < slotLo+16; fd++ {
		unix.Close(fd)
	}
	pool.fds = pool.fds[:0]
	add := func(fd int, err error) {
		if err == nil {
			pool.fds = append(pool.fds, fd)
		}
	}
	var p [2]int
	if unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC) == nil {
		pool.fds = append(pool.fds, p[0], p[1])
		unix.Write(p[1], []byte("pipe data"))
	}
	add(unix.Open("a", unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644))
	add(unix.Open(".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0))
	add(unix.Eventfd(1, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC))
	add(unix.EpollCreate1(unix.EPOLL_CLOEXEC))
	add(unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0))
	add(unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0))
	add(unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0))
	if fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0); err == nil {
		unix.Connect(fd, &unix.SockaddrInet4{Port: lnAddr.Port, Addr: [4]byte{127, 0, 0, 1}})
		pool.fds = append(pool.fds, fd)
	}
	if fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0); err == nil {
		unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
		unix.Listen(fd, 4)
		pool.fds = append(pool.fds, fd)
	}
}

// args makes the arguments of one call. In the compare phase descriptors
// are bad and names do not exist, so the answer depends on the arguments
// alone.
func args(c call, r *rand.Rand, compare bool) [6]uintptr {
	var a [6]uintptr
	for i, kd := range c.args {
		a[i] = arg(kd, r, compare)
	}
	if c.fix != nil {
		c.fix(&a, r)
	}
	return a
}

func arg(kd kind, r *rand.Rand, compare bool) uintptr {
	switch kd {
	case aInt:
		return anyInt(r)
	case aFD:
		if compare || r.IntN(8) == 0 {
			return []uintptr{^uintptr(0), 9999, 1 << 31, 1<<31 - 1}[r.IntN(4)]
		}
		return uintptr(fdOf(r))
	case aDirFD:
		if r.IntN(3) == 0 {
			return uintptr(1<<32 + unix.AT_FDCWD) // as a 32-bit int, the way libc passes it (the kernel reads an int)
		}
		return arg(aFD, r, compare)
	case aIn:
		if r.IntN(3) == 0 {
			return hostile[r.IntN(len(hostile))]
		}
		if r.IntN(4) == 0 {
			return []uintptr{textPtr, roPtr}[r.IntN(2)]
		}
		return scratchPtr(r, true)
	case aOut:
		if r.IntN(2) == 0 {
			return append(hostile, textPtr, roPtr)[r.IntN(len(hostile)+2)]
		}
		if !compare && r.IntN(8) == 0 {
			// The arena: unmapped, PROT_NONE, or pages a call mapped,
			// untouched (the kernel fills them on first use).
			return arena + uintptr(r.IntN(arenaSize))
		}
		return scratchPtr(r, false)
	case aLen:
		switch r.IntN(6) {
		case 0:
			return 0
		case 1:
			return uintptr(r.IntN(16))
		case 2:
			return uintptr(r.IntN(4096))
		case 3:
			return uintptr(r.IntN(1 << 20))
		case 4:
			return 1 << (40 + r.IntN(23))
		default:
			return ^uintptr(r.IntN(8))
		}
	case aFlags:
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return uintptr(1) << r.IntN(32)
		case 2:
			return uintptr(r.Uint32())
		default:
			return uintptr(r.Uint64())
		}
	case aPath:
		// Never text or read-only data: their bytes are a name a call
		// could create.
		if r.IntN(4) == 0 {
			return hostile[r.IntN(len(hostile))]
		}
		var s string
		switch {
		case compare:
			// Names that cannot come to exist (their directory does
			// not), so no call of this phase creates anything.
			s = []string{"", "/sysfuzz-no-dir/x", "/sysfuzz-no-dir/x/y", strings.Repeat("n", 5000), "/" + strings.Repeat("n", 300)}[r.IntN(5)]
		case r.IntN(10) == 0:
			s = strings.Repeat("x/", r.IntN(3000))
		default:
			s = names[r.IntN(len(names))]
		}
		return cstring(r, s)
	case aAddr:
		// Never a low address: munmap(0x1000, 1<<40) on Linux would
		// unmap the program itself.
		if r.IntN(6) == 0 {
			return highHostile[r.IntN(len(highHostile))] &^ 4095
		}
		return arena + uintptr(r.IntN(arenaSize/4096))*4096
	case aSockaddr:
		return sockaddr(r)
	case aSockLen:
		return []uintptr{0, 2, 8, 16, 28, 110, 128, 4096, ^uintptr(0)}[r.IntN(9)]
	case aLenPtr:
		if r.IntN(3) == 0 {
			return hostile[r.IntN(len(hostile))]
		}
		p := scratchPtr(r, false)
		*word32(p &^ 3) = []uint32{0, 2, 16, 128, 1 << 31}[r.IntN(5)]
		return p &^ 3
	case aTime:
		if r.IntN(3) == 0 {
			return hostile[r.IntN(len(hostile))]
		}
		p := scratchWords(r)
		*word(p), *word(p + 8) = 0, uint64(r.IntN(200_000))
		if r.IntN(8) == 0 {
			*word(p + 8) = []uint64{^uint64(0), 1e9, 1 << 62}[r.IntN(3)]
		}
		return p
	case aSig:
		return []uintptr{0, 65, 1000, ^uintptr(0)}[r.IntN(4)]
	case aPid:
		return []uintptr{0, uintptr(os.Getpid()), uintptr(unix.Gettid()), 1 << 30, ^uintptr(0)}[r.IntN(5)]
	case aIov:
		if r.IntN(3) == 0 {
			return hostile[r.IntN(len(hostile))]
		}
		// Up to 8 buffers, then empty entries to the most a count may
		// name (IOV_MAX, 1024): never stale words of scratch, which the
		// kernel would take for buffers to write.
		p := scratchBase() + uintptr(r.IntN(scratchSize-iovBytes-8))&^7
		n := 1 + r.IntN(8)
		for i := 0; i < 1024; i++ {
			var base, size uintptr
			if i < n {
				base, size = arg(aOut, r, compare), []uintptr{0, 1, 8, 4096, 1 << 40}[r.IntN(5)]
			}
			*word(p + uintptr(16*i)), *word(p + uintptr(16*i) + 8) = uint64(base), uint64(size)
		}
		return p
	case aIovCnt:
		return []uintptr{0, 1, 2, 8, 1024, 1025, ^uintptr(0)}[r.IntN(7)]
	case aMsg:
		if r.IntN(3) == 0 {
			return hostile[r.IntN(len(hostile))]
		}
		p := scratchWords(r)
		// struct msghdr, written as words (its pointers are not Go's):
		// name, namelen, iov, iovlen, control, controllen, flags.
		if p+56 > scratchBase()+scratchSize {
			return p
		}
		var control, controllen uintptr
		if r.IntN(2) == 0 {
			control, controllen = arg(aOut, r, compare), uintptr(r.IntN(256))
		}
		for i, v := range []uintptr{sockaddr(r), arg(aSockLen, r, compare) & (1<<32 - 1), arg(aIov, r, compare),
			arg(aIovCnt, r, compare), control, controllen, 0} {
			*word(p + uintptr(8*i)) = uint64(v)
		}
		return p
	case aTimeout:
		return []uintptr{0, 1, ^uintptr(0) &^ (1<<32 - 1)}[r.IntN(3)] // 0 ms, 1 ms, or a high-bits-only 0
	}
	return 0
}

func anyInt(r *rand.Rand) uintptr {
	switch r.IntN(5) {
	case 0:
		return uintptr(r.IntN(8))
	case 1:
		return uintptr(r.IntN(1 << 16))
	case 2:
		return uintptr(r.Int64())
	case 3:
		return ^uintptr(r.IntN(8))
	default:
		return uintptr(r.Uint32())
	}
}

func fdOf(r *rand.Rand) int {
	if r.IntN(6) == 0 {
		return slotLo + r.IntN(16)
	}
	pool.Lock()
	defer pool.Unlock()
	if len(pool.fds) == 0 {
		return -1
	}
	return pool.fds[r.IntN(len(pool.fds))]
}

// scratchPtr points into scratch. The kernel reads what is there: random
// bytes (in) or what earlier calls left (out). Sometimes it is near the
// end, so a long length runs into the PROT_NONE page after it.
func scratchPtr(r *rand.Rand, fill bool) uintptr {
	off := r.IntN(scratchSize - 8192)
	if r.IntN(8) == 0 {
		off = scratchSize - 1 - r.IntN(64)
	}
	if fill {
		for i := off; i < off+256 && i < scratchSize; i++ {
			scratch[i] = byte(r.Uint32())
		}
	}
	return uintptr(unsafe.Pointer(&scratch[off]))
}

// scratchWords points to 8-byte aligned scratch memory with room for
// a few words.
func scratchWords(r *rand.Rand) uintptr {
	return scratchBase() + uintptr(r.IntN(scratchSize-8192))&^7
}

// cstring puts s, NUL-terminated, in scratch.
func cstring(r *rand.Rand, s string) uintptr {
	off := r.IntN(scratchSize/2) &^ 7
	if len(s)+1 > scratchSize-off {
		off = 0
	}
	copy(scratch[off:], s)
	scratch[off+len(s)] = 0
	return uintptr(unsafe.Pointer(&scratch[off]))
}

// sockaddr is a socket address of the fuzzer's own: its listener, a
// closed port, port 0, a name in its directory, a bad family; never
// another host's address or another service's port.
func sockaddr(r *rand.Rand) uintptr {
	if r.IntN(4) == 0 {
		return hostile[r.IntN(len(hostile))]
	}
	off := r.IntN(scratchSize/2) &^ 7
	p := scratchBase() + uintptr(off)
	b := scratch[off : off+128]
	clear(b)
	switch r.IntN(5) {
	case 0, 1: // AF_INET 127.0.0.1: the listener, port 1 (closed) or 0
		binary.LittleEndian.PutUint16(b, unix.AF_INET)
		port := []int{lnAddr.Port, 1, 0}[r.IntN(3)]
		binary.BigEndian.PutUint16(b[2:], uint16(port))
		copy(b[4:], []byte{127, 0, 0, 1})
	case 2: // AF_INET6 ::1
		binary.LittleEndian.PutUint16(b, unix.AF_INET6)
		binary.BigEndian.PutUint16(b[2:], uint16([]int{1, 0}[r.IntN(2)]))
		b[23] = 1
	case 3: // AF_UNIX, a name in the working directory (relative: cut
		// short by a short length, it is still a name there)
		binary.LittleEndian.PutUint16(b, unix.AF_UNIX)
		copy(b[2:], "sock")
	default: // a family nobody has
		binary.LittleEndian.PutUint16(b, uint16(200+r.IntN(50)))
	}
	return p
}

func isHostile(p uintptr) bool {
	for _, h := range hostile {
		if h == p {
			return true
		}
	}
	return p == textPtr || p == roPtr
}

// Rules for what the fuzzer must not do to itself.

func fixOpen(flagArg int) func(a *[6]uintptr, r *rand.Rand) {
	return func(a *[6]uintptr, r *rand.Rand) {
		a[flagArg] |= unix.O_NONBLOCK | unix.O_CLOEXEC
		a[flagArg] &^= unix.O_ASYNC
	}
}

func fixMknod(modeArg int) func(a *[6]uintptr, r *rand.Rand) {
	return func(a *[6]uintptr, r *rand.Rand) {
		// Regular files, sockets, or an invalid type: never a device, nor a
		// FIFO (an open of one for writing waits for a reader).
		a[modeArg] = a[modeArg]&0o777 | []uintptr{unix.S_IFREG, 0o170000, unix.S_IFSOCK}[r.IntN(3)]
	}
}

func fixUmask(a *[6]uintptr, r *rand.Rand) { a[0] &= 0o077 }

func fixFcntl(a *[6]uintptr, r *rand.Rand) {
	cmds := []uintptr{unix.F_GETFD, unix.F_SETFD, unix.F_GETFL, unix.F_SETFL, unix.F_DUPFD, unix.F_DUPFD_CLOEXEC,
		unix.F_GETLK, unix.F_GETPIPE_SZ, 9999}
	a[1] = cmds[r.IntN(len(cmds))]
	switch a[1] {
	case unix.F_SETFL:
		a[2] |= unix.O_NONBLOCK // every descriptor of the pool stays nonblocking
		a[2] &^= unix.O_ASYNC
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		a[2] = uintptr(slotLo + r.IntN(16))
	case unix.F_GETLK:
		a[2] = arg(aOut, r, false)
	}
}

func fixIoctl(a *[6]uintptr, r *rand.Rand) {
	reqs := []uintptr{0x541b /* FIONREAD */, unix.TCGETS, unix.TIOCGWINSZ, 0x5451 /* FIOCLEX */, 0x5450 /* FIONCLEX */, unix.TIOCGPGRP, 0x1234}
	a[1] = reqs[r.IntN(len(reqs))]
}

func fixSplice(a *[6]uintptr, r *rand.Rand) {
	a[1], a[3] = 0, 0 // offsets: NULL, or a hostile pointer now and then
	if r.IntN(4) == 0 {
		a[1] = hostile[r.IntN(len(hostile))]
	}
	a[5] |= unix.SPLICE_F_NONBLOCK
}

func fixMmap(a *[6]uintptr, r *rand.Rand) {
	a[2] &= 7
	a[3] &= unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED | unix.MAP_FIXED_NOREPLACE | unix.MAP_NORESERVE
	if a[3]&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0 {
		fixArena(0, 1)(a, r)
	} else {
		a[1] = min(a[1], 64<<20)
	}
}

// fixArena keeps [a[addr], a[addr]+a[len]) inside the arena when the
// address is in it (a hostile address keeps its length: it must fail).
func fixArena(addr, length int) func(a *[6]uintptr, r *rand.Rand) {
	return func(a *[6]uintptr, r *rand.Rand) {
		if a[addr] < arena || a[addr] >= arena+arenaSize {
			if r.IntN(2) == 0 {
				return
			}
			a[addr] = arena + uintptr(r.IntN(arenaSize/4096))*4096
		}
		a[length] = min(a[length], arena+arenaSize-a[addr])
	}
}

// fixHostileOnly makes argument i NULL or a pointer no one may read: for
// calls that would change the process (a signal handler, a signal mask,
// a limit) if the kernel could read what it points to.
func fixHostileOnly(i int) func(a *[6]uintptr, r *rand.Rand) {
	return func(a *[6]uintptr, r *rand.Rand) {
		for _, h := range hostile {
			if a[i] == h {
				return
			}
		}
		a[i] = hostile[r.IntN(len(hostile))]
	}
}

func fixArchPrctl(a *[6]uintptr, r *rand.Rand) {
	a[0] = []uintptr{0x1003 /* GET_FS */, 0x1004 /* GET_GS */, 0x1011 /* GET_CPUID */, 0x9999, 0}[r.IntN(5)]
}

func fixPrctl(a *[6]uintptr, r *rand.Rand) {
	a[0] = []uintptr{unix.PR_GET_NAME, unix.PR_SET_NAME, unix.PR_GET_DUMPABLE, unix.PR_GET_TIMERSLACK, 0x7fff}[r.IntN(5)]
	if a[0] == unix.PR_SET_NAME && !isHostile(a[1]) {
		a[1] = cstring(r, "sysfuzz")
	}
}

// Futex operations (linux/futex.h; x/sys/unix has none).
const (
	futexWait          = 0
	futexWake          = 1
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivate       = 128
	futexClockRealtime = 256
)

func fixFutex(a *[6]uintptr, r *rand.Rand) {
	ops := []uintptr{futexWait, futexWake, futexWaitBitset, futexWakeBitset, 99}
	a[1] = ops[r.IntN(len(ops))] | []uintptr{0, futexPrivate, futexClockRealtime}[r.IntN(3)]
	a[0] &^= 3
	if op := a[1] & 127; (op == futexWait || op == futexWaitBitset) && inScratch(a[0]) {
		// A wait on a word that may match sleeps at most a short
		// timeout: relative for FUTEX_WAIT, absolute (long past) for
		// FUTEX_WAIT_BITSET. Without one, the value must not match.
		if r.IntN(2) == 0 {
			a[2] = ^uintptr(*word32(a[0]))
		} else {
			a[3] = scratchWords(r)
			*word(a[3]), *word(a[3] + 8) = 0, uint64(r.IntN(200_000))
		}
		a[5] = uintptr(r.Uint32()) | 1
	}
}

func inScratch(p uintptr) bool {
	s := scratchBase()
	return p >= s && p < s+scratchSize
}

func scratchBase() uintptr { return uintptr(unsafe.Pointer(&scratch[0])) }

// word and word32 are the scratch memory at address p (which must be in
// it and aligned); word32 also reads the arena, where a call that
// succeeded may have written.
func word(p uintptr) *uint64 {
	return (*uint64)(unsafe.Pointer(&scratch[p-scratchBase()]))
}

func word32(p uintptr) *uint32 {
	if p >= arena && p < arena+arenaSize {
		return (*uint32)(unsafe.Pointer(&arenaMem[p-arena]))
	}
	return (*uint32)(unsafe.Pointer(&scratch[p-scratchBase()]))
}

func fixClock(a *[6]uintptr, r *rand.Rand) {
	a[0] = []uintptr{0, 1, 4, 5, 6, 7, 2, 3, 16, ^uintptr(0), 1 << 31}[r.IntN(11)]
}

// fixSleepClock leaves out the CPU-time clocks: a relative sleep on one
// lasts until the process has used that much CPU, which may be never.
func fixSleepClock(a *[6]uintptr, r *rand.Rand) {
	a[0] = []uintptr{0, 1, 7, 16}[r.IntN(4)]
}

func fixWait(opt int) func(a *[6]uintptr, r *rand.Rand) {
	return func(a *[6]uintptr, r *rand.Rand) { a[opt] |= unix.WNOHANG }
}

// fixMadvise keeps to the advice that only drops or hints: never
// MADV_HWPOISON or MADV_SOFT_OFFLINE (which, for root on Linux, take a
// real page out of service).
func fixMadvise(a *[6]uintptr, r *rand.Rand) {
	fixArena(0, 1)(a, r)
	a[2] = []uintptr{unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_WILLNEED, unix.MADV_DONTNEED, unix.MADV_FREE,
		unix.MADV_REMOVE, unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, 9999}[r.IntN(9)]
}

func fixGetrandom(a *[6]uintptr, r *rand.Rand) { a[2] |= unix.GRND_NONBLOCK }

func fixSocket(typeArg int) func(a *[6]uintptr, r *rand.Rand) {
	return func(a *[6]uintptr, r *rand.Rand) {
		a[0] = []uintptr{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK, 200}[r.IntN(5)]
		a[typeArg] = []uintptr{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_RAW, 9}[r.IntN(4)] | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
		if a[0] == unix.AF_NETLINK {
			a[2] = unix.NETLINK_ROUTE
		} else if a[typeArg]&0xf == unix.SOCK_RAW {
			a[0] = 200 // raw sockets reach the host's network as root
		} else {
			a[2] = []uintptr{0, 0, 6, 17, 255}[r.IntN(5)]
		}
	}
}

func fixAccept4(a *[6]uintptr, r *rand.Rand) { a[3] = a[3]&^unix.SOCK_NONBLOCK | unix.SOCK_NONBLOCK }

func fixSend(a *[6]uintptr, r *rand.Rand) { a[3] = unix.MSG_DONTWAIT | a[3]&unix.MSG_NOSIGNAL }

func fixSendmsg(a *[6]uintptr, r *rand.Rand) { a[2] = unix.MSG_DONTWAIT | a[2]&unix.MSG_NOSIGNAL }

func fixRecv(flagArg int) func(a *[6]uintptr, r *rand.Rand) {
	return func(a *[6]uintptr, r *rand.Rand) {
		a[flagArg] = unix.MSG_DONTWAIT | a[flagArg]&(unix.MSG_PEEK|unix.MSG_TRUNC|unix.MSG_WAITALL)
	}
}

// A worker is one fuzzing thread, as the watchdog sees it.
type worker struct {
	calls   atomic.Int64
	inCall  atomic.Bool
	current atomic.Value // the call, as text
	fd      atomic.Int64 // its descriptor, or -1
}

var workers []*worker

// creators are the calls that make descriptors. A new descriptor may
// block (accept, eventfd and pipe without their flags), and after closes
// it at once; while it exists no other thread may make a call, or one could
// read from it and wait forever — on Linux too. So creators hold fdLock
// for writing across the call and after, every other call for reading.
var (
	creators = map[string]bool{"open": true, "creat": true, "openat": true, "dup": true, "dup2": true, "dup3": true,
		"fcntl": true, "epoll_create": true, "epoll_create1": true, "eventfd": true, "eventfd2": true, "socket": true,
		"accept": true, "accept4": true, "pipe": true, "pipe2": true, "socketpair": true}
	fdLock sync.RWMutex
)

func do(w *worker, c call, a [6]uintptr) string {
	if creators[c.name] {
		fdLock.Lock()
		defer fdLock.Unlock()
	} else {
		fdLock.RLock()
		defer fdLock.RUnlock()
	}
	w.current.Store(fmt.Sprintf("%s(%#x, %#x, %#x, %#x, %#x, %#x)", c.name, a[0], a[1], a[2], a[3], a[4], a[5]))
	w.fd.Store(-1)
	if len(c.args) > 0 && c.args[0] == aFD {
		w.fd.Store(int64(int32(a[0])))
	}
	w.inCall.Store(true)
	r, _, e := unix.Syscall6(c.nr, a[0], a[1], a[2], a[3], a[4], a[5])
	w.inCall.Store(false)
	w.calls.Add(1)
	after(c, a, r, e)
	if e != 0 {
		return errnoName(e)
	}
	return "ok"
}

// after closes descriptors a call made, unless they are the fuzzer's own
// slots, and unmaps memory mmap put outside the arena.
func after(c call, a [6]uintptr, r uintptr, e syscall.Errno) {
	if e != 0 {
		return
	}
	// A descriptor a call returns is new, even when its number is one the
	// pool had (closed since): it may block, so it goes at once, unless it
	// went to a slot (dup2, dup3 or F_DUPFD of a pool descriptor).
	closeNew := func(fd int) {
		if fd > 2 && (fd < slotLo || fd >= slotLo+16) {
			unix.Close(fd)
		}
	}
	switch c.name {
	case "open", "creat", "openat", "dup", "dup2", "dup3", "fcntl", "epoll_create", "epoll_create1",
		"eventfd", "eventfd2", "socket", "accept", "accept4":
		if c.name != "fcntl" || a[1] == unix.F_DUPFD || a[1] == unix.F_DUPFD_CLOEXEC {
			closeNew(int(r))
		}
	case "pipe", "pipe2", "socketpair":
		p := a[0]
		if c.name == "socketpair" {
			p = a[3]
		}
		closeNew(int(int32(*word32(p))))
		closeNew(int(int32(*word32(p + 4))))
	case "mmap":
		if r < arena || r >= arena+arenaSize {
			unix.Syscall(unix.SYS_MUNMAP, r, a[1], 0)
		}
	}
}

// unknown calls a number rt0 does not serve (only on rt0).
func unknown(w *worker, r *rand.Rand) string {
	served := map[uintptr]bool{}
	for _, c := range calls {
		served[c.nr] = true
	}
	for {
		nr := uintptr(r.IntN(520))
		if served[nr] || nr == unix.SYS_EXIT || nr == unix.SYS_EXIT_GROUP || nr == unix.SYS_CLONE ||
			nr == unix.SYS_RT_SIGRETURN || nr == unix.SYS_EXECVE || nr == unix.SYS_RSEQ ||
			nr == unix.SYS_FORK || nr == unix.SYS_VFORK {
			continue
		}
		c := call{name: fmt.Sprintf("syscall%d", nr), nr: nr}
		var a [6]uintptr
		for i := range a {
			a[i] = anyInt(r)
		}
		return do(w, c, a)
	}
}

// watchdog fails the run when a thread has been in one call for 10 s.
func watchdog(seed uint64) {
	last := make([]int64, len(workers))
	for {
		time.Sleep(10 * time.Second)
		for i, w := range workers {
			n := w.calls.Load()
			if n == last[i] && w.inCall.Load() {
				fmt.Printf("sysfuzz: thread %d: in %v for 10 s\n", i, w.current.Load())
			}
		}
		for i, w := range workers {
			n := w.calls.Load()
			if n == last[i] && w.inCall.Load() {
				desc := ""
				if fd := int(w.fd.Load()); fd >= 0 {
					// What the descriptor is, for the report.
					fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
					var st unix.Stat_t
					unix.Fstat(fd, &st)
					desc = fmt.Sprintf(" (fd %d: flags %#x %v, mode %#o)", fd, fl, err, st.Mode)
				}
				die("seed %d: thread %d: a call has not returned for 10 s: %v%s", seed, i, w.current.Load(), desc)
			}
			last[i] = n
		}
	}
}

// check verifies that no call wrote the fuzzer's memory it never handed
// out.
func check() {
	for i := range guard {
		if guard[i] != byte(i) {
			die("guard page changed at %d", i)
		}
	}
	if rodata[:8] != "a string" {
		die("read-only data changed")
	}
}

func errnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno%d", int(e))
}

func die(format string, a ...any) {
	fmt.Printf("sysfuzz FAILED: "+format+"\n", a...)
	os.Exit(1)
}
