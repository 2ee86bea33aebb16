package build

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Root returns the source directory of the rt0 module, whose kernel is
// linked into every program: $RT0ROOT if set, else the checkout this
// binary was built from (found through the path of this very file, which
// the compiler records unless -trimpath was used).
func Root() (string, error) {
	if r := os.Getenv("RT0ROOT"); r != "" {
		abs, err := filepath.Abs(r)
		if err != nil {
			return "", err
		}
		if err := checkRT0Module(abs); err != nil {
			return "", fmt.Errorf("RT0ROOT=%s: %v", r, err)
		}
		return abs, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if ok && filepath.IsAbs(file) {
		dir := filepath.Dir(filepath.Dir(filepath.Dir(file))) // <root>/host/build/root.go
		if checkRT0Module(dir) == nil {
			return dir, nil
		}
	}
	return "", errors.New("cannot find rt0's source directory (this rt0 binary was built with -trimpath, or its checkout moved): " +
		"set RT0ROOT to the directory holding rt0's go.mod")
}

// checkRT0Module reports whether dir holds the go.mod of module rt0.
func checkRT0Module(dir string) error {
	path, err := ModulePath(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	if path != "rt0" {
		return fmt.Errorf("%s is module %q, not rt0", filepath.Join(dir, "go.mod"), path)
	}
	return nil
}

// ModulePath returns the module path a go.mod file declares.
func ModulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if uq, err := strconv.Unquote(rest); err == nil {
			rest = uq
		}
		return rest, nil
	}
	if err := s.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

// FindModuleRoot returns the nearest directory at or above dir with a
// go.mod, or "".
func FindModuleRoot(dir string) string {
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// SamePath reports whether a and b name the same directory.
func SamePath(a, b string) bool {
	if a == b {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
