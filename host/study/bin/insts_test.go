package bin

import "testing"

func TestInstsAt(t *testing.T) {
	b, err := Open(plainGo(t))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := b.Func("runtime.rt0_go.abi0")
	if !ok {
		t.Fatal("no rt0_go")
	}
	insts := b.InstsAt(s.Addr, 3)
	if len(insts) != 3 || insts[0].Addr != s.Addr || insts[0].Text != "MOVQ DI, AX" || insts[1].Text != "MOVQ SI, BX" || insts[2].File != "asm_amd64.s" {
		t.Errorf("InstsAt(rt0_go, 3) = %+v", insts)
	}
	if got := b.InstsAt(0x10, 3); len(got) != 0 {
		t.Errorf("InstsAt outside the image: %+v", got)
	}
}
