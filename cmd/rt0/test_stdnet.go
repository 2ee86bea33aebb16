package main

// The network in the standard library's own tests (rt0 test -net ... net).
//
// A std package's test binary links rt0's network stack only if the
// private GOROOT can resolve what the stack imports: gVisor's packages and
// the other module dependencies. From inside GOROOT an import path with a
// dot resolves only through GOROOT/src/vendor and its modules.txt, as std's
// own golang.org/x/net does; so with -net, the private GOROOT's src/vendor
// is a real directory: links to the real one's entries, merged with links
// to the modules' package directories (a directory the real vendor has, as
// golang.org/x/sys with only cpu, becomes a directory of links), and
// modules.txt lists the added packages under their modules (in the real
// module's section where std vendors that module already: x/sys/unix joins
// std's x/sys).
//
// The go command compiles vendored packages as the standard library's
// (-std), and the compiler then refuses a //go: directive it does not know
// (gVisor's sync/locking writes //go:inline, which the compiler otherwise
// ignores): such files are replaced, through the test's -overlay, by copies
// with those lines made plain comments ("// go:inline"), nothing else
// changed.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"rt0/host/build"
)

// vendorModules builds dir/src/vendor (dir is the private GOROOT) from the
// real GOROOT's and the modules' packages, and returns the overlay of
// sanitized files, with their copies written under scratch.
func vendorModules(dir, goroot string, mods []build.ModulePackage, scratch string) (map[string]string, error) {
	vendor := filepath.Join(dir, "src", "vendor")
	realVendor := filepath.Join(goroot, "src", "vendor")
	if err := os.MkdirAll(vendor, 0o755); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(realVendor)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.Name() == "modules.txt" {
			continue
		}
		if err := os.Symlink(filepath.Join(realVendor, e.Name()), filepath.Join(vendor, e.Name())); err != nil {
			return nil, err
		}
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].ImportPath < mods[j].ImportPath })
	byModule := map[string][]string{}
	version := map[string]string{}
	var order []string
	for _, m := range mods {
		if err := linkPackage(vendor, m.ImportPath, m.Dir); err != nil {
			return nil, err
		}
		if _, ok := byModule[m.Module]; !ok {
			order = append(order, m.Module)
			version[m.Module] = m.Version
		}
		byModule[m.Module] = append(byModule[m.Module], m.ImportPath)
	}
	txt, err := os.ReadFile(filepath.Join(realVendor, "modules.txt"))
	if err != nil {
		return nil, err
	}
	modulesTxt := string(txt)
	for _, mod := range order {
		pkgs := strings.Join(byModule[mod], "\n") + "\n"
		section := regexp.MustCompile(`(?m)^# ` + regexp.QuoteMeta(mod) + ` \S+\n(## [^\n]*\n)?`)
		if loc := section.FindStringIndex(modulesTxt); loc != nil {
			modulesTxt = modulesTxt[:loc[1]] + pkgs + modulesTxt[loc[1]:]
		} else {
			modulesTxt += "# " + mod + " " + version[mod] + "\n## explicit\n" + pkgs
		}
	}
	if err := os.WriteFile(filepath.Join(vendor, "modules.txt"), []byte(modulesTxt), 0o644); err != nil {
		return nil, err
	}
	return sanitizeDirectives(vendor, mods, scratch)
}

// linkPackage makes root/ip the package directory dir: a link, unless a
// link above it already leads there. A link above it into another tree
// (the real vendor's) becomes a directory of links to that tree's entries
// first.
func linkPackage(root, ip, dir string) error {
	at := filepath.Join(root, filepath.FromSlash(ip))
	if r, err := filepath.EvalSymlinks(at); err == nil {
		if d, _ := filepath.EvalSymlinks(dir); r == d {
			return nil // a link above covers it
		}
		return fmt.Errorf("vendor: %s is already %s, not %s", ip, r, dir)
	}
	cur := root
	for _, part := range strings.Split(filepath.Dir(filepath.FromSlash(ip)), string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case os.IsNotExist(err):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return err
			}
		case err != nil:
			return err
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(cur)
			if err != nil {
				return err
			}
			ents, err := os.ReadDir(target)
			if err != nil {
				return err
			}
			if err := os.Remove(cur); err != nil {
				return err
			}
			if err := os.Mkdir(cur, 0o755); err != nil {
				return err
			}
			for _, e := range ents {
				if err := os.Symlink(filepath.Join(target, e.Name()), filepath.Join(cur, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return os.Symlink(dir, at)
}

// stdDirectives are the //go: directives the compiler takes in the
// standard library (cmd/compile/internal/noder: pragmaFlag's and
// allowedStdPragmas).
var stdDirectives = map[string]bool{
	"go:build": true, "go:linkname": true, "go:noescape": true, "go:norace": true, "go:nosplit": true,
	"go:noinline": true, "go:nocheckptr": true, "go:systemstack": true, "go:nowritebarrier": true,
	"go:nowritebarrierrec": true, "go:yeswritebarrierrec": true, "go:cgo_unsafe_args": true,
	"go:uintptrkeepalive": true, "go:uintptrescapes": true, "go:registerparams": true, "go:nointerface": true,
	"go:embed": true, "go:fix": true, "go:generate": true, "go:wasmimport": true, "go:wasmexport": true,
	"go:cgo_export_static": true, "go:cgo_export_dynamic": true, "go:cgo_import_static": true,
	"go:cgo_import_dynamic": true, "go:cgo_ldflag": true, "go:cgo_dynamic_linker": true,
}

var directiveLine = regexp.MustCompile(`(?m)^//(go:\S+)`)

// sanitizeDirectives returns an overlay for the vendored modules' Go files
// that hold a directive -std refuses, each mapped to a copy in scratch
// with those directives turned into plain comments.
func sanitizeDirectives(vendor string, mods []build.ModulePackage, scratch string) (map[string]string, error) {
	overlay := map[string]string{}
	for _, m := range mods {
		ents, err := os.ReadDir(m.Dir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			src, err := os.ReadFile(filepath.Join(m.Dir, e.Name()))
			if err != nil {
				return nil, err
			}
			changed := false
			out := directiveLine.ReplaceAllFunc(src, func(d []byte) []byte {
				if stdDirectives[string(d[2:])] {
					return d
				}
				changed = true
				return append([]byte("// "), d[2:]...)
			})
			if !changed {
				continue
			}
			copyPath := filepath.Join(scratch, fmt.Sprintf("%d-%s", len(overlay), e.Name()))
			if err := os.WriteFile(copyPath, out, 0o644); err != nil {
				return nil, err
			}
			overlay[filepath.Join(vendor, filepath.FromSlash(m.ImportPath), e.Name())] = copyPath
		}
	}
	return overlay, nil
}
