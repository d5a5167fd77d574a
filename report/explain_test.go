package report

import (
	"strings"
	"testing"

	"synack/decode"
)

// TestExplanations: every meaning, analysis flag, verdict and other kind
// of segment has its explanation, in words and with where the rule is
// written; nothing a learner can meet goes unexplained.
func TestExplanations(t *testing.T) {
	check := func(name string, ex explanation, ok bool) {
		t.Helper()
		if !ok || len(ex.text) < 40 || !strings.HasSuffix(ex.text, ".") {
			t.Errorf("%s: no explanation, or not a sentence: %q", name, ex.text)
		}
		if ex.ref == "" && name != "verdict partial" {
			t.Errorf("%s: no reference", name)
		}
	}
	for bit := decode.NoteHandshake1; bit <= decode.NoteRSTIgnored; bit <<= 1 {
		if bit == decode.NoteTimeBackwards { // the capture's, not TCP's: text.go says it
			continue
		}
		ex, ok := noteExplanations[bit]
		check("note "+bit.String(), ex, ok)
	}
	for _, a := range decode.Anomalies() {
		ex, ok := anomalyExplanations[a]
		check("flag "+a.String(), ex, ok)
	}
	for _, v := range decode.Verdicts() {
		ex, ok := verdictExplanations[v]
		check("verdict "+v.String(), ex, ok)
	}
	for _, k := range []explainKind{kindSYNOptions, kindWindowScale, kindTimeWait} {
		ex, ok := kindExplanations[k]
		check(string(k), ex, ok)
	}
}

// TestExplainOncePerKind: a kind is explained the first time it appears
// in a connection only; the second ACK of the greeting is not explained
// again, but the next connection explains it anew.
func TestExplainOncePerKind(t *testing.T) {
	c := &decode.Conn{Proto: decode.TCP}
	ack := decode.Event{Note: decode.NoteAck, Flags: decode.ACK}
	x := newExplainer(c)
	if n := len(x.segment(c, &ack)); n != 1 {
		t.Fatalf("first ACK: %d explanations, want 1", n)
	}
	if n := len(x.segment(c, &ack)); n != 0 {
		t.Errorf("second ACK: %d explanations, want 0", n)
	}
	if n := len(newExplainer(c).segment(c, &ack)); n != 1 {
		t.Errorf("another connection's first ACK: %d explanations, want 1", n)
	}
}

// TestExplanationWraps: explanations wrap at the width given, the first
// line marked, the others indented under it.
func TestExplanationWraps(t *testing.T) {
	lines := noteExplanations[decode.NoteHandshake1].lines("  ↳ ", 40)
	for i, l := range lines {
		if width(l) > 40 && strings.Contains(strings.TrimSpace(l), " ") {
			t.Errorf("line %d is %d columns: %q", i, width(l), l)
		}
		if prefix := map[bool]string{true: "  ↳ ", false: "    "}[i == 0]; !strings.HasPrefix(l, prefix) {
			t.Errorf("line %d: %q does not start with %q", i, l, prefix)
		}
	}
}
