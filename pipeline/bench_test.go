package pipeline_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"synack/decode"
	"synack/pipeline"
	"synack/report"
)

// benchCapture generates a capture with fixtures/gen, or uses
// SYNACK_BENCH_PCAP when set (make bench sets it to the 40,000-connection
// capture).
func benchCapture(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("SYNACK_BENCH_PCAP"); p != "" {
		return p
	}
	p := filepath.Join(b.TempDir(), "bench.pcap")
	cmd := exec.Command("go", "run", "./fixtures/gen", "-conns", "4000", "-o", p)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("gen: %v\n%s", err, out)
	}
	return p
}

// BenchmarkReadSummary is `synack read --summary` without the printing:
// file reading, decoding, full analysis, folding into the summary. One op
// is one file.
func BenchmarkReadSummary(b *testing.B) {
	path := benchCapture(b)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var packets uint64
	for b.Loop() {
		agg := report.NewAggregator()
		opt := pipeline.Options{
			Decode: decode.Config{DropEvents: true, Recycle: true},
			Sink:   decode.SinkFunc(agg.Add),
		}
		rep, err := pipeline.ReadFile(context.Background(), path, opt)
		if err != nil {
			b.Fatal(err)
		}
		packets += rep.Totals.Packets
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}
