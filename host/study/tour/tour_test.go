package tour

import (
	"testing"
)

func TestWrap(t *testing.T) {
	got := wrap("aaa bbb ccc\n\n  kept  as is", "| ", 9)
	want := "| aaa bbb\n| ccc\n|\n|   kept  as is\n"
	if got != want {
		t.Errorf("wrap:\n%q\nwant\n%q", got, want)
	}
}
