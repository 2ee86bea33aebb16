package amd64

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// defines reads the #define NAME VALUE lines of an assembly header.
func defines(t *testing.T, path string) map[string]int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]int64{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fs := strings.Fields(s.Text())
		if len(fs) >= 3 && fs[0] == "#define" {
			v, err := strconv.ParseInt(fs[2], 0, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, s.Text(), err)
			}
			m[fs[1]] = v
		}
	}
	return m
}

// TestFrameOffsets checks that the offsets the assembly uses are those of
// TrapFrame and CPU, so that neither side can change alone.
func TestFrameOffsets(t *testing.T) {
	var tf TrapFrame
	var c CPU
	want := map[string]uintptr{
		"TF_FX":          unsafe.Offsetof(tf.FX),
		"TF_XMM":         unsafe.Offsetof(tf.FX) + FXXMM,
		"TF_YMM":         unsafe.Offsetof(tf.FX) + FXYMMScratch,
		"TF_FXPARTIAL":   unsafe.Offsetof(tf.FXPartial),
		"TF_FSBASE":      unsafe.Offsetof(tf.FSBase),
		"TF_R15":         unsafe.Offsetof(tf.R15),
		"TF_R11":         unsafe.Offsetof(tf.R11),
		"TF_RCX":         unsafe.Offsetof(tf.RCX),
		"TF_RAX":         unsafe.Offsetof(tf.RAX),
		"TF_VECTOR":      unsafe.Offsetof(tf.Vector),
		"TF_ERRCODE":     unsafe.Offsetof(tf.ErrCode),
		"TF_RIP":         unsafe.Offsetof(tf.RIP),
		"TF_CS":          unsafe.Offsetof(tf.CS),
		"TF_RFLAGS":      unsafe.Offsetof(tf.RFLAGS),
		"TF_RSP":         unsafe.Offsetof(tf.RSP),
		"TF_SS":          unsafe.Offsetof(tf.SS),
		"TF_SIZE":        unsafe.Sizeof(tf),
		"TF_TOP_OFFSET":  unsafe.Sizeof(tf),
		"CPU_SELF":       unsafe.Offsetof(c.Self),
		"CPU_KSTACK":     unsafe.Offsetof(c.KStack),
		"CPU_SCRATCH":    unsafe.Offsetof(c.Scratch),
		"MSR_FS_BASE":    MSR_FS_BASE,
		"SEL_CODE":       SelCode,
		"SEL_DATA":       SelData,
		"VECTOR_SYSCALL": VectorSyscall,
		"CR0_MP":         CR0_MP,
		"CR0_EM":         CR0_EM,
		"CR4_OSFXSR":     CR4_OSFXSR,
		"CR4_OSXMMEXCPT": CR4_OSXMMEXCPT,
		"XFEATURE_X87":   XFeatureX87,
		"RFLAGS_IF":      RFLAGS_IF,
		"RFLAGS_DF":      RFLAGS_DF,
		"RFLAGS_FAST":    RFLAGSFast,
		"SYSCALL_FP_YMM": SyscallFPYMM,
	}
	got := defines(t, "frame_amd64.h")
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("frame_amd64.h lacks %s", name)
			continue
		}
		if g != int64(w) {
			t.Errorf("frame_amd64.h: %s = %d, Go says %d", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("frame_amd64.h defines %s, which no test checks", name)
		}
	}
	if FrameSize != unsafe.Sizeof(tf) || FrameSize%64 != 0 {
		t.Errorf("FrameSize %d, sizeof(TrapFrame) %d: must match and be a multiple of 64 (XSAVE alignment)", FrameSize, unsafe.Sizeof(tf))
	}
	if unsafe.Offsetof(tf.FX)%64 != 0 {
		t.Error("FX area must be 64-byte aligned within the frame")
	}
	// The words the CPU pushes sit at the top, in hardware order.
	if unsafe.Offsetof(tf.SS)+8 != unsafe.Sizeof(tf) || unsafe.Offsetof(tf.ErrCode)+8 != unsafe.Offsetof(tf.RIP) {
		t.Error("interrupt frame words out of hardware order")
	}
}

// TestVectorsGenerated checks vectors_amd64.s is what gen_vectors.go writes.
func TestVectorsGenerated(t *testing.T) {
	before, err := os.ReadFile("vectors_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "run", "gen_vectors.go", "-stdout").CombinedOutput()
	if err != nil {
		t.Fatalf("gen_vectors: %v\n%s", err, out)
	}
	if !bytes.Equal(out, before) {
		t.Error("vectors_amd64.s is stale: run `go generate ./arch/amd64`")
	}
}

// TestStackSetup checks the trap g written above a stack's top.
func TestStackSetup(t *testing.T) {
	mem := make([]uint64, 1024)
	base := uintptr(unsafe.Pointer(&mem[0]))
	size := uintptr(len(mem) * 8)
	top := setupStack(base, size)
	if top%16 != 0 || top+stackHeader > base+size || top < base+size-stackHeader-16 {
		t.Fatalf("top %#x not aligned or header out of [%#x, %#x)", top, base, base+size)
	}
	g := *U64(top)
	if g != uint64(top+16) {
		t.Fatalf("FS:-8 slot holds %#x, want g at %#x", g, top+16)
	}
	lo, hi, g0, g1 := *U64(uintptr(g)), *U64(uintptr(g) + 8), *U64(uintptr(g) + 16), *U64(uintptr(g) + 24)
	if lo != uint64(base) || hi != uint64(top) || g0 != uint64(base+stackGuard) || g1 != g0 {
		t.Errorf("trap g = lo %#x hi %#x guard %#x/%#x", lo, hi, g0, g1)
	}
}

// TestBootStackTrapG checks that kernel/entry_amd64.s, which builds the boot
// stack's trap g by hand before any Go code can run, lays it out as
// setupStack does: &g at top, g at top+16 with stack.lo, stack.hi,
// stackguard0/1 at 0, 8, 16, 24, the guard stackGuard above lo, FS at
// top+8, and room above the top for the whole header.
func TestBootStackTrapG(t *testing.T) {
	b, err := os.ReadFile("../../kernel/entry_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	d := defines(t, "../../kernel/entry_amd64.s")
	if d["STACK_HEADER"] < stackHeader {
		t.Errorf("entry_amd64.s STACK_HEADER %d < the trap g header's %d bytes", d["STACK_HEADER"], stackHeader)
	}
	for _, line := range []string{
		"LEAQ\t16(SP), AX", // g = top+16
		"MOVQ\tAX, 0(SP)",  // [top] = &g
		"MOVQ\tBX, 0(AX)",  // stack.lo
		"MOVQ\tSP, 8(AX)",  // stack.hi
		"LEAQ\t" + strconv.Itoa(stackGuard) + "(BX), CX", // lo + stackGuard
		"MOVQ\tCX, 16(AX)", // stackguard0
		"MOVQ\tCX, 24(AX)", // stackguard1
		"LEAQ\t8(SP), AX",  // FS base = top+8
	} {
		if !strings.Contains(src, line) {
			t.Errorf("entry_amd64.s lacks %q: the boot trap g no longer matches stacks.go", line)
		}
	}
}
