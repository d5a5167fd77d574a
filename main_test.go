package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// runCLI runs synack with args and returns its exit code, stdout, stderr.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it; review the diff):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first line where want and got differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return ""
}

func TestGoldenReports(t *testing.T) {
	fixtures, err := filepath.Glob("fixtures/*.pcap*")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, f := range fixtures {
		if ext := filepath.Ext(f); ext != ".pcap" && ext != ".pcapng" {
			continue
		}
		n++
		base := filepath.Base(f)
		for _, format := range []string{"text", "json", "zeek", "summary"} {
			t.Run(base+"/"+format, func(t *testing.T) {
				args := []string{"read", "--format", format, f}
				if format == "summary" {
					args = []string{"read", "--summary", f}
				}
				code, out, stderr := runCLI(args...)
				wantCode := 0
				if base == "truncated.pcap" {
					wantCode = exitInput
				}
				if code != wantCode {
					t.Fatalf("exit %d, want %d; stderr: %s", code, wantCode, stderr)
				}
				if format == "json" && !json.Valid([]byte(out)) {
					t.Fatalf("invalid JSON:\n%s", out)
				}
				ext := map[string]string{"text": ".txt", "json": ".json", "zeek": ".conn.log", "summary": ".summary.txt"}[format]
				golden(t, base+ext, out)
			})
		}
	}
	if n < 15 {
		t.Fatalf("only %d fixtures found", n)
	}
}
