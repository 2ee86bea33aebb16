// Package smbiostab reads SMBIOS structures from the bytes of the
// structure table: each structure's type, formatted area and string set,
// and its numbered strings. The kernel finds the table (smbios.go) and
// logs the machine's identity with these; they allocate nothing and read no
// global, so the host tests and fuzzes them (smbiostab_test.go).
package smbiostab

// Struct reads the structure at off in table t: its type, its
// formatted area, its string set (the strings, each NUL-terminated, without
// the final NUL), and the offset of the next structure, which is past the
// double NUL that ends the string set. next > len(t) means the structure
// runs off the table; f is then nil.
func Struct(t []byte, off int) (typ byte, f, strs []byte, next int) {
	typ, l := t[off], int(t[off+1])
	if l < 4 || off+l+2 > len(t) {
		return typ, nil, nil, len(t) + 1
	}
	s := off + l
	e := s
	for e+1 < len(t) && !(t[e] == 0 && t[e+1] == 0) {
		e++
	}
	if e+1 >= len(t) {
		return typ, nil, nil, len(t) + 1
	}
	return typ, t[off : off+l], t[s:e], e + 2
}

// String returns string k (numbered from 1; 0 means none) of a
// structure's string set.
func String(strs []byte, k byte) []byte {
	for i := byte(1); k != 0 && len(strs) > 0; i++ {
		e := 0
		for e < len(strs) && strs[e] != 0 {
			e++
		}
		if i == k {
			return strs[:e]
		}
		if e == len(strs) {
			break
		}
		strs = strs[e+1:]
	}
	return nil
}
