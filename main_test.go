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

// bigFixtures are captures whose whole report would be a golden file of
// 0.1–1 MB: they are checked by counts against the tshark oracle
// (pipeline), and here by their summary, their conn.log and one
// connection's timeline.
var bigFixtures = map[string]bool{"loss.pcap": true, "parallel.pcap": true, "zero-window.pcap": true, "netem.pcap": true}

// inReportGoldens are rendered in every format by report's own golden
// test (report/testdata); the command line needs no second copy. The
// greeting is in both, to show the flags reach the renderers.
var inReportGoldens = map[string]bool{"refused.pcap": true, "reset.pcap": true, "half-close.pcap": true, "handshakes.pcap": true, "demo-udp.pcap": true}

// TestGoldenReports runs the command line over every fixture: the whole
// report in text, JSON, conn.log and summary form for small captures; for
// big ones the summary, the conn.log and `--conn 1`. The renderers
// themselves have their goldens beside them, in report/testdata.
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
		if inReportGoldens[base] {
			continue
		}
		cases := []struct{ ext, args string }{
			{".txt", "read --format text"}, {".conn.log", "read --format zeek"}, {".summary.txt", "read --summary"},
		}
		if base == "greeting.pcap" { // JSON's renderer has its goldens in report
			cases = append(cases, struct{ ext, args string }{".json", "read --format json"})
		}
		if bigFixtures[base] {
			cases = []struct{ ext, args string }{
				{".conn1.txt", "read --conn 1 --no-timeline"}, {".conn.log", "read --format zeek"}, {".summary.txt", "read --summary"},
			}
		}
		for _, tc := range cases {
			t.Run(base+tc.ext, func(t *testing.T) {
				code, out, stderr := runCLI(append(strings.Fields(tc.args), f)...)
				wantCode := 0
				if base == "truncated.pcap" {
					wantCode = exitInput
				}
				if code != wantCode {
					t.Fatalf("exit %d, want %d; stderr: %s", code, wantCode, stderr)
				}
				if tc.ext == ".json" && !json.Valid([]byte(out)) {
					t.Fatalf("invalid JSON:\n%s", out)
				}
				golden(t, base+tc.ext, out)
			})
		}
	}
	if n < 15 {
		t.Fatalf("only %d fixtures found", n)
	}
}
