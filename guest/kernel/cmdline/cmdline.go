// Package cmdline turns the kernel command line into the Go program's argv
// and environment, the way Linux hands its command line to init, plus the
// kernel's own rt0.* options.
//
// The story. The loader gives the kernel one line of text (QEMU's -append,
// GRUB's multiboot line), and QEMU and GRUB both put the kernel's path in
// front of it. Split cuts the line into words and sorts them:
//
//   - Words are separated by runs of spaces, tabs, newlines and carriage
//     returns. A double quote starts or ends a quoted stretch, in which those
//     separators are ordinary characters; the quotes themselves are removed,
//     so "a b" is the word a b, and "" is an empty word. Inside or outside
//     quotes, a backslash makes the next character ordinary (\" \\ \ and a
//     backslash before a space); a backslash at the very end of the line is
//     kept as itself. A quote still open at the end of the line ends there;
//     Split reports it in Result.UnterminatedQuote. A NUL byte ends the line.
//   - Word 0 is always argv[0].
//   - Up to a word that is exactly --, a word rt0.KEY=VALUE or rt0.KEY is a
//     kernel option (not given to the program); any other word holding an
//     '=' after a non-empty name is an environment variable; any other word
//     is an argument. The -- is dropped, and every word after it is an
//     argument verbatim, whatever it looks like.
//
// Split runs in the kernel before the Go runtime is up, so it allocates
// nothing: it writes the words as NUL-terminated strings into a byte buffer
// the caller supplies, ready to be copied onto a Linux initial stack, and
// records their offsets in a fixed-size Result. Quote (quote.go) is its
// host-side inverse, used to build QEMU's -append.
package cmdline

// Capacities of the tables in Result.
const (
	// MaxArgs is the number of arguments (argv entries) Result holds.
	MaxArgs = 256
	// MaxEnv is the number of environment variables Result holds.
	MaxEnv = 256
	// MaxOpts is the number of kernel options Result holds.
	MaxOpts = 64
)

// OptionPrefix starts every kernel option word.
const OptionPrefix = "rt0."

// Result is what Split found. Each table holds offsets into the caller's
// output buffer of NUL-terminated strings, in command-line order. Kernel
// options are stored without OptionPrefix, as KEY=VALUE or KEY.
type Result struct {
	Argc, Envc, Optc int
	Argv             [MaxArgs]uint32
	Envv             [MaxEnv]uint32
	Optv             [MaxOpts]uint32

	// Used is the number of bytes of the output buffer the strings occupy
	// (from its start).
	Used int

	// UnterminatedQuote says the line ended inside a quoted stretch.
	UnterminatedQuote bool

	// Truncated says a word did not fit, in the output buffer or in its
	// table. Once a word of a kind (argument, environment, option) is
	// dropped, every later word of that kind is dropped too, so each table
	// holds a prefix of what the full line says; words of other kinds that
	// still fit are kept. (A word needs its decoded length plus one byte of
	// room; for an option that length includes the rt0. prefix, which is
	// removed once the word is in.)
	Truncated bool
}

// Kinds of word.
const (
	kindArg = iota
	kindEnv
	kindOpt
)

// isSpace reports whether c separates words outside quotes.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// word describes a word decode produced.
type word struct {
	n   int     // decoded length
	eq  int     // index of the first '=', or -1
	pre [4]byte // its first (up to) four bytes
}

// decode reads the word that starts at line[i] (not a separator), writing
// its bytes to out[at:] as far as they fit. It returns the index after the
// word, the word's description, and whether a quote was left open.
func decode(line []byte, i int, out []byte, at int) (int, word, bool) {
	w := word{eq: -1}
	quoted := false
	for i < len(line) {
		c := line[i]
		switch {
		case c == '"':
			quoted = !quoted
			i++
			continue
		case c == '\\':
			if i+1 < len(line) {
				c = line[i+1]
				i += 2
			} else {
				i++ // a trailing backslash stands for itself
			}
		case !quoted && isSpace(c):
			return i, w, false
		default:
			i++
		}
		if at < len(out) && w.n < len(out)-at {
			out[at+w.n] = c
		}
		if w.n < len(w.pre) {
			w.pre[w.n] = c
		}
		if c == '=' && w.eq < 0 {
			w.eq = w.n
		}
		w.n++
	}
	return i, w, quoted
}

// Split splits line into r, writing the strings into out (see the package
// comment for the rules). It first zeroes r. It never allocates or panics;
// if out or a table is too small, r.Truncated is set and r describes what
// fit. Bytes of out past r.Used may have been overwritten.
func Split(line []byte, out []byte, r *Result) {
	*r = Result{}
	for k := 0; k < len(line); k++ {
		if line[k] == 0 {
			line = line[:k]
			break
		}
	}
	limit := len(out) // offsets must fit in uint32
	if uint64(limit) > 1<<32-1 {
		limit = 1<<32 - 1
	}
	var closed [3]bool
	nword := 0
	verbatim := false // after --
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return
		}
		start := r.Used
		next, w, open := decode(line, i, out, start)
		i = next
		if open {
			r.UnterminatedQuote = true
		}
		nword++

		kind := kindArg
		switch {
		case nword == 1 || verbatim:
		case w.n == 2 && w.pre[0] == '-' && w.pre[1] == '-':
			verbatim = true
			continue
		case w.n >= 4 && string(w.pre[:]) == OptionPrefix:
			kind = kindOpt
		case w.eq > 0:
			kind = kindEnv
		}

		full := false
		switch kind {
		case kindArg:
			full = r.Argc >= MaxArgs
		case kindEnv:
			full = r.Envc >= MaxEnv
		case kindOpt:
			full = r.Optc >= MaxOpts
		}
		if closed[kind] || full || w.n >= limit-start {
			closed[kind] = true
			r.Truncated = true
			continue
		}

		n := w.n
		if kind == kindOpt {
			copy(out[start:start+n-len(OptionPrefix)], out[start+len(OptionPrefix):start+n])
			n -= len(OptionPrefix)
		}
		out[start+n] = 0
		r.Used = start + n + 1
		off := uint32(start)
		switch kind {
		case kindArg:
			r.Argv[r.Argc] = off
			r.Argc++
		case kindEnv:
			r.Envv[r.Envc] = off
			r.Envc++
		case kindOpt:
			r.Optv[r.Optc] = off
			r.Optc++
		}
	}
}

// str returns the NUL-terminated string at off in out, without the NUL,
// and false if off is outside out or there is no NUL.
func str(out []byte, off uint32) ([]byte, bool) {
	if uint64(off) >= uint64(len(out)) {
		return nil, false
	}
	s := out[off:]
	for k := 0; k < len(s); k++ {
		if s[k] == 0 {
			return s[:k:k], true
		}
	}
	return nil, false
}

// clamp bounds a count from r to [0, max], in case r was altered.
func clamp(n, max int) int {
	if n < 0 {
		return 0
	}
	if n > max {
		return max
	}
	return n
}

// Arg returns argument i (without its NUL) from out, nil if there is no
// such argument.
func (r *Result) Arg(out []byte, i int) []byte {
	if i < 0 || i >= clamp(r.Argc, MaxArgs) {
		return nil
	}
	s, _ := str(out, r.Argv[i])
	return s
}

// Env returns environment entry i (NAME=VALUE, without its NUL) from out,
// nil if there is no such entry.
func (r *Result) Env(out []byte, i int) []byte {
	if i < 0 || i >= clamp(r.Envc, MaxEnv) {
		return nil
	}
	s, _ := str(out, r.Envv[i])
	return s
}

// Option looks up the kernel option rt0.KEY (key is given without the rt0.
// prefix) among r's options in out. It returns the option's value (empty
// for a bare rt0.KEY) and whether it was present. If the option appears more
// than once, the last one wins.
func (r *Result) Option(out []byte, key string) (val []byte, ok bool) {
	for k := 0; k < len(key); k++ {
		if key[k] == '=' {
			return nil, false // no key holds '=': it ends the key
		}
	}
	for i := 0; i < clamp(r.Optc, MaxOpts); i++ {
		s, good := str(out, r.Optv[i])
		if !good || len(s) < len(key) || string(s[:len(key)]) != key {
			continue
		}
		switch {
		case len(s) == len(key):
			val, ok = s[len(s):], true
		case s[len(key)] == '=':
			val, ok = s[len(key)+1:], true
		}
	}
	return val, ok
}
