package main

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"strings"
)

// vsReport is one -only linux run, as -linux-json writes it.
type vsReport struct {
	Kernel  string   `json:"linux_kernel"`
	Go      string   `json:"go"`
	Machine string   `json:"machine"` // the QEMU flags both sides ran with
	Pairs   int      `json:"pairs"`
	Results []vsLine `json:"results"`
}

// vsLine is one benchmark: every run's ns/op on each side, the medians,
// and their ratio, which is absent when either side's spread is over half
// its median (the table says "noisy").
type vsLine struct {
	Name        string    `json:"name"`
	RT0         []float64 `json:"rt0_ns_per_op"`
	Linux       []float64 `json:"linux_ns_per_op"`
	RT0Median   float64   `json:"rt0_median"`
	LinuxMedian float64   `json:"linux_median"`
	Ratio       *float64  `json:"ratio_rt0_to_linux,omitempty"`
}

func writeJSON(path string, r vsReport) {
	b, err := json.MarshalIndent(r, "", "  ")
	check(err)
	check(os.WriteFile(path, append(b, '\n'), 0o644))
}

// writeSVG draws the ratios as horizontal bars on a linear scale with a
// line at 1.0 (rt0 as fast as Linux): shorter is faster on rt0.
func writeSVG(path string, r vsReport) {
	const (
		left, barMax, row, top = 150, 420, 22, 46
	)
	scale := 1.5
	for _, l := range r.Results {
		if l.Ratio != nil && *l.Ratio > scale {
			scale = *l.Ratio
		}
	}
	h := top + row*len(r.Results) + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", left+barMax+70, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="8" y="18" font-size="14">rt0 time / Linux time, same QEMU (%s); median of %d pairs</text>`+"\n", html.EscapeString(r.Machine), r.Pairs)
	fmt.Fprintf(&b, `<text x="8" y="34" fill="#555">%s, %s. Shorter is faster on rt0.</text>`+"\n", html.EscapeString(r.Kernel), html.EscapeString(r.Go))
	for i, l := range r.Results {
		y := top + row*i
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+14, html.EscapeString(l.Name))
		if l.Ratio == nil {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#888">noisy: no ratio</text>`+"\n", left+4, y+14)
			continue
		}
		w := int(*l.Ratio / scale * barMax)
		color := "#3a7d44"
		if *l.Ratio > 1 {
			color = "#b5452f"
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", left, y+3, w, row-6, color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%.2f</text>`+"\n", left+w+4, y+14, *l.Ratio)
	}
	one := left + int(barMax/scale)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black" stroke-dasharray="4 3"/>`+"\n", one, top-4, one, top+row*len(r.Results))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">1.0</text>`+"\n", one, top+row*len(r.Results)+16)
	b.WriteString("</svg>\n")
	check(os.WriteFile(path, []byte(b.String()), 0o644))
}
