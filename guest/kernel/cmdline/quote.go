// Quote is the host-side inverse of Split: the `rt0 run` command uses it to
// turn the program's arguments into QEMU's -append line. Unlike the rest of
// the package it runs on the host only, and allocates.

package cmdline

// needsQuote reports whether Split would not give word back as it is.
func needsQuote(word string) bool {
	if word == "" {
		return true
	}
	for i := 0; i < len(word); i++ {
		switch c := word[i]; {
		case c == '"', c == '\\', isSpace(c):
			return true
		}
	}
	return false
}

// Quote returns word quoted so that Split reads it back as the single word
// word: unchanged if it needs nothing, otherwise in double quotes with each
// '"' and '\' escaped by a backslash. Quoting does not change how Split
// classifies a word (an rt0. option, NAME=VALUE or --); put the words after
// a -- to pass them to the program verbatim. A word cannot contain NUL,
// which ends the command line.
func Quote(word string) string {
	if !needsQuote(word) {
		return word
	}
	b := make([]byte, 0, len(word)+2)
	b = append(b, '"')
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	b = append(b, '"')
	return string(b)
}
