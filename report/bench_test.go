package report_test

import (
	"context"
	"io"
	"testing"

	"synack/pipeline"
	"synack/report"
)

// BenchmarkRender renders a capture with 2,380 packets in one connection
// (fixtures/loss.pcap) in each format; events/s is per packet shown.
func BenchmarkRender(b *testing.B) {
	rep, err := pipeline.ReadFile(context.Background(), "../fixtures/loss.pcap", pipeline.Options{})
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
		{"svg", report.NewSVG},
		{"html", func(w io.Writer) report.Document { return report.NewHTML(w, false) }},
		{"mermaid", report.NewMermaid},
		{"zeek", report.NewZeek},
	} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := report.Whole(f.doc(io.Discard), rep); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
