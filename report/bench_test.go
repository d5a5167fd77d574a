package report_test

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"synack/pipeline"
	"synack/report"
)

// BenchmarkRender renders, in each format, a capture with 2,380 packets
// in one connection (fixtures/loss.pcap: "loss"), and one of 5,000
// connections of 16 packets each on average written by fixtures/gen with
// the benchmark's seed ("many": what most of a large capture's time goes
// to is per connection, not per packet); events/s is per packet shown.
// format/render is the format's renderer alone, without its document.
// cpu-ns/op is the CPU time the process took per op (user and system, GC
// included): unlike ns/op it does not count waiting for a core, so it
// compares runs on a machine shared with other work.
func BenchmarkRender(b *testing.B) {
	many := filepath.Join(b.TempDir(), "many.pcap")
	gen := exec.Command("go", "run", "../fixtures/gen", "-conns", "5000", "-open", "500", "-seed", "1", "-o", many)
	if out, err := gen.CombinedOutput(); err != nil {
		b.Fatalf("fixtures/gen: %v\n%s", err, out)
	}
	for _, capture := range []struct{ name, file string }{{"loss", "../fixtures/loss.pcap"}, {"many", many}} {
		rep, err := pipeline.ReadFile(context.Background(), capture.file, pipeline.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var events int
		for _, c := range rep.Conns {
			events += len(c.Events)
		}
		for _, f := range []struct {
			name string
			doc  func(io.Writer) report.Document
		}{
			{"text", func(w io.Writer) report.Document { return report.NewText(w, rep, report.TextOptions{}) }},
			{"json", func(w io.Writer) report.Document { return report.NewJSON(w, rep) }},
			{"svg", func(w io.Writer) report.Document { return report.NewSVG(w, rep) }},
			{"html", func(w io.Writer) report.Document { return report.NewHTML(w, rep, false) }},
			{"mermaid", report.NewMermaid},
			{"zeek", report.NewZeek},
		} {
			b.Run(capture.name+"/"+f.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu := processCPU()
				for b.Loop() {
					if err := report.Whole(f.doc(io.Discard), rep); err != nil {
						b.Fatal(err)
					}
				}
				reportRates(b, events, cpu)
			})
			// The renderer alone: the document's part of the work (an
			// SVG's or a page's spool, in a temporary file past 8 MiB)
			// left out.
			b.Run(capture.name+"/"+f.name+"/render", func(b *testing.B) {
				b.ReportAllocs()
				r := f.doc(io.Discard).NewRenderer()
				var part []byte
				cpu := processCPU()
				for b.Loop() {
					for _, c := range rep.Conns {
						part = r.Render(part[:0], c)
					}
				}
				reportRates(b, events, cpu)
			})
		}
	}
}

// reportRates reports events/s, and the process's CPU time per op since
// cpu (where it is measured).
func reportRates(b *testing.B, events int, cpu time.Duration) {
	b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	}
}
