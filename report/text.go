package report

import (
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"synack/decode"
)

// TextOptions tune the text report.
type TextOptions struct {
	// NoTimeline leaves out the per-packet lines.
	NoTimeline bool
	// SummaryOnly prints only the summary table and totals (for live
	// capture, whose packets were printed as they came).
	SummaryOnly bool
	// Explain puts under each kind of segment, the first time it appears
	// in a connection, what it is and why it happens, and after the
	// timeline why the connection ended as it did (--explain).
	Explain bool
	// Calls are socket calls to set beside the segments (the demo's).
	Calls []Call
	Style Style
	// lines, when set, is the document's cache of timeline strings.
	lines *lineCache
}

// explainWidth is the width explanations are wrapped at when the output's
// width is not known.
const explainWidth = 100

// arrowWidth is the width of the direction column.
const arrowWidth = 26

// Text writes the human report of the connections in c.Conns: each
// connection's header and timeline, then the summary table and the
// totals (NewText streams it).
func Text(w io.Writer, c *Capture, opt TextOptions) error { return Whole(NewText(w, c, opt), c) }

// header names the capture. The frames it held are counted in the totals
// at the end: the header is written before they are known.
func header(w io.Writer, c *Capture) {
	fmt.Fprintf(w, "synack: %s · %s, %s", Name(c.Source), c.Format, c.LinkType)
	if c.Filter != "" {
		fmt.Fprintf(w, " · filter %q", c.Filter)
	}
	fmt.Fprintln(w)
}

// Arrow draws a segment's direction with its flags in tcpdump notation:
// "──[S]────────▶" from client to server, "◀────────[S.]──" back.
func Arrow(d decode.Dir, f decode.Flags) string {
	return arrow(d, "["+f.Tcpdump()+"]")
}

// arrow draws a direction arrow carrying label.
func arrow(d decode.Dir, label string) string {
	line := strings.Repeat("─", max(arrowWidth-width(label)-3, 1))
	if d == decode.ClientToServer {
		return "──" + label + line + "▶"
	}
	return "◀" + line + label + "──"
}

// eventArrow is the arrow of an event: the TCP flags, or "udp".
func eventArrow(c *decode.Conn, e *decode.Event) string {
	if c.Proto == decode.UDP {
		return arrow(e.Dir, "[udp]")
	}
	return Arrow(e.Dir, e.Flags)
}

// eventFlags names an event's flags, or "datagram".
func eventFlags(c *decode.Conn, e *decode.Event) string {
	if c.Proto == decode.UDP {
		return "datagram"
	}
	return e.Flags.String()
}

// appendUDPFlow appends a UDP flow's header.
func appendUDPFlow(b []byte, c *decode.Conn) []byte {
	b = strconv.AppendUint(append(b, "\nudp flow "...), c.ID, 10)
	b = appendAddrPort(append(b, "  "...), c.Client)
	b = appendAddrPort(append(b, " → "...), c.Server)
	b = append(b, '\n')
	if c.Encap != nil {
		b = append(append(append(b, "  encapsulation: "...), c.Encap.String()...), '\n')
	}
	b = appendDuration(append(b, "  no handshake, no teardown: datagrams only · duration "...), c.Duration())
	b = append(b, '\n')
	for _, s := range []decode.Side{decode.Client, decode.Server} {
		b = append(append(append(append(b, "  "...), s.String()...), " → "...), s.Other().String()...)
		b = appendPlural(append(b, ": "...), c.Packets[s], "datagram", "datagrams")
		b = appendPlural(append(b, ", "...), c.Bytes[s], "byte", "bytes")
		b = append(b, " payload\n"...)
	}
	return b
}

// anomalyLabels are the words the timeline uses for tshark's flags.
var anomalyLabels = map[decode.Anomaly]string{
	decode.Retransmission: "retransmission", decode.FastRetransmission: "fast retransmission",
	decode.SpuriousRetransmission: "spurious retransmission", decode.DuplicateACK: "dup ACK",
	decode.OutOfOrder: "out-of-order", decode.LostSegment: "previous segment not captured",
	decode.ACKUnseen: "ACKs a segment not captured", decode.ZeroWindow: "zero window",
	decode.ZeroWindowProbe: "zero window probe", decode.ZeroWindowProbeACK: "zero window probe ACK",
	decode.WindowFull: "window full", decode.KeepAlive: "keep-alive", decode.KeepAliveACK: "keep-alive ACK",
	decode.WindowUpdate: "window update",
}

// anomalyText renders a segment's analysis flags as "[dup ACK #2]".
func anomalyText(e *decode.Event) string {
	if e.Anomalies == 0 {
		return ""
	}
	return string(appendAnomalyText(nil, e))
}

// appendAnomalyText appends anomalyText(e), for an event with flags.
func appendAnomalyText(b []byte, e *decode.Event) []byte {
	b = append(b, '[')
	first := true
	for i := range decode.NumAnomalies {
		a := decode.Anomaly(1) << i
		if e.Anomalies&a == 0 {
			continue
		}
		// A fast retransmission is also flagged as a retransmission, as
		// tshark does; saying it once is enough here.
		if a == decode.Retransmission && e.Anomalies&decode.FastRetransmission != 0 {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, anomalyLabels[a]...)
		if a == decode.DuplicateACK {
			b = append(b, " #"...)
			b = strconv.AppendUint(b, uint64(e.DupAck), 10)
		}
	}
	return append(b, ']')
}

// stateCols shows each side's RFC 9293 state where the event changed it
// (prev is the connection's previous event, nil for the first).
func stateCols(c *decode.Conn, e, prev *decode.Event) (client, server string) {
	if c.Proto != decode.TCP {
		return "", ""
	}
	if prev == nil || e.ClientState != prev.ClientState {
		client = e.ClientState.String()
	}
	if prev == nil || e.ServerState != prev.ServerState {
		server = e.ServerState.String()
	}
	return client, server
}

// EventLine formats one event as a timeline line (without a newline); prev
// is the connection's previous event (nil for the first), so that states
// are shown where they change.
func EventLine(c *decode.Conn, e, prev *decode.Event, st Style) string {
	cs, ss := stateCols(c, e, prev)
	head := eventHead(c, e, cs, ss, st)
	room := 0
	if st.Width > 0 {
		plain := head
		if st.Color { // the width the colour codes do not take
			plain = eventHead(c, e, cs, ss, Style{Absolute: st.Absolute})
		}
		room = max(st.Width-width(plain)-2, 12) // the 2 columns of the timeline's indent
	}
	return head + meaningText(e, st, room)
}

// Lines appends timeline lines one at a time, as live capture prints
// them. Without colour and without a width to fit, a line is built from
// a cache of the strings it is made of (see lineCache), as the text
// report builds it; otherwise through EventLine. A Lines belongs to one
// goroutine.
type Lines struct {
	st Style
	k  *lineCache
}

// NewLines returns a Lines that writes in st.
func NewLines(st Style) *Lines { return &Lines{st: st, k: newLineCache()} }

// AppendEventLine appends EventLine(c, e, prev, st) to b.
func (l *Lines) AppendEventLine(b []byte, c *decode.Conn, e, prev *decode.Event) []byte {
	return l.k.appendStyledEventLine(b, c, e, prev, l.st)
}

// appendISN appends each side's initial sequence number, the base of the
// relative numbers in the timeline (nothing without a SYN either way).
func appendISN(b []byte, c *decode.Conn) []byte {
	start := len(b)
	for _, s := range []decode.Side{decode.Client, decode.Server} {
		if isn, ok := c.ISN(s); ok {
			if len(b) > start {
				b = append(b, " · "...)
			}
			b = append(b, s.String()...)
			b = append(b, " ISN "...)
			b = strconv.AppendUint(b, uint64(isn), 10)
		}
	}
	if len(b) == start {
		return b
	}
	return append(b, " (seq and ack below count from these; -S shows them as on the wire)"...)
}

// eventHead is a timeline line up to its meaning, as
// "%10.6f  %-12s %s  %-12s  %-12s %10s %10s %6d %8s  " would write it,
// built by appending: the timeline of a large capture is millions of
// these lines, and fmt cost most of their time. With colour, states are
// green and the arrow cyan or magenta, padded as without.
func eventHead(c *decode.Conn, e *decode.Event, cs, ss string, st Style) string {
	var num [24]byte
	b := make([]byte, 0, 192)
	state := func(b []byte, s string) []byte {
		if st.Color && s != "" {
			return append(b, st.paint(sgrGreen, pad(s, 12))...)
		}
		return appendRight(b, s, 12)
	}
	arrowColor := sgrCyan
	if e.Dir == decode.ServerToClient {
		arrowColor = sgrMagenta
	}
	b = appendLeft(b, strconv.AppendFloat(num[:0], e.T.Seconds(), 'f', 6, 64), 10)
	b = append(b, "  "...)
	b = state(b, cs)
	b = append(b, ' ')
	b = append(b, st.paint(arrowColor, eventArrow(c, e))...)
	b = append(b, "  "...)
	b = state(b, ss)
	b = append(b, "  "...)
	b = appendRight(b, eventFlags(c, e), 12)
	b = appendNumbers(b, c, e, st.Absolute)
	return string(b)
}

// appendNumbers appends a timeline line's number columns, " %10s %10s
// %6d %8s  ": seq, ack (on the wire when abs), length and window. A UDP
// datagram has no sequence number, no acknowledgement and no window:
// those columns stay blank rather than show zeros.
func appendNumbers(b []byte, c *decode.Conn, e *decode.Event, abs bool) []byte {
	if c.Proto == decode.UDP {
		b = append(b, "                      "...) // " %10s %10s" of nothing
		b = appendUintCol(b, uint64(e.Len), 6)
		return append(b, "           "...) // " %8s  " of nothing
	}
	seq, ack := e.Seq, e.Ack
	if abs {
		seq, ack = c.Absolute(e)
	}
	b = appendUintCol(b, uint64(seq), 10)
	b = appendUintCol(b, uint64(ack), 10)
	b = appendUintCol(b, uint64(e.Len), 6)
	b = appendUintCol(b, uint64(e.Win), 8)
	return append(b, "  "...)
}

// appendUintCol appends a space and v right-aligned in n columns, as
// " %*d" writes it.
func appendUintCol(b []byte, v uint64, n int) []byte {
	off := len(b)
	if n < 20 {
		// Most values fit the column: write the digits at its end, then
		// the spaces before them.
		b = grow(b, 1+n)
		if i := putDecimalIn(b[off+1:], v); i >= 0 {
			for j := off; j <= off+i; j++ {
				b[j] = ' '
			}
			return b
		}
		b = b[:off]
	}
	w := max(decimalWidth(v), n)
	b = grow(b, 1+w)
	i := putDecimal(b[off+1:], v)
	for j := off; j <= off+i; j++ {
		b[j] = ' '
	}
	return b
}

// decimalPairs are the two digits of 0 to 99, in turn.
const decimalPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// putDecimalIn is putDecimal when v's digits fit b, else -1 (b is then
// written over).
func putDecimalIn(b []byte, v uint64) int {
	i := len(b)
	for v >= 100 {
		if i < 2 {
			return -1
		}
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		b[i], b[i+1] = decimalPairs[r], decimalPairs[r+1]
		v = q
	}
	if v >= 10 {
		if i < 2 {
			return -1
		}
		i -= 2
		b[i], b[i+1] = decimalPairs[v*2], decimalPairs[v*2+1]
		return i
	}
	if i < 1 {
		return -1
	}
	i--
	b[i] = byte('0' + v)
	return i
}

// decimalWidth is the number of decimal digits of v: from its bit
// length times log10(2) (1233/4096), which is the count or one short
// of it, without a division.
func decimalWidth(v uint64) int {
	n := bits.Len64(v) * 1233 >> 12
	if v >= powersOf10[n] {
		n++
	}
	return max(n, 1)
}

// powersOf10 are 10^0 to 10^19, the last a uint64 holds.
var powersOf10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// putDecimal writes v's decimal digits at the end of b, which has room
// for them (decimalWidth), and returns where they start.
func putDecimal(b []byte, v uint64) int { return putDecimalIn(b, v) }

// appendLeft appends s right-aligned in n columns, appendRight s
// left-aligned in n columns, as fmt's %*s and %-*s do.
func appendLeft(b, s []byte, n int) []byte {
	if w := utf8.RuneCount(s); w < n {
		b = appendSpaces(b, n-w)
	}
	return append(b, s...)
}

func appendRight(b []byte, s string, n int) []byte {
	b = append(b, s...)
	if w := utf8.RuneCountInString(s); w < n {
		b = appendSpaces(b, n-w)
	}
	return b
}

// appendSpaces appends n spaces.
func appendSpaces(b []byte, n int) []byte {
	const spaces = "                                "
	for ; n > len(spaces); n -= len(spaces) {
		b = append(b, spaces...)
	}
	return append(b, spaces[:n]...)
}

func connection(w io.Writer, c *decode.Conn, opt TextOptions) {
	// Appended into one buffer with the timeline, one write: fmt cost as
	// much as the timeline for a capture of many short connections.
	k := opt.lines
	if k == nil {
		k = newLineCache()
	}
	if a, ok := w.(*appender); ok { // a document's part: appended to it, whole
		// Room for about the whole block first: grown a line at a time
		// (by a quarter each time, once large), a long timeline would
		// be copied over and over.
		a.b = appendConnection(slices.Grow(a.b, 1024+128*len(c.Events)), nil, c, opt, k)
		return
	}
	k.buf = appendConnection(k.buf[:0], w, c, opt, k)
	w.Write(k.buf)
}

// appendConnection appends c's header and timeline to b, and returns
// what is left to write of them to w; a nil w takes nothing before.
func appendConnection(b []byte, w io.Writer, c *decode.Conn, opt TextOptions, k *lineCache) []byte {
	if c.Proto == decode.UDP {
		return appendTimeline(appendUDPFlow(b, c), w, c, opt, k)
	}
	st := opt.Style
	b = append(b, '\n')
	if st.Color {
		b = append(b, st.paint(sgrBold, "connection "+strconv.FormatUint(c.ID, 10))...)
	} else {
		b = strconv.AppendUint(append(b, "connection "...), c.ID, 10)
	}
	b = append(b, "  "...)
	b = appendAddrPort(b, c.Client)
	b = append(b, " → "...)
	b = appendAddrPort(b, c.Server)
	b = append(b, "  "...)
	b = append(b, st.paint(verdictColor(c.Verdict), c.Verdict.String())...)
	if c.Resumed {
		b = append(b, " (resumed: it went on after it was handed over, then "...)
		b = append(b, c.PriorVerdict.String()...)
		b = append(b, ')')
	}
	b = append(b, '\n')
	if c.Partial {
		b = append(b, "  began before the capture: roles guessed from the ports\n"...)
	}
	if c.Encap != nil {
		b = append(b, "  encapsulation: "...)
		b = append(b, c.Encap.String()...)
		b = append(b, '\n')
	}
	b = append(b, "  "...)
	b = appendHandshake(b, c)
	b = append(b, " · duration "...)
	b = appendDuration(b, c.Duration())
	if c.ClosedBy != decode.NoSide {
		b = append(b, " · "...)
		b = append(b, c.ClosedBy.String()...)
		b = append(b, " closed first"...)
	}
	b = append(b, '\n')
	for _, s := range []decode.Side{decode.Client, decode.Server} {
		b = append(b, "  "...)
		b = append(b, s.String()...)
		b = append(b, " → "...)
		b = append(b, s.Other().String()...)
		b = append(b, ": "...)
		b = appendPlural(b, c.Packets[s], "packet", "packets")
		b = append(b, ", "...)
		b = appendPlural(b, c.Bytes[s], "byte", "bytes")
		b = append(b, " payload, FIN "...)
		b = strconv.AppendUint(b, uint64(c.FINs[s]), 10)
		b = append(b, ", RST "...)
		b = strconv.AppendUint(b, uint64(c.RSTs[s]), 10)
		b = append(b, '\n')
	}
	b = append(b, "  zeek: conn_state "...)
	b = append(b, c.ConnState.String()...)
	b = append(b, ", history "...)
	b = append(b, c.History...)
	b = append(b, '\n')
	b = appendLine(b, "  timing: ", c, appendTiming)
	b = appendLine(b, "  anomalies: ", c, appendAnomalyCounts)
	if c.HasOptions[decode.Client] || c.HasOptions[decode.Server] {
		b = append(b, "  SYN options: client "...)
		b = appendOptions(b, c, decode.Client)
		b = append(b, " · server "...)
		b = appendOptions(b, c, decode.Server)
		b = append(b, '\n')
	}
	if c.TimeBackwards > 0 {
		b = append(b, "  time went backwards: "...)
		b = appendPlural(b, uint64(c.TimeBackwards), "segment", "segments")
		b = append(b, " dated before an earlier one (times clamped, not negative)\n"...)
	}
	b = appendLine(b, "  ", c, appendISN)
	return appendTimeline(b, w, c, opt, k)
}

// appendLine appends a line of prefix and what add appends for c, or
// nothing when add appends nothing.
func appendLine(b []byte, prefix string, c *decode.Conn, add func([]byte, *decode.Conn) []byte) []byte {
	mark := len(b)
	b = append(b, prefix...)
	n := len(b)
	if b = add(b, c); len(b) == n {
		return b[:mark]
	}
	return append(b, '\n')
}

// appendPlural appends plural(n, one, many).
func appendPlural(b []byte, n uint64, one, many string) []byte {
	if n == 1 {
		return append(append(b, "1 "...), one...)
	}
	b = strconv.AppendUint(b, n, 10)
	b = append(b, ' ')
	return append(b, many...)
}

// timelineHeader is the column header of timeline lines.
func timelineHeader() string {
	return fmt.Sprintf("%10s  %-12s %-*s  %-12s  %-12s %10s %10s %6s %8s  %s", "time", "client", arrowWidth, "", "server",
		"flags", "seq", "ack", "len", "win", "meaning")
}

func timeline(w io.Writer, c *decode.Conn, opt TextOptions) {
	k := opt.lines
	if k == nil {
		k = newLineCache()
	}
	k.buf = appendTimeline(k.buf[:0], w, c, opt, k)
	w.Write(k.buf)
}

// appendTimeline appends c's timeline to b, and returns what is left to
// write of it to w: the lines are written to w in blocks of about
// timelineBlock bytes, each at once (none to a nil w).
func appendTimeline(b []byte, w io.Writer, c *decode.Conn, opt TextOptions, k *lineCache) []byte {
	cols := explainWidth
	if opt.Style.Width > 0 {
		cols = opt.Style.Width
	}
	if !opt.NoTimeline {
		b = append(b, k.header...)
		var x *explainer
		if opt.Explain {
			x = newExplainer(c)
		}
		marks := callMarks(callsOf(c, opt.Calls))
		callLine := func(b []byte, m callMark) []byte {
			b = append(b, ' ', ' ')
			b = appendSecondsCol(b, m.at.Sub(c.FirstSeen), 10)
			b = append(b, ' ', ' ')
			b = append(b, opt.Style.paint(sgrBold, "· "+m.text)...)
			return append(b, '\n')
		}
		var prev *decode.Event
		for i := range c.Events {
			e := &c.Events[i]
			if i+eventsAhead < len(c.Events) {
				decode.PrefetchEvent(&c.Events[i+eventsAhead])
			}
			for len(marks) > 0 && !marks[0].at.After(c.FirstSeen.Add(e.T)) {
				b = callLine(b, marks[0])
				marks = marks[1:]
			}
			b = append(b, ' ', ' ')
			b = k.appendStyledEventLine(b, c, e, prev, opt.Style)
			b = append(b, '\n')
			if x != nil {
				for _, ex := range x.segment(c, e) {
					b = append(b, k.explained(ex, "              ↳ ", cols, opt.Style.Color)...)
				}
			}
			prev = e
			if len(b) >= timelineBlock && w != nil {
				w.Write(b)
				b = b[:0]
			}
		}
		for _, m := range marks {
			b = callLine(b, m)
		}
		if c.EventsOmitted > 0 {
			b = append(b, "  … "...)
			b = appendPlural(b, c.EventsOmitted, "packet", "packets")
			b = append(b, " more not shown (limit --max-events) …\n"...)
		}
	}
	if ex, ok := verdictExplanations[c.Verdict]; ok && opt.Explain {
		b = append(b, '\n')
		b = append(b, k.explained(ex, "  ", cols, false)...)
	}
	return b
}

// timelineBlock is about how much of a timeline is written at once.
const timelineBlock = 64 << 10

// AppendConnLine appends c summed up in one line to b: "tcp
// 10.0.0.1:40000 → 10.0.0.2:80: complete · 10 packets · handshake 1.2ms ·
// duration 5ms · 120 bytes c→s, 900 bytes s→c".
func AppendConnLine(b []byte, c *decode.Conn) []byte {
	b = AppendEndpoints(b, c)
	b = append(b, ": "...)
	b = append(b, c.Verdict.String()...)
	b = append(b, " · "...)
	b = appendPlural(b, c.Packets[0]+c.Packets[1], "packet", "packets")
	if c.Handshake.Complete() {
		b = append(b, " · handshake "...)
		b = appendDuration(b, c.Handshake.Total())
	}
	b = append(b, " · duration "...)
	b = appendDuration(b, c.Duration())
	b = append(b, " · "...)
	b = strconv.AppendUint(b, c.Bytes[decode.Client], 10)
	b = append(b, " bytes c→s, "...)
	b = strconv.AppendUint(b, c.Bytes[decode.Server], 10)
	return append(b, " bytes s→c"...)
}

// AppendEndpoints appends "tcp 10.0.0.1:40000 → 10.0.0.2:80": c's
// protocol, client and server.
func AppendEndpoints(b []byte, c *decode.Conn) []byte {
	b = append(b, c.Proto.String()...)
	b = append(b, ' ')
	b = c.Client.AppendTo(b)
	b = append(b, " → "...)
	return c.Server.AppendTo(b)
}

// appendHandshake appends how the handshake went.
func appendHandshake(b []byte, c *decode.Conn) []byte {
	h := &c.Handshake
	switch {
	case h.SYN && !h.SYNACK && c.RSTs[decode.Server] > 0:
		b = append(b, "SYN refused: the server answered RST after "...)
		return appendDuration(b, c.LastSeen.Sub(h.SYNTime))
	case h.Complete() && h.OutOfOrder:
		return append(b, "handshake complete, its time unknown: its segments are dated out of order"...)
	case h.Complete():
		b = appendDuration(append(b, "handshake "...), h.Total())
		b = appendDuration(append(b, " (SYN→SYN-ACK "...), h.SYNToSYNACK())
		b = appendDuration(append(b, ", SYN-ACK→ACK "...), h.SYNACKToACK())
		return append(b, ')')
	case h.SYN && h.SYNACK:
		b = appendDuration(append(b, "handshake unfinished (SYN→SYN-ACK "...), h.SYNToSYNACK())
		return append(b, ", no ACK)"...)
	case h.SYN:
		b = appendPlural(append(b, "handshake unanswered ("...), uint64(h.SYNCount), "SYN", "SYNs")
		return append(b, ')')
	case h.SYNACK:
		return append(b, "handshake seen from the SYN-ACK on"...)
	}
	return append(b, "no handshake seen"...)
}

// appendOptions appends the SYN options side s sent.
func appendOptions(b []byte, c *decode.Conn, s decode.Side) []byte {
	if !c.HasOptions[s] {
		return append(b, "(no SYN seen)"...)
	}
	o := &c.Options[s]
	if o.Cut {
		return append(b, "(cut off by the snaplen)"...)
	}
	start := len(b)
	sep := func(b []byte) []byte {
		if len(b) > start {
			b = append(b, ' ')
		}
		return b
	}
	if o.HasMSS {
		b = strconv.AppendUint(append(sep(b), "mss "...), uint64(o.MSS), 10)
	}
	if o.SACKPermitted {
		b = append(sep(b), "sackOK"...)
	}
	if o.Timestamps {
		b = append(sep(b), "TS"...)
	}
	if o.HasWScale {
		b = strconv.AppendUint(append(sep(b), "wscale "...), uint64(o.WScale), 10)
	}
	if o.TFO {
		if ck := o.TFOCookie(); len(ck) > 0 {
			b = hex.AppendEncode(append(sep(b), "tfo cookie "...), ck)
		} else {
			b = append(sep(b), "tfo cookie request"...)
		}
	}
	if len(b) == start {
		return append(b, "none"...)
	}
	return b
}

// summaryTotals writes the totals line, libpcap's counters and where
// reading stopped.
func summaryTotals(w io.Writer, c *Capture) {
	t := &c.Totals
	fmt.Fprintf(w, "\ntotals: %s", plural(t.Connections, "connection", "connections"))
	var parts []string
	for _, v := range decode.Verdicts() {
		if n := t.ByVerdict[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, " · %s: %d TCP", plural(t.Packets, "frame", "frames"), t.TCP)
	if t.UDP > 0 {
		fmt.Fprintf(w, ", %d UDP", t.UDP)
	}
	fmt.Fprintf(w, ", %d non-TCP, %d malformed", t.NonTCP, t.Malformed)
	if t.Undecoded > 0 {
		var kinds []string
		for u := range decode.NumUndecoded {
			if n := t.UndecodedBy[u]; n > 0 {
				kinds = append(kinds, fmt.Sprintf("%d %s", n, u))
			}
		}
		fmt.Fprintf(w, " · %s in encapsulations not decoded: %s", plural(t.Undecoded, "frame", "frames"), strings.Join(kinds, ", "))
	}
	if t.Evicted > 0 {
		fmt.Fprintf(w, " · %d handed over idle past their timeout", t.Evicted)
	}
	if t.Shed > 0 {
		fmt.Fprintf(w, " · %d handed over early at the --max-conns cap", t.Shed)
	}
	if t.Resumed > 0 {
		goOn := " go on"
		if t.Resumed == 1 {
			goOn = " goes on"
		}
		fmt.Fprintf(w, " · %s%s with a connection handed over before (same ID, resumed)", plural(t.Resumed, "record", "records"), goOn)
	}
	fmt.Fprintln(w)
	if st := c.Stats; st != nil {
		fmt.Fprintf(w, "capture: %d packets received by filter, %d dropped by kernel, %d dropped by interface\n",
			st.Received, st.DroppedByKernel, st.DroppedByIface)
	}
	if c.Err != nil {
		fmt.Fprintf(w, "incomplete: reading stopped at %v\n", c.Err)
	}
}

// Contrast puts the first TCP connection and the first UDP flow side by
// side: what TCP spent on setting up and tearing down that UDP does not.
func Contrast(w io.Writer, conns []*decode.Conn) {
	var tcp, udp *decode.Conn
	for _, c := range conns {
		if c.Proto == decode.TCP && tcp == nil {
			tcp = c
		}
		if c.Proto == decode.UDP && udp == nil {
			udp = c
		}
	}
	if tcp == nil || udp == nil {
		return
	}
	setup := 0
	for _, e := range tcp.Events {
		if e.Note&(decode.NoteHandshake1|decode.NoteHandshake2|decode.NoteHandshakeDone) != 0 {
			setup++
		}
	}
	teardown := tcp.FINs[0] + tcp.FINs[1] + tcp.RSTs[0] + tcp.RSTs[1]
	rows := [][3]string{
		{"", fmt.Sprintf("TCP (connection %d)", tcp.ID), fmt.Sprintf("UDP (flow %d)", udp.ID)},
		{"packets", fmt.Sprint(tcp.Packets[0] + tcp.Packets[1]), fmt.Sprint(udp.Packets[0] + udp.Packets[1])},
		{"setup", fmt.Sprintf("3-way handshake, %d packets, %s", setup, Duration(tcp.Handshake.Total())), "none"},
		{"payload bytes", fmt.Sprintf("%d c→s, %d s→c", tcp.Bytes[0], tcp.Bytes[1]), fmt.Sprintf("%d c→s, %d s→c", udp.Bytes[0], udp.Bytes[1])},
		{"acknowledged", "every byte (ACKs)", "nothing: a lost datagram is just lost"},
		{"teardown", fmt.Sprintf("%d FIN/RST segments and their ACKs", teardown), "none"},
		{"duration", Duration(tcp.Duration()), Duration(udp.Duration())},
	}
	fmt.Fprintf(w, "\nTCP vs UDP\n")
	for _, r := range rows {
		fmt.Fprintf(w, "  %-14s %-42s %s\n", r[0], r[1], r[2])
	}
}

// appendAnomalyCounts appends a connection's non-zero analysis counts.
func appendAnomalyCounts(b []byte, c *decode.Conn) []byte {
	start := len(b)
	for i := range decode.NumAnomalies {
		if n := c.Anomalies[i]; n > 0 {
			if len(b) > start {
				b = append(b, ", "...)
			}
			b = strconv.AppendUint(b, uint64(n), 10)
			b = append(b, ' ')
			b = append(b, anomalyLabels[decode.Anomaly(1)<<i]...)
		}
	}
	return b
}

// appendTiming appends iRTT, TTFB, RTT samples per direction, ECN,
// half-close.
func appendTiming(b []byte, c *decode.Conn) []byte {
	start := len(b)
	sep := func(b []byte) []byte {
		if len(b) > start {
			b = append(b, " · "...)
		}
		return b
	}
	if c.IRTT > 0 {
		b = appendDuration(append(sep(b), "iRTT "...), c.IRTT)
	}
	if ttfb := c.TTFB(); ttfb > 0 {
		b = appendDuration(append(sep(b), "time to first byte "...), ttfb)
	}
	for _, s := range []decode.Side{decode.Client, decode.Server} {
		if r := &c.RTT[s]; r.Count > 0 {
			b = append(append(append(sep(b), "RTT of "...), s.String()...), " data "...)
			b = appendDuration(b, r.Min)
			b = appendDuration(append(b, '/'), r.Avg())
			b = appendDuration(append(b, '/'), r.Max)
			b = appendPlural(append(b, " min/avg/max ("...), r.Count, "sample", "samples")
			b = append(b, ')')
		}
	}
	if c.ECN {
		b = append(sep(b), "ECN negotiated"...)
	}
	if c.HalfClosed {
		b = append(sep(b), "half-closed"...)
	}
	return b
}
