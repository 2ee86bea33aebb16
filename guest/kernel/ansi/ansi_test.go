package ansi

import (
	"strings"
	"testing"
)

// feed runs s through a parser and describes what came out: text as is,
// executed controls as <XX>, sequences as {final:p0,p1,...} with each
// parameter through Param(i, -1).
func feed(p *Parser, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch p.Feed(s[i]) {
		case Text:
			b.WriteByte(s[i])
		case Execute:
			b.WriteString("<" + string("0123456789ABCDEF"[s[i]>>4]) + string("0123456789ABCDEF"[s[i]&15]) + ">")
		case Sequence:
			b.WriteString("{" + string(p.Final()) + ":")
			for j := 0; j < p.n && j < len(p.params); j++ {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(itoa(p.Param(j, -1)))
			}
			b.WriteByte('}')
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestParser(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text\n", "plain text\n"},
		{"\x1b[31mred\x1b[0m", "{m:31}red{m:-1}"},
		{"\x1b[m", "{m:}"},
		{"\x1b[1;32;44m", "{m:1,32,44}"},
		{"\x1b[;5H", "{H:-1,5}"},                              // an empty first parameter: absent
		{"\x1b[10;20H", "{H:10,20}"},                          // cursor position
		{"\x1b[2J\x1b[K", "{J:2}{K:}"},                        // erase
		{"\x1b[?25l visible", " visible"},                     // a private mode: swallowed whole
		{"\x1bc\x1b7x", "x"},                                  // two-byte sequences: ignored
		{"\x1b[1\n2m", "<0A>{m:12}"},                          // a control inside runs, the sequence goes on
		{"\x1b[99999999m", "{m:99999}"},                       // a huge number stops growing at five digits
		{"\x1b[1;2;3;4;5;6;7;8;9;10m", "{m:1,2,3,4,5,6,7,8}"}, // more than 8: the rest dropped
		{"a\x1b[", "a"},                                       // unfinished: nothing yet
	} {
		var p Parser
		if got := feed(&p, tc.in); got != tc.want {
			t.Errorf("%q: %q; want %q", tc.in, got, tc.want)
		}
	}
	// An unfinished sequence finishes with the next bytes.
	var p Parser
	if got := feed(&p, "\x1b[3"); got != "" {
		t.Errorf("partial: %q", got)
	}
	if got := feed(&p, "4mx"); got != "{m:34}x" {
		t.Errorf("rest: %q", got)
	}
}

func TestSGR(t *testing.T) {
	const normal = 0x07
	for _, tc := range []struct {
		seqs string
		want uint8
	}{
		{"\x1b[m", 0x07},
		{"\x1b[31m", 0x04},           // red: VGA 4
		{"\x1b[34m", 0x01},           // blue: VGA 1
		{"\x1b[1;31m", 0x0C},         // bold red: bright
		{"\x1b[91m", 0x0C},           // bright red
		{"\x1b[31;44m", 0x14},        // red on blue
		{"\x1b[104m", 0x17},          // bright blue background: no bright half
		{"\x1b[31m\x1b[7m", 0x40},    // reversed: red background, black foreground
		{"\x1b[1;31m\x1b[22m", 0x04}, // bold off
		{"\x1b[32m\x1b[39m", 0x07},   // default foreground
		{"\x1b[42m\x1b[49m", 0x07},   // default background
		{"\x1b[1;7;33;41m\x1b[0m", 0x07},
	} {
		var p Parser
		var a Attr
		var got uint8
		for i := 0; i < len(tc.seqs); i++ {
			if p.Feed(tc.seqs[i]) == Sequence && p.Final() == 'm' {
				got = a.SGR(&p, normal)
			}
		}
		if got != tc.want {
			t.Errorf("%q: attribute %#02x; want %#02x", tc.seqs, got, tc.want)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	var p Parser
	var a Attr
	in := []byte("\x1b[1;31mred\x1b[0m\x1b[10;20H\x1b[?25l")
	if n := testing.AllocsPerRun(100, func() {
		for _, c := range in {
			if p.Feed(c) == Sequence && p.Final() == 'm' {
				a.SGR(&p, 7)
			}
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
