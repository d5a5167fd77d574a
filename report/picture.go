package report

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"synack/decode"
)

// Ladder geometry, in SVG user units.
const (
	ladderWidth  = 980
	clientX      = 250
	serverX      = 730
	rowHeight    = 36 // room for a label above its arrow, clear of the next
	slant        = 22 // how far an arrow falls between the two lines
	headerHeight = 92
	footHeight   = 24
)

// maxDrawn bounds the segments drawn per connection: a picture of
// thousands of rows helps nobody, and the count of the rest is shown.
const maxDrawn = 400

// drawn returns the events a picture shows and how many it leaves out.
func drawn(c *decode.Conn) ([]decode.Event, uint64) {
	if len(c.Events) <= maxDrawn {
		return c.Events, c.EventsOmitted
	}
	return c.Events[:maxDrawn], c.EventsOmitted + uint64(len(c.Events)-maxDrawn)
}

// xmlText escapes text for SVG and HTML: our own labels only, never
// payload bytes, but escaped all the same.
func xmlText(s string) string { return html.EscapeString(Name(s)) }

// ladderHeight is the height of one connection's diagram.
func ladderHeight(c *decode.Conn) int {
	events, omitted := drawn(c)
	rows := len(events)
	if omitted > 0 {
		rows++
	}
	return headerHeight + rows*rowHeight + footHeight
}

// appendArrowLabel appends the text on a segment's arrow: flags,
// seq/ack, length.
func appendArrowLabel(b []byte, c *decode.Conn, e *decode.Event, lines *lineCache) []byte {
	if c.Proto == decode.UDP {
		b = append(b, "datagram len "...)
		return appendUint(b, uint64(e.Len))
	}
	b = append(b, '[')
	b = append(b, lines.tcpdump(e.Flags)...)
	b = append(b, "] seq "...)
	b = appendUint(b, uint64(e.Seq))
	if e.Flags&decode.ACK != 0 {
		b = append(b, " ack "...)
		b = appendUint(b, uint64(e.Ack))
	}
	if e.Len > 0 {
		b = append(b, " len "...)
		b = appendUint(b, uint64(e.Len))
	}
	return b
}

// appendXMLText appends xmlText(s) in one pass when Name leaves s as it
// is (no control, format or invalid character), else through xmlText.
func appendXMLText[T string | []byte](b []byte, s T) []byte {
	mark, start := len(b), 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				return append(b[:mark], xmlText(string(s))...)
			}
			i += size
			continue
		}
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		default:
			if c < 0x20 || c == 0x7f {
				return append(b[:mark], xmlText(string(s))...)
			}
			i++
			continue
		}
		b = append(append(b, s[start:i]...), esc...)
		i++
		start = i
	}
	return append(b, s[start:]...)
}

// ladderRow is the markup of a ladder's row that depends on its place
// only (and the arrow's direction and colour): the numbers in it are
// written once per renderer, not once per segment drawn.
type ladderRow struct {
	time string // the time's text element, up to the time
	mark string // a note's mark, up to its number
	// arrow[dir][bad]: the arrow, then the label's text element up to
	// the label. The arrow crosses the middle at y+slant/2, within ±9
	// units over a label's width: the label, with what the segment
	// means, sits above it.
	arrow                    [2][2]string
	clientState, serverState string // the states' text elements, up to the state
}

// row is the markup of row i of a ladder.
func (k *lineCache) row(i int) *ladderRow {
	for len(k.rows) <= i {
		k.rows = append(k.rows, newLadderRow(len(k.rows), !k.headsByClass))
	}
	return &k.rows[i]
}

// newLadderRow makes row i's markup; heads: the arrows name their heads
// (marker-end), else their class's style gives them.
func newLadderRow(i int, heads bool) ladderRow {
	y := int64(headerHeight + i*rowHeight)
	// Every part is appended into one buffer, made one string, and cut
	// into the parts: two allocations per row.
	b := make([]byte, 0, 1024)
	var ends [8]int
	part := 0
	end := func() { ends[part], part = len(b), part+1 }
	b = appendInt(append(b, `<text x="20" y="`...), y+4)
	b = append(b, `" class="t">`...)
	end()
	b = appendInt(append(b, `<text x="104" y="`...), y+4)
	b = append(b, `" class="mark">(`...)
	end()
	for dir := range 2 { // 1: from the server
		x1, x2 := int64(clientX), int64(serverX)
		if dir == 1 {
			x1, x2 = serverX, clientX
		}
		for bad := range 2 {
			class, head, label := "seg", "head", "label"
			if bad == 1 {
				class, head, label = "seg bad", "head-bad", "label bad"
			}
			b = appendInt(append(b, `<line x1="`...), x1)
			b = appendInt(append(b, `" y1="`...), y)
			b = appendInt(append(b, `" x2="`...), x2)
			b = appendInt(append(b, `" y2="`...), y+slant)
			b = append(append(b, `" class="`...), class...)
			if heads {
				b = append(append(append(b, `" marker-end="url(#`...), head...), ')')
			}
			b = appendInt(append(b, "\"/>\n<text x=\""...), (clientX+serverX)/2)
			b = appendInt(append(b, `" y="`...), y+slant/2-10)
			b = append(append(append(b, `" class="`...), label...), `">`...)
			end()
		}
	}
	b = appendInt(append(b, `<text x="`...), clientX-8)
	b = appendInt(append(b, `" y="`...), y+slant)
	b = append(b, `" class="state" text-anchor="end">`...)
	end()
	b = appendInt(append(b, `<text x="`...), serverX+8)
	b = appendInt(append(b, `" y="`...), y+slant)
	b = append(b, `" class="state">`...)
	end()
	all := string(b)
	cut := func(k int) string {
		if k == 0 {
			return all[:ends[0]]
		}
		return all[ends[k-1]:ends[k]]
	}
	return ladderRow{time: cut(0), mark: cut(1), arrow: [2][2]string{{cut(2), cut(3)}, {cut(4), cut(5)}},
		clientState: cut(6), serverState: cut(7)}
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// problems are the analysis flags that mean something went wrong (a loss,
// a retransmission, a stalled receiver); a window update, a keep-alive and
// its ACK are TCP working as it should, and are not drawn red.
const problems = decode.Retransmission | decode.FastRetransmission | decode.SpuriousRetransmission | decode.DuplicateACK |
	decode.OutOfOrder | decode.LostSegment | decode.ACKUnseen | decode.ZeroWindow | decode.ZeroWindowProbe | decode.WindowFull

func problem(a decode.Anomaly) bool { return a&problems != 0 }

// pictureKey explains the pictures' notation, for SVG (one line of text)
// and HTML.
var pictureKey = [...]string{
	"[S] SYN · [S.] SYN-ACK · [.] ACK · [P.] data · [F.] FIN · [R.] RST · seq/ack relative to each side's ISN · len: payload bytes",
	"blue arrow: a segment (slanted for legibility) · red arrow: a problem (retransmission, loss, dup ACK, zero window, window full)",
	"green: each side's TCP state after the segment (RFC 9293) · left: seconds since the connection's first packet",
}

// ladder draws one connection at vertical offset y0: the client and
// server as vertical lines, one slanted arrow per segment from the
// sender's line down to the receiver's (the capture gives one time per
// packet; the slant is drawn for legibility, and the time on the left is
// the capture time), each side's state where it changes, anomalies in red.
func ladder(w io.Writer, c *decode.Conn, y0 int, lines *lineCache) { ladderNoted(w, c, y0, nil, lines) }

// ladderNoted is ladder with numbered marks beside the arrows that notes
// explain (notes maps a drawn event's index to its note's number).
func ladderNoted(w io.Writer, c *decode.Conn, y0 int, notes map[int]int, lines *lineCache) {
	writeAppended(w, &lines.buf, func(b []byte) []byte { return appendLadder(b, c, y0, notes, lines) })
}

// appendLadder appends what ladderNoted writes. Every part is appended,
// with the numbers written in place: fmt cost most of a large capture's
// SVG and HTML.
func appendLadder(b []byte, c *decode.Conn, y0 int, notes map[int]int, lines *lineCache) []byte {
	h := ladderHeight(c)
	b = append(b, `<g class="conn" transform="translate(0,`...)
	b = appendInt(b, int64(y0))
	b = append(b, ")\">\n<text x=\"20\" y=\"24\" class=\"title\">connection "...)
	b = appendUint(b, c.ID)
	b = append(b, " · "...)
	b = append(b, c.Proto.String()...)
	b = append(b, ' ')
	b = appendXMLText(b, lines.addrPort(c.Client))
	b = append(b, " → "...)
	b = appendXMLText(b, lines.addrPort(c.Server))
	b = append(b, " · "...)
	b = append(b, c.Verdict.String()...)
	b = append(b, "</text>\n<text x=\"20\" y=\"44\" class=\"sub\">"...)
	sub := lines.sub[:0]
	if c.Proto == decode.UDP {
		sub = append(sub, "datagrams only"...)
	} else {
		sub = appendHandshake(sub, c)
	}
	sub = appendDuration(append(sub, " · duration "...), c.Duration())
	if c.Proto != decode.UDP {
		sub = append(sub, " · zeek "...)
		sub = append(sub, c.ConnState.String()...)
		sub = append(sub, ' ')
		sub = append(sub, c.History...)
	}
	if c.Encap != nil {
		sub = append(sub, " · "...)
		sub = append(sub, c.Encap.String()...)
	}
	lines.sub = sub
	b = appendXMLText(b, sub)
	b = append(b, "</text>\n"...)
	b = appendInt(append(b, `<text x="`...), clientX)
	b = appendInt(append(b, `" y="72" class="end">client</text><text x="`...), serverX)
	b = append(b, `" y="72" class="end">server</text>`+"\n"...)
	top, bottom := headerHeight-10, h-footHeight/2
	for _, x := range [2]int{clientX, serverX} {
		b = appendInt(append(b, `<line x1="`...), int64(x))
		b = appendInt(append(b, `" y1="`...), int64(top))
		b = appendInt(append(b, `" x2="`...), int64(x))
		b = appendInt(append(b, `" y2="`...), int64(bottom))
		b = append(b, `" class="life"/>`...)
	}
	b = append(b, '\n')
	events, omitted := drawn(c)
	var prev *decode.Event
	for i := range events {
		e := &events[i]
		r := lines.row(i)
		bad := problem(e.Anomalies)
		b = append(b, r.time...)
		b = appendSeconds(b, e.T, 6)
		b = append(b, "</text>\n"...)
		if n, ok := notes[i]; ok {
			b = append(b, r.mark...)
			b = appendInt(b, int64(n))
			b = append(b, ")</text>\n"...)
		}
		b = append(b, r.arrow[b2i(e.Dir == decode.ServerToClient)][b2i(bad)]...)
		// The arrow's label is flag letters, words and digits: nothing
		// to escape. The anomalies and the note are escaped.
		b = appendArrowLabel(b, c, e, lines)
		if e.Anomalies != 0 {
			label := appendAnomalyText(append(lines.label[:0], ' '), e)
			lines.label = label
			b = appendXMLText(b, label)
		}
		b = append(b, ` <tspan class="note">· `...)
		b = append(b, lines.xmlNote(e.Note)...)
		b = append(b, "</tspan></text>\n"...)
		cs, ss := stateCols(c, e, prev)
		if cs != "" {
			b = append(append(append(b, r.clientState...), cs...), "</text>\n"...)
		}
		if ss != "" {
			b = append(append(append(b, r.serverState...), ss...), "</text>\n"...)
		}
		prev = e
	}
	if omitted > 0 {
		b = append(b, `<text x="`...)
		b = appendInt(b, int64((clientX+serverX)/2))
		b = append(b, `" y="`...)
		b = appendInt(b, int64(headerHeight+len(events)*rowHeight+10))
		b = append(b, `" class="note">… `...)
		b = appendPlural(b, omitted, "packet", "packets")
		b = append(b, " more not drawn …</text>\n"...)
	}
	return append(b, "</g>\n"...)
}

// pictureRules are the ladders' CSS rules, one a line. The SVG document
// holds them as they are; the HTML page holds them once, scoped to its
// SVGs (scopedRules), for the page has classes of its own (.key).
const pictureRules = `text { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; fill: #222; }
.title { font-size: 15px; font-weight: bold; }
.sub, .t { fill: #555; }
.end { font-size: 14px; font-weight: bold; text-anchor: middle; }
.life { stroke: #888; stroke-width: 2; }
.seg { stroke: #1f5fbf; stroke-width: 1.6; }
.seg.bad { stroke: #c62828; stroke-width: 2.2; }
.label, .note { text-anchor: middle; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
.label.bad { fill: #c62828; font-weight: bold; }
.note { fill: #666; font-size: 11px; }
.state { fill: #2e7d32; font-size: 11px; }
.key { fill: #555; font-size: 11px; }
.mark { fill: #1f5fbf; font-size: 11px; font-weight: bold; }
`

// arrowHeads are the arrows' heads, blue and red (for a problem), that
// the arrows' marker-end names: once in the SVG document, once in the
// HTML page for all its SVGs (htmlArrowHeads).
const arrowHeads = `<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1f5fbf"/></marker><marker id="head-bad" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker></defs>`

const svgStyle = "<style>\n" + pictureRules + "</style>\n" + arrowHeads + "\n"

// SVG writes the ladder (sequence) diagrams of the capture's connections
// as one SVG document (NewSVG streams them).
func SVG(w io.Writer, c *Capture) error { return Whole(NewSVG(w, c), c) }

// HTML writes one self-contained page (no external assets): every
// connection's ladder diagram, then the summary table (NewHTML streams
// them).
func HTML(w io.Writer, c *Capture) error { return Whole(NewHTML(w, c, false), c) }

// htmlHead writes the page up to its first ladder: what is known before
// the first packet is read. The totals and the summary table come
// at the end (htmlSummary), as in the text report.
func htmlHead(w io.Writer, c *Capture) {
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>synack: %s</title>\n", xmlText(c.Source))
	fmt.Fprint(w, `<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fafafa; }
table { border-collapse: collapse; margin: 12px 0 24px; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict-complete { color: #2e7d32; } .verdict-refused, .verdict-reset { color: #c62828; }
svg { background: #fff; border: 1px solid #ddd; max-width: 100%; height: auto; }
.scroll { overflow-x: auto; max-width: 100%; }
.key { color: #555; font-size: 11px; }
.explain { font-size: 14px; max-width: 980px; } .explain b { font-family: ui-monospace, monospace; font-weight: normal; color: #1f5fbf; }
.why { font-size: 14px; max-width: 980px; font-weight: bold; }
`)
	fmt.Fprint(w, scopedRules("svg", pictureRules))
	fmt.Fprint(w, `svg .seg { marker-end: url(#head); }
svg .seg.bad { marker-end: url(#head-bad); }
svg.defs { position: absolute; width: 0; height: 0; border: 0; }
</style>
</head>
<body>
`)
	fmt.Fprint(w, htmlArrowHeads)
	fmt.Fprintf(w, "<h1>synack · %s</h1>\n<p>%s, %s", xmlText(c.Source), xmlText(c.Format), xmlText(c.LinkType))
	if c.Filter != "" {
		fmt.Fprintf(w, " · filter %s", xmlText(strconv.Quote(c.Filter)))
	}
	fmt.Fprint(w, " · <a href=\"#summary\">summary</a> of the frames and connections at the end</p>\n")
	fmt.Fprintf(w, "<p class=\"key\">%s<br>%s<br>%s</p>\n", xmlText(pictureKey[0]), xmlText(pictureKey[1]), xmlText(pictureKey[2]))
}

// htmlSummary writes the totals, as the text report's (libpcap's counters
// and where reading stopped, if it stopped early, included), and the
// summary table's head, after the last ladder; the rows follow.
func htmlSummary(w io.Writer, c *Capture) {
	var totals strings.Builder
	summaryTotals(&totals, c)
	fmt.Fprint(w, "<h2 id=\"summary\">summary</h2>\n")
	for _, line := range strings.Split(strings.TrimSpace(totals.String()), "\n") {
		class := ""
		if strings.HasPrefix(line, "incomplete:") {
			class = ` class="why"`
		}
		fmt.Fprintf(w, "<p%s>%s</p>\n", class, xmlText(line))
	}
	fmt.Fprint(w, "<div class=\"scroll\">\n<table>\n<tr><th>id</th><th>client</th><th>server</th><th>verdict</th><th>conn_state</th><th>history</th><th>packets</th><th>bytes c→s</th><th>bytes s→c</th><th>handshake</th><th>duration</th></tr>\n")
}

// htmlArrowHeads holds the arrows' heads for every SVG of the page (an
// url(#head) finds them in any SVG of the document): in an SVG of no size
// of its own, hidden from screen readers.
const htmlArrowHeads = `<svg class="defs" aria-hidden="true">` + arrowHeads + "</svg>\n"

// scopedRules prefixes each selector of rules (CSS, one rule a line) with
// scope.
func scopedRules(scope, rules string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(rules, "\n") {
		selectors, block, ok := strings.Cut(line, " {")
		if !ok {
			b.WriteString(line)
			continue
		}
		for i, sel := range strings.Split(selectors, ", ") {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(scope + " " + sel)
		}
		b.WriteString(" {" + block)
	}
	return b.String()
}

// appendHTMLRow appends a connection's row of the summary table.
func appendHTMLRow(b []byte, conn *decode.Conn) []byte {
	b = appendAnchor(append(b, `<tr><td class="num"><a href="#`...), conn)
	b = append(b, `">`...)
	b = appendUint(b, conn.ID)
	b = append(b, `</a></td><td>`...)
	var addr [64]byte
	b = appendXMLText(b, appendAddrPort(addr[:0], conn.Client))
	b = append(b, `</td><td>`...)
	b = appendXMLText(b, appendAddrPort(addr[:0], conn.Server))
	b = append(b, `</td><td class="verdict-`...)
	b = append(b, conn.Verdict.String()...)
	b = append(b, `">`...)
	b = append(b, conn.Verdict.String()...)
	b = append(b, `</td><td>`...)
	b = append(b, conn.ConnState.String()...)
	b = append(b, `</td><td>`...)
	b = appendXMLText(b, conn.History)
	b = append(b, `</td><td class="num">`...)
	b = appendUint(b, conn.Packets[0]+conn.Packets[1])
	b = append(b, `</td><td class="num">`...)
	b = appendUint(b, conn.Bytes[decode.Client])
	b = append(b, `</td><td class="num">`...)
	b = appendUint(b, conn.Bytes[decode.Server])
	b = append(b, `</td><td class="num">`...)
	if conn.Handshake.Complete() {
		b = appendDuration(b, conn.Handshake.Total())
	} else {
		b = append(b, '-')
	}
	b = append(b, `</td><td class="num">`...)
	b = appendDuration(b, conn.Duration())
	return append(b, "</td></tr>\n"...)
}

// appendAnchor appends the id of a record's heading in the page, which
// its row links to: conn-ID, and for a resumed record (the same ID as an
// earlier record's) the frame it goes on from, for ids in a page are
// unique.
func appendAnchor(b []byte, c *decode.Conn) []byte {
	b = appendUint(append(b, "conn-"...), c.ID)
	if c.Resumed && len(c.Events) > 0 {
		b = appendUint(append(b, "-frame-"...), c.Events[0].Frame)
	}
	return b
}

// writeAppended writes what add appends to w: into a bytes.Buffer's
// free room or onto an appender's bytes, without a copy between, else
// appended to *scratch and written from there.
func writeAppended(w io.Writer, scratch *[]byte, add func([]byte) []byte) {
	switch w := w.(type) {
	case *bytes.Buffer:
		w.Write(add(w.AvailableBuffer()))
	case *appender:
		w.b = add(w.b)
	default:
		*scratch = add((*scratch)[:0])
		w.Write(*scratch)
	}
}

// notes are the explanations of a connection's drawn segments, in order,
// each with the index of the segment it belongs to: numbered marks beside
// the arrows and the list under the picture come from one.
type notes struct {
	list []explanation
	at   []int
}

func explainNotes(c *decode.Conn) notes {
	var n notes
	x := newExplainer(c)
	events, _ := drawn(c)
	for i := range events {
		for _, ex := range x.segment(c, &events[i]) {
			n.list, n.at = append(n.list, ex), append(n.at, i)
		}
	}
	return n
}

// marks numbers each explained segment with its first note, as the list
// under the picture numbers them.
func (n notes) marks() map[int]int {
	m := map[int]int{}
	for k := len(n.at) - 1; k >= 0; k-- {
		m[n.at[k]] = k + 1
	}
	return m
}

// appendHTMLExplain appends the explanations of a connection's drawn
// segments, numbered as the marks beside their arrows, then why the
// connection ended so.
func appendHTMLExplain(b []byte, c *decode.Conn, n notes) []byte {
	events, _ := drawn(c)
	b = append(b, "<ol class=\"explain\">\n"...)
	for i, ex := range n.list {
		e := &events[n.at[i]]
		b = appendSeconds(append(b, "<li><b>"...), e.T, 6)
		b = append(b, ' ')
		b = appendXMLText(b, eventFlags(c, e))
		b = appendXMLText(append(b, "</b> "...), ex.text)
		b = appendXMLText(append(b, " <i>("...), ex.ref)
		b = append(b, ")</i></li>\n"...)
	}
	b = append(b, "</ol>\n"...)
	if ex, ok := verdictExplanations[c.Verdict]; ok {
		b = appendXMLText(append(b, "<p class=\"why\">"...), ex.text)
		b = appendXMLText(append(b, " <i>("...), ex.ref)
		b = append(b, ")</i></p>\n"...)
	}
	return b
}

// appendHTMLLadder appends a connection's heading and its ladder as an
// SVG of its own; marks, if not nil, numbers the arrows that notes
// explain.
func appendHTMLLadder(b []byte, conn *decode.Conn, marks map[int]int, lines *lineCache) []byte {
	h := int64(ladderHeight(conn))
	b = appendAnchor(append(b, `<h2 id="`...), conn)
	b = append(b, `">connection `...)
	b = appendUint(b, conn.ID)
	b = append(b, "</h2>\n"+`<svg xmlns="http://www.w3.org/2000/svg" width="`...)
	b = appendInt(b, ladderWidth)
	b = append(b, `" height="`...)
	b = appendInt(b, h)
	b = append(b, `" viewBox="0 0 `...)
	b = appendInt(b, ladderWidth)
	b = append(b, ' ')
	b = appendInt(b, h)
	b = append(b, "\">\n"...)
	b = appendLadder(b, conn, 0, marks, lines)
	return append(b, "</svg>\n"...)
}

// appendMermaidText appends s kept safe inside a Mermaid message: no
// line breaks, no ';' (a statement separator) and no '#' (an entity
// escape).
func appendMermaidText[T string | []byte](b []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case '\n', '\r':
			repl = " "
		case ';':
			repl = ","
		case '#':
			repl = "no. "
		default:
			continue
		}
		b = append(append(b, s[start:i]...), repl...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// Mermaid writes a Markdown fenced Mermaid sequenceDiagram per connection,
// ready for a README or a pull-request comment (NewMermaid streams them).
func Mermaid(w io.Writer, c *Capture) error { return Whole(NewMermaid(w), c) }

// mermaidConn writes one connection's diagram.
func mermaidConn(w io.Writer, conn *decode.Conn, lines *lineCache) {
	writeAppended(w, &lines.buf, func(b []byte) []byte { return appendMermaidConn(b, conn, lines) })
}

// appendMermaidConn appends what mermaidConn writes.
func appendMermaidConn(b []byte, conn *decode.Conn, lines *lineCache) []byte {
	client, server := lines.addrPort(conn.Client), appendAddrPort(lines.sub[:0], conn.Server)
	lines.sub = server
	b = append(b, "**connection "...)
	b = appendUint(b, conn.ID)
	b = append(b, "** · "...)
	b = append(b, conn.Proto.String()...)
	b = append(b, ' ')
	b = appendMermaidText(b, client)
	b = append(b, " → "...)
	b = appendMermaidText(b, server)
	b = append(b, " · "...)
	b = append(b, conn.Verdict.String()...)
	if conn.Encap != nil {
		b = append(b, " · "...)
		b = appendMermaidText(b, conn.Encap.String())
	}
	b = append(b, "\n\n```mermaid\nsequenceDiagram\n    participant C as client "...)
	b = appendMermaidText(b, client)
	b = append(b, "\n    participant S as server "...)
	b = appendMermaidText(b, server)
	b = append(b, '\n')
	events, omitted := drawn(conn)
	var prev *decode.Event
	for j := range events {
		e := &events[j]
		if e.Dir == decode.ServerToClient {
			b = append(b, "    S->>C: "...)
		} else {
			b = append(b, "    C->>S: "...)
		}
		b = appendSeconds(b, e.T, 6)
		b = append(b, 's', ' ')
		// The arrow's label is flag letters, words and digits: nothing
		// Mermaid reads. The note and the anomalies are made safe.
		b = appendArrowLabel(b, conn, e, lines)
		b = append(b, " · "...)
		b = append(b, lines.mermaidNote(e.Note)...)
		if e.Anomalies != 0 {
			label := appendAnomalyText(append(lines.label[:0], ' '), e)
			lines.label = label
			b = appendMermaidText(b, label)
		}
		b = append(b, '\n')
		if cs, ss := stateCols(conn, e, prev); cs != "" || ss != "" {
			if cs != "" {
				b = append(append(append(b, "    Note left of C: "...), cs...), '\n')
			}
			if ss != "" {
				b = append(append(append(b, "    Note right of S: "...), ss...), '\n')
			}
		}
		prev = e
	}
	if omitted > 0 {
		b = append(b, "    Note over C,S: "...)
		b = appendPlural(b, omitted, "packet", "packets")
		b = append(b, " more not shown\n"...)
	}
	return append(b, "```\n"...)
}
