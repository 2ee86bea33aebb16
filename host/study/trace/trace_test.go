package trace

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"testing"
)

// testdata/goroutine.log is the kernel log of a real run of
// examples/goroutine with rt0.trace (its trace lines and a few others):
// the first round of 16 milestones, then the second (newproc, runqput,
// schedule, execute, gogo after main.main), two clones.
func TestParseRealLog(t *testing.T) {
	log, err := os.ReadFile("testdata/goroutine.log")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(log)
	if err != nil {
		t.Fatal(err)
	}
	if r.TSCHz < 1e8 || r.Count != 16 || !r.Ended || r.Status != 0 || r.Threads < 1 {
		t.Errorf("record header: %+v", r)
	}
	var kernel []string
	for _, k := range r.Kernel {
		kernel = append(kernel, k.Name)
	}
	if got := strings.Join(kernel, " "); got != "boot32 entry64 cpu memory clock files runtime exit" {
		t.Errorf("kernel stamps %q", got)
	}
	var idx []int
	for i, h := range r.Hits {
		idx = append(idx, h.Index)
		if i > 0 && h.TSC <= r.Hits[i-1].TSC {
			t.Errorf("hit %d (milestone %d) TSC %#x not after the previous %#x", i, h.Index, h.TSC, r.Hits[i-1].TSC)
		}
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 7, 8, 10, 11, 12}
	if len(idx) != len(want) {
		t.Fatalf("hit indexes %v, want %v", idx, want)
	}
	for i := range want {
		if idx[i] != want[i] {
			t.Fatalf("hit indexes %v, want %v", idx, want)
		}
	}
	// The hook's snapshot is g0: 64 KiB between stack.lo and stack.hi.
	hook := r.Hits[2]
	if hook.SnapAddr != hook.Reg("rdi") || hook.Snap[1]-hook.Snap[0] != 65536 {
		t.Errorf("hook: DI %#x snap at %#x: %#x %#x", hook.Reg("rdi"), hook.SnapAddr, hook.Snap[0], hook.Snap[1])
	}
	if len(r.Clones) != 2 || r.Clones[0].TID != 2 || r.Clones[0].Fn == 0 {
		t.Errorf("clones %+v", r.Clones)
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse([]byte("rt0: 64-bit entry\nrt0: exit 0\n")); !errors.Is(err, ErrNoTrace) {
		t.Errorf("no trace: %v", err)
	}
	bad := []string{
		"rt0: trace begin tsc-hz x milestones 16\n",
		"rt0: trace begin milestones 16\n",
		"rt0: trace begin tsc-hz 100 milestones 1\nrt0: trace k boot32\n",
		"rt0: trace begin tsc-hz 100 milestones 1\nrt0: trace k boot32 0xzz\n",
		"rt0: trace begin tsc-hz 100 milestones 1\nrt0: trace m 0 0x1 0x2\n",
		"rt0: trace begin tsc-hz 100 milestones 1\nrt0: trace clone 0x1 0x2 0x3\n",
		"rt0: trace begin tsc-hz 100 milestones 1\nrt0: trace end status x threads 1\n",
		"rt0: trace begin tsc-hz 100 milestones 1\nrt0: trace ap 1 1 0x1 0x2 0x3 0x4\n",
		"rt0: trace begin tsc-hz 100 milestones 1\nrt0: trace ap x 1 0x1 0x2 0x3 0x4 0x5\n",
		"rt0: trace begin tsc-hz 100 milestones 1\nrt0: trace thread 2\n",
	}
	for _, b := range bad {
		if _, err := Parse([]byte(b)); err == nil || errors.Is(err, ErrNoTrace) {
			t.Errorf("%q: err %v, want a parse error", b, err)
		}
	}
	// Unknown trace lines and other lines are skipped; CRLF is fine; the
	// calibration count is optional.
	r, err := Parse([]byte("noise\r\nrt0: trace begin tsc-hz 1000 milestones 2 calibration 77\r\nrt0: trace future 1 2\r\nrt0: trace k boot32 10\r\n"))
	if err != nil || r.TSCHz != 1000 || r.Calibration != 77 || len(r.Kernel) != 1 || r.Kernel[0].TSC != 0x10 || r.Ended {
		t.Errorf("lenient parse: %+v, %v", r, err)
	}
}

// The SMP lines: each AP's stages, and the CPU of each live thread.
func TestParseSMP(t *testing.T) {
	r, err := Parse([]byte("rt0: trace begin tsc-hz 1000 milestones 1\nrt0: trace ap 1 2 0x10 0x11 0x12 0x13 0x20\nrt0: trace thread 1 0\nrt0: trace thread 2 1\nrt0: trace end status 0 threads 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.APs) != 1 || r.APs[0] != (AP{CPU: 1, APICID: 2, SIPI: 0x10, Real: 0x11, Long: 0x12, Main: 0x13, Sched: 0x20}) {
		t.Errorf("APs %+v", r.APs)
	}
	if len(r.ThreadCPU) != 2 || r.ThreadCPU[1] != 0 || r.ThreadCPU[2] != 1 {
		t.Errorf("thread CPUs %v", r.ThreadCPU)
	}
}

func TestHitMem(t *testing.T) {
	h := Hit{SnapAddr: 0x1000}
	h.Snap[0] = 0x1122334455667788
	h.Snap[1] = 0x99aabbccddeeff00
	h.Snap[31] = 0xdeadbeef
	cases := []struct {
		addr uint64
		n    int
		v    uint64
		ok   bool
	}{
		{0x1000, 8, 0x1122334455667788, true},
		{0x1000, 4, 0x55667788, true},
		{0x1004, 4, 0x11223344, true},
		{0x1006, 4, 0xff001122, true}, // across two words
		{0x10f8, 8, 0xdeadbeef, true},
		{0x10fc, 8, 0, false}, // past the end
		{0xff8, 8, 0, false},  // before the start
	}
	for _, c := range cases {
		v, ok := h.Mem(c.addr, c.n)
		if v != c.v || ok != c.ok {
			t.Errorf("Mem(%#x, %d) = %#x, %v; want %#x, %v", c.addr, c.n, v, ok, c.v, c.ok)
		}
	}
	if _, ok := (&Hit{}).Mem(0, 8); ok {
		t.Error("a hit without a snapshot read memory")
	}
}

func TestSpread(t *testing.T) {
	xs := []float64{0, 100, 500, 501, 502, 503, 990, 995, 1000}
	out := spread(xs, 10, 0, 1000)
	for i := range out {
		if out[i] < 0 || out[i] > 1000 {
			t.Errorf("label %d at %v, outside [0, 1000]", i, out[i])
		}
		if i > 0 && out[i]-out[i-1] < 10-1e-9 {
			t.Errorf("labels %d and %d %v apart: %v", i-1, i, out[i]-out[i-1], out)
		}
	}
	if out[0] != 0 || out[1] != 100 {
		t.Errorf("lone labels moved: %v", out)
	}
	// A burst is centred on its ticks.
	if mid := (out[2] + out[5]) / 2; math.Abs(mid-501.5) > 1e-9 {
		t.Errorf("burst centred at %v, want 501.5: %v", mid, out)
	}
}

func TestFormatNumbers(t *testing.T) {
	for in, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := commas(in); got != want {
			t.Errorf("commas(%d) = %q", in, got)
		}
	}
	for in, want := range map[float64]string{0.5: "0.50 µs", 52.49: "52.5 µs", 1500: "1.5 ms", 64104.7: "64.1 ms", 2.5e6: "2.5 s"} {
		if got := fmtDur(in); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", in, got, want)
		}
	}
	if got := fmtUS(1234567.89); got != "1,234,567.9" {
		t.Errorf("fmtUS = %q", got)
	}
}

// sample is a small timeline built by hand (Resolve needs an image; the
// boot tests in cmd/rt0 resolve real ones).
func sample() *Timeline {
	h := &Hit{Index: 11, TSC: 900, RIP: 0x44eac0, SnapAddr: 0xc000}
	h.Regs[0] = 0xc000
	return &Timeline{
		Image: "x<y>.elf", TSCHz: 1_000_000, Ended: true, Threads: 3,
		Events: []Event{
			{Kind: KindKernel, Lane: LaneKernel, Name: "boot32", Base: "boot32", Index: -1, Occurrence: 1, TSC: 100},
			{Kind: KindKernel, Lane: LaneKernel, Name: "enter runtime", Base: "runtime", Index: -1, Occurrence: 1, TSC: 600, Cycles: 500, Delta: 500},
			{Kind: KindMilestone, Lane: LaneRuntime, Name: "runtime.execute", Base: "runtime.execute", Index: 11, Occurrence: 1, TSC: 900, Cycles: 800, Delta: 300, Hit: h,
				Why: "execute & <go>", Values: []Value{{Name: "gp.goid", V: 1, Dec: true}, {Name: "AX (gp)", V: 0xc000, Sym: "s", Note: "n"}},
				Code: []Inst{{Addr: 0x44eac0, Text: "CMPQ SP, 0x10(R14)", Source: "proc.go:3331"}}},
			{Kind: KindClone, Lane: LaneRuntime, Name: "clone", Base: "clone", Index: -1, Occurrence: 1, TSC: 950, Cycles: 850, Delta: 50, Clone: &Clone{TID: 2, Fn: 0x47d680}},
			{Kind: KindMilestone, Lane: LaneRuntime, Name: "main.main", Base: "main.main", Index: 15, Occurrence: 1, TSC: 1000, Cycles: 900, Delta: 50, Hit: &Hit{Index: 15}},
			{Kind: KindKernel, Lane: LaneKernel, Name: "exit", Base: "exit", Index: -1, Occurrence: 1, TSC: 1100, Cycles: 1000, Delta: 100},
		},
		Checks:  []Check{{"good", true, "fine"}, {"bad", false, "broken"}},
		Summary: Summary{Kernel: 500, Runtime: 400, ToMain: 900, Program: 100, Total: 1000, Calibration: 200, CalibrationFrom: "test"},
	}
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteText(&b, DefaultText); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"runtime.execute", "gp.goid", "= 1\n", "AX (gp)", "= 0xc000 (s)  n", "proc.go:3331", "CMPQ SP, 0x10(R14)",
		"Checks: 1 of 2 hold", "FAIL bad: broken", "TSC calibration", "800.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Schema string `json:"schema"`
		Events []struct {
			Name      string            `json:"name"`
			Index     *int              `json:"index"`
			US        float64           `json:"us"`
			Registers map[string]string `json:"registers"`
			Snapshot  *struct {
				Addr  string   `json:"addr"`
				Words []string `json:"words"`
			} `json:"snapshot"`
			Values []struct {
				Name    string  `json:"name"`
				Value   string  `json:"value"`
				Decimal *uint64 `json:"decimal"`
			} `json:"values"`
		} `json:"events"`
		Checks []struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if got.Schema != Schema || len(got.Events) != 6 || len(got.Checks) != 2 || got.Checks[1].OK {
		t.Fatalf("decoded %+v", got)
	}
	ex := got.Events[2]
	if ex.Name != "runtime.execute" || ex.Index == nil || *ex.Index != 11 || ex.US != 800 ||
		ex.Registers["rax"] != "0xc000" || ex.Registers["rip"] != "0x44eac0" || len(ex.Registers) != 18 ||
		ex.Snapshot == nil || len(ex.Snapshot.Words) != SnapWords ||
		ex.Values[0].Decimal == nil || *ex.Values[0].Decimal != 1 || ex.Values[1].Value != "0xc000" {
		t.Errorf("execute event: %+v", ex)
	}
	if got.Events[0].Index != nil {
		t.Errorf("a kernel stamp has an index")
	}
}

func TestWriteSVG(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	d := xml.NewDecoder(strings.NewReader(out))
	texts := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "text" {
			texts++
		}
	}
	for _, want := range []string{"x&lt;y&gt;.elf", "runtime.execute", "main.main", "log time since boot32", "log time since entering _rt0_amd64_linux"} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if texts < 10 {
		t.Errorf("%d text elements", texts)
	}
}
