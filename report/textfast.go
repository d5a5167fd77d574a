package report

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"synack/decode"
)

// lineCache keeps the strings a timeline line is made of that depend on
// a few values only (the columns from the client's state to the flags,
// the names of flags and notes), so that each is built once per document,
// not once per line, and the scratch buffers a document's connections
// are rendered in. It belongs to one document (one renderer): nothing in
// it is shared.
type lineCache struct {
	// plain holds the columns from the client's state to the flags of a
	// line that shows no state, by protocol, direction and flags (see
	// mid); mids those of the other lines, by the states shown too.
	plain  []string
	mids   map[uint32]string
	arrows map[uint32]string // key: dir<<17 | udp<<16 | flags
	flags  names[decode.Flags]
	notes  names[decode.Note]
	header string // the timeline's header line, with its blank line before
	buf    []byte // a connection's text, written at once
	// Scratch for parts of it: a picture's subtitle, an arrow's label,
	// an address.
	sub, label, addr []byte
	tcpdumps         names[decode.Flags]
	mermaidNotes     names[decode.Note]
	xmlNotes         names[decode.Note]
	// rows are the ladder's rows' markup, by row, made as rows are drawn.
	rows []ladderRow
	// headsByClass: the page's style gives the arrows their heads (HTML),
	// the rows' markup does not name them.
	headsByClass bool
	// wrapped are explanations as the timeline writes them, by wrapKey.
	wrapped map[wrapKey]string
	// escapes are appendEscape's output for each byte value, made on
	// first use.
	escapes *escapeTable
}

// escapeTable is what an escape writes for each byte value: the bytes,
// little-endian in the low bits, and their count above them.
type escapeTable [256]uint64

func newEscapeTable() *escapeTable {
	var t escapeTable
	for c := range 256 {
		e := appendEscape(nil, []byte{byte(c)})
		var v uint64
		for i := len(e) - 1; i >= 0; i-- {
			v = v<<8 | uint64(e[i])
		}
		t[c] = v | uint64(len(e))<<32
	}
	return &t
}

// escape appends Escape(p), a byte at a time from the table.
func (k *lineCache) escape(b, p []byte) []byte {
	if k.escapes == nil {
		k.escapes = newEscapeTable()
	}
	t := k.escapes
	n := len(b)
	b = grow(b, 4*len(p)+4)
	for _, c := range p {
		v := t[c]
		binary.LittleEndian.PutUint32(b[n:], uint32(v))
		n += int(v >> 32)
	}
	return b[:n]
}

// wrapKey is an explanation as wrapped: its first line's start, the
// width, and whether it is dimmed.
type wrapKey struct {
	ex    explanation
	first string
	cols  int
	dim   bool
}

// explained is ex wrapped at cols, each line ended, dimmed when dim:
// wrapped once per document, not once per connection (wrapping cost
// --explain nine tenths of its time).
func (k *lineCache) explained(ex explanation, first string, cols int, dim bool) string {
	key := wrapKey{ex, first, cols, dim}
	if s, ok := k.wrapped[key]; ok {
		return s
	}
	var b []byte
	for _, l := range ex.lines(first, cols) {
		b = append(b, Style{Color: dim}.paint(sgrDim, l)...)
		b = append(b, '\n')
	}
	if k.wrapped == nil {
		k.wrapped = map[wrapKey]string{}
	}
	k.wrapped[key] = string(b)
	return string(b)
}

// mermaidNote is n.String() kept safe inside a Mermaid message, built
// once per value.
func (k *lineCache) mermaidNote(n decode.Note) string {
	return k.mermaidNotes.get(n, func(n decode.Note) string { return string(appendMermaidText(nil, n.String())) })
}

// xmlNote is xmlText(n.String()), built once per value.
func (k *lineCache) xmlNote(n decode.Note) string {
	return k.xmlNotes.get(n, func(n decode.Note) string { return xmlText(n.String()) })
}

// tcpdump is f.Tcpdump(), built once per value.
func (k *lineCache) tcpdump(f decode.Flags) string { return k.tcpdumps.get(f, decode.Flags.Tcpdump) }

// addrPort is p.String(), in scratch valid until the next call.
func (k *lineCache) addrPort(p netip.AddrPort) []byte {
	k.addr = appendAddrPort(k.addr[:0], p)
	return k.addr
}

func newLineCache() *lineCache {
	return &lineCache{header: "\n  " + timelineHeader() + "\n"}
}

func (k *lineCache) arrow(c *decode.Conn, e *decode.Event) string {
	key := uint32(e.Dir)<<17 | uint32(e.Flags)
	if c.Proto == decode.UDP {
		key = uint32(e.Dir)<<17 | 1<<16
	}
	if k.arrows == nil {
		k.arrows = map[uint32]string{}
	}
	s, ok := k.arrows[key]
	if !ok {
		s = eventArrow(c, e)
		k.arrows[key] = s
	}
	return s
}

func (k *lineCache) flagNames(c *decode.Conn, e *decode.Event) string {
	if c.Proto == decode.UDP {
		return "datagram"
	}
	return k.flags.get(e.Flags, decode.Flags.String)
}

func (k *lineCache) note(n decode.Note) string { return k.notes.get(n, decode.Note.String) }

// names keeps name(v) for the values met (the names of flags and notes,
// which many events share), each worked out once: a table of 256 slots
// indexed by a hash of the value answers most lookups, a map the values
// whose slot another holds.
type names[V ~uint16 | ~uint32] struct {
	slots []nameSlot[V]
	all   map[V]string
}

type nameSlot[V ~uint16 | ~uint32] struct {
	v  V
	ok bool
	s  string
}

func (m *names[V]) get(v V, name func(V) string) string {
	if m.slots == nil {
		m.slots = make([]nameSlot[V], 256)
		m.all = map[V]string{}
	}
	slot := &m.slots[uint32(v)*0x9e3779b1>>24]
	if slot.ok && slot.v == v {
		return slot.s
	}
	s, ok := m.all[v]
	if !ok {
		s = name(v)
		m.all[v] = s
	}
	*slot = nameSlot[V]{v, true, s}
	return s
}

// mid is a line's columns from the client's state to the flags,
// "%-12s %s  %-12s  %-12s": they depend on the protocol, the direction,
// the flags and the states shown only, and most lines show no state.
func (k *lineCache) mid(c *decode.Conn, e, prev *decode.Event) string {
	if e.Flags > 0x1ff || e.Dir > 1 { // not a header's bits or a direction: not worth a key
		return k.buildMid(c, e, prev)
	}
	key := uint32(e.Flags) | uint32(e.Dir)<<9
	if c.Proto == decode.UDP {
		key |= 1 << 10
	}
	var cs, ss uint32 // 0: not shown, else the state + 1
	if c.Proto == decode.TCP {
		if prev == nil || e.ClientState != prev.ClientState {
			cs = uint32(e.ClientState) + 1
		}
		if prev == nil || e.ServerState != prev.ServerState {
			ss = uint32(e.ServerState) + 1
		}
	}
	if cs == 0 && ss == 0 {
		if k.plain == nil {
			k.plain = make([]string, 1<<11)
		}
		s := k.plain[key]
		if s == "" {
			s = k.buildMid(c, e, prev)
			k.plain[key] = s
		}
		return s
	}
	key |= cs<<24 | ss<<16
	if k.mids == nil {
		k.mids = map[uint32]string{}
	}
	s, ok := k.mids[key]
	if !ok {
		s = k.buildMid(c, e, prev)
		k.mids[key] = s
	}
	return s
}

func (k *lineCache) buildMid(c *decode.Conn, e, prev *decode.Event) string {
	cs, ss := stateCols(c, e, prev)
	b := appendRight(nil, cs, 12)
	b = append(b, ' ')
	b = append(b, k.arrow(c, e)...)
	b = append(b, "  "...)
	b = appendRight(b, ss, 12)
	b = append(b, "  "...)
	b = appendRight(b, k.flagNames(c, e), 12)
	return string(b)
}

// appendStyledEventLine appends EventLine(c, e, prev, st): without
// colour and without a width to fit, as appendEventLine builds it.
func (k *lineCache) appendStyledEventLine(b []byte, c *decode.Conn, e, prev *decode.Event, st Style) []byte {
	if !st.Color && st.Width == 0 {
		return k.appendEventLine(b, c, e, prev, st.Absolute)
	}
	return append(b, EventLine(c, e, prev, st)...)
}

// appendEventLine appends EventLine(c, e, prev, Style{Absolute: abs})
// (no colour, no width to fit): the same bytes, built without a string
// per column.
func (k *lineCache) appendEventLine(b []byte, c *decode.Conn, e, prev *decode.Event, abs bool) []byte {
	b = appendSecondsCol(b, e.T, 10)
	b = append(b, "  "...)
	b = append(b, k.mid(c, e, prev)...)
	b = appendNumbers(b, c, e, abs)
	// The meaning, as meaningText writes it without colour or width.
	b = append(b, k.note(e.Note)...)
	if e.Backoff > 0 {
		b = append(b, " (+"...)
		b = appendDuration(b, e.Backoff)
		b = append(b, ')')
	}
	if e.Anomalies != 0 {
		b = append(b, ' ')
		b = appendAnomalyText(b, e)
	}
	if p := e.Preview(); len(p) > 0 {
		b = append(b, ' ', '"')
		b = k.escape(b, p)
		if uint32(len(p)) < e.Len {
			b = append(b, "…"...)
		}
		b = append(b, '"')
	}
	return b
}

// appendSecondsCol appends d in seconds with six decimals (as
// strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64) writes it),
// right-aligned in n columns: written in place for the times of a
// timeline, under 1,000 s (appendFixed otherwise).
func appendSecondsCol(b []byte, d time.Duration, n int) []byte {
	us, r := uint64(d)/1000, uint64(d)%1000
	if d < 0 || d >= 999_999_999_500 || r == 500 || n < 10 {
		var num [32]byte
		return appendLeft(b, appendSeconds(num[:0], d, 6), n)
	}
	if r > 500 {
		us++
	}
	off := len(b)
	b = grow(b, n)
	col := b[len(b)-10:]
	putDecimal(col[3:], us%1e6+1e6) // "1" and six digits, then the point over the 1
	col[3] = '.'
	i := putDecimal(col[:3], us/1e6)
	for j := off; j < len(b)-10+i; j++ {
		b[j] = ' '
	}
	return b
}

// appendEscape appends Escape(p).
func appendEscape(b, p []byte) []byte {
	n := len(b)
	b = grow(b, 4*len(p))
	for _, c := range p {
		if c >= 0x20 && c < 0x7f && c != '\\' && c != '"' {
			b[n] = c
			n++
			continue
		}
		d := b[n : n+4]
		d[0] = '\\'
		switch c {
		case '\\', '"':
			d[1] = c
			n += 2
		case '\n':
			d[1] = 'n'
			n += 2
		case '\r':
			d[1] = 'r'
			n += 2
		case '\t':
			d[1] = 't'
			n += 2
		default:
			d[1], d[2], d[3] = 'x', hexDigits[c>>4], hexDigits[c&0x0f]
			n += 4
		}
	}
	return b[:n]
}

// grow returns b extended by n bytes, for the caller to write by index
// and cut to what it wrote.
func grow(b []byte, n int) []byte { return slices.Grow(b, n)[:len(b)+n] }
