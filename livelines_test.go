package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"synack/decode"
	"synack/pipeline"
	"synack/report"
)

// TestLivePrinterAsFmt: live capture's lines, appended into a buffer,
// are the bytes fmt wrote them as, for every packet of every fixture,
// plain, in colour and fitted to a width.
func TestLivePrinterAsFmt(t *testing.T) {
	fixtures, err := filepath.Glob("fixtures/*.pcap*")
	if err != nil {
		t.Fatal(err)
	}
	styles := []struct {
		name string
		st   report.Style
	}{
		{"plain", report.Style{}},
		{"absolute", report.Style{Absolute: true}},
		{"colour", report.Style{Color: true}},
		{"width", report.Style{Width: 100}},
	}
	var lines int
	for _, f := range fixtures {
		if ext := filepath.Ext(f); ext != ".pcap" && ext != ".pcapng" {
			continue
		}
		for _, s := range styles {
			var got, want bytes.Buffer
			p := newLivePrinter(&got, s.st)
			cfg := decode.Config{UDP: true, OnEvent: func(c *decode.Conn, e decode.Event) {
				p.print(c, &e)
				fmtLive(&want, c, &e, s.st)
			}}
			if _, err := pipeline.ReadFile(context.Background(), f, pipeline.Options{Decode: cfg}); err != nil {
				// A damaged fixture still prints what came before.
				t.Logf("%s: %v", f, err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				g, w := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split(want.Bytes(), []byte("\n"))
				for i := range min(len(g), len(w)) {
					if !bytes.Equal(g[i], w[i]) {
						t.Fatalf("%s, %s, line %d:\n got %q\nwant %q", f, s.name, i+1, g[i], w[i])
					}
				}
				t.Fatalf("%s, %s: %d lines, want %d", f, s.name, len(g), len(w))
			}
			lines += bytes.Count(want.Bytes(), []byte("\n"))
		}
	}
	if lines < 1000 {
		t.Fatalf("only %d lines compared", lines)
	}
}

// fmtLive is how live capture printed a packet with fmt.
func fmtLive(w *bytes.Buffer, c *decode.Conn, e *decode.Event, st report.Style) {
	if c.Packets[0]+c.Packets[1] == 1 {
		fmt.Fprintf(w, "#%-4d %s %s → %s\n", c.ID, c.Proto, c.Client, c.Server)
	}
	var prev *decode.Event
	if n := len(c.Events); n >= 2 && c.Events[n-1].Frame == e.Frame {
		prev = &c.Events[n-2]
	}
	fmt.Fprintf(w, "#%-4d %s\n", c.ID, report.EventLine(c, e, prev, st))
	if e.Note&decode.NoteClosed != 0 || e.Flags&decode.RST != 0 {
		s := fmt.Sprintf("%s %s → %s: %s · %d packet", c.Proto, c.Client, c.Server, c.Verdict, c.Packets[0]+c.Packets[1])
		if c.Packets[0]+c.Packets[1] != 1 {
			s += "s"
		}
		if c.Handshake.Complete() {
			s += " · handshake " + report.Duration(c.Handshake.Total())
		}
		s += fmt.Sprintf(" · duration %s · %d bytes c→s, %d bytes s→c", report.Duration(c.Duration()), c.Bytes[decode.Client], c.Bytes[decode.Server])
		fmt.Fprintf(w, "#%-4d %s\n", c.ID, s)
	}
}

// BenchmarkLivePrinter is the work of `synack live`'s per-packet output
// after capture: decoding with a record per packet (Config.OnEvent) and
// a line each, read from a generated capture of 4,000 connections
// (SYNACK_BENCH_PCAP: another) into a buffer thrown away. ns/pkt is per
// packet; "quiet" decodes the same file without printing.
func BenchmarkLivePrinter(b *testing.B) {
	path := os.Getenv("SYNACK_BENCH_PCAP")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.pcap")
		if out, err := exec.Command("go", "run", "./fixtures/gen", "-conns", "4000", "-o", path).CombinedOutput(); err != nil {
			b.Fatalf("gen: %v\n%s", err, out)
		}
	}
	for _, print := range []bool{false, true} {
		name := "quiet"
		if print {
			name = "print"
		}
		b.Run(name, func(b *testing.B) {
			var packets uint64
			for b.Loop() {
				w := bufio.NewWriterSize(io.Discard, 64<<10)
				cfg := decode.Config{Recycle: true, DropEvents: !print}
				if print {
					p := newLivePrinter(w, report.Style{})
					cfg.OnEvent = func(c *decode.Conn, e decode.Event) { p.print(c, &e) }
				}
				agg := report.NewAggregator()
				rep, err := pipeline.ReadFile(context.Background(), path, pipeline.Options{Decode: cfg, Sink: decode.SinkFunc(agg.Add)})
				if err != nil {
					b.Fatal(err)
				}
				packets += rep.Totals.Packets
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/pkt")
		})
	}
}
