// FuzzSplit: Split on any line and any buffer size must not panic, must
// leave every string inside the buffer and NUL-terminated, and must agree
// with the model in cmdline_test.go. Seeds are in testdata/fuzz/FuzzSplit.

package cmdline

import "testing"

func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"",
		"/boot/rt0 rt0.debug=1 HOME=/ arg1 \"arg two\" -- A=b rt0.z",
		`k a\ b "c\"d" e\\ tail\`,
		"k \"unterminated \t\n",
		"k FOO= =x rt0. rt0.=v -- --",
		"k a\x00b",
	} {
		f.Add([]byte(s), uint16(4096))
		f.Add([]byte(s), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, line []byte, size uint16) {
		r := checkSplit(t, line, int(size))
		out := make([]byte, int(size))
		Split(line, out, r)
		for i := 0; i < r.Optc; i++ {
			s, _ := str(out, r.Optv[i])
			key := s
			for k := range s {
				if s[k] == '=' {
					key = s[:k]
					break
				}
			}
			if _, ok := r.Option(out, string(key)); !ok {
				t.Fatalf("option %q not found by key %q", s, key)
			}
		}
	})
}
