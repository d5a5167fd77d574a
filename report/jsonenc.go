package report

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"synack/decode"
)

// jsonWriter appends the synack/v1 connection and event objects to a byte
// buffer by hand: the same bytes as encoding/json's Encoder (SetEscapeHTML
// false, and SetIndent(prefix, "  ") when indent is set), without its
// reflection and its second pass to indent, which cost most of the time
// of a large capture's JSON. json_test.go holds it to encoding/json's
// output over every fixture.
type jsonWriter struct {
	b      []byte
	prefix string // what every line after the first starts with
	indent bool   // false: compact, as json.Marshal writes it
	depth  int
	lines  string // a newline, prefix and 8 levels of indent: newline's bytes
	empty  []bool // per open object or array: nothing written in it yet
	notes  map[decode.Note]string
	flags  map[decode.Flags]string
}

func (w *jsonWriter) newline() {
	if !w.indent {
		return
	}
	if n := 1 + len(w.prefix) + 2*w.depth; n <= len(w.lines) {
		w.b = append(w.b, w.lines[:n]...)
		return
	}
	w.b = append(w.b, '\n')
	w.b = append(w.b, w.prefix...)
	for range w.depth {
		w.b = append(w.b, "  "...)
	}
}

// newJSONWriter writes indented with prefix, or compact.
func newJSONWriter(prefix string, indent bool) jsonWriter {
	return jsonWriter{prefix: prefix, indent: indent, lines: "\n" + prefix + strings.Repeat("  ", 8)}
}

func (w *jsonWriter) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
	w.empty = append(w.empty, true)
}

func (w *jsonWriter) close(c byte) {
	w.depth--
	top := len(w.empty) - 1
	if !w.empty[top] {
		w.newline()
	}
	w.empty = w.empty[:top]
	w.b = append(w.b, c)
}

// elem starts an element of the innermost array.
func (w *jsonWriter) elem() {
	top := len(w.empty) - 1
	if !w.empty[top] {
		w.b = append(w.b, ',')
	}
	w.empty[top] = false
	w.newline()
}

// key starts a member of the innermost object; k is one of our own
// names, which need no escaping.
func (w *jsonWriter) key(k string) {
	w.elem()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	if w.indent {
		w.b = append(w.b, ' ')
	}
}

func (w *jsonWriter) str(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

func (w *jsonWriter) uint(k string, v uint64) {
	w.key(k)
	w.b = strconv.AppendUint(w.b, v, 10)
}

func (w *jsonWriter) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jsonWriter) bool(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jsonWriter) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

func (w *jsonWriter) optInt(k string, v *int64) {
	if v == nil {
		w.null(k)
		return
	}
	w.int(k, *v)
}

// time writes t (UTC) as jsonTime does: null when RFC 3339 cannot.
func (w *jsonWriter) time(k string, t time.Time) {
	if !rfc3339Year(t) {
		w.null(k)
		return
	}
	w.key(k)
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, TimeFormat)
	w.b = append(w.b, '"')
}

// rfc3339Year reports whether t's year has four digits (0000-9999).
func rfc3339Year(t time.Time) bool { y := t.Year(); return y >= 0 && y <= 9999 }

func (w *jsonWriter) pair(k string, p jsonPair) {
	w.key(k)
	w.open('{')
	w.uint("client", p.Client)
	w.uint("server", p.Server)
	w.close('}')
}

// conn writes the members of a connection object (the caller opens and
// closes it) from j (connJSONHead) and c: its anomaly counts, and its
// events unless events is false.
func (w *jsonWriter) conn(j *jsonConn, c *decode.Conn, events bool) {
	w.uint("id", j.ID)
	w.str("uid", j.UID)
	w.str("proto", j.Proto)
	for _, e := range [...]struct {
		k string
		v netip.AddrPort
	}{{"client", c.Client}, {"server", c.Server}} {
		w.key(e.k)
		w.open('{')
		if ip := e.v.Addr().Unmap(); ip.IsValid() && ip.Zone() == "" {
			w.key("ip") // digits, dots, colons and hex: nothing to escape
			w.b = append(w.b, '"')
			w.b = ip.AppendTo(w.b)
			w.b = append(w.b, '"')
		} else {
			w.str("ip", ip.String())
		}
		w.uint("port", uint64(e.v.Port()))
		w.close('}')
	}
	w.bool("partial", j.Partial)
	if e := j.Encapsulation; e != nil {
		w.key("encapsulation")
		w.open('{')
		if len(e.VLAN) > 0 {
			w.key("vlan")
			w.open('[')
			for _, v := range e.VLAN {
				w.elem()
				w.b = strconv.AppendUint(w.b, uint64(v), 10)
			}
			w.close(']')
		}
		if len(e.MPLS) > 0 {
			w.key("mpls")
			w.open('[')
			for _, v := range e.MPLS {
				w.elem()
				w.b = strconv.AppendUint(w.b, uint64(v), 10)
			}
			w.close(']')
		}
		if e.PPPoESession != nil {
			w.uint("pppoe_session", uint64(*e.PPPoESession))
		}
		if t := e.Tunnel; t != nil {
			w.key("tunnel")
			w.open('{')
			w.str("type", t.Type)
			w.key("outer")
			w.open('[')
			for _, o := range t.Outer {
				w.elem()
				w.b = appendJSONString(w.b, o)
			}
			w.close(']')
			if t.VNI != nil {
				w.uint("vni", uint64(*t.VNI))
			}
			w.close('}')
		}
		w.close('}')
	}
	if j.Resumed {
		w.bool("resumed", true)
	}
	if j.PriorVerdict != "" {
		w.str("prior_verdict", j.PriorVerdict)
	}
	w.str("verdict", j.Verdict)
	first, last := c.FirstSeen.UTC(), c.LastSeen.UTC()
	w.time("first_seen", first)
	w.time("last_seen", last)
	if !rfc3339Year(first) {
		w.key("first_seen_unix")
		w.b = append(w.b, epochSeconds(first, 9)...)
	}
	if !rfc3339Year(last) {
		w.key("last_seen_unix")
		w.b = append(w.b, epochSeconds(last, 9)...)
	}
	w.int("duration_us", j.DurationUs)
	h := &j.Handshake
	w.key("handshake")
	w.open('{')
	w.bool("syn", h.SYN)
	w.bool("syn_ack", h.SYNACK)
	w.bool("ack", h.ACK)
	w.bool("complete", h.Complete)
	w.optInt("syn_to_synack_us", h.SYNToSYNACKus)
	w.optInt("synack_to_ack_us", h.SYNACKToACKus)
	w.int("syn_count", int64(h.SYNCount))
	w.int("syn_ack_count", int64(h.SYNACKCount))
	w.close('}')
	w.key("isn")
	w.open('{')
	for _, s := range [...]struct {
		k string
		v *uint32
	}{{"client", j.ISN.Client}, {"server", j.ISN.Server}} {
		if s.v == nil {
			w.null(s.k)
		} else {
			w.uint(s.k, uint64(*s.v))
		}
	}
	w.close('}')
	w.pair("packets", j.Packets)
	w.pair("payload_bytes", j.PayloadBytes)
	w.pair("fin", j.FIN)
	w.pair("rst", j.RST)
	w.str("closed_by", j.ClosedBy)
	w.str("conn_state", j.ConnState)
	w.str("history", j.History)
	w.key("timing")
	w.open('{')
	w.optInt("irtt_us", j.Timing.IRTTus)
	w.optInt("ttfb_us", j.Timing.TTFBus)
	w.key("rtt")
	w.open('{')
	for _, r := range [...]struct {
		k string
		v *jsonRTT
	}{{"client", &j.Timing.RTT.Client}, {"server", &j.Timing.RTT.Server}} {
		w.key(r.k)
		w.open('{')
		w.uint("samples", r.v.Samples)
		w.optInt("min_us", r.v.MinUs)
		w.optInt("avg_us", r.v.AvgUs)
		w.optInt("max_us", r.v.MaxUs)
		w.close('}')
	}
	w.close('}')
	w.close('}')
	w.uint("time_backwards", uint64(j.TimeBackwards))
	w.bool("ecn", j.ECN)
	w.bool("half_closed", j.HalfClosed)
	w.key("options")
	w.open('{')
	for _, o := range [...]struct {
		k string
		v *jsonOptions
	}{{"client", j.Options.Client}, {"server", j.Options.Server}} {
		if o.v == nil {
			w.null(o.k)
			continue
		}
		w.key(o.k)
		w.open('{')
		if o.v.MSS == nil {
			w.null("mss")
		} else {
			w.uint("mss", uint64(*o.v.MSS))
		}
		if o.v.WScale == nil {
			w.null("wscale")
		} else {
			w.uint("wscale", uint64(*o.v.WScale))
		}
		w.bool("sack_permitted", o.v.SACKPermitted)
		w.bool("timestamps", o.v.Timestamps)
		w.bool("tfo", o.v.TFO)
		w.str("tfo_cookie", o.v.TFOCookie)
		w.bool("cut", o.v.Cut)
		w.close('}')
	}
	w.close('}')
	w.key("anomalies")
	w.open('{')
	for _, a := range decode.Anomalies() {
		w.uint(a.String(), uint64(c.Anomalies[a.Index()]))
	}
	w.close('}')
	if events && len(c.Events) > 0 {
		w.key("events")
		w.open('[')
		for i := range c.Events {
			w.elem()
			w.open('{')
			w.event(c, &c.Events[i])
			w.close('}')
		}
		w.close(']')
	}
	if len(j.Calls) > 0 {
		w.key("calls")
		w.open('[')
		for _, k := range j.Calls {
			w.elem()
			w.open('{')
			w.str("side", k.Side)
			w.str("call", k.Call)
			w.int("start_us", k.StartUs)
			w.int("return_us", k.ReturnUs)
			w.close('}')
		}
		w.close(']')
	}
	w.uint("events_omitted", j.EventsOmitted)
}

// event writes the members of an event object, as eventJSON has them.
func (w *jsonWriter) event(c *decode.Conn, e *decode.Event) {
	w.uint("frame", e.Frame)
	w.int("t_us", us(e.T))
	w.str("dir", e.Dir.String())
	if c.Proto == decode.UDP {
		w.str("flags", "")
	} else {
		w.str("flags", w.tcpdump(e.Flags))
	}
	w.uint("seq", uint64(e.Seq))
	w.uint("ack", uint64(e.Ack))
	w.uint("len", uint64(e.Len))
	w.uint("win", uint64(e.Win))
	w.str("note", w.note(e.Note))
	if p := e.Preview(); len(p) > 0 {
		w.key("preview")
		w.b = appendJSONPreview(w.b, p, uint32(len(p)) < e.Len)
	}
	if e.Anomalies != 0 {
		if names := anomalyNames(e.Anomalies); len(names) > 0 {
			w.key("anomalies")
			w.open('[')
			for _, a := range names {
				w.elem()
				w.b = appendJSONString(w.b, a)
			}
			w.close(']')
		}
	}
	if e.DupAck != 0 {
		w.uint("dup_ack", uint64(e.DupAck))
	}
	if c.Proto != decode.UDP {
		if s := e.ClientState.String(); s != "" {
			w.str("client_state", s)
		}
		if s := e.ServerState.String(); s != "" {
			w.str("server_state", s)
		}
	}
	if b := us(e.Backoff); b != 0 {
		w.int("backoff_us", b)
	}
}

// note and tcpdump are e.Note.String() and e.Flags.Tcpdump(), built
// once per value.
func (w *jsonWriter) note(n decode.Note) string { return memo(&w.notes, n, decode.Note.String) }

func (w *jsonWriter) tcpdump(f decode.Flags) string { return memo(&w.flags, f, decode.Flags.Tcpdump) }

// appendJSONPreview appends preview(e) as a JSON string: Escape(p), and
// "…" when the payload was longer (truncated). Escape leaves printable
// ASCII only, of which JSON escapes the backslash and the quote.
func appendJSONPreview(b, p []byte, truncated bool) []byte {
	b = append(b, '"')
	for _, c := range p {
		switch {
		case c == '\\' || c == '"':
			b = append(b, '\\', '\\', '\\', c)
		case c == '\n':
			b = append(b, '\\', '\\', 'n')
		case c == '\r':
			b = append(b, '\\', '\\', 'r')
		case c == '\t':
			b = append(b, '\\', '\\', 't')
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			b = append(b, '\\', '\\', 'x', hexDigits[c>>4], hexDigits[c&0x0f])
		}
	}
	if truncated {
		b = append(b, "…"...)
	}
	return append(b, '"')
}

// appendJSONString appends s quoted as encoding/json quotes a string with
// SetEscapeHTML(false): control characters escaped, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
