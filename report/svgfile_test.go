//go:build unix

package report_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"synack/pipeline"
	"synack/report"
)

// TestSVGHeadWrittenOver writes the same SVG to a file, where its head is
// written over at the end, and to outputs where its ladders wait in a
// spool: the bytes must be the same, wherever in the file it starts,
// also with the line under the last ladder that says where reading
// stopped (truncated.pcap), which makes the picture taller at the end.
func TestSVGHeadWrittenOver(t *testing.T) {
	for _, name := range []string{"handshakes.pcap", "truncated.pcap"} {
		t.Run(name, func(t *testing.T) { svgHeadWrittenOver(t, "../fixtures/"+name) })
	}
}

func svgHeadWrittenOver(t *testing.T, capture string) {
	rep, err := pipeline.ReadFile(context.Background(), capture, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := report.SVG(&want, rep); err != nil {
		t.Fatal(err)
	}
	if stopped := rep.Err != nil; stopped != bytes.Contains(want.Bytes(), []byte(">incomplete: reading stopped at ")) {
		t.Errorf("reading stopped early: %v, but the SVG says so: %v", stopped, !stopped)
	}
	const prefix = "written before\n"
	for _, tc := range []struct {
		name      string
		prefix    bool
		flag      int
		rewritten bool
	}{
		{"file", false, os.O_WRONLY, true},
		{"file after other output", true, os.O_WRONLY, true},
		{"file to append to", true, os.O_WRONLY | os.O_APPEND, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.svg")
			if tc.prefix {
				if err := os.WriteFile(path, []byte(prefix), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f, err := os.OpenFile(path, tc.flag|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if tc.prefix && tc.flag&os.O_APPEND == 0 {
				f.Seek(int64(len(prefix)), io.SeekStart)
			}
			if got := report.Rewritable(f); got != tc.rewritten {
				t.Errorf("written over: %v, want %v", got, tc.rewritten)
			}
			if err := report.SVG(f, rep); err != nil {
				t.Fatal(err)
			}
			f.Close()
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			w := want.String()
			if tc.prefix {
				w = prefix + w
			}
			if string(got) != w {
				t.Errorf("the SVG written to the file differs from the one written to memory (%d bytes, want %d)", len(got), len(w))
			}
		})
	}
	// A device that seeks is not a file to write over: on macOS and the
	// BSDs a terminal seeks (and pwrite to it fails), as /dev/zero does
	// here. /dev/null is, so that a report thrown away spools nothing.
	for _, dev := range []struct {
		path      string
		rewritten bool
	}{{"/dev/zero", false}, {os.DevNull, true}} {
		t.Run(dev.path, func(t *testing.T) {
			f, err := os.OpenFile(dev.path, os.O_WRONLY, 0)
			if err != nil {
				t.Skip(err)
			}
			defer f.Close()
			if got := report.Rewritable(f); got != dev.rewritten {
				t.Errorf("written over: %v, want %v", got, dev.rewritten)
			}
			if err := report.SVG(f, rep); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("pipe", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if report.Rewritable(w) {
			t.Error("a pipe taken as written over")
		}
		done := make(chan []byte)
		go func() {
			b, _ := io.ReadAll(r)
			done <- b
		}()
		if err := report.SVG(w, rep); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if got := <-done; !bytes.Equal(got, want.Bytes()) {
			t.Errorf("the SVG written to a pipe differs from the one written to memory (%d bytes, want %d)", len(got), want.Len())
		}
	})
}
