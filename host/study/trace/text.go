package trace

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// TextOptions tune WriteText.
type TextOptions struct {
	Code   int  // instructions shown per milestone (0: none)
	Values bool // show the decoded values
	Checks bool // list every check, not only failures
}

// DefaultText is what rt0 run -trace prints.
var DefaultText = TextOptions{Code: 4, Values: true, Checks: true}

// WriteText writes the timeline for a terminal: one block per event with
// the time since rt0's first instruction, the step from the previous
// event, what it means, the values decoded from the record and the first
// instructions at the breakpoint; then the summary and the checks.
func (t *Timeline) WriteText(w io.Writer, o TextOptions) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	name := t.Image
	if name == "" {
		name = "the program"
	}
	p("rt0 startup trace of %s: TSC %.3f MHz, times from rt0's first instruction (boot32)\n\n", name, float64(t.TSCHz)/1e6)
	p("%14s  %13s  %14s  %-7s  %s\n", "µs", "+µs", "cycles", "lane", "event")
	for i := range t.Events {
		e := &t.Events[i]
		p("%14s  %13s  %14s  %-7s  %s", fmtUS(t.US(e.Cycles)), "+"+fmtUS(t.US(e.Delta)), commas(e.Cycles), e.Lane, e.Name)
		if e.Func != "" && e.Func != e.Name && e.Func != e.Base && !strings.HasPrefix(e.Func, e.Base+".") {
			p("  [%s]", e.Func)
		}
		p("\n")
		const ind = "          "
		if e.Why != "" {
			p("%s", wrap(e.Why, ind+"  ", 100))
		}
		if o.Values {
			width := 0
			for _, v := range e.Values {
				width = max(width, len(v.Name))
			}
			for _, v := range e.Values {
				p("%s  %-*s = %s\n", ind, width, v.Name, v.String())
			}
		}
		for j, in := range e.Code {
			if j == o.Code {
				break
			}
			tag := "  "
			if j == 0 {
				tag = "> "
			}
			p("%s%s%#x  %-22s %s", ind, tag, in.Addr, in.Source, in.Text)
			if in.Note != "" {
				p("   // %s", in.Note)
			}
			p("\n")
		}
	}

	s := t.Summary
	p("\nSummary\n")
	if s.Kernel != 0 {
		p("  kernel   boot32 -> _rt0_amd64_linux  %14s cycles  %12s µs", commas(s.Kernel), fmtUS(t.US(s.Kernel)))
		if s.Calibration != 0 {
			p("  (TSC calibration %s µs = %.0f%%: %s)", fmtUS(t.US(s.Calibration)), 100*float64(s.Calibration)/float64(s.Kernel), s.CalibrationFrom)
		}
		p("\n")
	}
	if s.Runtime != 0 {
		p("  runtime  _rt0_amd64_linux -> main.main  %11s cycles  %12s µs\n", commas(s.Runtime), fmtUS(t.US(s.Runtime)))
	}
	if s.ToMain != 0 {
		p("  total    boot32 -> main.main  %21s cycles  %12s µs\n", commas(s.ToMain), fmtUS(t.US(s.ToMain)))
	}
	if s.Program != 0 {
		p("  program  main.main -> exit  %23s cycles  %12s µs\n", commas(s.Program), fmtUS(t.US(s.Program)))
	}
	if t.Ended {
		p("  exit status %d, %d threads alive at exit\n", t.Status, t.Threads)
	}
	failed := t.Failed()
	p("\nChecks: %d of %d hold\n", len(t.Checks)-len(failed), len(t.Checks))
	for _, c := range t.Checks {
		if c.OK && !o.Checks {
			continue
		}
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		p("  %s %s: %s\n", mark, c.Name, c.Detail)
	}
	for _, w := range t.Warnings {
		p("warning: %s\n", w)
	}
	return bw.Flush()
}

// String formats a value: hex (decimal for counts), the symbol it points
// into, and the note.
func (v Value) String() string {
	var s string
	if v.Dec {
		s = strconv.FormatUint(v.V, 10)
	} else {
		s = fmt.Sprintf("%#x", v.V)
	}
	if v.Sym != "" {
		s += " (" + v.Sym + ")"
	}
	if v.Note != "" {
		s += "  " + v.Note
	}
	return s
}

// fmtUS formats microseconds with one decimal and thousands separators.
func fmtUS(us float64) string {
	s := strconv.FormatFloat(us, 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	return commasStr(whole) + "." + frac
}

func commas(v uint64) string { return commasStr(strconv.FormatUint(v, 10)) }

func commasStr(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// wrap breaks text into lines of at most width columns, each starting
// with prefix.
func wrap(text, prefix string, width int) string {
	var b strings.Builder
	line := prefix
	for _, word := range strings.Fields(text) {
		if len(line) > len(prefix) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = prefix
		}
		if len(line) > len(prefix) {
			line += " "
		}
		line += word
	}
	if len(line) > len(prefix) {
		b.WriteString(line + "\n")
	}
	return b.String()
}
