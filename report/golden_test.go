package report_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"synack/decode"
	"synack/pipeline"
	"synack/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in report/testdata")

// goldenFixtures are small captures, one of each kind of ending; each is
// rendered in every format. Big captures are checked by counts (the
// tshark oracle in pipeline) and by --summary and --conn goldens at the
// command line.
var goldenFixtures = []string{"greeting.pcap", "refused.pcap", "reset.pcap", "half-close.pcap", "handshakes.pcap", "demo-udp.pcap", "encap-collide.pcap"}

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
	{"explain.txt", func(w *bytes.Buffer, c *report.Capture) error {
		return report.Text(w, c, report.TextOptions{Explain: true})
	}},
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

// TestPicturesForLearners: SVG and HTML carry a key to their notation;
// only real problems are red (a window update or keep-alive is TCP
// working, not an error), and a red arrow has a red head.
func TestPicturesForLearners(t *testing.T) {
	rep, err := pipeline.ReadFile(context.Background(), "../fixtures/loss.pcap", pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	problems := decode.Retransmission | decode.FastRetransmission | decode.SpuriousRetransmission | decode.DuplicateACK |
		decode.OutOfOrder | decode.LostSegment | decode.ACKUnseen | decode.ZeroWindow | decode.ZeroWindowProbe | decode.WindowFull
	wantRed, updatesOnly := 0, 0
	for i, e := range rep.Conns[0].Events {
		if i == 400 { // the picture draws at most 400 segments
			break
		}
		switch {
		case e.Anomalies&problems != 0:
			wantRed++
		case e.Anomalies&decode.WindowUpdate != 0:
			updatesOnly++
		}
	}
	if wantRed == 0 || updatesOnly == 0 {
		t.Fatalf("the fixture should show both: %d problems, %d window updates", wantRed, updatesOnly)
	}
	var svg, page bytes.Buffer
	if err := report.SVG(&svg, rep); err != nil {
		t.Fatal(err)
	}
	if err := report.HTML(&page, rep); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{"SVG": svg.String(), "HTML": page.String()} {
		for _, key := range []string{"[S] SYN · [S.] SYN-ACK · [.] ACK · [P.] data · [F.] FIN · [R.] RST", "red arrow: a problem"} {
			if !strings.Contains(doc, key) {
				t.Errorf("%s has no key (%q)", name, key)
			}
		}
		if !strings.Contains(doc, `<marker id="head-bad" `) || !strings.Contains(doc, `<path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker>`) {
			t.Errorf("%s has no red arrow head", name)
		}
	}
	// The SVG names each arrow's head; the page's style gives the heads
	// to the arrows' classes.
	red := strings.Count(svg.String(), `class="seg bad" marker-end="url(#head-bad)"`)
	if all := strings.Count(svg.String(), `class="seg bad"`); red != wantRed || all != red {
		t.Errorf("SVG: %d red arrows with red heads (%d red in all), want %d", red, all, wantRed)
	}
	if red := strings.Count(page.String(), `class="seg bad"/>`); red != wantRed {
		t.Errorf("HTML: %d red arrows, want %d", red, wantRed)
	}
	if !strings.Contains(page.String(), "\nsvg .seg.bad { marker-end: url(#head-bad); }\n") {
		t.Error("HTML: the red arrows' style gives them no red head")
	}
	if !strings.Contains(page.String(), `<div class="scroll">`) {
		t.Error("the HTML summary table does not scroll in a narrow window")
	}
	// --explain: the notes are numbered beside their arrows, as in the
	// list under the picture.
	var explained bytes.Buffer
	if err := report.Whole(report.NewHTML(&explained, rep, true), rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(explained.String(), `class="mark">(1)</text>`) || !strings.Contains(explained.String(), `<ol class="explain">`) {
		t.Error("HTML --explain has no numbered notes beside the arrows")
	}
}

// TestHTMLPageSaysItOnce: a page holds one style sheet and one copy of
// the arrows' heads whatever its count of connections, one summary (after
// the ladders, linked to from the top), every id in it is
// unique (as HTML requires; the heads' ids were once repeated in every
// connection's SVG, and a resumed record's heading had its connection's
// id) and every #reference (a link, an arrow's head) names one.
func TestHTMLPageSaysItOnce(t *testing.T) {
	ids := regexp.MustCompile(`\sid="([^"]*)"`)
	refs := regexp.MustCompile(`href="#([^"]*)"|url\(#([^)]*)\)`)
	// late-fin, late-syn, netem and resets hold resumed records (the
	// same connection ID twice).
	for _, name := range append([]string{"parallel.pcap", "loss.pcap", "port-reuse.pcap", "late-fin.pcap", "late-syn.pcap", "netem.pcap", "resets.pcapng"}, goldenFixtures...) {
		rep, err := pipeline.ReadFile(context.Background(), filepath.Join("..", "fixtures", name), pipeline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, explain := range []bool{false, true} {
			var buf bytes.Buffer
			if err := report.Whole(report.NewHTML(&buf, rep, explain), rep); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			where := fmt.Sprintf("%s (explain %v, %d connections)", name, explain, len(rep.Conns))
			if n := strings.Count(page, "<style"); n != 1 {
				t.Errorf("%s: %d style sheets, want 1", where, n)
			}
			seen := map[string]int{}
			for _, m := range ids.FindAllStringSubmatch(page, -1) {
				seen[m[1]]++
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("%s: id %q %d times", where, id, n)
				}
			}
			if seen["head"] != 1 || seen["head-bad"] != 1 || seen["summary"] != 1 || len(seen) != len(rep.Conns)+3 {
				t.Errorf("%s: ids %v, want head, head-bad, summary and one per record", where, seen)
			}
			if sum := strings.Index(page, `<h2 id="summary">`); sum < strings.LastIndex(page, "</svg>") || sum > strings.Index(page, "<table>") {
				t.Errorf("%s: the summary's heading is not between the last ladder and the table", where)
			}
			for _, c := range rep.Conns {
				if link := fmt.Sprintf(`<a href="#%s">%d</a>`, anchor(c), c.ID); strings.Count(page, link) != 1 || !strings.Contains(page, `<h2 id="`+anchor(c)+`">`) {
					t.Errorf("%s: record %d (resumed %v): no %s and heading", where, c.ID, c.Resumed, link)
				}
			}
			for _, m := range refs.FindAllStringSubmatch(page, -1) {
				if ref := m[1] + m[2]; seen[ref] == 0 {
					t.Errorf("%s: %s names no id", where, m[0])
				}
			}
		}
	}
}

// anchor is a record's heading's id: conn-ID, and the frame a resumed
// record goes on from.
func anchor(c *decode.Conn) string {
	if c.Resumed {
		return fmt.Sprintf("conn-%d-frame-%d", c.ID, c.Events[0].Frame)
	}
	return fmt.Sprintf("conn-%d", c.ID)
}
