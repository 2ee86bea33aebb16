package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestConformanceQuick runs make test's subset of the conformance list
// through rt0 test (make conformance runs all of it). A failure fails the
// test, except one whose reason is listed in KnownGaps, which is logged.
func TestConformanceQuick(t *testing.T) {
	root := testRoot(t)
	rt0 := buildRT0(t, root)
	pkgs := selectPackages(nil, true)
	c := newCollector()
	start := time.Now()
	var stderr bytes.Buffer
	for _, g := range groupPackages(pkgs, goEnv("GOROOT")) {
		args := append([]string{"test", "-json", "-timeout", "5m"}, g.flags...)
		args = append(args, g.paths...)
		if err := runGroup(c, rt0, args, root, &stderr, nil); err != nil {
			t.Fatalf("%v\n%s", err, stderr.Bytes())
		}
	}
	rs := c.results()
	var text bytes.Buffer
	WriteText(&text, rs, Run{Wall: time.Since(start)})
	t.Logf("rt0 test, %d packages in %v:\n%s", len(pkgs), time.Since(start).Round(time.Millisecond), text.Bytes())
	if len(rs) != len(pkgs) {
		t.Errorf("rt0 test reported %d packages of %d\n%s", len(rs), len(pkgs), stderr.Bytes())
	}
	for _, r := range rs {
		if r.Passed() {
			continue
		}
		if len(r.Failed) == 0 {
			t.Errorf("%s: %s (%s)", r.Package, packageReason(r), r.Status)
			continue
		}
		for _, f := range r.Failed {
			msg := fmt.Sprintf("%s: %s: %s\n\t%s", r.Package, f.Test, f.Why, strings.Join(head(f.Lines, 5), "\n\t"))
			if slices.Contains(KnownGaps, f.Why) {
				t.Logf("known kernel gap (KnownGaps): %s", msg)
			} else {
				t.Errorf("%s", msg)
			}
		}
	}
}
