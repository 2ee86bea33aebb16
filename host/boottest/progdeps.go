//go:build tools

package boottest

// The programs under testdata/ build in this module, but go mod tidy does
// not look at testdata: this file keeps the modules they alone import in
// go.mod (the tag keeps it out of every build).
import (
	_ "github.com/google/pprof/profile" // testdata/progs/timers reads its CPU profile
)
