package report

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"slices"
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
	// lines is a comma, a newline, prefix and levels of indent; a
	// member or element at the current depth starts with
	// lines[:sepEnd] (with its comma) or lines[1:sepEnd] (the first).
	lines  string
	sepEnd int
	colon  string // what follows a member's name: `":` and a space when indented
	empty  []bool // per open object or array: nothing written in it yet
	notes  names[decode.Note]
	flags  names[decode.Flags]
	// anomalyNames are the names of the analysis flags, made on first use.
	anomalyNames []string
	// zeroAnomalies is the member "anomalies" of a connection without
	// any, as written at depth zeroDepth (not first in its object).
	zeroAnomalies string
	zeroDepth     int
	// states are the names of states as JSON strings, made on first use.
	states [16]string
	// escapes are what a preview's JSON holds for each byte value
	// (up to 5 bytes, and their count above bit 40), made on first use.
	escapes *escapeTable
	// ev are the starts of an event's members (separator, name, colon)
	// at depth evDepth, made when an event is first written there.
	ev      *eventKeys
	evDepth int
	// cr are the runs of a connection object, made on first use.
	cr *connRuns
}

// eventKeys are the starts of an event object's members, each with the
// comma and line break before it, for one depth.
type eventKeys struct {
	tUs, seq, ack, len, win, note, preview, dupAck,
	clientState, serverState, backoff short
	// dirFlags are the member "dir" with its value, c2s or s2c, and
	// the start of "flags".
	dirFlags [2]short
}

// short is a string kept so that appending it is a copy of a fixed
// length (shortLen), which the compiler makes a few moves in place
// (appendShort): the members of an event are short, and appending each
// with a call to memmove cost more than copying its bytes.
type short struct {
	n int            // its length
	a [shortLen]byte // it, then zeros
}

// shortLen bounds a short: the longest event member's start, "dir"
// with its value and the start of "flags", is 46 bytes in the document.
const shortLen = 64

func newShort(s string) short {
	if len(s) > shortLen {
		panic("jsonWriter: " + strconv.Quote(s) + " is longer than a short")
	}
	k := short{n: len(s)}
	copy(k.a[:], s)
	return k
}

// appendShort appends k's string.
func appendShort(b []byte, k *short) []byte {
	n := len(b)
	if cap(b)-n < shortLen {
		b = slices.Grow(b, shortLen)
	}
	*(*[shortLen]byte)(b[n : n+shortLen]) = k.a
	return b[:n+k.n]
}

func (w *jsonWriter) newline() {
	if w.indent {
		w.b = append(w.b, w.lines[1:w.sepEnd]...)
	}
}

// newJSONWriter writes indented with prefix, or compact.
func newJSONWriter(prefix string, indent bool) jsonWriter {
	w := jsonWriter{prefix: prefix, indent: indent}
	w.setDepth(0)
	return w
}

// setDepth sets the depth of what is written next, and the separator
// of its members or elements (a zero jsonWriter writes compact).
func (w *jsonWriter) setDepth(d int) {
	w.depth = d
	if !w.indent {
		w.lines, w.sepEnd, w.colon = ",", 1, `":`
		return
	}
	w.colon = `": `
	w.sepEnd = 2 + len(w.prefix) + 2*d
	if w.sepEnd > len(w.lines) {
		w.lines = ",\n" + w.prefix + strings.Repeat("  ", d+8)
	}
}

func (w *jsonWriter) open(c byte) {
	w.b = append(w.b, c)
	w.setDepth(w.depth + 1)
	w.empty = append(w.empty, true)
}

func (w *jsonWriter) close(c byte) {
	w.setDepth(w.depth - 1)
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
	from := 0
	if w.empty[top] {
		from = 1
	}
	w.empty[top] = false
	w.b = append(w.b, w.lines[from:w.sepEnd]...)
}

// key starts a member of the innermost object; k is one of our own
// names, which need no escaping.
func (w *jsonWriter) key(k string) {
	top := len(w.empty) - 1
	sep := w.lines[:w.sepEnd]
	if w.empty[top] {
		sep = sep[1:]
		w.empty[top] = false
	}
	n := len(w.b)
	b := grow(w.b, len(sep)+1+len(k)+len(w.colon))
	n += copy(b[n:], sep)
	b[n] = '"'
	n += 1 + copy(b[n+1:], k)
	copy(b[n:], w.colon)
	w.b = b
}

func (w *jsonWriter) str(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

func (w *jsonWriter) uint(k string, v uint64) {
	w.key(k)
	w.b = appendUint(w.b, v)
}

func (w *jsonWriter) int(k string, v int64) {
	w.key(k)
	w.b = appendInt(w.b, v)
}

// uints writes member k, an array of vs, unless vs is empty (omitempty).
func uints[T uint16 | uint32](w *jsonWriter, k string, vs []T) {
	if len(vs) == 0 {
		return
	}
	w.key(k)
	w.open('[')
	for _, v := range vs {
		w.elem()
		w.b = appendUint(w.b, uint64(v))
	}
	w.close(']')
}

func (w *jsonWriter) bool(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

// appendTime appends t.Format(TimeFormat) for a time of the years
// 0000-9999, with the digits written in place when t is in UTC.
func appendTime(b []byte, t time.Time) []byte {
	if t.Location() != time.UTC || !rfc3339Year(t) {
		return t.AppendFormat(b, TimeFormat)
	}
	year, month, day, hour, minute, sec := civil(t.Unix())
	n := len(b)
	b = grow(b, len("2006-01-02T15:04:05.000000000Z"))
	d := b[n:]
	put := func(at, width, v int) {
		for i := at + width - 1; i >= at; i-- {
			d[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, 4, year)
	put(5, 2, month)
	put(8, 2, day)
	put(11, 2, hour)
	put(14, 2, minute)
	put(17, 2, sec)
	put(20, 9, t.Nanosecond())
	d[4], d[7], d[10], d[13], d[16], d[19], d[29] = '-', '-', 'T', ':', ':', '.', 'Z'
	return b
}

// civil is the UTC date and time of unix seconds (t.Date and t.Clock
// in one pass; each works the date out on its own): the days since
// 1970 to a civil date by Howard Hinnant's days_from_civil inverse.
func civil(unix int64) (year, month, day, hour, minute, sec int) {
	days, secs := unix/86400, unix%86400
	if secs < 0 {
		days, secs = days-1, secs+86400
	}
	hour, minute, sec = int(secs/3600), int(secs%3600/60), int(secs%60)
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return
}

// rfc3339Year reports whether t's year has four digits (0000-9999).
func rfc3339Year(t time.Time) bool { y := t.Year(); return y >= 0 && y <= 9999 }

// conn writes the members of a connection object (the caller opens and
// closes it) from j (connJSONHead) and c: its anomaly counts, and its
// events unless events is false. Between its values it writes runs
// (connRuns); a member that may be left out, or whose count of values
// varies, is written by key, open and close.
func (w *jsonWriter) conn(j *jsonConn, c *decode.Conn, events bool) {
	w.uint("id", j.ID)
	k := w.connRuns()
	w.run(&k.uid)
	w.b = append(appendZeekUID(append(w.b, '"'), c), '"')
	w.run(&k.proto)
	w.b = appendJSONString(w.b, j.Proto)
	w.run(&k.clientIP)
	w.b = appendJSONIP(w.b, c.Client.Addr())
	w.run(&k.port)
	w.b = appendUint(w.b, uint64(c.Client.Port()))
	w.run(&k.serverIP)
	w.b = appendJSONIP(w.b, c.Server.Addr())
	w.run(&k.port)
	w.b = appendUint(w.b, uint64(c.Server.Port()))
	w.run(&k.partial)
	w.b = strconv.AppendBool(w.b, j.Partial)
	if e := j.Encapsulation; e != nil {
		w.encapsulation(e)
	}
	if j.Resumed {
		w.bool("resumed", true)
	}
	if j.PriorVerdict != "" {
		w.str("prior_verdict", j.PriorVerdict)
	}
	w.run(&k.verdict)
	w.b = appendJSONString(w.b, j.Verdict)
	first, last := c.FirstSeen.UTC(), c.LastSeen.UTC()
	w.run(&k.firstSeen)
	w.b = appendJSONTime(w.b, first)
	w.run(&k.lastSeen)
	w.b = appendJSONTime(w.b, last)
	if !rfc3339Year(first) {
		w.key("first_seen_unix")
		w.b = append(w.b, epochSeconds(first, 9)...)
	}
	if !rfc3339Year(last) {
		w.key("last_seen_unix")
		w.b = append(w.b, epochSeconds(last, 9)...)
	}
	w.run(&k.durationUs)
	w.b = appendInt(w.b, j.DurationUs)

	h := &j.Handshake
	w.run(&k.syn)
	w.b = strconv.AppendBool(w.b, h.SYN)
	w.run(&k.synAck)
	w.b = strconv.AppendBool(w.b, h.SYNACK)
	w.run(&k.ack)
	w.b = strconv.AppendBool(w.b, h.ACK)
	w.run(&k.complete)
	w.b = strconv.AppendBool(w.b, h.Complete)
	w.run(&k.synToSYNACK)
	w.b = appendObserved(w.b, synToSYNACK(&c.Handshake))
	w.run(&k.synackToACK)
	w.b = appendObserved(w.b, synackToACK(&c.Handshake))
	w.run(&k.synCount)
	w.b = appendInt(w.b, int64(h.SYNCount))
	w.run(&k.synAckCount)
	w.b = appendInt(w.b, int64(h.SYNACKCount))

	w.run(&k.isn)
	w.b = appendJSONISN(w.b, c, decode.Client)
	w.run(&k.server)
	w.b = appendJSONISN(w.b, c, decode.Server)
	for _, p := range [...]struct {
		run *jsonRun
		v   *jsonPair
	}{{&k.packets, &j.Packets}, {&k.payloadBytes, &j.PayloadBytes}, {&k.fin, &j.FIN}, {&k.rst, &j.RST}} {
		w.run(p.run)
		w.b = appendUint(w.b, p.v.Client)
		w.run(&k.server)
		w.b = appendUint(w.b, p.v.Server)
	}
	w.run(&k.closedBy)
	w.b = appendJSONString(w.b, j.ClosedBy)
	w.run(&k.connState)
	w.b = appendJSONString(w.b, j.ConnState)
	w.run(&k.history)
	w.b = appendJSONString(w.b, j.History)

	w.run(&k.irtt)
	w.b = appendObserved(w.b, irtt(c))
	w.run(&k.ttfb)
	w.b = appendObserved(w.b, ttfb(c))
	for s, side := range [...]*jsonRun{&k.rttClient, &k.rttServer} {
		r := &c.RTT[s]
		w.run(side)
		w.b = appendUint(w.b, r.Count)
		for i, t := range rttUs(r) {
			w.run(&k.rtt[i])
			w.b = appendObserved(w.b, t)
		}
	}
	w.run(&k.timeBackwards)
	w.b = appendUint(w.b, uint64(j.TimeBackwards))
	w.run(&k.ecn)
	w.b = strconv.AppendBool(w.b, j.ECN)
	w.run(&k.halfClosed)
	w.b = strconv.AppendBool(w.b, j.HalfClosed)

	w.run(&k.options)
	w.options(c, decode.Client, k)
	w.run(&k.server)
	w.options(c, decode.Server, k)
	w.run(&k.optionsEnd)

	w.anomalyCounts(c)
	if events && len(c.Events) > 0 {
		w.run(&k.events)
		for i := range c.Events {
			if i > 0 {
				w.run(&k.nextEvent)
			}
			if i+eventsAhead < len(c.Events) {
				decode.PrefetchEvent(&c.Events[i+eventsAhead])
			}
			w.event(c, &c.Events[i])
		}
		w.run(&k.eventsEnd)
	}
	if len(j.Calls) > 0 {
		w.calls(j.Calls)
	}
	w.run(&k.eventsOmitted)
	w.b = appendUint(w.b, j.EventsOmitted)
}

// options writes side s's SYN options, null without its SYN.
func (w *jsonWriter) options(c *decode.Conn, s decode.Side, k *connRuns) {
	if !c.HasOptions[s] {
		w.b = append(w.b, "null"...)
		return
	}
	o := &c.Options[s]
	w.run(&k.mss)
	w.b = appendUintOrNull(w.b, uint64(o.MSS), o.HasMSS)
	w.run(&k.wscale)
	w.b = appendUintOrNull(w.b, uint64(o.WScale), o.HasWScale)
	w.run(&k.sackPermitted)
	w.b = strconv.AppendBool(w.b, o.SACKPermitted)
	w.run(&k.timestamps)
	w.b = strconv.AppendBool(w.b, o.Timestamps)
	w.run(&k.tfo)
	w.b = strconv.AppendBool(w.b, o.TFO)
	w.run(&k.tfoCookie)
	w.b = append(hex.AppendEncode(append(w.b, '"'), o.TFOCookie()), '"')
	w.run(&k.cut)
	w.b = strconv.AppendBool(w.b, o.Cut)
	w.run(&k.optionsClose)
}

// encapsulation writes the member "encapsulation".
func (w *jsonWriter) encapsulation(e *jsonEncap) {
	w.key("encapsulation")
	w.open('{')
	uints(w, "vlan", e.VLAN)
	uints(w, "mpls", e.MPLS)
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

// calls writes the member "calls".
func (w *jsonWriter) calls(calls []jsonCall) {
	w.key("calls")
	w.open('[')
	for _, k := range calls {
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

// appendJSONIP appends ip (unmapped) as a JSON string. Digits, dots,
// colons and hex need no escaping; a zone might.
func appendJSONIP(b []byte, ip netip.Addr) []byte {
	if ip = ip.Unmap(); !ip.IsValid() || ip.Zone() != "" {
		return appendJSONString(b, ip.String())
	}
	return append(ip.AppendTo(append(b, '"')), '"')
}

// appendJSONTime appends t (UTC) as jsonTime does: null when RFC 3339
// cannot.
func appendJSONTime(b []byte, t time.Time) []byte {
	if !rfc3339Year(t) {
		return append(b, "null"...)
	}
	return append(appendTime(append(b, '"'), t), '"')
}

func appendObserved(b []byte, o observedUs) []byte {
	if !o.ok {
		return append(b, "null"...)
	}
	return appendInt(b, o.us)
}

// appendJSONISN appends side s's initial sequence number, null without its SYN.
func appendJSONISN(b []byte, c *decode.Conn, s decode.Side) []byte {
	n, ok := c.ISN(s)
	return appendUintOrNull(b, uint64(n), ok)
}

// appendUintOrNull appends v if ok, else null.
func appendUintOrNull(b []byte, v uint64, ok bool) []byte {
	if !ok {
		return append(b, "null"...)
	}
	return appendUint(b, v)
}

// A jsonRun is what a fixed sequence of key, open, close and elem calls
// writes, recorded once for a writer's layout and depth (jsonRecorder):
// run writes it in one append, to the same effect as the calls.
type jsonRun struct {
	text  string
	short short // text, when it is short (most are)
	long  bool  // text is longer than a short
	depth int   // the depth the calls leave
	empty bool  // whether the object or array they leave open is empty
}

func (w *jsonWriter) run(r *jsonRun) {
	if r.long {
		w.b = append(w.b, r.text...)
	} else {
		w.b = appendShort(w.b, &r.short)
	}
	if r.depth != w.depth {
		w.resume(r.depth)
	}
	w.empty[r.depth-1] = r.empty
}

// resume sets the depth after a run: every object or array outside the
// innermost holds at least the one inside, so is not empty.
func (w *jsonWriter) resume(depth int) {
	w.setDepth(depth)
	w.empty = w.empty[:min(depth, len(w.empty))]
	for len(w.empty) < depth {
		w.empty = append(w.empty, false)
	}
}

// jsonRecorder records runs in the layout of a writer, each from where
// the one before left off.
type jsonRecorder struct {
	w      jsonWriter
	arrays []bool // per open object or array: an array
}

// newJSONRecorder starts where w is: in an object, after its first member.
func newJSONRecorder(w *jsonWriter) *jsonRecorder {
	r := &jsonRecorder{w: jsonWriter{prefix: w.prefix, indent: w.indent}}
	r.w.setDepth(w.depth)
	r.w.empty = make([]bool, w.depth)
	r.arrays = make([]bool, w.depth)
	return r
}

// run records the calls that literal stands for: literal is compact
// JSON of our own names and punctuation without the values, such as
// `},"server":{"ip":` (close, key, open, key), which ends with a name
// (its value follows) or a close. Compact, the run is literal itself.
func (r *jsonRecorder) run(literal string) jsonRun {
	if c := literal[len(literal)-1]; c != ':' && c != '}' && c != ']' {
		panic("jsonRecorder: " + literal + " ends in neither a name nor a close")
	}
	w := &r.w
	w.b = w.b[:0]
	for i := 0; i < len(literal); i++ {
		switch c := literal[i]; c {
		case '{', '[':
			if r.arrays[len(r.arrays)-1] {
				w.elem()
			}
			w.open(c)
			r.arrays = append(r.arrays, c == '[')
		case '}', ']':
			w.close(c)
			r.arrays = r.arrays[:len(r.arrays)-1]
		case ',': // key and elem write the comma
		case '"':
			name, rest, ok := strings.Cut(literal[i+1:], `":`)
			if !ok {
				panic("jsonRecorder: a name without its colon in " + literal)
			}
			w.key(name)
			i = len(literal) - len(rest) - 1
		default:
			panic("jsonRecorder: " + literal + " holds a value")
		}
	}
	if !w.indent && string(w.b) != literal {
		panic("jsonRecorder: " + literal + " is not compact JSON as the writer writes it")
	}
	run := jsonRun{text: string(w.b), depth: w.depth, empty: w.empty[len(w.empty)-1]}
	if run.long = len(run.text) > shortLen; !run.long {
		run.short = newShort(run.text)
	}
	return run
}

// connRuns are the runs between a connection's values, recorded for
// the depth of its members.
type connRuns struct {
	depth int
	uid, proto, clientIP, port, serverIP, partial, verdict, firstSeen, lastSeen, durationUs,
	syn, synAck, ack, complete, synToSYNACK, synackToACK, synCount, synAckCount,
	isn, server, packets, payloadBytes, fin, rst, closedBy, connState, history,
	irtt, ttfb, rttClient, rttServer, timeBackwards, ecn, halfClosed,
	options, mss, wscale, sackPermitted, timestamps, tfo, tfoCookie, cut, optionsClose, optionsEnd,
	events, nextEvent, eventsEnd, eventsOmitted jsonRun
	rtt [3]jsonRun // min_us, avg_us and max_us
}

// connRuns are the runs of a connection's object whose members are at
// the current depth, recorded on first use, in the order conn writes them.
func (w *jsonWriter) connRuns() *connRuns {
	if w.cr != nil && w.cr.depth == w.depth {
		return w.cr
	}
	r := newJSONRecorder(w)
	k := &connRuns{depth: w.depth}
	k.uid = r.run(`,"uid":`)
	k.proto = r.run(`,"proto":`)
	k.clientIP = r.run(`,"client":{"ip":`)
	k.port = r.run(`,"port":`) // and the server's
	k.serverIP = r.run(`},"server":{"ip":`)
	k.partial = r.run(`},"partial":`)
	k.verdict = r.run(`,"verdict":`)
	k.firstSeen = r.run(`,"first_seen":`)
	k.lastSeen = r.run(`,"last_seen":`)
	k.durationUs = r.run(`,"duration_us":`)
	k.syn = r.run(`,"handshake":{"syn":`)
	k.synAck = r.run(`,"syn_ack":`)
	k.ack = r.run(`,"ack":`)
	k.complete = r.run(`,"complete":`)
	k.synToSYNACK = r.run(`,"syn_to_synack_us":`)
	k.synackToACK = r.run(`,"synack_to_ack_us":`)
	k.synCount = r.run(`,"syn_count":`)
	k.synAckCount = r.run(`,"syn_ack_count":`)
	k.isn = r.run(`},"isn":{"client":`)
	k.server = r.run(`,"server":`) // of isn, the counts and options
	k.packets = r.run(`},"packets":{"client":`)
	k.payloadBytes = r.run(`},"payload_bytes":{"client":`)
	k.fin = r.run(`},"fin":{"client":`)
	k.rst = r.run(`},"rst":{"client":`)
	k.closedBy = r.run(`},"closed_by":`)
	k.connState = r.run(`,"conn_state":`)
	k.history = r.run(`,"history":`)
	k.irtt = r.run(`,"timing":{"irtt_us":`)
	k.ttfb = r.run(`,"ttfb_us":`)
	k.rttClient = r.run(`,"rtt":{"client":{"samples":`)
	k.rtt[0] = r.run(`,"min_us":`) // and the server's
	k.rtt[1] = r.run(`,"avg_us":`)
	k.rtt[2] = r.run(`,"max_us":`)
	k.rttServer = r.run(`},"server":{"samples":`)
	k.timeBackwards = r.run(`}}},"time_backwards":`)
	k.ecn = r.run(`,"ecn":`)
	k.halfClosed = r.run(`,"half_closed":`)
	k.options = r.run(`,"options":{"client":`)
	k.mss = r.run(`{"mss":`) // the server's options too
	k.wscale = r.run(`,"wscale":`)
	k.sackPermitted = r.run(`,"sack_permitted":`)
	k.timestamps = r.run(`,"timestamps":`)
	k.tfo = r.run(`,"tfo":`)
	k.tfoCookie = r.run(`,"tfo_cookie":`)
	k.cut = r.run(`,"cut":`)
	k.optionsClose = r.run(`}`)
	k.optionsEnd = r.run(`}`)
	k.events = r.run(`,"events":[{"frame":`)
	k.nextEvent = r.run(`},{"frame":`)
	k.eventsEnd = r.run(`}]`)
	k.eventsOmitted = r.run(`,"events_omitted":`)
	w.cr = k
	return k
}

// event writes the members of an event object, as eventJSON has them,
// from the value of the first, "frame": the caller writes its name.
func (w *jsonWriter) event(c *decode.Conn, e *decode.Event) {
	k := w.eventKeys()
	b := w.b
	b = appendUint(b, e.Frame)
	b = appendInt(appendShort(b, &k.tUs), us(e.T))
	b = appendShort(b, &k.dirFlags[b2i(e.Dir != decode.ClientToServer)])
	if c.Proto == decode.UDP {
		b = append(b, `""`...)
	} else {
		b = append(b, w.tcpdump(e.Flags)...)
	}
	b = appendUint(appendShort(b, &k.seq), uint64(e.Seq))
	b = appendUint(appendShort(b, &k.ack), uint64(e.Ack))
	b = appendUint(appendShort(b, &k.len), uint64(e.Len))
	b = appendUint(appendShort(b, &k.win), uint64(e.Win))
	b = append(appendShort(b, &k.note), w.note(e.Note)...)
	if p := e.Preview(); len(p) > 0 {
		b = w.preview(appendShort(b, &k.preview), p, uint32(len(p)) < e.Len)
	}
	w.b = b
	if a := e.Anomalies & (1<<decode.NumAnomalies - 1); a != 0 {
		w.key("anomalies")
		w.open('[')
		for i, name := range w.anomalies() {
			if a&(1<<i) != 0 {
				w.elem()
				w.b = appendJSONString(w.b, name)
			}
		}
		w.close(']')
	}
	b = w.b
	if e.DupAck != 0 {
		b = appendUint(appendShort(b, &k.dupAck), uint64(e.DupAck))
	}
	if c.Proto != decode.UDP {
		if s := w.state(e.ClientState); s != `""` {
			b = append(appendShort(b, &k.clientState), s...)
		}
		if s := w.state(e.ServerState); s != `""` {
			b = append(appendShort(b, &k.serverState), s...)
		}
	}
	if d := us(e.Backoff); d != 0 {
		b = appendInt(appendShort(b, &k.backoff), d)
	}
	w.b = b
}

// anomalyCounts writes the member "anomalies", the connection's count of
// each analysis flag. Most connections have none: that member is kept
// as written the first time, for its depth, and appended whole.
func (w *jsonWriter) anomalyCounts(c *decode.Conn) {
	zero := c.Anomalies == [decode.NumAnomalies]uint32{}
	if zero && w.zeroAnomalies != "" && w.zeroDepth == w.depth && !w.empty[len(w.empty)-1] {
		w.b = append(w.b, w.zeroAnomalies...)
		return
	}
	mark, depth, first := len(w.b), w.depth, w.empty[len(w.empty)-1]
	w.key("anomalies")
	w.open('{')
	for i, name := range w.anomalies() {
		w.uint(name, uint64(c.Anomalies[i]))
	}
	w.close('}')
	if zero && !first {
		w.zeroAnomalies, w.zeroDepth = string(w.b[mark:]), depth
	}
}

// state is s.String() as a JSON string, built once per value.
func (w *jsonWriter) state(s decode.State) string {
	if int(s) >= len(w.states) {
		return string(appendJSONString(nil, s.String()))
	}
	if w.states[s] == "" {
		w.states[s] = string(appendJSONString(nil, s.String()))
	}
	return w.states[s]
}

// anomalies are the names of the analysis flags, by bit.
func (w *jsonWriter) anomalies() []string {
	if w.anomalyNames == nil {
		w.anomalyNames = make([]string, decode.NumAnomalies)
		for i := range w.anomalyNames {
			w.anomalyNames[i] = (decode.Anomaly(1) << i).String()
		}
	}
	return w.anomalyNames
}

// eventKeys are the starts of an event's members at the current depth.
func (w *jsonWriter) eventKeys() *eventKeys {
	if w.ev != nil && w.evDepth == w.depth {
		return w.ev
	}
	sep := w.lines[:w.sepEnd]
	m := func(name string) short { return newShort(sep + `"` + name + w.colon) }
	dirFlags := func(dir string) short {
		return newShort(sep + `"dir` + w.colon + `"` + dir + `"` + sep + `"flags` + w.colon)
	}
	w.ev = &eventKeys{tUs: m("t_us"), dirFlags: [2]short{dirFlags("c2s"), dirFlags("s2c")}, seq: m("seq"), ack: m("ack"),
		len: m("len"), win: m("win"), note: m("note"), preview: m("preview"), dupAck: m("dup_ack"),
		clientState: m("client_state"), serverState: m("server_state"), backoff: m("backoff_us")}
	w.evDepth = w.depth
	return w.ev
}

// note and tcpdump are e.Note.String() and e.Flags.Tcpdump() as JSON
// strings, built once per value.
func (w *jsonWriter) note(n decode.Note) string { return w.notes.get(n, quotedNote) }

func (w *jsonWriter) tcpdump(f decode.Flags) string { return w.flags.get(f, quotedTcpdump) }

func quotedNote(n decode.Note) string { return string(appendJSONString(nil, n.String())) }

func quotedTcpdump(f decode.Flags) string { return string(appendJSONString(nil, f.Tcpdump())) }

// preview is appendJSONPreview, a byte at a time from a table made on
// first use (what the preview's JSON holds for each byte value).
func (w *jsonWriter) preview(b, p []byte, truncated bool) []byte {
	if w.escapes == nil {
		w.escapes = new(escapeTable)
		for c := range 256 {
			e := appendJSONPreview(nil, []byte{byte(c)}, false)
			e = e[1 : len(e)-1] // without the quotes
			var v uint64
			for i := len(e) - 1; i >= 0; i-- {
				v = v<<8 | uint64(e[i])
			}
			w.escapes[c] = v | uint64(len(e))<<40
		}
	}
	t := w.escapes
	n := len(b)
	b = grow(b, 2+5*len(p)+3+8)
	b[n] = '"'
	n++
	for _, c := range p {
		v := t[c]
		binary.LittleEndian.PutUint64(b[n:], v)
		n += int(v >> 40)
	}
	if truncated {
		n += copy(b[n:], "…")
	}
	b[n] = '"'
	return b[:n+1]
}

// appendJSONPreview appends preview(e) as a JSON string: Escape(p), and
// "…" when the payload was longer (truncated). Escape leaves printable
// ASCII only, of which JSON escapes the backslash and the quote.
func appendJSONPreview(b, p []byte, truncated bool) []byte {
	n := len(b)
	b = grow(b, 2+5*len(p)+len("…"))
	b[n] = '"'
	n++
	for _, c := range p {
		if c >= 0x20 && c < 0x7f && c != '\\' && c != '"' {
			b[n] = c
			n++
			continue
		}
		d := b[n : n+5]
		d[0], d[1] = '\\', '\\'
		switch c {
		case '\\', '"':
			d[2], d[3] = '\\', c
			n += 4
		case '\n':
			d[2] = 'n'
			n += 3
		case '\r':
			d[2] = 'r'
			n += 3
		case '\t':
			d[2] = 't'
			n += 3
		default:
			d[2], d[3], d[4] = 'x', hexDigits[c>>4], hexDigits[c&0x0f]
			n += 5
		}
	}
	if truncated {
		n += copy(b[n:], "…")
	}
	b[n] = '"'
	return b[:n+1]
}

// appendUint and appendInt append v in decimal, as strconv does,
// writing the digits in place.
func appendUint(b []byte, v uint64) []byte {
	if v < 10 {
		return append(b, byte('0'+v))
	}
	n := len(b)
	b = grow(b, decimalWidth(v))
	putDecimal(b[n:], v)
	return b
}

func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		return appendUint(b, uint64(-v)) // -MinInt64 wraps to MinInt64, as uint64 its magnitude
	}
	return appendUint(b, uint64(v))
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
