package main

import "rt0/host/build"

// foldTestListing turns the records of go list -test into the packages the
// patterns named, each marked with whether its test binary imports net.
// go list -test prints the named packages (ForTest empty, Match set), then
// for each with test files the test binary's main package (neither ForTest
// nor Match) and the package's test variants: "p [p.test]" compiled with
// its internal test files, and "p_test [p.test]" of the external ones
// (ForTest p). The variants' packages and dependencies are all of the test
// binary's but those of the generated main, which imports only os,
// reflect, testing and testing/internal/testdeps: none of them net.
func foldTestListing(records []*listedPkg) []*listedPkg {
	var named []*listedPkg
	byPath := map[string]*listedPkg{}
	for _, r := range records {
		if r.ForTest == "" && len(r.Match) > 0 {
			named = append(named, r)
			byPath[r.ImportPath] = r
		}
	}
	for _, r := range records {
		if p := byPath[r.ForTest]; p != nil && r.ForTest != "" && (build.IsNet(r.ImportPath) || build.AnyNet(r.Deps)) {
			p.testsImportNet = true
		}
	}
	for _, p := range named {
		p.Deps = nil // only the variants' were wanted
	}
	return named
}
