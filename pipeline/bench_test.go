package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"synack/capture"
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

// BenchmarkApply times the decoder's half of BenchmarkReadSummary alone:
// Decoder.Apply over the frames, which the reader parsed beforehand in
// batches as readBatched does, and Flush. That goroutine bounds how fast
// a file is read; apply-ms/op is its time, without the reading and
// parsing between the batches. background hands the records over on a
// goroutine of their own (Decoder.Background), as readBatched does.
func BenchmarkApply(b *testing.B) {
	file, err := capture.Open(benchCapture(b))
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	var frames []decode.Frame
	for {
		var cf capture.Frame
		if err := file.Next(&cf); err != nil {
			break
		}
		data := bytes.Clone(cf.Data) // valid until the next Next only
		frames = append(frames, decode.Frame{Number: cf.Number, Time: cf.Time, Data: data, Length: cf.Length, LinkType: decode.LinkType(cf.LinkType)})
	}
	for _, background := range []bool{false, true} {
		b.Run(fmt.Sprintf("background=%v", background), func(b *testing.B) {
			b.ReportAllocs()
			var batch [2048]decode.Parsed
			var applying time.Duration
			for b.Loop() {
				agg := report.NewAggregator()
				d := decode.New(decode.Config{DropEvents: true, Recycle: true}, decode.SinkFunc(agg.Add))
				p := d.NewParser()
				if background {
					d.Background()
				}
				for i := 0; i < len(frames); i += len(batch) {
					n := min(len(batch), len(frames)-i)
					for k := range n {
						p.Parse(&frames[i+k], &batch[k])
					}
					start := time.Now()
					for k := range n {
						d.Apply(&batch[k])
					}
					applying += time.Since(start)
				}
				start := time.Now()
				d.Flush()
				applying += time.Since(start)
			}
			b.ReportMetric(float64(applying.Milliseconds())/float64(b.N), "apply-ms/op")
		})
	}
}
