// stdlib: deterministic work across the standard library: JSON, hashes,
// compression, regular expressions, number formatting, sorting, big
// numbers and templates.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

type record struct {
	Name  string            `json:"name"`
	Tags  []string          `json:"tags,omitempty"`
	Score float64           `json:"score"`
	Meta  map[string]string `json:"meta"`
}

func main() {
	in := []record{{"a", []string{"x", "y"}, 1.5, map[string]string{"k": "v", "a": "b"}}, {"b", nil, math.Pi, nil}}
	js, err := json.Marshal(in)
	fmt.Println(string(js), err)
	var out []record
	fmt.Println(json.Unmarshal(js, &out), out[1].Score == math.Pi, out[0].Meta["a"])

	fmt.Printf("sha256 %x\n", sha256.Sum256([]byte("rt0 boots the real Go runtime")))
	fmt.Printf("crc32 %08x\n", crc32.ChecksumIEEE([]byte(strings.Repeat("abc", 1000))))

	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.ModTime = time.Unix(0, 0)
	text := strings.Repeat("the quick brown fox jumps over the lazy dog\n", 2000)
	zw.Write([]byte(text))
	zw.Close()
	zr, err := gzip.NewReader(&gz)
	back, err2 := io.ReadAll(zr)
	fmt.Println("gzip:", gz.Len() < len(text)/20, err, err2, string(back) == text)

	re := regexp.MustCompile(`(\w+)@(\w+)\.com`)
	fmt.Println(re.FindAllStringSubmatch("ann@example.com, bob@test.com; nobody@nowhere.org", -1))
	fmt.Println(re.ReplaceAllString("mail ann@example.com", "$2:$1"))

	for _, f := range []float64{0, 1.0 / 3, 1e21, 5e-324, math.Inf(-1), 123456789.125} {
		fmt.Print(strconv.FormatFloat(f, 'g', -1, 64), " ", strconv.FormatFloat(f, 'e', 5, 64), " ")
	}
	fmt.Println()
	v, err := strconv.ParseFloat("2.718281828459045", 64)
	fmt.Println(v, err, strconv.Quote("tab\there \u00e9"))

	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]int, 100000)
	for i := range xs {
		xs[i] = r.IntN(1000000)
	}
	slices.Sort(xs)
	fmt.Println("sorted:", slices.IsSorted(xs), xs[0], xs[50000], xs[len(xs)-1])

	f := big.NewInt(1)
	for i := int64(2); i <= 100; i++ {
		f.Mul(f, big.NewInt(i))
	}
	s := f.String()
	fmt.Println("100! has", len(s), "digits:", s[:20]+"...")
	p, _ := new(big.Int).SetString("170141183460469231731687303715884105727", 10)
	fmt.Println("2^127-1 prime:", p.ProbablyPrime(20))

	t := template.Must(template.New("t").Parse("{{range .}}{{.Name}}={{printf \"%.2f\" .Score}};{{end}}\n"))
	t.Execute(outWriter{}, in)
}

type outWriter struct{}

func (outWriter) Write(b []byte) (int, error) { fmt.Print(string(b)); return len(b), nil }
