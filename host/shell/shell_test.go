package shell

import "testing"

func TestQuote(t *testing.T) {
	got := Quote([]string{"qemu", "-append", "a b", "it's", "", "path=/dev/fd/3,x"})
	want := `qemu -append 'a b' 'it'\''s' '' path=/dev/fd/3,x`
	if got != want {
		t.Errorf("Quote = %s; want %s", got, want)
	}
}
