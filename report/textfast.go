package report

import (
	"strconv"

	"synack/decode"
)

// lineCache keeps the strings a timeline line is made of that depend on
// a few values only (the arrow and the names of flags and notes), so that
// each is built once per document, not once per line.
type lineCache struct {
	arrows map[uint32]string // key: dir<<17 | udp<<16 | flags
	flags  map[decode.Flags]string
	notes  map[decode.Note]string
	header string // the timeline's header line, with its blank line before
}

func newLineCache() *lineCache {
	return &lineCache{arrows: map[uint32]string{}, flags: map[decode.Flags]string{}, notes: map[decode.Note]string{},
		header: "\n  " + timelineHeader() + "\n"}
}

func (k *lineCache) arrow(c *decode.Conn, e *decode.Event) string {
	key := uint32(e.Dir)<<17 | uint32(e.Flags)
	if c.Proto == decode.UDP {
		key = uint32(e.Dir)<<17 | 1<<16
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
	return memo(&k.flags, e.Flags, decode.Flags.String)
}

func (k *lineCache) note(n decode.Note) string { return memo(&k.notes, n, decode.Note.String) }

// memo is name(v), worked out once per value and kept in *m (made on
// first use): the names of flags and notes, which many events share.
func memo[V comparable](m *map[V]string, v V, name func(V) string) string {
	if *m == nil {
		*m = map[V]string{}
	}
	s, ok := (*m)[v]
	if !ok {
		s = name(v)
		(*m)[v] = s
	}
	return s
}

// appendEventLine appends EventLine(c, e, prev, Style{Absolute: abs})
// (no colour, no width to fit): the same bytes, built without a string
// per column.
func (k *lineCache) appendEventLine(b []byte, c *decode.Conn, e, prev *decode.Event, abs bool) []byte {
	var num [24]byte
	cs, ss := stateCols(c, e, prev)
	b = appendLeft(b, strconv.AppendFloat(num[:0], e.T.Seconds(), 'f', 6, 64), 10)
	b = append(b, "  "...)
	b = appendRight(b, cs, 12)
	b = append(b, ' ')
	b = append(b, k.arrow(c, e)...)
	b = append(b, "  "...)
	b = appendRight(b, ss, 12)
	b = append(b, "  "...)
	b = appendRight(b, k.flagNames(c, e), 12)
	b = appendNumbers(b, c, e, abs)
	// The meaning, as meaningText writes it without colour or width.
	b = append(b, k.note(e.Note)...)
	if e.Backoff > 0 {
		b = append(b, " (+"...)
		b = append(b, Duration(e.Backoff)...)
		b = append(b, ')')
	}
	if e.Anomalies != 0 {
		b = append(b, ' ')
		b = append(b, anomalyText(e)...)
	}
	if p := e.Preview(); len(p) > 0 {
		b = append(b, ' ', '"')
		b = appendEscape(b, p)
		if uint32(len(p)) < e.Len {
			b = append(b, "…"...)
		}
		b = append(b, '"')
	}
	return b
}

// appendEscape appends Escape(p).
func appendEscape(b, p []byte) []byte {
	for _, c := range p {
		switch {
		case c == '\\' || c == '"':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0x0f])
		}
	}
	return b
}
