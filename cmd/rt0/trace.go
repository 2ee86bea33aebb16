package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"rt0/host/image"
	"rt0/host/qemu"
	"rt0/host/study/bin"
	"rt0/host/study/trace"
)

// traceFlags are rt0 run's startup-trace flags. Any of them turns the
// kernel's tracer on (kernel option rt0.trace); without them the kernel
// arms nothing for it and the host does nothing.
type traceFlags struct {
	on       bool
	jsonFile string
	svgFile  string
}

// traceOption is the kernel option that turns the tracer on.
const traceOption = "rt0.trace"

func (tf *traceFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&tf.on, "trace", false, "trace Go's startup (kernel option "+traceOption+"): after the program's output, print the timeline from rt0's first instruction to main.main on standard error")
	fs.StringVar(&tf.jsonFile, "trace-out", "", "write the startup trace as JSON (schema "+trace.Schema+") to `file` (turns the tracer on; the terminal timeline needs -trace)")
	fs.StringVar(&tf.svgFile, "trace-svg", "", "draw the startup timeline as an SVG picture in `file` (turns the tracer on; the terminal timeline needs -trace)")
}

func (tf *traceFlags) enabled() bool { return tf.on || tf.jsonFile != "" || tf.svgFile != "" }

// appendWords adds the tracer's kernel option in front of the raw kernel
// words (in front: the raw words may end in -- and arguments).
func (tf *traceFlags) appendWords(raw string) string {
	if !tf.enabled() {
		return raw
	}
	return strings.TrimSpace(traceOption + " " + raw)
}

// timeline parses the trace in a run's kernel log and resolves it with the
// image that ran.
func timeline(elfPath string, debugLog []byte) (*trace.Timeline, error) {
	rec, err := trace.Parse(debugLog)
	if err != nil {
		return nil, err
	}
	b, err := bin.Open(elfPath)
	if err != nil {
		return nil, err
	}
	return trace.Resolve(rec, b, image.Milestones)
}

// report prints the timeline on w and writes the requested files.
func (tf *traceFlags) report(elfPath string, res *qemu.Result, w io.Writer) error {
	t, err := timeline(elfPath, res.Debug)
	if err != nil {
		return err
	}
	if tf.on {
		fmt.Fprintln(w)
		if err := t.WriteText(w, trace.DefaultText); err != nil {
			return err
		}
	}
	write := func(name string, f func(io.Writer) error) error {
		if name == "" {
			return nil
		}
		out, err := os.Create(name)
		if err != nil {
			return err
		}
		if err := f(out); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	}
	if err := write(tf.jsonFile, t.WriteJSON); err != nil {
		return err
	}
	return write(tf.svgFile, t.WriteSVG)
}
