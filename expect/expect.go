// Package expect parses and evaluates expectations over decoded
// connections, the small language of `synack check --expect` and
// `--where`:
//
//	expr   = field [ op value ]
//	op     = "=" | "!=" | "<" | "<=" | ">" | ">="
//
// A field alone means field=true (for yes/no fields). Values are numbers,
// durations with a unit (850us, 5ms, 1.5s), words (complete, SF), true or
// false, or for client.ip and server.ip an address or a CIDR prefix
// (10.0.0.0/8, with = and != only). Field names are those of the
// synack/v1 JSON schema.
//
// A time that was not measured is unknown: a handshake stage that was not
// seen (syn_to_synack of a refused connection, handshake of an unfinished
// one), ttfb without data both ways, irtt without its ACK, and the times
// the capture's clock made unmeasurable (stages dated out of order, an ACK
// dated before the SYN). An unknown value meets no expectation, whatever
// the comparison, and reads "unknown" — as it is null in JSON — so that
// 'handshake<1ms' is never passed by a handshake that did not happen. time_backwards counts a connection's segments dated
// before an earlier one.
package expect

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"synack/decode"
)

// Op is a comparison.
type Op string

// Comparisons.
const (
	Eq Op = "="
	Ne Op = "!="
	Lt Op = "<"
	Le Op = "<="
	Gt Op = ">"
	Ge Op = ">="
)

// kind is what a field holds.
type kind int

const (
	kNumber kind = iota
	kDuration
	kWord
	kBool
	kAddr
)

var kindNames = map[kind]string{kNumber: "a number", kDuration: "a duration with a unit (e.g. 5ms)",
	kWord: "a word", kBool: "true or false", kAddr: "an address or CIDR prefix"}

type field struct {
	kind kind
	get  func(c *decode.Conn) any // float64, time.Duration, string, bool or netip.Addr
	// unknown, if set, reports that the connection has no value for the
	// field.
	unknown func(c *decode.Conn) bool
}

func count(f func(c *decode.Conn) uint64) field {
	return field{kNumber, func(c *decode.Conn) any { return float64(f(c)) }, nil}
}

func dur(f func(c *decode.Conn) time.Duration) field {
	return field{kDuration, func(c *decode.Conn) any { return f(c) }, nil}
}

// timing is a duration that is unknown when unknown says so.
func timing(f func(c *decode.Conn) time.Duration, unknown func(c *decode.Conn) bool) field {
	return field{kDuration, func(c *decode.Conn) any { return f(c) }, unknown}
}

func word(f func(c *decode.Conn) string) field {
	return field{kWord, func(c *decode.Conn) any { return f(c) }, nil}
}

func yes(f func(c *decode.Conn) bool) field {
	return field{kBool, func(c *decode.Conn) any { return f(c) }, nil}
}

// fields maps each field name to its getter. "connections" is the one
// field of a whole capture, handled apart.
var fields = func() map[string]field {
	both := func(a [2]uint64) uint64 { return a[0] + a[1] }
	m := map[string]field{
		"verdict":            word(func(c *decode.Conn) string { return c.Verdict.String() }),
		"conn_state":         word(func(c *decode.Conn) string { return c.ConnState.String() }),
		"history":            word(func(c *decode.Conn) string { return c.History }),
		"proto":              word(func(c *decode.Conn) string { return c.Proto.String() }),
		"closed_by":          word(func(c *decode.Conn) string { return c.ClosedBy.String() }),
		"handshake.complete": yes(func(c *decode.Conn) bool { return c.Handshake.Complete() }),
		"handshake.syn":      yes(func(c *decode.Conn) bool { return c.Handshake.SYN }),
		"handshake.syn_ack":  yes(func(c *decode.Conn) bool { return c.Handshake.SYNACK }),
		"handshake.ack":      yes(func(c *decode.Conn) bool { return c.Handshake.ACK }),
		"partial":            yes(func(c *decode.Conn) bool { return c.Partial }),
		"ecn":                yes(func(c *decode.Conn) bool { return c.ECN }),
		"half_closed":        yes(func(c *decode.Conn) bool { return c.HalfClosed }),
		"syn_to_synack": timing(func(c *decode.Conn) time.Duration { return c.Handshake.SYNToSYNACK() },
			func(c *decode.Conn) bool { return !c.Handshake.SYN || !c.Handshake.SYNACK || c.Handshake.OutOfOrder }),
		"synack_to_ack": timing(func(c *decode.Conn) time.Duration { return c.Handshake.SYNACKToACK() },
			func(c *decode.Conn) bool { return !c.Handshake.SYNACK || !c.Handshake.ACK || c.Handshake.OutOfOrder }),
		"handshake": timing(func(c *decode.Conn) time.Duration { return c.Handshake.Total() },
			func(c *decode.Conn) bool { return !c.Handshake.Complete() || c.Handshake.OutOfOrder }),
		"irtt":           timing(func(c *decode.Conn) time.Duration { return c.IRTT }, func(c *decode.Conn) bool { return c.IRTT == 0 || c.IRTTUnknown }),
		"time_backwards": count(func(c *decode.Conn) uint64 { return uint64(c.TimeBackwards) }),
		"ttfb": timing(func(c *decode.Conn) time.Duration { return c.TTFB() }, func(c *decode.Conn) bool {
			cl, sv := c.FirstData[decode.Client], c.FirstData[decode.Server]
			return cl.IsZero() || sv.IsZero() || sv.Before(cl)
		}),
		"duration":             dur(func(c *decode.Conn) time.Duration { return c.Duration() }),
		"packets":              count(func(c *decode.Conn) uint64 { return both(c.Packets) }),
		"packets.client":       count(func(c *decode.Conn) uint64 { return c.Packets[decode.Client] }),
		"packets.server":       count(func(c *decode.Conn) uint64 { return c.Packets[decode.Server] }),
		"payload_bytes":        count(func(c *decode.Conn) uint64 { return both(c.Bytes) }),
		"payload_bytes.client": count(func(c *decode.Conn) uint64 { return c.Bytes[decode.Client] }),
		"payload_bytes.server": count(func(c *decode.Conn) uint64 { return c.Bytes[decode.Server] }),
		"fin":                  count(func(c *decode.Conn) uint64 { return uint64(c.FINs[0] + c.FINs[1]) }),
		"fin.client":           count(func(c *decode.Conn) uint64 { return uint64(c.FINs[decode.Client]) }),
		"fin.server":           count(func(c *decode.Conn) uint64 { return uint64(c.FINs[decode.Server]) }),
		"rst":                  count(func(c *decode.Conn) uint64 { return uint64(c.RSTs[0] + c.RSTs[1]) }),
		"rst.client":           count(func(c *decode.Conn) uint64 { return uint64(c.RSTs[decode.Client]) }),
		"rst.server":           count(func(c *decode.Conn) uint64 { return uint64(c.RSTs[decode.Server]) }),
		"client.port":          count(func(c *decode.Conn) uint64 { return uint64(c.Client.Port()) }),
		"server.port":          count(func(c *decode.Conn) uint64 { return uint64(c.Server.Port()) }),
		"id":                   count(func(c *decode.Conn) uint64 { return c.ID }),
		"client.ip":            {kAddr, func(c *decode.Conn) any { return c.Client.Addr().Unmap() }, nil},
		"server.ip":            {kAddr, func(c *decode.Conn) any { return c.Server.Addr().Unmap() }, nil},
	}
	for _, a := range decode.Anomalies() {
		m[a.String()] = count(func(c *decode.Conn) uint64 { return uint64(c.Anomalies[a.Index()]) })
	}
	return m
}()

// Fields lists the field names, sorted, "connections" included.
func Fields() []string {
	names := []string{"connections"}
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Expr is one parsed expectation.
type Expr struct {
	Text  string // as written
	Field string
	Op    Op
	Value string

	kind   kind
	num    float64
	dur    time.Duration
	b      bool
	prefix netip.Prefix
}

// SyntaxError points at the bad token of an expression.
type SyntaxError struct {
	Text string
	Pos  int // byte offset of the bad token
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s\n  %s\n  %s^", e.Msg, e.Text, strings.Repeat(" ", len([]rune(e.Text[:e.Pos]))))
}

// Parse parses one expression.
func Parse(text string) (*Expr, error) {
	s := strings.TrimSpace(text)
	i := strings.IndexAny(s, "=!<>")
	name := s
	if i >= 0 {
		name = strings.TrimSpace(s[:i])
	}
	e := &Expr{Text: s, Field: name}
	if name == "" {
		return nil, &SyntaxError{s, 0, "missing field name before the comparison"}
	}
	f, ok := fields[name]
	switch {
	case name == "connections":
		e.kind = kNumber
	case !ok:
		return nil, &SyntaxError{s, 0, fmt.Sprintf("unknown field %q (known: %s)", name, strings.Join(Fields(), ", "))}
	default:
		e.kind = f.kind
	}
	if i < 0 {
		if e.kind != kBool {
			return nil, &SyntaxError{s, len(s), fmt.Sprintf("%s needs a comparison, e.g. %s=VALUE", name, name)}
		}
		e.Op, e.Value, e.b = Eq, "true", true
		return e, nil
	}
	rest := s[i:]
	for _, op := range []Op{Le, Ge, Ne, Lt, Gt, Eq} {
		if strings.HasPrefix(rest, string(op)) {
			e.Op = op
			break
		}
	}
	if e.Op == "" || strings.ContainsAny(rest[len(e.Op):min(len(rest), len(e.Op)+1)], "=<>!") {
		return nil, &SyntaxError{s, i, fmt.Sprintf("bad comparison %q (want =, !=, <, <=, > or >=)", strings.TrimRight(rest, "abcdefghijklmnopqrstuvwxyz0123456789._/:µ "))}
	}
	valPos := i + len(e.Op)
	e.Value = strings.TrimSpace(s[valPos:])
	for valPos < len(s) && s[valPos] == ' ' {
		valPos++
	}
	if e.Value == "" {
		return nil, &SyntaxError{s, valPos, "missing value after " + string(e.Op)}
	}
	if msg := e.parseValue(); msg != "" {
		return nil, &SyntaxError{s, valPos, msg}
	}
	return e, nil
}

func (e *Expr) parseValue() string {
	ordered := e.Op != Eq && e.Op != Ne
	var err error
	switch e.kind {
	case kNumber:
		if e.num, err = strconv.ParseFloat(e.Value, 64); err != nil {
			return fmt.Sprintf("%s wants %s, not %q", e.Field, kindNames[kNumber], e.Value)
		}
	case kDuration:
		if e.dur, err = time.ParseDuration(strings.ReplaceAll(e.Value, "us", "µs")); err != nil {
			return fmt.Sprintf("%s wants %s, not %q", e.Field, kindNames[kDuration], e.Value)
		}
	case kBool:
		if e.b, err = strconv.ParseBool(e.Value); err != nil || ordered {
			return fmt.Sprintf("%s wants = or != with true or false, not %s%s", e.Field, e.Op, e.Value)
		}
	case kWord:
		if ordered {
			return fmt.Sprintf("%s is a word: compare it with = or !=", e.Field)
		}
	case kAddr:
		if ordered {
			return fmt.Sprintf("%s is an address: compare it with = or !=", e.Field)
		}
		if e.prefix, err = netip.ParsePrefix(e.Value); err != nil {
			a, aerr := netip.ParseAddr(e.Value)
			if aerr != nil {
				return fmt.Sprintf("%s wants %s, not %q", e.Field, kindNames[kAddr], e.Value)
			}
			e.prefix = netip.PrefixFrom(a, a.BitLen())
		}
		e.prefix = e.prefix.Masked()
	}
	return ""
}

// Capture reports whether the expression is about a whole capture
// (connections) rather than each connection.
func (e *Expr) Capture() bool { return e.Field == "connections" }

// Count evaluates a capture-level expression on the number of selected
// connections.
func (e *Expr) Count(n int) (bool, string) {
	v := float64(n)
	return compare(e.Op, cmp3(v, e.num)), strconv.Itoa(n)
}

// Eval evaluates the expression on one connection and returns whether it
// holds and the connection's actual value, as text ("unknown" for a value
// the connection does not have, which holds for no expression).
func (e *Expr) Eval(c *decode.Conn) (bool, string) {
	f := fields[e.Field]
	if f.unknown != nil && f.unknown(c) {
		return false, "unknown"
	}
	v := f.get(c)
	switch e.kind {
	case kNumber:
		x := v.(float64)
		return compare(e.Op, cmp3(x, e.num)), strconv.FormatFloat(x, 'f', -1, 64)
	case kDuration:
		d := v.(time.Duration)
		return compare(e.Op, cmp3(float64(d), float64(e.dur))), d.String()
	case kBool:
		b := v.(bool)
		return (b == e.b) == (e.Op == Eq), strconv.FormatBool(b)
	case kAddr:
		a := v.(netip.Addr)
		return e.prefix.Contains(a) == (e.Op == Eq), a.String()
	}
	w := v.(string)
	return (w == e.Value) == (e.Op == Eq), w
}

func cmp3(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compare(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	case Gt:
		return c > 0
	}
	return c >= 0
}

// Select keeps the connections for which every where-expression holds.
func Select(conns []*decode.Conn, where []*Expr) []*decode.Conn {
	if len(where) == 0 {
		return conns
	}
	var out []*decode.Conn
	for _, c := range conns {
		if Match(c, where) {
			out = append(out, c)
		}
	}
	return out
}

// Match reports whether every where-expression holds for c.
func Match(c *decode.Conn, where []*Expr) bool {
	for _, w := range where {
		if ok, _ := w.Eval(c); !ok {
			return false
		}
	}
	return true
}
