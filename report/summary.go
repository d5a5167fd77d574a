package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"synack/decode"
)

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

// Aggregator folds connections into the summary one at a time, so that a
// capture of any size is summed up without keeping its connections.
type Aggregator struct {
	connections         uint64
	verdicts            [decode.NumVerdicts]uint64
	states              [decode.NumConnStates]uint64
	anomalies           [decode.NumAnomalies]uint64
	handshakes          latencies
	ports               map[uint16]uint64
	refused, unanswered map[netip.AddrPort]uint64
}

// NewAggregator returns an empty aggregator.
func NewAggregator() *Aggregator {
	return &Aggregator{ports: map[uint16]uint64{},
		refused: map[netip.AddrPort]uint64{}, unanswered: map[netip.AddrPort]uint64{}}
}

// Add counts one connection; it keeps nothing of c.
func (a *Aggregator) Add(c *decode.Conn) {
	if c.Resumed {
		// The connection was counted with its first record: move its
		// verdict and conn_state to what they are now, add its anomalies.
		a.verdicts[c.PriorVerdict]--
		a.states[c.PriorConnState]--
		a.verdicts[c.Verdict]++
		a.states[c.ConnState]++
		for i, n := range c.Anomalies {
			a.anomalies[i] += uint64(n)
		}
		return
	}
	a.connections++
	v := c.Verdict
	a.verdicts[v]++
	a.states[c.ConnState]++
	for i, n := range c.Anomalies {
		a.anomalies[i] += uint64(n)
	}
	if c.Handshake.Complete() {
		a.handshakes.add(c.Handshake.Total())
	}
	if c.Proto == decode.TCP && !c.Partial {
		a.ports[c.Server.Port()]++
	}
	switch v {
	case decode.Refused:
		countCapped(a.refused, c.Server)
	case decode.NoAnswer:
		countCapped(a.unanswered, c.Server)
	}
}

// maxDestinations bounds the destinations counted for the top lists: a
// scan of a million addresses must not grow the summary without end.
// Past it, only destinations already counted go on counting.
const maxDestinations = 1 << 16

func countCapped(m map[netip.AddrPort]uint64, k netip.AddrPort) {
	if _, ok := m[k]; ok || len(m) < maxDestinations {
		m[k]++
	}
}

func topOf[K comparable](m map[K]uint64, name func(K) string) []count {
	s := make(map[string]uint64, len(m))
	for k, v := range m {
		s[name(k)] = v
	}
	return top(s)
}

// aggregate is the summary as reported.
func (a *Aggregator) aggregate() *aggregate {
	out := &aggregate{Connections: a.connections, Verdicts: &orderedCounts{}, ConnStates: &orderedCounts{}, Anomalies: &orderedCounts{}}
	for _, v := range decode.Verdicts() {
		out.Verdicts.add(v.String(), a.verdicts[v])
	}
	for _, s := range decode.ConnStates() {
		out.ConnStates.add(s.String(), a.states[s])
	}
	for _, x := range decode.Anomalies() {
		out.Anomalies.add(x.String(), a.anomalies[x.Index()])
	}
	out.Handshakes = a.handshakes.n
	out.HandshakeUs = map[string]int64{}
	for _, p := range []struct {
		name string
		p    float64
	}{{"p50", 50}, {"p90", 90}, {"p99", 99}, {"max", 100}} {
		out.HandshakeUs[p.name] = us(a.handshakes.percentile(p.p))
	}
	out.ServerPorts = topOf(a.ports, func(p uint16) string { return strconv.Itoa(int(p)) })
	out.Refused = topOf(a.refused, netip.AddrPort.String)
	out.NoAnswer = topOf(a.unanswered, netip.AddrPort.String)
	return out
}

// aggregatorOf folds a capture's collected connections.
func aggregatorOf(c *Capture) *Aggregator {
	a := NewAggregator()
	for _, conn := range c.Conns {
		a.Add(conn)
	}
	return a
}

// Summary writes only the aggregate of a capture, for people: of agg when
// the connections were folded as they came, else of c.Conns.
func Summary(w io.Writer, c *Capture, agg *Aggregator) error {
	if agg == nil {
		agg = aggregatorOf(c)
	}
	a := agg.aggregate()
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
func SummaryJSON(w io.Writer, c *Capture, agg *Aggregator) error {
	if agg == nil {
		agg = aggregatorOf(c)
	}
	doc := struct {
		Schema  string     `json:"schema"`
		Source  jsonSource `json:"source"`
		Summary *aggregate `json:"summary"`
		Totals  jsonTotals `json:"totals"`
		Error   string     `json:"error"`
	}{Schema, sourceJSON(c), agg.aggregate(), totalsJSON(c), errText(c.Err)}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(&doc)
}
