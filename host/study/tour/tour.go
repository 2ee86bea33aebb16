// Package tour produces an annotated disassembly of the path a Go program
// takes from the loader's first instruction to main.main in a built rt0
// image: rt0's 32-bit stub and 64-bit entry, the runtime's
// _rt0_amd64_linux, rt0_go, schedinit, newproc, mstart, schedule, execute,
// gogo, runtime.main and main.main. It reads the image with
// rt0/host/study/bin; everything comes from the binary.
package tour

import (
	"fmt"
	"html"
	"io"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"rt0/host/study/bin"
)

// Tour is the annotated startup path of one image.
type Tour struct {
	Image    string
	Intro    []string
	Sections []*Section
	// Warnings lists notes that found no instruction to attach to (the
	// runtime or the kernel changed shape); the tour is still printed.
	Warnings []string
}

// Section is one function of the path.
type Section struct {
	Title   string // what is shown: the symbol, or a description for the stub
	Sym     string // the ELF symbol ("" for the 32-bit stub)
	Addr    uint64
	Mode    int  // 32 or 64
	Excerpt bool // Lines shows part of the function
	Intro   []string
	Lines   []Line
	Outro   []string
	Insts   []bin.Inst // every instruction of the function
}

// Line is one line of a section's listing.
type Line struct {
	Inst *bin.Inst // nil for a gap
	Gap  int       // instructions left out here (excerpts)
	Mark string
	Note string
}

// Notes returns the notes attached to instructions whose text contains sub.
func (s *Section) Notes(sub string) []string {
	var out []string
	for _, l := range s.Lines {
		if l.Inst != nil && l.Note != "" && strings.Contains(l.Inst.Text, sub) {
			out = append(out, l.Note)
		}
	}
	return out
}

// Section returns the section of symbol sym.
func (t *Tour) Section(sym string) *Section {
	for _, s := range t.Sections {
		if s.Sym == sym {
			return s
		}
	}
	return nil
}

// ctx is what the script's notes see.
type ctx struct {
	b *bin.Binary
}

// off is the DWARF offset of a field path, formatted like GoSyntax prints
// displacements, or "?" when DWARF does not have it.
func (c *ctx) off(typ, path string) string {
	o, err := c.b.Offset(typ, path)
	if err != nil {
		return "?"
	}
	return hexDisp(o)
}

func (c *ctx) offv(typ, path string) (uint64, bool) {
	o, err := c.b.Offset(typ, path)
	return o, err == nil
}

func hexDisp(o uint64) string {
	if o == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", o)
}

// name describes an address: a symbol and offset, or the number.
func (c *ctx) name(addr uint64) string {
	if n, base := c.b.Lookup(addr); n != "" {
		return fmt.Sprintf("%#x (%s)", addr, bin.SymOff(n, addr-base))
	}
	return fmt.Sprintf("%#x", addr)
}

// word describes the word stored at symbol sym: its value and what it
// points at.
func (c *ctx) word(sym string, off uint64) (uint64, string) {
	s, ok := c.b.Sym(sym)
	if !ok {
		return 0, "(no symbol " + sym + ")"
	}
	w, ok := c.b.Word(s.Addr + off)
	if !ok {
		return 0, "(not in the file)"
	}
	return w, c.name(w)
}

// note attaches a text to the instruction it matches.
type note struct {
	match func(c *ctx, in *bin.Inst) bool
	text  func(c *ctx, in *bin.Inst) string
	mark  string
	// last matches the last matching instruction of the function instead
	// of the first one after the previous note's.
	last bool
	// before and after are the instructions of context an excerpt shows
	// around the match (defaults 2 and 1; -1 for none).
	before, after int
	optional      bool
}

// spec describes a section.
type spec struct {
	title   string
	names   []string // candidate symbols, the first present is shown
	stub32  bool
	excerpt bool
	head    int // excerpts: instructions shown from the function's start
	intro   func(c *ctx) []string
	notes   []note
	outro   func(c *ctx) []string
}

// Build makes the tour of the image b.
func Build(b *bin.Binary) (*Tour, error) {
	c := &ctx{b: b}
	t := &Tour{Image: b.Path, Intro: tourIntro(c)}
	for _, sp := range script() {
		s, err := c.section(sp, t)
		if err != nil {
			return nil, err
		}
		if s != nil {
			t.Sections = append(t.Sections, s)
		}
	}
	return t, nil
}

func (c *ctx) section(sp spec, t *Tour) (*Section, error) {
	s := &Section{Title: sp.title, Mode: 64, Excerpt: sp.excerpt}
	if sp.stub32 {
		mb, insts, err := c.b.Stub32()
		if err != nil {
			return nil, err
		}
		s.Mode, s.Addr, s.Insts = 32, mb.Entry, insts
	} else {
		sym, ok := c.b.Func(sp.names...)
		if !ok {
			return nil, fmt.Errorf("the image has no function %s", strings.Join(sp.names, " or "))
		}
		insts, err := c.b.Disasm(sym)
		if err != nil {
			return nil, err
		}
		s.Sym, s.Addr, s.Insts = sym.Name, sym.Addr, insts
		if s.Title == "" {
			s.Title = sym.Name
		}
	}
	if sp.intro != nil {
		s.Intro = sp.intro(c)
	}
	if sp.outro != nil {
		s.Outro = sp.outro(c)
	}

	// Place the notes.
	notes := make(map[int][]string)
	marks := make(map[int]string)
	window := make(map[int]bool)
	for i := 0; i < sp.head && i < len(s.Insts); i++ {
		window[i] = true
	}
	from := 0
	for _, n := range sp.notes {
		at := -1
		if n.last {
			for i := len(s.Insts) - 1; i >= 0; i-- {
				if n.match(c, &s.Insts[i]) {
					at = i
					break
				}
			}
		} else {
			at = c.find(s.Insts, from, n)
			if at < 0 {
				at = c.find(s.Insts, 0, n)
			}
		}
		if at < 0 {
			if !n.optional {
				t.Warnings = append(t.Warnings, fmt.Sprintf("%s: a note found no instruction to attach to: %.60q", s.Title, n.text(c, &bin.Inst{})))
			}
			continue
		}
		if !n.last {
			from = at + 1
		}
		notes[at] = append(notes[at], n.text(c, &s.Insts[at]))
		if n.mark != "" {
			marks[at] = n.mark
		}
		before, after := n.before, n.after
		if before == 0 {
			before = 2
		}
		if after == 0 {
			after = 1
		}
		for i := at - max(before, 0); i <= at+max(after, 0); i++ {
			if i >= 0 && i < len(s.Insts) {
				window[i] = true
			}
		}
	}
	gap := 0
	for i := range s.Insts {
		if sp.excerpt && !window[i] {
			gap++
			continue
		}
		if gap > 0 {
			s.Lines = append(s.Lines, Line{Gap: gap})
			gap = 0
		}
		s.Lines = append(s.Lines, Line{Inst: &s.Insts[i], Mark: marks[i], Note: strings.Join(notes[i], "\n\n")})
	}
	if gap > 0 {
		s.Lines = append(s.Lines, Line{Gap: gap})
	}
	return s, nil
}

func (c *ctx) find(insts []bin.Inst, from int, n note) int {
	for i := from; i < len(insts); i++ {
		if n.match(c, &insts[i]) {
			return i
		}
	}
	return -1
}

// Predicates for notes.

func calls(names ...string) func(*ctx, *bin.Inst) bool {
	return func(c *ctx, in *bin.Inst) bool { return in.CallsTo(c.b, names...) }
}

func jumps(names ...string) func(*ctx, *bin.Inst) bool {
	return func(c *ctx, in *bin.Inst) bool { return in.JumpsTo(c.b, names...) }
}

// is matches an instruction whose Go syntax is exactly text.
func is(text string) func(*ctx, *bin.Inst) bool {
	return func(c *ctx, in *bin.Inst) bool { return in.Text == text }
}

func has(sub string) func(*ctx, *bin.Inst) bool {
	return func(c *ctx, in *bin.Inst) bool { return strings.Contains(in.Text, sub) }
}

func op(o x86asm.Op) func(*ctx, *bin.Inst) bool {
	return func(c *ctx, in *bin.Inst) bool { return in.Inst.Op == o }
}

// isf is is with the text computed from the binary (e.g. a DWARF offset).
func isf(f func(c *ctx) string) func(*ctx, *bin.Inst) bool {
	return func(c *ctx, in *bin.Inst) bool { return in.Text == f(c) }
}

// static is a note text that needs nothing from the binary.
func static(s string) func(*ctx, *bin.Inst) string {
	return func(*ctx, *bin.Inst) string { return s }
}

// WriteText prints the tour as plain text.
func (t *Tour) WriteText(w io.Writer) error {
	var b strings.Builder
	rule := strings.Repeat("=", 100)
	fmt.Fprintf(&b, "rt0 tour: the startup path of %s\n\n", t.Image)
	for _, p := range t.Intro {
		b.WriteString(wrap(p, "", 100))
		b.WriteString("\n")
	}
	for i, s := range t.Sections {
		fmt.Fprintf(&b, "\n%s\n%d. %s", rule, i+1, s.Title)
		if s.Sym != "" && s.Sym != s.Title {
			fmt.Fprintf(&b, "  [%s]", s.Sym)
		}
		fmt.Fprintf(&b, "  @ %#x", s.Addr)
		if len(s.Insts) > 0 && s.Insts[0].File != "" {
			fmt.Fprintf(&b, "  (%s)", s.Insts[0].File)
		}
		if s.Mode == 32 {
			b.WriteString("  -- decoded in 32-bit mode")
		}
		if s.Excerpt {
			fmt.Fprintf(&b, "  -- excerpt: %d of %d instructions", shown(s), len(s.Insts))
		} else {
			fmt.Fprintf(&b, "  -- in full, %d instructions", len(s.Insts))
		}
		fmt.Fprintf(&b, "\n%s\n", rule)
		for _, p := range s.Intro {
			b.WriteString(wrap(p, "", 100))
			b.WriteString("\n")
		}
		if len(s.Intro) == 0 {
			b.WriteString("\n")
		}
		for _, l := range s.Lines {
			if l.Inst == nil {
				fmt.Fprintf(&b, "      ... %d instructions not shown ...\n", l.Gap)
				continue
			}
			if l.Mark != "" {
				fmt.Fprintf(&b, "  ---- %s ----\n", l.Mark)
			}
			b.WriteString(instLine(l.Inst))
			b.WriteString("\n")
			if l.Note != "" {
				b.WriteString(wrap(l.Note, "        | ", 100))
			}
		}
		for _, p := range s.Outro {
			b.WriteString("\n")
			b.WriteString(wrap(p, "", 100))
		}
	}
	if len(t.Warnings) > 0 {
		fmt.Fprintf(&b, "\n%s\nNotes that found no instruction (the code changed shape):\n", rule)
		for _, w := range t.Warnings {
			fmt.Fprintf(&b, "  %s\n", w)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shown(s *Section) int {
	n := 0
	for _, l := range s.Lines {
		if l.Inst != nil {
			n++
		}
	}
	return n
}

// instLine formats an instruction like go tool objdump, with what the
// number left unnamed resolved in a trailing comment.
func instLine(in *bin.Inst) string {
	loc := "(no symbol)"
	if in.File != "" {
		loc = fmt.Sprintf("%s:%d", in.File, in.Line)
	}
	s := fmt.Sprintf("  %-22s %#-9x %-40s", loc, in.Addr, in.Text)
	if in.Resolved != "" {
		s += " // " + in.Resolved
	}
	return strings.TrimRight(s, " ")
}

// wrap fills text to width with every line prefixed; blank lines in text
// separate paragraphs, lines starting with a space are kept as they are.
func wrap(text, prefix string, width int) string {
	var b strings.Builder
	for _, para := range strings.Split(text, "\n") {
		if para == "" {
			b.WriteString(strings.TrimRight(prefix, " ") + "\n")
			continue
		}
		if strings.HasPrefix(para, " ") {
			b.WriteString(prefix + para + "\n")
			continue
		}
		line := prefix
		for _, w := range strings.Fields(para) {
			if len(line) > len(prefix) && len(line)+1+len(w) > width {
				b.WriteString(line + "\n")
				line = prefix
			}
			if len(line) > len(prefix) {
				line += " "
			}
			line += w
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// WriteHTML prints the tour as a standalone HTML page.
func (t *Tour) WriteHTML(w io.Writer) error {
	var b strings.Builder
	esc := html.EscapeString
	paras := func(ps []string) {
		for _, p := range ps {
			fmt.Fprintf(&b, "<p>%s</p>\n", strings.ReplaceAll(esc(p), "\n", "<br>"))
		}
	}
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>rt0 tour: %s</title>
<style>
body{font-family:sans-serif;max-width:72em;margin:2em auto;line-height:1.4}
pre{font-size:13px;margin:0}
.inst{white-space:pre}
.note{white-space:pre-wrap;font-family:sans-serif;font-size:14px;background:#fff8dc;border-left:4px solid #e0b000;margin:2px 0 8px 6em;padding:4px 8px}
.mark{font-weight:bold;color:#a00;margin-top:6px}
.gap{color:#888}
.res{color:#070}
h2{border-top:2px solid #444;padding-top:.5em}
nav li{font-family:monospace}
</style></head><body>
<h1>rt0 tour: the startup path of <code>%s</code></h1>
`, esc(t.Image), esc(t.Image))
	paras(t.Intro)
	b.WriteString("<nav><ol>\n")
	for i, s := range t.Sections {
		fmt.Fprintf(&b, "<li><a href=\"#s%d\">%s</a></li>\n", i+1, esc(s.Title))
	}
	b.WriteString("</ol></nav>\n")
	for i, s := range t.Sections {
		fmt.Fprintf(&b, "<h2 id=\"s%d\">%d. %s <small>@ %#x", i+1, i+1, esc(s.Title), s.Addr)
		if s.Excerpt {
			fmt.Fprintf(&b, " (excerpt: %d of %d instructions)", shown(s), len(s.Insts))
		}
		if s.Mode == 32 {
			b.WriteString(" (32-bit code)")
		}
		b.WriteString("</small></h2>\n")
		paras(s.Intro)
		b.WriteString("<div class=\"listing\">\n")
		for _, l := range s.Lines {
			if l.Inst == nil {
				fmt.Fprintf(&b, "<pre class=\"gap\">      ... %d instructions not shown ...</pre>\n", l.Gap)
				continue
			}
			if l.Mark != "" {
				fmt.Fprintf(&b, "<div class=\"mark\">%s</div>\n", esc(l.Mark))
			}
			line := instLine(l.Inst)
			if i := strings.Index(line, " // "); i >= 0 && l.Inst.Resolved != "" {
				fmt.Fprintf(&b, "<pre class=\"inst\">%s<span class=\"res\">%s</span></pre>\n", esc(line[:i]), esc(line[i:]))
			} else {
				fmt.Fprintf(&b, "<pre class=\"inst\">%s</pre>\n", esc(line))
			}
			if l.Note != "" {
				fmt.Fprintf(&b, "<div class=\"note\">%s</div>\n", esc(l.Note))
			}
		}
		b.WriteString("</div>\n")
		paras(s.Outro)
	}
	if len(t.Warnings) > 0 {
		b.WriteString("<h2>Notes that found no instruction</h2><ul>\n")
		for _, w := range t.Warnings {
			fmt.Fprintf(&b, "<li>%s</li>\n", esc(w))
		}
		b.WriteString("</ul>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
