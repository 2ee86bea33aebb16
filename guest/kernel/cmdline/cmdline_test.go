// Tests of Split against a table of lines and against model, an
// independent allocating implementation of the same rules; of truncation
// when the buffer or a table is too small; of Option; and of the round trip
// Quote → join → Split.

package cmdline

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// modelWord is a word the model found, with its kind.
type modelWord struct {
	kind int
	s    string // for options, without the prefix
}

// model splits line by the package's rules, the straightforward way.
func model(line string) (words []modelWord, unterminated bool) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	var cur []byte
	inWord, quoted := false, false
	var raw []string
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			inWord, quoted = true, !quoted
		case c == '\\':
			inWord = true
			if i+1 < len(line) {
				i++
				cur = append(cur, line[i])
			} else {
				cur = append(cur, '\\')
			}
		case strings.IndexByte(" \t\n\r", c) >= 0 && !quoted:
			if inWord {
				raw = append(raw, string(cur))
			}
			cur, inWord = nil, false
		default:
			inWord = true
			cur = append(cur, c)
		}
	}
	if inWord {
		raw = append(raw, string(cur))
	}
	verbatim := false
	for i, w := range raw {
		switch {
		case i == 0 || verbatim:
			words = append(words, modelWord{kindArg, w})
		case w == "--":
			verbatim = true
		case strings.HasPrefix(w, "rt0."):
			words = append(words, modelWord{kindOpt, w[4:]})
		case strings.Index(w, "=") > 0:
			words = append(words, modelWord{kindEnv, w})
		default:
			words = append(words, modelWord{kindArg, w})
		}
	}
	return words, quoted
}

// expected is what Split should produce from the model's words with an
// output buffer of size bytes.
type expected struct {
	args, env, opts []string
	used            int
	truncated       bool
}

func expect(words []modelWord, size int) expected {
	var e expected
	var closed [3]bool
	lists := [3]*[]string{&e.args, &e.env, &e.opts}
	max := [3]int{MaxArgs, MaxEnv, MaxOpts}
	for _, w := range words {
		l := lists[w.kind]
		if closed[w.kind] || len(*l) >= max[w.kind] || e.used+len(w.s)+1+optExtra(w.kind) > size {
			closed[w.kind], e.truncated = true, true
			continue
		}
		*l = append(*l, w.s)
		e.used += len(w.s) + 1
	}
	return e
}

// optExtra is the room an option needs in the buffer beyond its stored form:
// Split decodes the whole word, prefix included, before it moves it down.
func optExtra(kind int) int {
	if kind == kindOpt {
		return len(OptionPrefix)
	}
	return 0
}

// got reads r's tables as strings, checking every offset.
func got(t testing.TB, out []byte, r *Result) (args, env, opts []string) {
	t.Helper()
	if r.Used < 0 || r.Used > len(out) {
		t.Fatalf("Used %d of %d", r.Used, len(out))
	}
	read := func(what string, offs []uint32) []string {
		var l []string
		end := 0
		for i, off := range offs {
			s, ok := str(out[:r.Used], off)
			if !ok {
				t.Fatalf("%s %d at %d: not a string inside Used %d", what, i, off, r.Used)
			}
			if int(off) < end {
				t.Fatalf("%s %d at %d overlaps the previous one", what, i, off)
			}
			end = int(off) + len(s) + 1
			l = append(l, string(s))
		}
		return l
	}
	if r.Argc < 0 || r.Argc > MaxArgs || r.Envc < 0 || r.Envc > MaxEnv || r.Optc < 0 || r.Optc > MaxOpts {
		t.Fatalf("counts %d %d %d", r.Argc, r.Envc, r.Optc)
	}
	return read("arg", r.Argv[:r.Argc]), read("env", r.Envv[:r.Envc]), read("opt", r.Optv[:r.Optc])
}

// checkSplit runs Split on line with an out buffer of size bytes and
// compares it with the model.
func checkSplit(t testing.TB, line []byte, size int) *Result {
	t.Helper()
	out := make([]byte, size)
	var r Result
	Split(line, out, &r)
	args, env, opts := got(t, out, &r)
	words, unterminated := model(string(line))
	e := expect(words, size)
	if !slices.Equal(args, e.args) || !slices.Equal(env, e.env) || !slices.Equal(opts, e.opts) {
		t.Fatalf("Split(%q) in %d bytes:\n got args %q env %q opts %q\nwant args %q env %q opts %q",
			line, size, args, env, opts, e.args, e.env, e.opts)
	}
	if r.Used != e.used || r.Truncated != e.truncated || r.UnterminatedQuote != unterminated {
		t.Fatalf("Split(%q) in %d bytes: used %d truncated %v unterminated %v; want %d %v %v",
			line, size, r.Used, r.Truncated, r.UnterminatedQuote, e.used, e.truncated, unterminated)
	}
	// Every argument and environment string is packed: Used is exactly the
	// sum of the kept strings.
	sum := 0
	for _, l := range [][]string{args, env, opts} {
		for _, s := range l {
			sum += len(s) + 1
		}
	}
	if sum != r.Used {
		t.Fatalf("Used %d, strings take %d", r.Used, sum)
	}
	return &r
}

func TestSplitTable(t *testing.T) {
	for _, c := range []struct {
		line            string
		args, env, opts []string
		unterminated    bool
	}{
		{"", nil, nil, nil, false},
		{"   \t\n ", nil, nil, nil, false},
		{"/boot/rt0", []string{"/boot/rt0"}, nil, nil, false},
		{"  /boot/rt0  ", []string{"/boot/rt0"}, nil, nil, false},
		{"k a b\tc\nd\re", []string{"k", "a", "b", "c", "d", "e"}, nil, nil, false},
		{`k "a b"  c`, []string{"k", "a b", "c"}, nil, nil, false},
		{`k "" x ""`, []string{"k", "", "x", ""}, nil, nil, false},
		{`k a""b "a"b a"b c"d`, []string{"k", "ab", "ab", "ab cd"}, nil, nil, false},
		{`k "a\"b" \"q\"`, []string{"k", `a"b`, `"q"`}, nil, nil, false},
		{`k a\ b "c\\d" e\\`, []string{"k", "a b", `c\d`, `e\`}, nil, nil, false},
		{`k tail\`, []string{"k", `tail\`}, nil, nil, false},
		{`k \`, []string{"k", `\`}, nil, nil, false},
		{"k a\\\tb", []string{"k", "a\tb"}, nil, nil, false},
		{`k "x y`, []string{"k", "x y"}, nil, nil, true},
		{`k "`, []string{"k", ""}, nil, nil, true},
		{`k a "b c\"`, []string{"k", "a", `b c"`}, nil, nil, true},
		{"k \"a\tb\nc\"", []string{"k", "a\tb\nc"}, nil, nil, false},
		{"k FOO=bar =x x= A==", []string{"k", "=x"}, []string{"FOO=bar", "x=", "A=="}, nil, false},
		{`k PATH="/a b:/c" "X=1 2"`, []string{"k"}, []string{"PATH=/a b:/c", "X=1 2"}, nil, false},
		{"k rt0.debug rt0.mem=512M rt0.=x rt0. rt0x=1 rt0", []string{"k", "rt0"}, []string{"rt0x=1"},
			[]string{"debug", "mem=512M", "=x", ""}, false},
		{"k a -- rt0.x=1 B=2 -- c", []string{"k", "a", "rt0.x=1", "B=2", "--", "c"}, nil, nil, false},
		{"k A=1 -- ", []string{"k"}, []string{"A=1"}, nil, false},
		{"k -x --x --- - -- --", []string{"k", "-x", "--x", "---", "-", "--"}, nil, nil, false},
		{`k "--" x=1`, []string{"k", "x=1"}, nil, nil, false}, // quoting does not hide --
		{"rt0.x=1 A=b", []string{"rt0.x=1"}, []string{"A=b"}, nil, false},
		{"A=b c", []string{"A=b", "c"}, nil, nil, false},
		{"-- a", []string{"--", "a"}, nil, nil, false},
		{"k a\x00 b c", []string{"k", "a"}, nil, nil, false},
		{"\x00k", nil, nil, nil, false},
		{"k héllo wörld=1", []string{"k", "héllo"}, []string{"wörld=1"}, nil, false},
	} {
		r := checkSplit(t, []byte(c.line), 4096)
		out := make([]byte, 4096)
		Split([]byte(c.line), out, r)
		args, env, opts := got(t, out, r)
		if !slices.Equal(args, c.args) || !slices.Equal(env, c.env) || !slices.Equal(opts, c.opts) || r.UnterminatedQuote != c.unterminated {
			t.Errorf("Split(%q) = args %q env %q opts %q unterminated %v; want %q %q %q %v",
				c.line, args, env, opts, r.UnterminatedQuote, c.args, c.env, c.opts, c.unterminated)
		}
		if r.Truncated {
			t.Errorf("Split(%q) truncated", c.line)
		}
	}
}

func TestSplitLayout(t *testing.T) {
	out := make([]byte, 64)
	for i := range out {
		out[i] = 0xff
	}
	var r Result
	Split([]byte(`k A=1 rt0.v "x y"`), out, &r)
	want := "k\x00A=1\x00v\x00x y\x00"
	if string(out[:r.Used]) != want {
		t.Fatalf("out = %q, want %q", out[:r.Used], want)
	}
	if r.Argv[0] != 0 || r.Envv[0] != 2 || r.Optv[0] != 6 || r.Argv[1] != 8 {
		t.Fatalf("offsets %v %v %v", r.Argv[:2], r.Envv[:1], r.Optv[:1])
	}
	if string(r.Arg(out, 1)) != "x y" || string(r.Env(out, 0)) != "A=1" {
		t.Fatalf("Arg/Env")
	}
	if r.Arg(out, 2) != nil || r.Arg(out, -1) != nil || r.Env(out, 1) != nil {
		t.Fatalf("Arg/Env out of range")
	}
}

func TestTruncation(t *testing.T) {
	line := []byte(`/boot/rt0 rt0.debug=1 HOME=/ arg1 "arg two" rt0.quiet TERM=vt100 -- A=b rt0.z`)
	words, _ := model(string(line))
	need := expect(words, 1<<20).used
	for size := 0; size <= need+8; size++ {
		r := checkSplit(t, line, size)
		// An option is decoded with its prefix before it is moved down, so
		// the last one may need len(OptionPrefix) bytes more than it keeps.
		if (size < need && !r.Truncated) || (size >= need+len(OptionPrefix) && r.Truncated) {
			t.Fatalf("size %d (need %d): truncated %v", size, need, r.Truncated)
		}
	}
	// Once an argument is dropped, later (shorter) arguments are dropped
	// too, but later options and variables still get in.
	out := make([]byte, 12)
	var r Result
	Split([]byte("k aaaaaaaaaaaaaaa b X=1 rt0.v"), out, &r)
	args, env, opts := got(t, out, &r)
	if !slices.Equal(args, []string{"k"}) || !slices.Equal(env, []string{"X=1"}) || !slices.Equal(opts, []string{"v"}) || !r.Truncated {
		t.Fatalf("args %q env %q opts %q truncated %v", args, env, opts, r.Truncated)
	}
	// A nil buffer holds nothing.
	Split([]byte("k a"), nil, &r)
	if r.Argc != 0 || r.Used != 0 || !r.Truncated {
		t.Fatalf("nil buffer: %+v", r.Argc)
	}
}

func TestTableLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("k")
	for i := 0; i < MaxArgs+10; i++ {
		b.WriteString(" a")
	}
	for i := 0; i < MaxEnv+10; i++ {
		b.WriteString(" E=1")
	}
	for i := 0; i < MaxOpts+10; i++ {
		b.WriteString(" rt0.o")
	}
	r := checkSplit(t, []byte(b.String()), 1<<16)
	if r.Argc != MaxArgs || r.Envc != MaxEnv || r.Optc != MaxOpts || !r.Truncated {
		t.Fatalf("counts %d %d %d truncated %v", r.Argc, r.Envc, r.Optc, r.Truncated)
	}
}

func TestOption(t *testing.T) {
	out := make([]byte, 256)
	var r Result
	Split([]byte(`k rt0.debug rt0.mem=512M rt0.log= rt0.mem=1G rt0.memx=2 rt0.x=a=b rt0.q="a b" -- rt0.after=1`), out, &r)
	for _, c := range []struct {
		key, val string
		ok       bool
	}{
		{"debug", "", true},
		{"mem", "1G", true}, // last wins
		{"memx", "2", true},
		{"log", "", true},
		{"x", "a=b", true},
		{"q", "a b", true},
		{"me", "", false},
		{"after", "", false},
		{"", "", false},
		{"x=a", "", false},
		{"rt0.debug", "", false},
	} {
		v, ok := r.Option(out, c.key)
		if ok != c.ok || string(v) != c.val || (ok && v == nil) {
			t.Errorf("Option(%q) = %q, %v; want %q, %v", c.key, v, ok, c.val, c.ok)
		}
	}
	// An empty key matches the degenerate options rt0. and rt0.=v.
	Split([]byte("k rt0.=v"), out, &r)
	if v, ok := r.Option(out, ""); !ok || string(v) != "v" {
		t.Errorf("empty key: %q %v", v, ok)
	}
	// A Result that does not match out must not make Option misbehave.
	r.Optv[0] = 1 << 30
	if _, ok := r.Option(out, ""); ok {
		t.Error("bad offset accepted")
	}
	r.Optc = -1
	if _, ok := r.Option(out, ""); ok {
		t.Error("negative count")
	}
	if _, ok := r.Option(out[:3], "x"); ok {
		t.Error("short out")
	}
}

func TestQuote(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"abc", "abc"},
		{"", `""`},
		{"a b", `"a b"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"a\tb", "\"a\tb\""},
		{"a=b", "a=b"},
		{"rt0.x", "rt0.x"},
		{"--", "--"},
	} {
		if got := Quote(c.in); got != c.out {
			t.Errorf("Quote(%q) = %q, want %q", c.in, got, c.out)
		}
	}
}

// randWord makes a word from an alphabet heavy in characters that matter.
func randWord(rng *rand.Rand) string {
	const alphabet = " \t\n\r\"\\=-.rt0aZ\x01\x7f\xff"
	n := rng.Intn(8)
	b := make([]byte, n)
	for i := range b {
		if rng.Intn(4) == 0 {
			b[i] = byte(1 + rng.Intn(255)) // any byte but NUL
		} else {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
	}
	return string(b)
}

func TestQuoteRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	out := make([]byte, 1<<12)
	for iter := 0; iter < 20000; iter++ {
		words := make([]string, rng.Intn(10))
		for i := range words {
			words[i] = randWord(rng)
		}
		// Random separators between the words.
		var b strings.Builder
		b.WriteString("/boot/rt0")
		sep := func() {
			for n := 1 + rng.Intn(3); n > 0; n-- {
				b.WriteByte(" \t\n\r"[rng.Intn(4)])
			}
		}
		sep()
		b.WriteString("--")
		for _, w := range words {
			sep()
			b.WriteString(Quote(w))
		}
		if rng.Intn(2) == 0 {
			sep()
		}
		var r Result
		Split([]byte(b.String()), out, &r)
		args, env, opts := got(t, out, &r)
		if len(args) == 0 || args[0] != "/boot/rt0" || !slices.Equal(args[1:], words) || len(env) != 0 || len(opts) != 0 || r.Truncated || r.UnterminatedQuote {
			t.Fatalf("line %q: args %q env %q opts %q; want %q", b.String(), args, env, opts, words)
		}
		// Without the --, a quoted word that is not special comes back as an
		// argument too.
		if len(words) > 0 {
			w := words[0]
			if w != "--" && !strings.HasPrefix(w, "rt0.") && strings.Index(w, "=") <= 0 {
				Split([]byte("k "+Quote(w)), out, &r)
				if r.Argc != 2 || string(r.Arg(out, 1)) != w {
					t.Fatalf("word %q quoted %q: %q", w, Quote(w), r.Arg(out, 1))
				}
			}
		}
	}
}

func TestSplitModelRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	const alphabet = " \t\n\"\\=-.rt0aX\x00"
	for iter := 0; iter < 20000; iter++ {
		b := make([]byte, rng.Intn(40))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		checkSplit(t, b, rng.Intn(64))
	}
}

func TestNoAllocs(t *testing.T) {
	line := []byte(`/boot/rt0 rt0.debug=1 HOME=/ arg1 "arg two" -- A=b`)
	out := make([]byte, 256)
	var r Result
	n := testing.AllocsPerRun(100, func() {
		Split(line, out, &r)
		r.Option(out, "debug")
		r.Arg(out, 1)
		r.Env(out, 0)
	})
	if n != 0 {
		t.Errorf("%v allocations", n)
	}
}
