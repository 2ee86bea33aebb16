// linuxedge: corners of Linux's system call interface that Go's own tests
// (os, path/filepath, reflect) depend on. Each line is one case and its
// outcome, which must be the same as on Linux.
//
//rt0diff:known the kernel lacks FIFOs and hard links
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"
	"unsafe"
)

func show(name string, err error) {
	if err == nil {
		fmt.Printf("%-40s ok\n", name)
		return
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		fmt.Printf("%-40s %s\n", name, errnoName(errno))
		return
	}
	fmt.Printf("%-40s %v\n", name, err)
}

func errnoName(e syscall.Errno) string {
	for _, n := range []struct {
		e    syscall.Errno
		name string
	}{{syscall.ENOENT, "ENOENT"}, {syscall.ENOTDIR, "ENOTDIR"}, {syscall.EINVAL, "EINVAL"}, {syscall.EPERM, "EPERM"},
		{syscall.ENOSYS, "ENOSYS"}, {syscall.ECHILD, "ECHILD"}, {syscall.EEXIST, "EEXIST"}, {syscall.EISDIR, "EISDIR"},
		{syscall.EOPNOTSUPP, "EOPNOTSUPP"}, {syscall.ELOOP, "ELOOP"}, {syscall.EACCES, "EACCES"}} {
		if e == n.e {
			return n.name
		}
	}
	return fmt.Sprintf("errno %d", int(e))
}

const rodata = "read-only data"

func main() {
	dir, err := os.MkdirTemp("", "edge-")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	p := func(name string) string { return filepath.Join(dir, name) }
	os.Mkdir(p("d"), 0o755)
	for _, f := range []string{"f", "r", "t", "h", "c"} {
		os.WriteFile(p(f), []byte("data"), 0o644)
	}
	os.Symlink("d", p("dlink"))
	os.Symlink("f", p("flink"))
	os.Symlink("missing", p("dangling"))

	// Trailing slashes: a link before a slash is followed; a file before
	// a slash is not a directory.
	fi, err := os.Lstat(p("dlink") + "/")
	if err == nil {
		fmt.Printf("%-40s dir=%v link=%v\n", "lstat(dlink/)", fi.IsDir(), fi.Mode()&os.ModeSymlink != 0)
	} else {
		show("lstat(dlink/)", err)
	}
	_, err = os.Stat(p("f") + "/")
	show("stat(f/)", err)
	_, err = os.Stat(p("flink") + "/")
	show("stat(flink/)", err)
	_, err = os.Open(p("f") + "/")
	show("open(f/)", err)
	_, err = os.Create(p("new") + "/")
	show("create(new/)", err)
	err = os.Rename(p("r")+"/", p("g"))
	show("rename(r/, g)", err)
	_, err = os.Readlink(p("dlink") + "/")
	show("readlink(dlink/)", err)

	// Creating through a dangling link creates its target.
	err = os.WriteFile(p("dangling"), []byte("x"), 0o644)
	show("write through dangling link", err)
	_, err = os.Stat(p("missing"))
	show("  ...its target exists", err)

	// utimensat: atime and mtime set separately, UTIME_OMIT honoured.
	at := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	mt := time.Date(2011, 12, 13, 14, 15, 16, 0, time.UTC)
	show("chtimes(t)", os.Chtimes(p("t"), at, mt))
	times := func() string {
		var st syscall.Stat_t
		if err := syscall.Stat(p("t"), &st); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("atime %d mtime %d", st.Atim.Sec, st.Mtim.Sec)
	}
	fmt.Printf("%-40s %s\n", "  ...times", times())
	show("chtimes(t, omit atime)", os.Chtimes(p("t"), time.Time{}, at))
	fmt.Printf("%-40s %s\n", "  ...times", times())

	// Hard links, ownership, modes.
	err = os.Link(p("h"), p("hard"))
	show("link(h, hard)", err)
	if err == nil {
		var st syscall.Stat_t
		syscall.Stat(p("h"), &st)
		fmt.Printf("%-40s %d\n", "  ...nlink", st.Nlink)
	}
	show("chown(c, uid, gid)", os.Chown(p("c"), os.Getuid(), os.Getgid()))
	show("lchown(flink, uid, gid)", os.Lchown(p("flink"), os.Getuid(), os.Getgid()))
	root, err := os.OpenRoot(dir)
	show("OpenRoot", err)
	if err == nil {
		show("root.Chmod(c, 0600)", root.Chmod("c", 0o600))
		root.Close()
	}

	// Pipes and FIFOs.
	r, w, err := os.Pipe()
	show("pipe2", err)
	if err == nil {
		w.Write([]byte("through the pipe"))
		w.Close()
		b := make([]byte, 64)
		n, _ := r.Read(b)
		fmt.Printf("%-40s %q\n", "  ...read", b[:n])
		r.Close()
	}
	show("mkfifo", syscall.Mkfifo(p("fifo"), 0o644))

	// readv past the data in a pipe: the first buffer fills, the second
	// would wait; Linux returns the partial count (the pipe's writer is
	// still open, so a wait would be forever).
	if fds := [2]int{}; syscall.Pipe(fds[:]) == nil {
		syscall.Write(fds[1], []byte("12345"))
		b1, b2 := make([]byte, 5), make([]byte, 10)
		iov := []syscall.Iovec{{Base: &b1[0], Len: 5}, {Base: &b2[0], Len: 10}}
		n, _, e := syscall.Syscall(syscall.SYS_READV, uintptr(fds[0]), uintptr(unsafe.Pointer(&iov[0])), 2)
		fmt.Printf("%-40s %d %v %q\n", "readv past a pipe's data", int(n), e == 0, b1)
		syscall.Close(fds[0])
		syscall.Close(fds[1])
	}

	// Processes: no children to wait for; our own executable.
	_, err = syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
	show("wait4(-1) without children", err)
	_, err = os.Executable()
	show("os.Executable", err)

	// Read-only data is read-only.
	debug.SetPanicOnFault(true)
	s := rodata
	func() {
		defer func() { fmt.Printf("%-40s %v\n", "write to read-only data faults", recover() != nil) }()
		*(*byte)(unsafe.Pointer(unsafe.StringData(s))) = 'X'
	}()
}
