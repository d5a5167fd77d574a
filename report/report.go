// Package report renders decoded TCP connections for people (a text
// timeline per connection, a summary table, totals) and for machines (JSON,
// schema synack/v1). It takes plain records and knows nothing of pcap.
package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"synack/decode"
)

// Capture is everything known about one analysed capture.
type Capture struct {
	Source   string // file name, "stdin", or interface
	Format   string // "pcap", "pcap (ns)", "pcapng", "live"
	LinkType string // DLT name of the first interface
	Filter   string // BPF filter expression, if any
	Conns    []*decode.Conn
	Totals   decode.Totals
	// Warnings are per-frame problems (damaged headers); WarningsOmitted
	// counts those not kept.
	Warnings        []error
	WarningsOmitted uint64
	// Err says where and why reading stopped early (a damaged file, a
	// cancelled read); nil when the capture was read to its end. The
	// report covers the frames before it.
	Err error
	// Stats are libpcap's counters of a live capture (nil for files).
	Stats *Stats
	// Programs are lines from the programs whose traffic was captured
	// (the demo's server and client), shown before the connections.
	Programs []string
	// Calls are those programs' socket calls, set beside the segments of
	// the connection they belong to.
	Calls []Call
}

// SortByID orders connections as they began: the order every report
// lists them in.
func SortByID(conns []*decode.Conn) {
	// Stable: a resumed record (the same ID) follows the one before it.
	slices.SortStableFunc(conns, func(a, b *decode.Conn) int { return cmp.Compare(a.ID, b.ID) })
}

// errText is err's message, or "" for nil: how documents show an error.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// warningTexts are the messages of the warnings, never nil.
func (c *Capture) warningTexts() []string {
	out := make([]string, len(c.Warnings))
	for i, w := range c.Warnings {
		out[i] = w.Error()
	}
	return out
}

// Call is a socket call of a program whose traffic was captured: which
// connection it belongs to (protocol and the client's port), who made it,
// and when it was made and returned, by the clock that dates the packets.
type Call struct {
	Proto         decode.Proto
	ClientPort    uint16
	Side          string // "client" or "server"
	Name          string // "connect", "accept", "write", "read", "shutdown", "close"…
	Start, Return time.Time
}

// callsOf are the calls that belong to connection c.
func callsOf(c *decode.Conn, all []Call) []Call {
	var out []Call
	for _, k := range all {
		if k.Proto == c.Proto && k.ClientPort == c.Client.Port() {
			out = append(out, k)
		}
	}
	return out
}

// callMark is a moment of a call, for the timeline: made, or returned.
type callMark struct {
	at   time.Time
	text string
}

// callMarks lists the moments of calls in time order: a call that
// returned within a microsecond is one mark, others two.
func callMarks(calls []Call) []callMark {
	var marks []callMark
	for _, k := range calls {
		if k.Return.Sub(k.Start) < time.Microsecond {
			marks = append(marks, callMark{k.Start, k.Side + ": " + k.Name + "()"})
			continue
		}
		marks = append(marks, callMark{k.Start, k.Side + ": " + k.Name + "() called"},
			callMark{k.Return, k.Side + ": " + k.Name + "() returns"})
	}
	slices.SortStableFunc(marks, func(a, b callMark) int { return a.at.Compare(b.at) })
	return marks
}

// Stats are a live capture's counters.
type Stats struct {
	Received        uint64 `json:"received"`
	DroppedByKernel uint64 `json:"dropped_by_kernel"`
	DroppedByIface  uint64 `json:"dropped_by_interface"`
}

const hexDigits = "0123456789abcdef"

// Escape renders bytes from the wire so that nothing reaches a terminal
// raw: printable ASCII stays, \n \r \t \\ \" get backslash escapes, and
// every other byte (control bytes, DEL, anything >= 0x80) becomes \xHH.
func Escape(b []byte) string { return string(appendEscape(make([]byte, 0, len(b)), b)) }

// Name renders a name from outside synack (a file or interface name, a
// message that quotes one) for a terminal or a document: printable
// characters stay, and every control character, invalid UTF-8 byte and
// invisible format character (a bidi override, say) becomes a visible
// escape (\x1b, \u202e), so that a name can neither drive a terminal nor
// break a document.
func Name(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// preview returns the escaped payload preview of e, with "…" when the
// payload is longer than the bytes kept, or "" without payload.
func preview(e *decode.Event) string {
	p := e.Preview()
	if len(p) == 0 {
		return ""
	}
	s := Escape(p)
	if uint32(len(p)) < e.Len {
		s += "…"
	}
	return s
}

// Duration formats d for people: "850ns", "45µs", "1.234ms", "2.500s".
func Duration(d time.Duration) string {
	var b [32]byte
	return string(appendDuration(b[:0], d))
}

// appendDuration appends Duration(d).
func appendDuration(b []byte, d time.Duration) []byte {
	switch {
	case d < time.Microsecond:
		return append(strconv.AppendInt(b, int64(d), 10), "ns"...)
	case d < time.Millisecond:
		return append(strconv.AppendInt(b, int64(d.Round(time.Microsecond)/time.Microsecond), 10), "µs"...)
	case d < time.Second:
		if b, ok := appendFixed(b, d, time.Millisecond, 3); ok {
			return append(b, "ms"...)
		}
		return append(strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 3, 64), "ms"...)
	}
	return append(appendSeconds(b, d, 3), 's')
}

// appendSeconds appends d in seconds with digits decimals, as
// strconv.AppendFloat(b, d.Seconds(), 'f', digits, 64) writes it.
func appendSeconds(b []byte, d time.Duration, digits int) []byte {
	if b, ok := appendFixed(b, d, time.Second, digits); ok {
		return b
	}
	return strconv.AppendFloat(b, d.Seconds(), 'f', digits, 64)
}

// appendFixed appends d in units of unit (a second or a millisecond)
// with digits decimals (6 or 3, at most as many as make a nanosecond),
// rounded to the nearest as strconv rounds the float64 of d/unit, by
// integer arithmetic: floats cost most of a timeline's time column. It
// declines (false) where the two could differ: a negative or huge d
// (past 2^50 ns, 13 days, the float's error nears a nanosecond), or d
// half-way between two results, which the float's own rounding settles.
func appendFixed(b []byte, d, unit time.Duration, digits int) ([]byte, bool) {
	if d < 0 || d >= 1<<50 {
		return b, false
	}
	// q is d in steps of the last digit, r the rest, in nanoseconds.
	var q, r, step, scale uint64
	switch {
	case unit == time.Second && digits == 6:
		q, r, step, scale = uint64(d)/1000, uint64(d)%1000, 1000, 1e6
	case unit == time.Second && digits == 3:
		q, r, step, scale = uint64(d)/1e6, uint64(d)%1e6, 1e6, 1e3
	case unit == time.Millisecond && digits == 3:
		q, r, step, scale = uint64(d)/1000, uint64(d)%1000, 1000, 1e3
	default:
		return b, false
	}
	switch {
	case 2*r == step:
		return b, false
	case 2*r > step:
		q++
	}
	whole, frac := q/scale, q%scale
	w := decimalWidth(whole)
	off := len(b)
	b = grow(b, w+1+digits)
	putDecimal(b[:off+w], whole)
	b[off+w] = '.'
	for i := len(b) - 1; i > off+w; i-- {
		b[i] = byte('0' + frac%10)
		frac /= 10
	}
	return b, true
}

// width is the number of terminal columns s takes (all our runes are one
// column wide).
func width(s string) int { return utf8.RuneCountInString(s) }

// pad right-pads s to n columns.
func pad(s string, n int) string {
	w := width(s)
	if w >= n {
		return s
	}
	var b strings.Builder // one allocation, not a Repeat and a concatenation
	b.Grow(len(s) + n - w)
	b.WriteString(s)
	for range n - w {
		b.WriteByte(' ')
	}
	return b.String()
}

func plural(n uint64, one, many string) string {
	var b [64]byte
	return string(appendPlural(b[:0], n, one, many))
}

// eventsAhead is how many events before rendering one the renderers ask
// for it (decode.PrefetchEvent).
const eventsAhead = 4
