// Package shell quotes command lines for a POSIX shell, so that what rt0
// prints with -v can be pasted back into a terminal.
package shell

import "strings"

// Quote renders a command line for a POSIX shell (for -v output and
// reproducing a run by hand).
func Quote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+@%") == "" {
			b.WriteString(a)
			continue
		}
		b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}
