package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"synack/decode"
)

// zeekStates lists Zeek's conn_state values in the order Zeek documents them.
var zeekStates = []string{"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"}

// topN is how many ports and destinations the summary lists.
const topN = 10

type count struct {
	Key   string `json:"key"`
	Count uint64 `json:"count"`
}

// Aggregate is what --summary reports.
type aggregate struct {
	Connections uint64         `json:"connections"`
	Verdicts    *orderedCounts `json:"verdicts"`
	ConnStates  *orderedCounts `json:"conn_states"`
	// Handshake latency (first SYN to the client's ACK) over complete
	// handshakes, nearest-rank percentiles, µs.
	Handshakes  uint64           `json:"handshakes"`
	HandshakeUs map[string]int64 `json:"handshake_us"`
	Anomalies   *orderedCounts   `json:"anomalies"`
	ServerPorts []count          `json:"top_server_ports"`
	Refused     []count          `json:"refused_destinations"`
	NoAnswer    []count          `json:"unanswered_destinations"`
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func top(m map[string]uint64) []count {
	out := make([]count, 0, len(m))
	for k, v := range m {
		out = append(out, count{k, v})
	}
	slices.SortFunc(out, func(a, b count) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out[:min(len(out), topN)]
}

func summarize(c *Capture) *aggregate {
	a := &aggregate{Verdicts: &orderedCounts{}, ConnStates: &orderedCounts{}, Anomalies: &orderedCounts{}}
	var verdicts [16]uint64
	states := map[string]uint64{}
	var anomalies [16]uint64
	ports, refused, noAnswer := map[string]uint64{}, map[string]uint64{}, map[string]uint64{}
	var hs []time.Duration
	for _, conn := range c.Conns {
		a.Connections++
		verdicts[conn.Verdict()]++
		states[conn.ConnState()]++
		for _, x := range decode.Anomalies() {
			anomalies[x.Index()] += uint64(conn.Anomalies[x.Index()])
		}
		if conn.Handshake.Complete() {
			hs = append(hs, conn.Handshake.Total())
		}
		if conn.Proto == decode.TCP && !conn.Partial {
			ports[fmt.Sprint(conn.Server.Port())]++
		}
		switch conn.Verdict() {
		case decode.Refused:
			refused[conn.Server.String()]++
		case decode.NoAnswer:
			noAnswer[conn.Server.String()]++
		}
	}
	for _, v := range decode.Verdicts() {
		a.Verdicts.add(v.String(), verdicts[v])
	}
	for _, s := range zeekStates {
		a.ConnStates.add(s, states[s])
	}
	for _, x := range decode.Anomalies() {
		a.Anomalies.add(x.String(), anomalies[x.Index()])
	}
	slices.Sort(hs)
	a.Handshakes = uint64(len(hs))
	a.HandshakeUs = map[string]int64{}
	for _, p := range []struct {
		name string
		p    float64
	}{{"p50", 50}, {"p90", 90}, {"p99", 99}, {"max", 100}} {
		a.HandshakeUs[p.name] = us(percentile(hs, p.p))
	}
	a.ServerPorts, a.Refused, a.NoAnswer = top(ports), top(refused), top(noAnswer)
	return a
}

// Summary writes only the aggregate of a capture, for people.
func Summary(w io.Writer, c *Capture) error {
	a := summarize(c)
	bw := bufio.NewWriter(w)
	header(bw, c)
	fmt.Fprintf(bw, "\n%s\n", plural(a.Connections, "connection", "connections"))
	line := func(title string, o *orderedCounts) {
		var parts []string
		for i, k := range o.keys {
			if o.vals[i] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k, o.vals[i]))
			}
		}
		if len(parts) == 0 {
			parts = []string{"none"}
		}
		fmt.Fprintf(bw, "  %-22s %s\n", title, strings.Join(parts, ", "))
	}
	line("by verdict", a.Verdicts)
	line("by conn_state (Zeek)", a.ConnStates)
	if a.Handshakes > 0 {
		fmt.Fprintf(bw, "  %-22s p50 %s, p90 %s, p99 %s, max %s (%d complete)\n", "handshake latency",
			Duration(time.Duration(a.HandshakeUs["p50"])*time.Microsecond), Duration(time.Duration(a.HandshakeUs["p90"])*time.Microsecond),
			Duration(time.Duration(a.HandshakeUs["p99"])*time.Microsecond), Duration(time.Duration(a.HandshakeUs["max"])*time.Microsecond), a.Handshakes)
	}
	line("anomalies", a.Anomalies)
	counts := func(title string, cs []count) {
		if len(cs) == 0 {
			return
		}
		parts := make([]string, len(cs))
		for i, x := range cs {
			parts[i] = fmt.Sprintf("%s (%d)", x.Key, x.Count)
		}
		fmt.Fprintf(bw, "  %-22s %s\n", title, strings.Join(parts, ", "))
	}
	counts("top server ports", a.ServerPorts)
	counts("refused", a.Refused)
	counts("unanswered", a.NoAnswer)
	summaryTotals(bw, c)
	return bw.Flush()
}

// SummaryJSON writes the aggregate as a synack/v1 document whose
// "summary" replaces "connections".
func SummaryJSON(w io.Writer, c *Capture) error {
	doc := struct {
		Schema  string     `json:"schema"`
		Source  jsonSource `json:"source"`
		Summary *aggregate `json:"summary"`
		Totals  jsonTotals `json:"totals"`
		Error   string     `json:"error"`
	}{Schema, sourceJSON(c), summarize(c), totalsJSON(c), c.Error}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(&doc)
}
