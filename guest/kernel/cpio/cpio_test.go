package cpio

import (
	"bytes"
	"fmt"
	"testing"
)

// write builds a newc archive (a test-only writer).
func write(entries []Entry) []byte {
	var b bytes.Buffer
	put := func(e Entry) {
		start := b.Len()
		fmt.Fprintf(&b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			e.Ino, e.Mode, 0, 0, e.NLink, e.Mtime, len(e.Data), 0, 0, 0, 0, len(e.Name)+1, 0)
		b.Write(e.Name)
		b.WriteByte(0)
		for (b.Len()-start)%4 != 0 {
			b.WriteByte(0)
		}
		b.Write(e.Data)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	for _, e := range entries {
		put(e)
	}
	put(Entry{Name: []byte("TRAILER!!!")})
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	in := []Entry{
		{Name: []byte("."), Mode: TypeDir | 0o755, Ino: 1, NLink: 2},
		{Name: []byte("dir"), Mode: TypeDir | 0o755, Ino: 2},
		{Name: []byte("dir/a.txt"), Mode: TypeReg | 0o644, Data: []byte("hello\n"), Ino: 3, Mtime: 12345},
		{Name: []byte("dir/empty"), Mode: TypeReg | 0o600, Ino: 4},
		{Name: []byte("dir/link"), Mode: TypeLink | 0o777, Data: []byte("a.txt"), Ino: 5},
		{Name: []byte("odd-len-name"), Mode: TypeReg | 0o644, Data: []byte("xyz"), Ino: 6},
	}
	ar := write(in)
	off, i := 0, 0
	for {
		e, next, trailer, err := Next(ar, off)
		if err != OK {
			t.Fatalf("entry %d at %d: error %d", i, off, err)
		}
		if trailer {
			break
		}
		w := in[i]
		if !bytes.Equal(e.Name, w.Name) || e.Mode != w.Mode || !bytes.Equal(e.Data, w.Data) || e.Ino != w.Ino || e.Mtime != w.Mtime {
			t.Errorf("entry %d: got %+v want %+v", i, e, w)
		}
		off, i = next, i+1
	}
	if i != len(in) {
		t.Errorf("read %d entries, want %d", i, len(in))
	}
}

func TestBad(t *testing.T) {
	ar := write([]Entry{{Name: []byte("f"), Mode: TypeReg, Data: []byte("data")}})
	for n := 0; n < len(ar); n++ {
		// every truncation either reads a complete entry or reports an error
		off := 0
		for steps := 0; steps < 10; steps++ {
			_, next, trailer, err := Next(ar[:n], off)
			if err != OK || trailer {
				break
			}
			if next <= off {
				t.Fatalf("no progress at %d", off)
			}
			off = next
		}
	}
	bad := append([]byte(nil), ar...)
	copy(bad, "070799")
	if _, _, _, err := Next(bad, 0); err != ErrMagic {
		t.Errorf("bad magic: %d", err)
	}
	bad = append([]byte(nil), ar...)
	bad[20] = 'x'
	if _, _, _, err := Next(bad, 0); err != ErrHex {
		t.Errorf("bad hex: %d", err)
	}
}

func FuzzNext(f *testing.F) {
	f.Add(write([]Entry{{Name: []byte("a/b"), Mode: TypeReg | 0o644, Data: []byte("x")}}))
	f.Add(write(nil))
	f.Fuzz(func(t *testing.T, ar []byte) {
		off := 0
		for i := 0; i < 1000; i++ {
			e, next, trailer, err := Next(ar, off)
			if err != OK || trailer {
				return
			}
			if next <= off || next > len(ar) || len(e.Name) > 4096 {
				t.Fatalf("bad progress %d -> %d (len %d)", off, next, len(ar))
			}
			off = next
		}
	})
}
