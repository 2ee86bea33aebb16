package kernel

import (
	"rt0/guest/linux"
	"rt0/guest/sched"
)

// FIFOs (named pipes): mknod(S_IFIFO) makes a node in the filesystem;
// opening it gives a pipe's end, on one ring shared by everyone who has
// the FIFO open (kept in the node's data field as index+1 while anyone
// does). As on Linux, opening for reading waits for a writer and opening
// for writing waits for a reader, unless O_NONBLOCK (then a read end opens
// at once and a write end fails with ENXIO while there is no reader);
// O_RDWR never waits. The ends are pipe descriptions: pipe.go does the
// rest.

// sysMknodat makes a FIFO or a regular file; devices cannot be made.
func sysMknodat(dirfd, path, mode, dev uint64) int64 {
	const sIFMT, sIFIFO = 0o170000, 0o010000
	kind := iReg
	switch mode & sIFMT {
	case sIFIFO:
		kind = iFifo
	case 0, sIFREG:
	case sIFSOCK:
		kind = iSock
	default:
		return -linux.EPERM // character and block devices: no
	}
	dir, name, node, e := parentOf(dirfd, path, 0)
	if e != 0 {
		return e
	}
	if node >= 0 {
		return -linux.EEXIST
	}
	_, e = mknod(dir, name, kind, uint32(mode)&0o7777&^umask)
	return e
}

// fifoOpen opens FIFO node with open flags fl.
func fifoOpen(node int32, fl uint32) int64 {
	n := ino(node)
	if n.data == 0 {
		k := newRing()
		if k < 0 {
			return -linux.ENFILE
		}
		pipes[k].readers, pipes[k].writers, pipes[k].fifo = 0, 0, node+1
		n.data = uint64(k) + 1
	}
	k := int32(n.data - 1)
	p := &pipes[k]
	nonblock := fl&linux.O_NONBLOCK != 0
	switch fl & linux.O_ACCMODE {
	case linux.O_RDONLY:
		if p.writers == 0 && !fifoWake(k, false) && !nonblock {
			return fifoWait(k, fl)
		}
	case linux.O_WRONLY:
		if p.readers == 0 && !fifoWake(k, true) {
			if nonblock {
				return -linux.ENXIO
			}
			return fifoWait(k, fl)
		}
	}
	return fifoEnd(k, fl)
}

// fifoEnd gives the caller an end of FIFO ring k.
func fifoEnd(k int32, fl uint32) int64 {
	fd := allocFD(fdPipe, fl&(linux.O_ACCMODE|linux.O_NONBLOCK|linux.O_CLOEXEC))
	if fd < 0 {
		return fd
	}
	getFile(uint64(fd)).ino = k
	p := &pipes[k]
	if fl&linux.O_ACCMODE != linux.O_WRONLY {
		p.readers++
	}
	if fl&linux.O_ACCMODE != linux.O_RDONLY {
		p.writers++
	}
	pipeChanged(k)
	return fd
}

// fifoWait puts the opener to sleep until the other end opens.
func fifoWait(k int32, fl uint32) int64 {
	cur := sched.Current()
	sched.Block(cur, sched.WaitFifo, uint64(k), 0, 0)
	sched.T(cur).Args[0] = uint64(fl)
	return blocked
}

// fifoWake finishes the opens waiting on ring k for the end being
// opened now: readers (if readers) or writers. It reports whether it
// finished any.
func fifoWake(k int32, readers bool) bool {
	woke := false
	for i := 1; i < sched.Top(); i++ {
		t := sched.T(i)
		if t.State != sched.Blocked || t.Wait != sched.WaitFifo || t.WaitAddr != uint64(k) {
			continue
		}
		fl := uint32(t.Args[0])
		if (fl&linux.O_ACCMODE == linux.O_RDONLY) == readers {
			sched.Wake(i, fifoEnd(k, fl))
			woke = true
		}
	}
	return woke
}
