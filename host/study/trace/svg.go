package trace

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// The picture (rt0 run -trace-svg FILE). The kernel's steps take
// microseconds to milliseconds and the runtime's come in bursts a few µs
// apart after milliseconds of schedinit, so one linear axis shows neither.
// The picture has three parts:
//
//   - an overview bar, linear in time, from rt0's first instruction to
//     exit: the kernel's part (with the TSC calibration inside it), the
//     runtime's, and the program's;
//   - the kernel lane: a logarithmic axis, log10(1 + t/1µs), t from rt0's
//     first instruction (boot32), up to entering _rt0_amd64_linux;
//   - the runtime lane: the same logarithmic scale, t from entering
//     _rt0_amd64_linux (the kernel's "runtime" stamp), up to exit.
//
// Milestones are ticks on their lane; their labels (name and time, the
// lane's time) fan out above the axis on leader lines so that bursts stay
// readable.

const (
	svgW       = 1500
	svgLeft    = 120
	svgRight   = 150 // room for the last labels, which lean right
	svgLaneGap = 60
	svgGap     = 19  // minimum horizontal distance between two labels
	svgAngle   = -60 // label rotation, degrees
)

var laneColor = map[string]string{LaneKernel: "#2f6db3", LaneRuntime: "#c0562a", "clone": "#7b3fa0", "calib": "#f2c14e", "program": "#5a9e4b"}

// WriteSVG draws the timeline as an SVG picture.
func (t *Timeline) WriteSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	var kernel, runtime []*Event
	var runStart, exitAt uint64
	haveRun := false
	for i := range t.Events {
		e := &t.Events[i]
		switch {
		case e.Kind == KindKernel && e.Base == "runtime":
			runStart, haveRun = e.Cycles, true
			kernel = append(kernel, e)
		case e.Kind == KindKernel && e.Base == "exit":
			exitAt = e.Cycles
			runtime = append(runtime, e)
		case e.Lane == LaneKernel:
			kernel = append(kernel, e)
		default:
			runtime = append(runtime, e)
		}
	}
	if !haveRun && len(runtime) > 0 {
		runStart = runtime[0].Cycles
	}
	if exitAt == 0 && len(t.Events) > 0 {
		exitAt = t.Events[len(t.Events)-1].Cycles
	}

	const overviewY = 70
	kAxis := overviewY + 40 + t.labelRoom(kernel, 0, "")
	rAxis := kAxis + svgLaneGap + t.labelRoom(runtime, runStart, "+")
	height := rAxis + 110
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`+"\n", svgW, height, svgW, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	title := "rt0 startup trace"
	if t.Image != "" {
		title += ": " + t.Image
	}
	p(`<text x="%d" y="26" font-size="18" font-weight="bold">%s</text>`+"\n", svgLeft, esc(title))
	p(`<text x="%d" y="46" fill="#555">TSC %.1f MHz · first instruction → main.main %s · exit status %d</text>`+"\n",
		svgLeft, float64(t.TSCHz)/1e6, esc(fmtDur(t.US(t.Summary.ToMain))), t.Status)

	// Overview: linear.
	plotW := float64(svgW - svgLeft - svgRight)
	total := exitAt
	if total == 0 {
		total = 1
	}
	lin := func(c uint64) float64 { return svgLeft + plotW*float64(c)/float64(total) }
	p(`<text x="%d" y="%d" text-anchor="end" font-weight="bold">overview</text>`+"\n", svgLeft-10, overviewY+14)
	p(`<text x="%d" y="%d" text-anchor="end" fill="#555" font-size="10">linear</text>`+"\n", svgLeft-10, overviewY+27)
	bar := func(from, to uint64, color, label string, y, h int) {
		x0, x1 := lin(from), lin(to)
		p(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n", x0, y, math.Max(x1-x0, 1), h, color, esc(label))
	}
	s := t.Summary
	bar(0, runStart, laneColor[LaneKernel], "kernel "+fmtDur(t.US(runStart)), overviewY, 20)
	var calFrom uint64
	if e := t.kernel("memory"); e != nil && s.CalibrationFrom != "the kernel's count" {
		calFrom = e.Cycles
	} else if e := t.kernel("clock"); e != nil && s.Calibration <= e.Cycles {
		calFrom = e.Cycles - s.Calibration
	}
	if s.Calibration != 0 {
		bar(calFrom, calFrom+s.Calibration, laneColor["calib"], "TSC calibration "+fmtDur(t.US(s.Calibration)), overviewY, 20)
	}
	mainAt := runStart + s.Runtime
	bar(runStart, mainAt, laneColor[LaneRuntime], "runtime "+fmtDur(t.US(s.Runtime)), overviewY, 20)
	bar(mainAt, exitAt, laneColor["program"], "main.main → exit "+fmtDur(t.US(exitAt-mainAt)), overviewY, 20)
	legend := []struct{ color, text string }{
		{laneColor[LaneKernel], "kernel " + fmtDur(t.US(runStart))},
		{laneColor["calib"], "TSC calibration " + fmtDur(t.US(s.Calibration))},
		{laneColor[LaneRuntime], "runtime to main.main " + fmtDur(t.US(s.Runtime))},
		{laneColor["program"], "main.main → exit " + fmtDur(t.US(exitAt-mainAt))},
	}
	lx := float64(svgLeft)
	for _, l := range legend {
		p(`<rect x="%.1f" y="%d" width="12" height="12" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n", lx, overviewY+28, l.color, lx+16, overviewY+39, esc(l.text))
		lx += 16 + 7*float64(len([]rune(l.text))) + 24
	}

	t.lane(p, kernel, 0, runStart, kAxis, "kernel", "log time since boot32", laneColor[LaneKernel], "")
	t.lane(p, runtime, runStart, exitAt, rAxis, "runtime", "log time since entering _rt0_amd64_linux", laneColor[LaneRuntime], "+")

	p(`<text x="%d" y="%d" fill="#555" font-size="11">%s</text>`+"\n", svgLeft, height-30,
		esc("Scales: the overview is linear in time; each lane is logarithmic, x = log10(1 + t/1µs), t from the lane's start (kernel: rt0's first instruction; runtime: entering _rt0_amd64_linux)."))
	p(`<text x="%d" y="%d" fill="#555" font-size="11">%s</text>`+"\n", svgLeft, height-14,
		esc("Times are the guest's TSC under the kernel's calibration. Labels fan out on leader lines; the tick is where the event is."))
	p("</svg>\n")
	return bw.Flush()
}

// lane draws one lane: a log axis over [from, to] cycles, its events as
// ticks with fanned-out labels.
func (t *Timeline) lane(p func(string, ...any), evs []*Event, from, to uint64, axisY int, name, scale, color, sign string) {
	plotW := float64(svgW - svgLeft - svgRight)
	span := t.US(to - from)
	if span < 1 {
		span = 1
	}
	// The axis starts at the decade below the lane's first event after its
	// origin: an event at the origin itself (boot32) sits on the left edge.
	minL, maxL := 0.0, math.Log10(1+span)
	for _, e := range evs {
		if e.Cycles > from {
			minL = math.Min(math.Floor(math.Log10(1+t.US(e.Cycles-from))), maxL-1)
			break
		}
	}
	minL = math.Max(minL, 0)
	pos := func(us float64) float64 {
		return svgLeft + plotW*math.Max(math.Log10(1+us)-minL, 0)/(maxL-minL)
	}
	x := func(c uint64) float64 {
		us := 0.0
		if c > from {
			us = t.US(c - from)
		}
		return pos(us)
	}
	p(`<text x="%d" y="%d" text-anchor="end" font-weight="bold" fill="%s">%s</text>`+"\n", svgLeft-10, axisY+4, color, name)
	p(`<text x="%d" y="%d" text-anchor="end" fill="#555" font-size="10">%s</text>`+"\n", svgLeft-10, axisY+18, "log scale")
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333" stroke-width="1.5"/>`+"\n", svgLeft, axisY, svgW-svgRight, axisY)
	// Decades.
	for d := int(minL); float64(d) <= maxL+1e-9; d++ {
		us := math.Pow(10, float64(d))
		if us > span {
			break
		}
		gx := pos(us)
		text, anchor := sign+fmtDur(us), "middle"
		if d == int(minL) && minL > 0 {
			text, anchor = "≤ "+text, "start" // earlier events sit on the edge
		}
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#bbb"/>`+"\n", gx, axisY, gx, axisY+8)
		p(`<text x="%.1f" y="%d" text-anchor="%s" fill="#555" font-size="10">%s</text>`+"\n", gx, axisY+20, anchor, esc(text))
	}
	p(`<text x="%d" y="%d" fill="#555" font-size="10">%s</text>`+"\n", svgLeft, axisY+36, esc(scale))

	xs := make([]float64, len(evs))
	for i, e := range evs {
		xs[i] = x(e.Cycles)
	}
	lxs := spread(xs, svgGap, svgLeft, float64(svgW-svgRight)+20)
	for i, e := range evs {
		c := color
		if e.Kind == KindClone {
			c = laneColor["clone"]
		} else if e.Kind == KindKernel && e.Lane == LaneKernel && name == "runtime" {
			c = laneColor[LaneKernel]
		}
		weight := ""
		if e.Base == "main.main" || e.Base == "runtime.main" || e.Base == "runtime" {
			weight = ` font-weight="bold"`
		}
		tx, lx := xs[i], lxs[i]
		ly := float64(axisY - 34)
		label := t.label(e, from, sign)
		tip := fmt.Sprintf("%s at %s since boot32 (+%s): %s", e.Name, fmtDur(t.US(e.Cycles)), fmtDur(t.US(e.Delta)), e.Why)
		p(`<g><title>%s</title>`, esc(tip))
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"/>`, tx, axisY-7, tx, axisY+7, c)
		p(`<polyline points="%.1f,%d %.1f,%d %.1f,%.1f" fill="none" stroke="%s" stroke-width="0.8" opacity="0.7"/>`, tx, axisY-7, tx, axisY-14, lx, ly+4, c)
		p(`<text x="%.1f" y="%.1f" transform="rotate(%d %.1f %.1f)" fill="%s"%s>%s</text></g>`+"\n", lx, ly, svgAngle, lx, ly, c, weight, esc(label))
	}
}

// label is an event's label in a lane whose time starts at from.
func (t *Timeline) label(e *Event, from uint64, sign string) string {
	rel := uint64(0)
	if e.Cycles > from {
		rel = e.Cycles - from
	}
	return e.Name + "  " + sign + fmtDur(t.US(rel))
}

// labelRoom is the height the rotated labels of a lane need.
func (t *Timeline) labelRoom(evs []*Event, from uint64, sign string) int {
	longest := 0
	for _, e := range evs {
		longest = max(longest, len([]rune(t.label(e, from, sign))))
	}
	const charW = 7.2 // DejaVu Sans at 12px, bold included
	return int(float64(longest)*charW*math.Sin(-svgAngle*math.Pi/180)) + 50
}

// spread places labels at the desired xs (ascending) at least gap apart,
// each group of crowded labels centred on its ticks, within [lo, hi].
func spread(xs []float64, gap, lo, hi float64) []float64 {
	type block struct {
		first, n int
		sum      float64 // sum of (desired x - index in block * gap)
		q        float64 // position of the block's first label
	}
	clamp := func(b *block) {
		b.q = b.sum / float64(b.n)
		if last := b.q + float64(b.n-1)*gap; last > hi {
			b.q -= last - hi
		}
		b.q = math.Max(b.q, lo)
	}
	var blocks []block
	for i, x := range xs {
		blocks = append(blocks, block{first: i, n: 1, sum: x})
		clamp(&blocks[len(blocks)-1])
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.q+float64(a.n)*gap <= b.q {
				break
			}
			m := block{first: a.first, n: a.n + b.n, sum: a.sum + b.sum - float64(b.n*a.n)*gap}
			clamp(&m)
			blocks = append(blocks[:len(blocks)-2], m)
		}
	}
	out := make([]float64, len(xs))
	for _, b := range blocks {
		for k := 0; k < b.n; k++ {
			out[b.first+k] = b.q + float64(k)*gap
		}
	}
	return out
}

// fmtDur formats microseconds as µs, ms or s with three significant-ish
// digits.
func fmtDur(us float64) string {
	switch {
	case us < 1:
		return fmt.Sprintf("%.2f µs", us)
	case us < 1000:
		return trimZero(fmt.Sprintf("%.1f", us)) + " µs"
	case us < 1e6:
		return trimZero(fmt.Sprintf("%.2f", us/1000)) + " ms"
	default:
		return trimZero(fmt.Sprintf("%.2f", us/1e6)) + " s"
	}
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
