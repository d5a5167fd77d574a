package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"synack/decode"
)

// benchCapture generates a capture with fixtures/gen once per test binary
// run, or uses SYNACK_BENCH_PCAP when set (make bench sets it to the
// 40,000-connection capture).
func benchCapture(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("SYNACK_BENCH_PCAP"); p != "" {
		return p
	}
	p := filepath.Join(b.TempDir(), "bench.pcap")
	if out, err := exec.Command("go", "run", "./fixtures/gen", "-conns", "4000", "-o", p).CombinedOutput(); err != nil {
		b.Fatalf("gen: %v\n%s", err, out)
	}
	return p
}

// BenchmarkReadSummary is `synack read --summary` without the printing:
// file reading, decoding, full analysis. One op is one file.
func BenchmarkReadSummary(b *testing.B) {
	path := benchCapture(b)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var packets uint64
	for b.Loop() {
		out := output{summary: true, format: "text", color: "never"}
		if !out.prepare("read", io.Discard, io.Discard) {
			b.Fatal("prepare")
		}
		cfg := decode.Config{}
		out.configure(&cfg)
		rep, err := readCaptureTo(path, "", cfg, &out)
		if err != nil {
			b.Fatal(err)
		}
		packets += rep.Totals.Packets
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}
