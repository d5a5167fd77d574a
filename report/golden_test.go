package report_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"synack/pipeline"
	"synack/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in report/testdata")

// goldenFixtures are small captures, one of each kind of ending; each is
// rendered in every format. Big captures are checked by counts (the
// tshark oracle in pipeline) and by --summary and --conn goldens at the
// command line.
var goldenFixtures = []string{"greeting.pcap", "refused.pcap", "reset.pcap", "half-close.pcap", "handshakes.pcap", "demo-udp.pcap"}

// renderers are the formats, by golden file extension.
var renderers = []struct {
	ext    string
	render func(*bytes.Buffer, *report.Capture) error
}{
	{"txt", func(w *bytes.Buffer, c *report.Capture) error { return report.Text(w, c, report.TextOptions{}) }},
	{"no-timeline.txt", func(w *bytes.Buffer, c *report.Capture) error {
		return report.Text(w, c, report.TextOptions{NoTimeline: true})
	}},
	{"summary.txt", func(w *bytes.Buffer, c *report.Capture) error { return report.Summary(w, c, nil) }},
	{"json", func(w *bytes.Buffer, c *report.Capture) error { return report.JSON(w, c) }},
	{"summary.json", func(w *bytes.Buffer, c *report.Capture) error { return report.SummaryJSON(w, c, nil) }},
	{"ndjson", func(w *bytes.Buffer, c *report.Capture) error {
		nd := report.NewNDJSON(w)
		for _, conn := range c.Conns {
			nd.Conn(conn)
		}
		return nd.Totals(c)
	}},
	{"conn.log", func(w *bytes.Buffer, c *report.Capture) error { return report.Zeek(w, c) }},
	{"svg", func(w *bytes.Buffer, c *report.Capture) error { return report.SVG(w, c) }},
	{"html", func(w *bytes.Buffer, c *report.Capture) error { return report.HTML(w, c) }},
	{"md", func(w *bytes.Buffer, c *report.Capture) error { return report.Mermaid(w, c) }},
}

// TestGoldenRenderers renders each small fixture in each format and
// compares with report/testdata/NAME.EXT; go test ./report -update
// rewrites them, and the diff in review is the change in behaviour.
func TestGoldenRenderers(t *testing.T) {
	for _, name := range goldenFixtures {
		rep, err := pipeline.ReadFile(context.Background(), filepath.Join("..", "fixtures", name), pipeline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep.Source = name // as the command line shows it, run in fixtures/
		for _, r := range renderers {
			t.Run(name+"/"+r.ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := r.render(&buf, rep); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", name+"."+r.ext), buf.String())
			})
		}
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./report -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./report -update rewrites it; review the diff):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first line where want and got differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
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
