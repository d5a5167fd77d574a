package report

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"synack/decode"
)

// Schema names the JSON layout. Later versions only add fields.
const Schema = "synack/v1"

// TimeFormat is RFC 3339 with nanoseconds, always nine digits.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

type jsonSource struct {
	Name     string `json:"name"`
	Format   string `json:"format"`
	LinkType string `json:"link_type"`
	Filter   string `json:"filter"`
}

type jsonEndpoint struct {
	IP   string `json:"ip"`
	Port uint16 `json:"port"`
}

type jsonPair struct {
	Client uint64 `json:"client"`
	Server uint64 `json:"server"`
}

type jsonHandshake struct {
	SYN      bool `json:"syn"`
	SYNACK   bool `json:"syn_ack"`
	ACK      bool `json:"ack"`
	Complete bool `json:"complete"`
	// The stage times are null when a stage was not seen: 0 would be a
	// measurement, and skew every average taken over the field.
	SYNToSYNACKus *int64 `json:"syn_to_synack_us"`
	SYNACKToACKus *int64 `json:"synack_to_ack_us"`
	SYNCount      int    `json:"syn_count"`
	SYNACKCount   int    `json:"syn_ack_count"`
}

// jsonISN is each side's initial sequence number, null without its SYN.
type jsonISN struct {
	Client *uint32 `json:"client"`
	Server *uint32 `json:"server"`
}

type jsonOptions struct {
	MSS           *uint16 `json:"mss"`
	WScale        *uint8  `json:"wscale"`
	SACKPermitted bool    `json:"sack_permitted"`
	Timestamps    bool    `json:"timestamps"`
	TFO           bool    `json:"tfo"`
	TFOCookie     string  `json:"tfo_cookie"`
	// Cut: the capture's snaplen cut the options off; nothing is known.
	Cut bool `json:"cut"`
}

type jsonEvent struct {
	Frame   uint64 `json:"frame"`
	Tus     int64  `json:"t_us"`
	Dir     string `json:"dir"`
	Flags   string `json:"flags"`
	Seq     uint32 `json:"seq"`
	Ack     uint32 `json:"ack"`
	Len     uint32 `json:"len"`
	Win     uint32 `json:"win"`
	Note    string `json:"note"`
	Preview string `json:"preview,omitempty"`
	// Anomalies are tshark's tcp.analysis flags of the segment; DupAck
	// numbers a duplicate ACK (#n).
	Anomalies []string `json:"anomalies,omitempty"`
	DupAck    uint32   `json:"dup_ack,omitempty"`
	// ClientState and ServerState are the RFC 9293 states after the
	// segment (TCP only).
	ClientState string `json:"client_state,omitempty"`
	ServerState string `json:"server_state,omitempty"`
	// BackoffUs is, for a retransmitted SYN or SYN-ACK, the time since the
	// previous one.
	BackoffUs int64 `json:"backoff_us,omitempty"`
}

type jsonConn struct {
	ID uint64 `json:"id"`
	// UID is the Zeek-style uid (as in the conn.log): unlike ID, which
	// counts from 1 in each capture, it tells connections of different
	// captures apart.
	UID     string       `json:"uid"`
	Proto   string       `json:"proto"`
	Client  jsonEndpoint `json:"client"`
	Server  jsonEndpoint `json:"server"`
	Partial bool         `json:"partial"`
	// Encapsulation is what the segments came in, omitted for none.
	Encapsulation *jsonEncap `json:"encapsulation,omitempty"`
	// Resumed marks a record that goes on with a connection handed over
	// before (at the --max-conns cap, or a segment after its close): the
	// same id and uid; prior_verdict is what the record before said.
	Resumed      bool   `json:"resumed,omitempty"`
	PriorVerdict string `json:"prior_verdict,omitempty"`
	Verdict      string `json:"verdict"`
	// FirstSeen and LastSeen are null for a time RFC 3339 cannot write
	// (see jsonTime); the *Unix fields then hold it.
	FirstSeen     *string       `json:"first_seen"`
	LastSeen      *string       `json:"last_seen"`
	FirstSeenUnix json.Number   `json:"first_seen_unix,omitempty"`
	LastSeenUnix  json.Number   `json:"last_seen_unix,omitempty"`
	DurationUs    int64         `json:"duration_us"`
	Handshake     jsonHandshake `json:"handshake"`
	ISN           jsonISN       `json:"isn"`
	Packets       jsonPair      `json:"packets"`
	PayloadBytes  jsonPair      `json:"payload_bytes"`
	FIN           jsonPair      `json:"fin"`
	RST           jsonPair      `json:"rst"`
	ClosedBy      string        `json:"closed_by"`
	ConnState     string        `json:"conn_state"`
	History       string        `json:"history"`
	Timing        jsonTiming    `json:"timing"`
	// TimeBackwards counts segments dated before an earlier one of the
	// connection (a clock stepped back while capturing): their times are
	// clamped, and the handshake's times are null when its stages are.
	TimeBackwards uint32 `json:"time_backwards"`
	ECN           bool   `json:"ecn"`
	HalfClosed    bool   `json:"half_closed"`
	Options       struct {
		Client *jsonOptions `json:"client"`
		Server *jsonOptions `json:"server"`
	} `json:"options"`
	Anomalies *orderedCounts `json:"anomalies"`
	Events    []jsonEvent    `json:"events,omitempty"`
	// Calls are the socket calls of the programs behind the connection
	// (the demo's server and client), µs from its first packet.
	Calls         []jsonCall `json:"calls,omitempty"`
	EventsOmitted uint64     `json:"events_omitted"`
}

type jsonVerdicts struct {
	Complete   uint64 `json:"complete"`
	Refused    uint64 `json:"refused"`
	Reset      uint64 `json:"reset"`
	NoAnswer   uint64 `json:"no-answer"`
	Incomplete uint64 `json:"incomplete"`
	Open       uint64 `json:"open"`
	Partial    uint64 `json:"partial"`
	UDP        uint64 `json:"udp"`
}

// jsonEncap is a connection's encapsulation: VLAN IDs and MPLS labels
// outermost first, the PPPoE session, the tunnel.
type jsonEncap struct {
	VLAN         []uint16    `json:"vlan,omitempty"`
	MPLS         []uint32    `json:"mpls,omitempty"`
	PPPoESession *uint16     `json:"pppoe_session,omitempty"`
	Tunnel       *jsonTunnel `json:"tunnel,omitempty"`
}

// jsonTunnel: type gre, vxlan, geneve or ipip; the outer addresses, the
// lower first; the VNI (VXLAN, Geneve) or key (GRE), if any.
type jsonTunnel struct {
	Type  string    `json:"type"`
	Outer [2]string `json:"outer"`
	VNI   *uint32   `json:"vni,omitempty"`
}

func encapJSON(e *decode.Encap) *jsonEncap {
	if e == nil {
		return nil
	}
	j := &jsonEncap{VLAN: e.VLANs[:e.NVLANs], MPLS: e.Labels[:e.NLabels]}
	if e.PPPoE {
		j.PPPoESession = &e.Session
	}
	if e.Tunnel != decode.NoTunnel {
		j.Tunnel = &jsonTunnel{Type: e.Tunnel.String(), Outer: [2]string{e.Outer[0].String(), e.Outer[1].String()}}
		if e.HasVNI {
			j.Tunnel.VNI = &e.VNI
		}
	}
	return j
}

type jsonTotals struct {
	Frames    uint64 `json:"frames"`
	TCP       uint64 `json:"tcp"`
	UDP       uint64 `json:"udp"`
	NonTCP    uint64 `json:"non_tcp"`
	Malformed uint64 `json:"malformed"`
	// NotDecoded counts frames in encapsulations not decoded, by kind;
	// omitted when there are none.
	NotDecoded  *orderedCounts `json:"not_decoded,omitempty"`
	Connections uint64         `json:"connections"`
	Evicted     uint64         `json:"evicted"`
	Shed        uint64         `json:"shed"`
	Resumed     uint64         `json:"resumed"`
	Verdicts    jsonVerdicts   `json:"verdicts"`
}

// jsonTime writes t as RFC 3339 in UTC when its year is one RFC 3339 has
// (0000–9999: four digits). time.Format writes other years as they are
// ("10000-01-01T…", "-0001-12-31T…"), which are not RFC 3339: Go's
// time.Parse, Python's datetime.fromisoformat and jq's fromdate refuse
// them. Such a time is null instead, and its epoch seconds (a JSON
// number, nine decimals) go in a field beside it, which any JSON reader
// takes. The capture's reader has warned of the frames whose times lie
// there (capture/pcapng.go).
func jsonTime(t time.Time) (rfc3339 *string, unix json.Number) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, json.Number(epochSeconds(t, 9))
	}
	s := t.Format(TimeFormat)
	return &s, ""
}

// epochSeconds writes t as seconds since 1970 with the given decimals
// (1 to 9, the rest cut off). Before 1970 Unix() is the second before t,
// and the fraction counts forward from it: -2 s and 0.5 s is -1.5 s.
func epochSeconds(t time.Time, decimals int) string {
	sec, nsec := t.Unix(), uint64(t.Nanosecond())
	var b []byte
	mag := uint64(sec)
	if sec < 0 {
		b = append(b, '-')
		mag = uint64(-sec) // -MinInt64 wraps to MinInt64, as uint64 still its magnitude
		if nsec > 0 {
			mag, nsec = mag-1, 1e9-nsec
		}
	}
	b = strconv.AppendUint(b, mag, 10)
	frac := strconv.AppendUint(nil, 1e9+nsec, 10) // "1" and nine digits
	b = append(b, '.')
	return string(append(b, frac[1:1+decimals]...))
}

// us is d in microseconds, rounded half away from zero as d.Round
// rounds: for d from 0 to 2^62 ns (146 years), by one addition.
func us(d time.Duration) int64 {
	if d >= 0 && d < 1<<62 {
		return int64((d + 500) / 1000)
	}
	return int64(d.Round(time.Microsecond) / time.Microsecond)
}

func pair(a [2]uint64) jsonPair { return jsonPair{a[decode.Client], a[decode.Server]} }
func pair32(a [2]uint32) jsonPair {
	return jsonPair{uint64(a[decode.Client]), uint64(a[decode.Server])}
}

func endpoint(c *decode.Conn, s decode.Side) jsonEndpoint {
	ap := c.Client
	if s == decode.Server {
		ap = c.Server
	}
	return jsonEndpoint{IP: ap.Addr().Unmap().String(), Port: ap.Port()}
}

// connJSONHead converts a connection to its synack/v1 JSON object, but
// for its uid, endpoints, times, initial sequence numbers, options,
// anomaly counts and events, which jsonWriter writes from the connection
// as it goes (connJSON adds them): what is left takes no allocation.
func connJSONHead(c *decode.Conn) jsonConn {
	h := &c.Handshake
	j := jsonConn{
		ID: c.ID, Proto: c.Proto.String(),
		Partial: c.Partial, Verdict: c.Verdict.String(), Resumed: c.Resumed, Encapsulation: encapJSON(c.Encap),
		DurationUs: us(c.Duration()),
		Handshake: jsonHandshake{SYN: h.SYN, SYNACK: h.SYNACK, ACK: h.ACK, Complete: h.Complete(),
			SYNCount: h.SYNCount, SYNACKCount: h.SYNACKCount},
		Packets: pair(c.Packets), PayloadBytes: pair(c.Bytes), FIN: pair32(c.FINs), RST: pair32(c.RSTs),
		ClosedBy: c.ClosedBy.String(), ConnState: c.ConnState.String(), History: c.History, EventsOmitted: c.EventsOmitted,
		TimeBackwards: c.TimeBackwards, ECN: c.ECN, HalfClosed: c.HalfClosed,
	}
	if c.Resumed {
		j.PriorVerdict = c.PriorVerdict.String()
	}
	return j
}

// observedUs is a time in µs that is null in JSON when it was not
// observed (ok false).
type observedUs struct {
	us int64
	ok bool
}

func observe(seen bool, d time.Duration) observedUs {
	if !seen {
		return observedUs{}
	}
	return observedUs{us(d), true}
}

// pointer is o for encoding/json: nil when not observed.
func (o observedUs) pointer() *int64 {
	if !o.ok {
		return nil
	}
	return &o.us
}

// The times of a connection's object that are null when not observed:
// the handshake's stages, iRTT, time to first byte (see jsonTiming).
func synToSYNACK(h *decode.Handshake) observedUs {
	return observe(h.SYN && h.SYNACK && !h.OutOfOrder, h.SYNToSYNACK())
}

func synackToACK(h *decode.Handshake) observedUs {
	return observe(h.SYNACK && h.ACK && !h.OutOfOrder, h.SYNACKToACK())
}

func irtt(c *decode.Conn) observedUs { return observe(c.IRTT != 0 && !c.IRTTUnknown, c.IRTT) }

func ttfb(c *decode.Conn) observedUs {
	cl, sv := c.FirstData[decode.Client], c.FirstData[decode.Server]
	return observe(!cl.IsZero() && !sv.IsZero() && !sv.Before(cl), c.TTFB())
}

// rttUs are the least, mean and greatest of a side's RTT samples, null
// without samples.
func rttUs(r *decode.RTTStats) [3]observedUs {
	n := r.Count > 0
	return [3]observedUs{observe(n, r.Min), observe(n, r.Avg()), observe(n, r.Max)}
}

func rttJSON(r *decode.RTTStats) jsonRTT {
	t := rttUs(r)
	return jsonRTT{Samples: r.Count, MinUs: t[0].pointer(), AvgUs: t[1].pointer(), MaxUs: t[2].pointer()}
}

// optionsJSON are the SYN options side s sent, null without its SYN.
func optionsJSON(c *decode.Conn, s decode.Side) *jsonOptions {
	if !c.HasOptions[s] {
		return nil
	}
	o := &c.Options[s]
	j := &jsonOptions{SACKPermitted: o.SACKPermitted, Timestamps: o.Timestamps, TFO: o.TFO, TFOCookie: hex.EncodeToString(o.TFOCookie()), Cut: o.Cut}
	if o.HasMSS {
		j.MSS = &o.MSS
	}
	if o.HasWScale {
		j.WScale = &o.WScale
	}
	return j
}

// connJSON is the whole object, but for its events and calls.
func connJSON(c *decode.Conn) jsonConn {
	j := connJSONHead(c)
	j.UID = zeekUID(c)
	j.Client, j.Server = endpoint(c, decode.Client), endpoint(c, decode.Server)
	j.FirstSeen, j.FirstSeenUnix = jsonTime(c.FirstSeen)
	j.LastSeen, j.LastSeenUnix = jsonTime(c.LastSeen)
	h := &c.Handshake
	j.Handshake.SYNToSYNACKus, j.Handshake.SYNACKToACKus = synToSYNACK(h).pointer(), synackToACK(h).pointer()
	for s, isn := range [...]**uint32{&j.ISN.Client, &j.ISN.Server} {
		if n, ok := c.ISN(decode.Side(s)); ok {
			*isn = &n
		}
	}
	j.Timing = jsonTiming{IRTTus: irtt(c).pointer(), TTFBus: ttfb(c).pointer(),
		RTT: jsonRTTPair{Client: rttJSON(&c.RTT[decode.Client]), Server: rttJSON(&c.RTT[decode.Server])}}
	j.Options.Client, j.Options.Server = optionsJSON(c, decode.Client), optionsJSON(c, decode.Server)
	j.Anomalies = &orderedCounts{}
	for _, a := range decode.Anomalies() {
		j.Anomalies.add(a.String(), uint64(c.Anomalies[a.Index()]))
	}
	return j
}

func eventJSON(c *decode.Conn, e *decode.Event) jsonEvent {
	j := jsonEvent{Frame: e.Frame, Tus: us(e.T), Dir: e.Dir.String(), Flags: e.Flags.Tcpdump(),
		Seq: e.Seq, Ack: e.Ack, Len: e.Len, Win: e.Win, Note: e.Note.String(), Preview: preview(e),
		Anomalies: anomalyNames(e.Anomalies), DupAck: e.DupAck, BackoffUs: us(e.Backoff)}
	if c.Proto == decode.UDP {
		j.Flags = ""
	} else {
		j.ClientState, j.ServerState = e.ClientState.String(), e.ServerState.String()
	}
	return j
}

// JSON writes the capture as one synack/v1 document followed by a newline
// (NewJSON streams it).
func JSON(w io.Writer, c *Capture) error { return Whole(NewJSON(w, c), c) }

// anomalyNames lists the names of the flags set in a, nil for none.
func anomalyNames(a decode.Anomaly) []string {
	if a == 0 {
		return nil
	}
	var names []string
	for _, x := range decode.Anomalies() {
		if a&x != 0 {
			names = append(names, x.String())
		}
	}
	return names
}

// orderedCounts is a JSON object of counts whose keys keep their order.
type orderedCounts struct {
	keys []string
	vals []uint64
}

func (o *orderedCounts) add(k string, v uint64) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *orderedCounts) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		b = strconv.AppendUint(b, o.vals[i], 10)
	}
	return append(b, '}'), nil
}

func sourceJSON(c *Capture) jsonSource {
	return jsonSource{Name: c.Source, Format: c.Format, LinkType: c.LinkType, Filter: c.Filter}
}

func totalsJSON(c *Capture) jsonTotals {
	t := &c.Totals
	v := &t.ByVerdict
	var nd *orderedCounts
	if t.Undecoded > 0 {
		nd = &orderedCounts{}
		for u := range decode.NumUndecoded {
			if n := t.UndecodedBy[u]; n > 0 {
				nd.add(u.Key(), n)
			}
		}
	}
	return jsonTotals{Frames: t.Packets, TCP: t.TCP, UDP: t.UDP, NonTCP: t.NonTCP, Malformed: t.Malformed, NotDecoded: nd,
		Connections: t.Connections, Evicted: t.Evicted, Shed: t.Shed, Resumed: t.Resumed, Verdicts: jsonVerdicts{
			Complete: v[decode.Complete], Refused: v[decode.Refused], Reset: v[decode.Reset], NoAnswer: v[decode.NoAnswer],
			Incomplete: v[decode.Incomplete], Open: v[decode.Open], Partial: v[decode.Partial], UDP: v[decode.UDPFlow]}}
}

// jsonTiming: iRTT as tshark computes it (tcp.analysis.initial_rtt: first
// SYN to the first segment with ACK and without SYN), time to first byte (the client's first
// payload to the server's first payload after it), and RTT samples of the
// data each side sent (one segment timed at a time, no retransmissions).
// jsonTiming's times are null when not observed (no handshake ACK, no
// data both ways, no RTT sample).
type jsonTiming struct {
	IRTTus *int64      `json:"irtt_us"`
	TTFBus *int64      `json:"ttfb_us"`
	RTT    jsonRTTPair `json:"rtt"`
}

type jsonRTTPair struct {
	Client jsonRTT `json:"client"`
	Server jsonRTT `json:"server"`
}

type jsonRTT struct {
	Samples uint64 `json:"samples"`
	MinUs   *int64 `json:"min_us"`
	AvgUs   *int64 `json:"avg_us"`
	MaxUs   *int64 `json:"max_us"`
}

type jsonCall struct {
	Side     string `json:"side"`
	Call     string `json:"call"`
	StartUs  int64  `json:"start_us"`
	ReturnUs int64  `json:"return_us"`
}

func callsJSON(c *decode.Conn, all []Call) []jsonCall {
	var out []jsonCall
	for _, k := range callsOf(c, all) {
		out = append(out, jsonCall{Side: k.Side, Call: k.Name, StartUs: us(k.Start.Sub(c.FirstSeen)), ReturnUs: us(k.Return.Sub(c.FirstSeen))})
	}
	return out
}
