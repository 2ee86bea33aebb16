//go:build ignore

// gen writes zabi.go and zsysnum.go, the part of the Linux x86-64 ABI that
// rt0's kernel serves, from golang.org/x/sys/unix (the module's pinned
// version): the values are the unix package's own, never typed here. The
// names are listed below, grouped as the kernel uses them; a name the
// unix package lacks goes in extra.go instead, checked by extra_test.go.
//
//	go run gen.go            (in guest/linux; go generate does it)
//	go run gen.go -o DIR     (write elsewhere: the freshness test)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

type konst struct {
	name string
	v    int64
}

type group struct {
	doc string
	hex bool // flags: written in hex
	cs  []konst
}

func k(name string, v any) konst {
	switch x := v.(type) {
	case syscall.Errno:
		return konst{name, int64(x)}
	case syscall.Signal:
		return konst{name, int64(x)}
	case int:
		return konst{name, int64(x)}
	case uint:
		return konst{name, int64(x)}
	case int64:
		return konst{name, x}
	case uint64:
		return konst{name, int64(x)}
	case uint32:
		return konst{name, int64(x)}
	case uint16:
		return konst{name, int64(x)}
	case int32:
		return konst{name, int64(x)}
	}
	panic(fmt.Sprintf("%s: type %T", name, v))
}

var groups = []group{
	{"Error numbers (errno): a system call returns -E... in RAX.", false, []konst{
		k("EPERM", unix.EPERM), k("ENOENT", unix.ENOENT), k("ESRCH", unix.ESRCH), k("EINTR", unix.EINTR),
		k("ENXIO", unix.ENXIO), k("EBADF", unix.EBADF), k("ECHILD", unix.ECHILD), k("EAGAIN", unix.EAGAIN),
		k("ENOMEM", unix.ENOMEM), k("EACCES", unix.EACCES), k("EFAULT", unix.EFAULT), k("EBUSY", unix.EBUSY),
		k("EEXIST", unix.EEXIST), k("EXDEV", unix.EXDEV), k("ENODEV", unix.ENODEV), k("ENOTDIR", unix.ENOTDIR),
		k("EISDIR", unix.EISDIR), k("EINVAL", unix.EINVAL), k("ENFILE", unix.ENFILE), k("EMFILE", unix.EMFILE),
		k("ENOTTY", unix.ENOTTY), k("EFBIG", unix.EFBIG), k("ENOSPC", unix.ENOSPC), k("ESPIPE", unix.ESPIPE),
		k("EPIPE", unix.EPIPE), k("ERANGE", unix.ERANGE), k("ENAMETOOLONG", unix.ENAMETOOLONG),
		k("ENOSYS", unix.ENOSYS), k("ENOTEMPTY", unix.ENOTEMPTY), k("ELOOP", unix.ELOOP),
		k("ENOTSOCK", unix.ENOTSOCK), k("EDESTADDRREQ", unix.EDESTADDRREQ), k("EMSGSIZE", unix.EMSGSIZE),
		k("EPROTOTYPE", unix.EPROTOTYPE), k("ENOPROTOOPT", unix.ENOPROTOOPT), k("EPROTONOSUPPORT", unix.EPROTONOSUPPORT),
		k("ESOCKTNOSUPPORT", unix.ESOCKTNOSUPPORT), k("EOPNOTSUPP", unix.EOPNOTSUPP), k("EAFNOSUPPORT", unix.EAFNOSUPPORT), k("ENOPKG", unix.ENOPKG), k("EALREADY", unix.EALREADY), k("EINPROGRESS", unix.EINPROGRESS), k("ECONNABORTED", unix.ECONNABORTED),
		k("EADDRINUSE", unix.EADDRINUSE), k("EADDRNOTAVAIL", unix.EADDRNOTAVAIL), k("ENETUNREACH", unix.ENETUNREACH),
		k("ECONNRESET", unix.ECONNRESET), k("ENOBUFS", unix.ENOBUFS), k("EISCONN", unix.EISCONN),
		k("ENOTCONN", unix.ENOTCONN), k("ETIMEDOUT", unix.ETIMEDOUT), k("ECONNREFUSED", unix.ECONNREFUSED),
	}},
	{"Signal numbers.", false, []konst{
		k("SIGINT", unix.SIGINT), k("SIGQUIT", unix.SIGQUIT), k("SIGILL", unix.SIGILL), k("SIGTRAP", unix.SIGTRAP),
		k("SIGBUS", unix.SIGBUS), k("SIGFPE", unix.SIGFPE), k("SIGKILL", unix.SIGKILL), k("SIGSEGV", unix.SIGSEGV),
		k("SIGPIPE", unix.SIGPIPE), k("SIGCHLD", unix.SIGCHLD), k("SIGCONT", unix.SIGCONT), k("SIGSTOP", unix.SIGSTOP),
		k("SIGURG", unix.SIGURG), k("SIGWINCH", unix.SIGWINCH),
		k("SIGALRM", unix.SIGALRM), k("SIGVTALRM", unix.SIGVTALRM), k("SIGPROF", unix.SIGPROF),
	}},
	{"open(2) flags.", true, []konst{
		k("O_ACCMODE", unix.O_ACCMODE), k("O_RDONLY", unix.O_RDONLY), k("O_WRONLY", unix.O_WRONLY), k("O_RDWR", unix.O_RDWR),
		k("O_CREAT", unix.O_CREAT), k("O_EXCL", unix.O_EXCL), k("O_TRUNC", unix.O_TRUNC), k("O_APPEND", unix.O_APPEND),
		k("O_NONBLOCK", unix.O_NONBLOCK), k("O_DIRECTORY", unix.O_DIRECTORY), k("O_NOFOLLOW", unix.O_NOFOLLOW),
		k("O_CLOEXEC", unix.O_CLOEXEC), k("O_PATH", unix.O_PATH), k("O_DIRECT", unix.O_DIRECT), k("O_TMPFILE", unix.O_TMPFILE),
	}},
	{"The *at(2) calls' flags.", true, []konst{
		k("AT_SYMLINK_NOFOLLOW", unix.AT_SYMLINK_NOFOLLOW), k("AT_REMOVEDIR", unix.AT_REMOVEDIR), k("AT_EMPTY_PATH", unix.AT_EMPTY_PATH),
		k("AT_SYMLINK_FOLLOW", unix.AT_SYMLINK_FOLLOW), k("AT_NO_AUTOMOUNT", unix.AT_NO_AUTOMOUNT),
		k("AT_STATX_FORCE_SYNC", unix.AT_STATX_FORCE_SYNC), k("AT_STATX_DONT_SYNC", unix.AT_STATX_DONT_SYNC),
		k("RENAME_NOREPLACE", unix.RENAME_NOREPLACE), k("RENAME_EXCHANGE", unix.RENAME_EXCHANGE), k("RENAME_WHITEOUT", unix.RENAME_WHITEOUT),
		k("UTIME_NOW", unix.UTIME_NOW), k("UTIME_OMIT", unix.UTIME_OMIT),
	}},
	{"File types (mknod(2), stat(2)).", true, []konst{
		k("S_IFMT", unix.S_IFMT), k("S_IFDIR", unix.S_IFDIR), k("S_IFREG", unix.S_IFREG), k("S_IFCHR", unix.S_IFCHR),
		k("S_IFBLK", unix.S_IFBLK), k("S_IFIFO", unix.S_IFIFO), k("S_IFSOCK", unix.S_IFSOCK),
	}},
	{"splice(2) flags; the last resource limit.", true, []konst{
		k("SPLICE_F_MOVE", unix.SPLICE_F_MOVE), k("SPLICE_F_NONBLOCK", unix.SPLICE_F_NONBLOCK), k("SPLICE_F_MORE", unix.SPLICE_F_MORE),
		k("SPLICE_F_GIFT", unix.SPLICE_F_GIFT), k("RLIMIT_RTTIME", unix.RLIMIT_RTTIME),
	}},
	{"mmap(2) and madvise(2).", true, []konst{
		k("MAP_SHARED", unix.MAP_SHARED), k("MAP_PRIVATE", unix.MAP_PRIVATE), k("MAP_FIXED", unix.MAP_FIXED),
		k("MAP_ANONYMOUS", unix.MAP_ANONYMOUS), k("MAP_FIXED_NOREPLACE", unix.MAP_FIXED_NOREPLACE),
		k("MADV_DONTNEED", unix.MADV_DONTNEED), k("MADV_FREE", unix.MADV_FREE), k("MADV_REMOVE", unix.MADV_REMOVE),
	}},
	{"clone(2) flags.", true, []konst{
		k("CLONE_VM", unix.CLONE_VM), k("CLONE_THREAD", unix.CLONE_THREAD), k("CLONE_SETTLS", unix.CLONE_SETTLS),
		k("CLONE_PARENT_SETTID", unix.CLONE_PARENT_SETTID), k("CLONE_CHILD_CLEARTID", unix.CLONE_CHILD_CLEARTID),
		k("CLONE_CHILD_SETTID", unix.CLONE_CHILD_SETTID),
	}},
	{"prctl(2) options.", false, []konst{
		k("PR_GET_KEEPCAPS", unix.PR_GET_KEEPCAPS), k("PR_SET_KEEPCAPS", unix.PR_SET_KEEPCAPS),
		k("PR_SET_NAME", unix.PR_SET_NAME), k("PR_GET_NAME", unix.PR_GET_NAME),
	}},
	{"Clocks (clock_gettime(2), clock_nanosleep(2)).", false, []konst{
		k("CLOCK_REALTIME", unix.CLOCK_REALTIME), k("CLOCK_MONOTONIC", unix.CLOCK_MONOTONIC),
		k("CLOCK_PROCESS_CPUTIME_ID", unix.CLOCK_PROCESS_CPUTIME_ID), k("CLOCK_THREAD_CPUTIME_ID", unix.CLOCK_THREAD_CPUTIME_ID),
		k("CLOCK_MONOTONIC_RAW", unix.CLOCK_MONOTONIC_RAW), k("CLOCK_REALTIME_COARSE", unix.CLOCK_REALTIME_COARSE),
		k("CLOCK_MONOTONIC_COARSE", unix.CLOCK_MONOTONIC_COARSE), k("CLOCK_BOOTTIME", unix.CLOCK_BOOTTIME),
		k("TIMER_ABSTIME", unix.TIMER_ABSTIME),
		k("ITIMER_REAL", unix.ITIMER_REAL), k("ITIMER_VIRTUAL", unix.ITIMER_VIRTUAL), k("ITIMER_PROF", unix.ITIMER_PROF),
		k("RUSAGE_SELF", unix.RUSAGE_SELF), k("RUSAGE_CHILDREN", unix.RUSAGE_CHILDREN), k("RUSAGE_THREAD", unix.RUSAGE_THREAD),
	}},
	{"epoll(7).", true, []konst{
		k("EPOLLIN", unix.EPOLLIN), k("EPOLLOUT", unix.EPOLLOUT), k("EPOLLERR", unix.EPOLLERR), k("EPOLLHUP", unix.EPOLLHUP),
		k("EPOLLRDHUP", unix.EPOLLRDHUP), k("EPOLL_CTL_ADD", unix.EPOLL_CTL_ADD), k("EPOLL_CTL_DEL", unix.EPOLL_CTL_DEL),
		k("EPOLL_CTL_MOD", unix.EPOLL_CTL_MOD),
	}},
	{"Sockets: families, types, levels, options, message flags, shutdown.", false, []konst{
		k("AF_UNSPEC", unix.AF_UNSPEC), k("AF_UNIX", unix.AF_UNIX), k("AF_INET", unix.AF_INET), k("AF_INET6", unix.AF_INET6),
		k("AF_NETLINK", unix.AF_NETLINK),
		k("SOCK_STREAM", unix.SOCK_STREAM), k("SOCK_DGRAM", unix.SOCK_DGRAM), k("SOCK_RAW", unix.SOCK_RAW),
		k("SOCK_SEQPACKET", unix.SOCK_SEQPACKET),
		k("IPPROTO_TCP", unix.IPPROTO_TCP), k("IPPROTO_UDP", unix.IPPROTO_UDP), k("IPPROTO_IPV6", unix.IPPROTO_IPV6),
		k("IPV6_V6ONLY", unix.IPV6_V6ONLY),
		k("SOL_SOCKET", unix.SOL_SOCKET), k("SO_TYPE", unix.SO_TYPE), k("SO_ERROR", unix.SO_ERROR),
		k("SO_SNDBUF", unix.SO_SNDBUF), k("SO_RCVBUF", unix.SO_RCVBUF), k("SO_LINGER", unix.SO_LINGER),
		k("SO_ACCEPTCONN", unix.SO_ACCEPTCONN), k("SO_DOMAIN", unix.SO_DOMAIN),
		k("MSG_PEEK", unix.MSG_PEEK), k("MSG_TRUNC", unix.MSG_TRUNC), k("MSG_DONTWAIT", unix.MSG_DONTWAIT),
		k("MSG_NOSIGNAL", unix.MSG_NOSIGNAL),
		k("SHUT_RD", unix.SHUT_RD), k("SHUT_WR", unix.SHUT_WR), k("SHUT_RDWR", unix.SHUT_RDWR),
		k("SizeofSockaddrInet4", unix.SizeofSockaddrInet4), k("SizeofSockaddrInet6", unix.SizeofSockaddrInet6),
	}},
	{"Netlink route messages (rtnetlink(7)), as net.Interfaces reads them.", false, []konst{
		k("NETLINK_ROUTE", unix.NETLINK_ROUTE), k("NLMSG_HDRLEN", unix.NLMSG_HDRLEN), k("NLMSG_ERROR", unix.NLMSG_ERROR),
		k("NLMSG_DONE", unix.NLMSG_DONE), k("NLM_F_MULTI", unix.NLM_F_MULTI),
		k("RTM_NEWLINK", unix.RTM_NEWLINK), k("RTM_GETLINK", unix.RTM_GETLINK), k("RTM_NEWADDR", unix.RTM_NEWADDR),
		k("RTM_GETADDR", unix.RTM_GETADDR),
		k("IFLA_ADDRESS", unix.IFLA_ADDRESS), k("IFLA_IFNAME", unix.IFLA_IFNAME), k("IFLA_MTU", unix.IFLA_MTU),
		k("IFA_ADDRESS", unix.IFA_ADDRESS), k("IFA_LOCAL", unix.IFA_LOCAL), k("IFA_LABEL", unix.IFA_LABEL),
		k("ARPHRD_LOOPBACK", unix.ARPHRD_LOOPBACK), k("IFF_UP", unix.IFF_UP), k("IFF_LOOPBACK", unix.IFF_LOOPBACK),
		k("IFF_RUNNING", unix.IFF_RUNNING), k("RT_SCOPE_HOST", unix.RT_SCOPE_HOST), k("RT_SCOPE_LINK", unix.RT_SCOPE_LINK), k("RT_SCOPE_UNIVERSE", unix.RT_SCOPE_UNIVERSE),
		k("ARPHRD_ETHER", unix.ARPHRD_ETHER), k("IFF_BROADCAST", unix.IFF_BROADCAST), k("IFF_MULTICAST", unix.IFF_MULTICAST), k("IFA_BROADCAST", unix.IFA_BROADCAST),
	}},
}

func main() {
	out := flag.String("o", ".", "directory to write zabi.go and zsysnum.go into")
	flag.Parse()
	var b bytes.Buffer
	b.WriteString("// Code generated by gen.go from golang.org/x/sys/unix; DO NOT EDIT.\n\npackage linux\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "\n// %s\nconst (\n", g.doc)
		for _, c := range g.cs {
			if g.hex {
				fmt.Fprintf(&b, "\t%s = %#x\n", c.name, c.v)
			} else {
				fmt.Fprintf(&b, "\t%s = %d\n", c.name, c.v)
			}
		}
		b.WriteString(")\n")
	}
	write(filepath.Join(*out, "zabi.go"), b.Bytes())
	write(filepath.Join(*out, "zsysnum.go"), sysnum())
}

// sysnum writes every Linux x86-64 system call number of the unix
// package's table (zsysnum_linux_amd64.go), and their names for messages.
func sysnum() []byte {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys").Output()
	if err != nil {
		panic(err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "unix", "zsysnum_linux_amd64.go"))
	if err != nil {
		panic(err)
	}
	names := map[int]string{}
	var nums []int
	for _, m := range regexp.MustCompile(`(?m)^\s*SYS_([A-Z0-9_]+)\s*=\s*(\d+)`).FindAllStringSubmatch(string(src), -1) {
		n, _ := strconv.Atoi(m[2])
		if _, dup := names[n]; !dup {
			nums = append(nums, n)
		}
		names[n] = m[1]
	}
	sort.Ints(nums)
	var b bytes.Buffer
	b.WriteString("// Code generated by gen.go from golang.org/x/sys/unix's zsysnum_linux_amd64.go; DO NOT EDIT.\n\npackage linux\n\n")
	b.WriteString("// System call numbers (x86-64), as RAX holds them at SYSCALL.\nconst (\n")
	for _, n := range nums {
		fmt.Fprintf(&b, "\tSYS_%s = %d\n", names[n], n)
	}
	b.WriteString(")\n\n")
	// One constant string of space-separated names ("?" for a number
	// with none), not an array of strings: the names are for messages
	// only, and an array would put 16 bytes a number in the image's data.
	b.WriteString("// syscallNames names the system calls by number, for messages: word n\n// is the name of number n.\nconst syscallNames = \"")
	max := nums[len(nums)-1]
	for n := 0; n <= max; n++ {
		if n > 0 {
			b.WriteString(" ")
		}
		if s, ok := names[n]; ok {
			b.WriteString(strings.ToLower(s))
		} else {
			b.WriteString("?")
		}
		if n%8 == 7 && n < max {
			b.WriteString("\" +\n\t\"")
		}
	}
	b.WriteString("\"\n")
	return b.Bytes()
}

func write(name string, src []byte) {
	out, err := format.Source(src)
	if err != nil {
		panic(fmt.Sprintf("%s: %v\n%s", name, err, src))
	}
	if err := os.WriteFile(name, out, 0o644); err != nil {
		panic(err)
	}
}
