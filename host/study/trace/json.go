package trace

import (
	"encoding/json"
	"fmt"
	"io"
)

// Schema names the JSON format WriteJSON writes.
const Schema = "rt0-trace/1"

// The JSON format (rt0 run -trace-out FILE), schema "rt0-trace/1".
// Addresses and register values are hex strings ("0x5c77c0": JSON numbers
// lose 64-bit precision); counts, cycles and times are numbers. Times
// count from rt0's first instruction (the boot32 stamp).
//
//	{
//	  "schema":  "rt0-trace/1",
//	  "image":   "hello.elf",
//	  "tsc_hz":  2595710000,
//	  "exit":    {"status": 0, "threads": 3},          // absent if the end line is missing
//	  "summary": {"kernel_cycles", "kernel_us",          // boot32 -> _rt0_amd64_linux
//	              "calibration_cycles", "calibration_us", "calibration_from",
//	              "runtime_cycles", "runtime_us",        // _rt0_amd64_linux -> main.main
//	              "to_main_cycles", "to_main_us",        // boot32 -> main.main
//	              "program_cycles", "program_us",        // main.main -> exit
//	              "total_cycles", "total_us"},
//	  "events": [{
//	    "name":       "runtime.execute",   // a repeat is "runtime.newproc #2"
//	    "base":       "runtime.execute",
//	    "kind":       "kernel" | "milestone" | "clone",
//	    "lane":       "kernel" | "runtime",
//	    "index":      11,                  // host/image.Milestones index (milestones only)
//	    "occurrence": 1,
//	    "tsc":        124901322,           // raw TSC
//	    "cycles":     124901322, "us": 48118.4,        // since boot32
//	    "delta_cycles": 1337492, "delta_us": 515.3,    // since the previous event
//	    "why":        "execute(gp=AX): ...",
//	    "func":       "runtime.execute",   // the function at RIP, or the clone's fn
//	    "registers":  {"rip": "0x...", "rsp": ..., "fs_base": ..., "rax": ..., ..., "r15": ...},
//	    "snapshot":   {"addr": "0x...", "words": ["0x...", ... 32]},   // if the kernel copied one
//	    "clone":      {"tid": 2, "fn": "0x...", "mp": ..., "gp": ..., "stack": ...},
//	    "values":     [{"name": "gp.goid", "value": "0x1", "decimal": 1, "symbol": "...", "note": "..."}],
//	    "code":       [{"addr": "0x...", "source": "proc.go:3331", "text": "CMPQ SP, 0x10(R14)", "note": "..."}]
//	  }],
//	  "checks":   [{"name": "execute: goid = the new g's", "ok": true, "detail": "goid 1, newproc made goid 1"}],
//	  "warnings": ["..."]
//	}
type jsonTrace struct {
	Schema   string      `json:"schema"`
	Image    string      `json:"image,omitempty"`
	TSCHz    uint64      `json:"tsc_hz"`
	Exit     *jsonExit   `json:"exit,omitempty"`
	Summary  jsonSummary `json:"summary"`
	Events   []jsonEvent `json:"events"`
	Checks   []jsonCheck `json:"checks"`
	Warnings []string    `json:"warnings,omitempty"`
}

type jsonExit struct {
	Status  int `json:"status"`
	Threads int `json:"threads"`
}

type jsonSummary struct {
	KernelCycles      uint64  `json:"kernel_cycles"`
	KernelUS          float64 `json:"kernel_us"`
	CalibrationCycles uint64  `json:"calibration_cycles"`
	CalibrationUS     float64 `json:"calibration_us"`
	CalibrationFrom   string  `json:"calibration_from,omitempty"`
	RuntimeCycles     uint64  `json:"runtime_cycles"`
	RuntimeUS         float64 `json:"runtime_us"`
	ToMainCycles      uint64  `json:"to_main_cycles"`
	ToMainUS          float64 `json:"to_main_us"`
	ProgramCycles     uint64  `json:"program_cycles"`
	ProgramUS         float64 `json:"program_us"`
	TotalCycles       uint64  `json:"total_cycles"`
	TotalUS           float64 `json:"total_us"`
}

type jsonEvent struct {
	Name        string            `json:"name"`
	Base        string            `json:"base"`
	Kind        string            `json:"kind"`
	Lane        string            `json:"lane"`
	Index       *int              `json:"index,omitempty"`
	Occurrence  int               `json:"occurrence"`
	TSC         uint64            `json:"tsc"`
	Cycles      uint64            `json:"cycles"`
	US          float64           `json:"us"`
	DeltaCycles uint64            `json:"delta_cycles"`
	DeltaUS     float64           `json:"delta_us"`
	Why         string            `json:"why,omitempty"`
	Func        string            `json:"func,omitempty"`
	Registers   map[string]string `json:"registers,omitempty"`
	Snapshot    *jsonSnap         `json:"snapshot,omitempty"`
	Clone       *jsonClone        `json:"clone,omitempty"`
	Values      []jsonValue       `json:"values,omitempty"`
	Code        []jsonInst        `json:"code,omitempty"`
}

type jsonSnap struct {
	Addr  string   `json:"addr"`
	Words []string `json:"words"`
}

type jsonClone struct {
	TID   uint64 `json:"tid"`
	Fn    string `json:"fn"`
	MP    string `json:"mp"`
	GP    string `json:"gp"`
	Stack string `json:"stack"`
}

type jsonValue struct {
	Name    string  `json:"name"`
	Value   string  `json:"value"`
	Decimal *uint64 `json:"decimal,omitempty"`
	Symbol  string  `json:"symbol,omitempty"`
	Note    string  `json:"note,omitempty"`
}

type jsonInst struct {
	Addr   string `json:"addr"`
	Source string `json:"source,omitempty"`
	Text   string `json:"text"`
	Note   string `json:"note,omitempty"`
}

type jsonCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func hx(v uint64) string { return fmt.Sprintf("%#x", v) }

// us rounds microseconds to 0.1.
func (t *Timeline) us(c uint64) float64 { return float64(int64(t.US(c)*10+0.5)) / 10 }

// WriteJSON writes the timeline in the rt0-trace/1 format (see above).
func (t *Timeline) WriteJSON(w io.Writer) error {
	s := t.Summary
	out := jsonTrace{
		Schema: Schema, Image: t.Image, TSCHz: t.TSCHz, Warnings: t.Warnings,
		Summary: jsonSummary{
			KernelCycles: s.Kernel, KernelUS: t.us(s.Kernel),
			CalibrationCycles: s.Calibration, CalibrationUS: t.us(s.Calibration), CalibrationFrom: s.CalibrationFrom,
			RuntimeCycles: s.Runtime, RuntimeUS: t.us(s.Runtime),
			ToMainCycles: s.ToMain, ToMainUS: t.us(s.ToMain),
			ProgramCycles: s.Program, ProgramUS: t.us(s.Program),
			TotalCycles: s.Total, TotalUS: t.us(s.Total),
		},
		Events: []jsonEvent{},
		Checks: []jsonCheck{},
	}
	if t.Ended {
		out.Exit = &jsonExit{t.Status, t.Threads}
	}
	for i := range t.Events {
		e := &t.Events[i]
		je := jsonEvent{
			Name: e.Name, Base: e.Base, Kind: e.Kind, Lane: e.Lane, Occurrence: e.Occurrence,
			TSC: e.TSC, Cycles: e.Cycles, US: t.us(e.Cycles), DeltaCycles: e.Delta, DeltaUS: t.us(e.Delta),
			Why: e.Why, Func: e.Func,
		}
		if e.Index >= 0 {
			idx := e.Index
			je.Index = &idx
		}
		if h := e.Hit; h != nil {
			je.Registers = map[string]string{"rip": hx(h.RIP), "rsp": hx(h.RSP), "fs_base": hx(h.FSBase)}
			for i, n := range RegNames {
				je.Registers[n] = hx(h.Regs[i])
			}
			if h.SnapAddr != 0 {
				sn := &jsonSnap{Addr: hx(h.SnapAddr)}
				for _, w := range h.Snap {
					sn.Words = append(sn.Words, hx(w))
				}
				je.Snapshot = sn
			}
		}
		if c := e.Clone; c != nil {
			je.Clone = &jsonClone{TID: c.TID, Fn: hx(c.Fn), MP: hx(c.MP), GP: hx(c.GP), Stack: hx(c.Stack)}
		}
		for _, v := range e.Values {
			jv := jsonValue{Name: v.Name, Value: hx(v.V), Symbol: v.Sym, Note: v.Note}
			if v.Dec {
				d := v.V
				jv.Decimal = &d
			}
			je.Values = append(je.Values, jv)
		}
		for _, in := range e.Code {
			je.Code = append(je.Code, jsonInst{Addr: hx(in.Addr), Source: in.Source, Text: in.Text, Note: in.Note})
		}
		out.Events = append(out.Events, je)
	}
	for _, c := range t.Checks {
		out.Checks = append(out.Checks, jsonCheck(c))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
