package main

// Package is one standard-library package of the conformance run.
type Package struct {
	Path string
	// Short runs the package with -short: its full tests take minutes
	// under QEMU's TCG.
	Short bool
	// Files are paths the tests read beyond the package directory and
	// the testdata directories of its parents (rt0 test -files): relative
	// to GOROOT, or absolute host paths.
	Files []string
	// Quick puts the package into make test's subset.
	Quick bool
}

// Packages is the conformance list: the forty packages, then more.
var Packages = []Package{
	{Path: "bufio"},
	{Path: "bytes", Short: true},
	{Path: "container/heap", Quick: true},
	{Path: "container/list", Quick: true},
	{Path: "container/ring"},
	{Path: "context"},
	{Path: "encoding/base64"},
	{Path: "encoding/binary"},
	{Path: "encoding/csv"},
	{Path: "encoding/hex", Quick: true},
	{Path: "encoding/json"},
	{Path: "errors"},
	{Path: "flag"},
	{Path: "fmt"},
	{Path: "hash/crc32"},
	{Path: "hash/fnv", Quick: true},
	{Path: "io"},
	{Path: "math"},
	{Path: "math/big", Short: true},
	{Path: "math/bits"},
	{Path: "math/rand"},
	{Path: "math/rand/v2"},
	{Path: "path"},
	{Path: "path/filepath", Files: []string{"src/unicode"}},
	{Path: "regexp", Short: true},
	{Path: "sort"},
	{Path: "strconv"},
	{Path: "strings"},
	{Path: "sync"},
	{Path: "sync/atomic", Short: true},
	{Path: "text/tabwriter"},
	{Path: "text/template"},
	{Path: "time", Short: true},
	{Path: "unicode"},
	{Path: "unicode/utf8"},
	{Path: "unicode/utf16", Quick: true},
	{Path: "compress/flate", Short: true},
	{Path: "compress/gzip"},
	{Path: "archive/tar"},
	{Path: "crypto/sha256"},

	// More.
	{Path: "archive/zip", Short: true},
	{Path: "cmp"},
	{Path: "compress/bzip2"},
	{Path: "compress/lzw"},
	{Path: "compress/zlib"},
	{Path: "crypto/aes"},
	{Path: "crypto/cipher", Short: true},
	{Path: "crypto/ed25519"},
	{Path: "crypto/hmac"},
	{Path: "crypto/md5"},
	{Path: "crypto/rand"},
	{Path: "crypto/sha1"},
	{Path: "crypto/sha512"},
	{Path: "crypto/subtle", Short: true},
	{Path: "embed"},
	{Path: "encoding/ascii85"},
	{Path: "encoding/asn1"},
	{Path: "encoding/base32"},
	{Path: "encoding/gob", Short: true},
	{Path: "encoding/pem"},
	{Path: "encoding/xml", Short: true},
	{Path: "go/ast"},
	{Path: "go/format"},
	{Path: "go/parser", Short: true, Files: []string{"src/go/printer"}},
	{Path: "go/printer"},
	{Path: "go/scanner"},
	{Path: "go/token"},
	{Path: "hash/adler32"},
	{Path: "hash/crc64"},
	{Path: "hash/maphash", Short: true},
	{Path: "html"},
	{Path: "html/template"},
	{Path: "image"},
	{Path: "image/color"},
	{Path: "image/draw"},
	{Path: "image/gif", Short: true},
	{Path: "image/jpeg", Short: true},
	{Path: "image/png"},
	{Path: "index/suffixarray", Short: true},
	{Path: "io/fs"},
	{Path: "io/ioutil", Files: []string{"src/io"}},
	{Path: "iter"},
	{Path: "log"},
	{Path: "log/slog"},
	{Path: "maps"},
	{Path: "math/cmplx"},
	{Path: "mime"},
	{Path: "mime/quotedprintable"},
	{Path: "net", Short: true},
	{Path: "net/http", Short: true},
	{Path: "net/http/httptest"},
	{Path: "net/http/httputil", Short: true},
	{Path: "net/mail"},
	{Path: "net/netip"},
	{Path: "net/rpc"},
	{Path: "net/smtp"},
	{Path: "net/textproto"},
	{Path: "net/url"},
	{Path: "expvar"},
	{Path: "log/syslog"},
	{Path: "os", Short: true, Files: []string{"/etc/group", "/etc/hosts", "/etc/passwd"}},
	{Path: "os/signal", Short: true},
	{Path: "reflect"},
	{Path: "regexp/syntax"},
	{Path: "runtime/debug"},
	{Path: "slices"},
	{Path: "testing/fstest"},
	{Path: "text/scanner"},
	{Path: "text/template/parse"},
	{Path: "unique"},
}

// Note explains a test's failure that its output alone does not.
type Note struct {
	Kind string // "kernel", "exec", "network", "harness"
	Why  string
}

// Notes are the explanations found by looking at failures, by
// "package.TestName".
var Notes = map[string]Note{
	"sync.TestIssue76126":                             {"exec", "needs exec (runs itself as a child process)"},
	"flag.TestExitCode":                               {"exec", "needs exec (runs itself as a child process)"},
	"net.TestIPConnLocalName":                         {"kernel", noRawIP},
	"net.TestIPConnRemoteName":                        {"kernel", noRawIP},
	"net.TestIPConnSpecificMethods":                   {"kernel", noRawIP},
	"net.TestUnixConnReadMsgUnixSCMRightsCloseOnExec": {"kernel", "no ancillary data on Unix sockets (SCM_RIGHTS): descriptors cannot be passed"},
	"time.TestLongAdjustTimers":                       {"failure", "1M channel handoffs must finish in 60 s: too slow under TCG"},

	"os.TestRootConsistencyLink":    {"kernel", noHardLinks},
	"os.TestRootMultiLink":          {"kernel", noHardLinks},
	"os.TestRootLinkFrom":           {"kernel", noHardLinks},
	"os.TestHardLink":               {"kernel", noHardLinks},
	"os.TestLongPath":               {"kernel", noHardLinks},
	"os.TestReaddirnamesOneAtATime": {"harness", "reads /usr/bin, which the guest does not have"},
	"os.TestChdirAndGetwd":          {"harness", "changes into /usr/bin, which the guest does not have"},
	"os.TestOpenFileNonBlocking":    {"harness", noTestBinary},
	"os.TestPidfdLeak":              {"harness", noTestBinary},
}

// Reasons shared by several notes.
const (
	noHardLinks  = "link/linkat fails with EPERM: no hard links"
	noTestBinary = "opens the test binary (os.Executable), which is not a file in the guest"
	noRawIP      = "no raw IP sockets (SOCK_RAW): only TCP, UDP and Unix sockets on the loopback"
)

// KnownGaps are kernel gaps, by the reason text classify gives them, that
// make test's quick subset reports without failing while they are open.
// make conformance fails on them like on anything else. Remove an entry
// once the kernel is fixed.
var KnownGaps = []string{}
