package decode

import (
	"net/netip"
	"time"
)

// PreviewLen is how many payload bytes an Event keeps for display.
const PreviewLen = 32

// Event is one TCP segment as seen in its connection.
type Event struct {
	// Frame is the segment's position in the capture, 1-based, like
	// tshark's frame.number.
	Frame uint64
	// T is the time since the connection's first packet.
	T     time.Duration
	Dir   Dir
	Flags Flags
	// Seq and Ack are relative to each side's initial sequence number, as
	// tcpdump and Wireshark show them (the SYN has Seq 0). Ack is 0 when the
	// ACK bit is clear.
	Seq, Ack uint32
	// Len is the payload length (from the IP header, so it is right even
	// when the capture cut the payload short).
	Len uint32
	// Win is the advertised window, scaled once both SYNs carried the
	// window scale option (RFC 7323 §2.2); SYNs themselves are never scaled.
	Win  uint32
	Note Note
	// Anomalies are tshark's analysis flags for the segment; DupAck is
	// the duplicate ACK's number (#n) when DuplicateACK is set.
	Anomalies Anomaly
	DupAck    uint32
	// ClientState and ServerState are each side's RFC 9293 state after
	// the segment.
	ClientState, ServerState State
	// Backoff is, for a retransmitted SYN or SYN-ACK, the time since the
	// previous one (Linux doubles it: 1 s, 2 s, 4 s…).
	Backoff time.Duration

	previewLen uint8
	preview    [PreviewLen]byte
}

// Preview returns up to PreviewLen captured bytes of the payload, raw. It is
// bytes from the wire: escape them before they reach a terminal.
func (e *Event) Preview() []byte { return e.preview[:e.previewLen] }

// Handshake records which stages of the three-way handshake were seen and
// when (the first occurrence of each).
type Handshake struct {
	SYN, SYNACK, ACK bool
	// OutOfOrder is set when a stage is dated before an earlier one: the
	// capture's clock ran backwards, and the handshake's times are
	// unknown. They read 0 then, as those of a missing stage do.
	OutOfOrder                   bool
	SYNTime, SYNACKTime, ACKTime time.Time
	SYNCount, SYNACKCount        int // including retransmissions
}

// Complete reports whether SYN, SYN-ACK and the client's ACK were all seen.
func (h *Handshake) Complete() bool { return h.SYN && h.SYNACK && h.ACK }

// SYNToSYNACK is the time from the first SYN to the first SYN-ACK: the
// server's reaction time plus the path. Zero when either is missing, or
// when the handshake is OutOfOrder.
func (h *Handshake) SYNToSYNACK() time.Duration {
	if !h.SYN || !h.SYNACK || h.OutOfOrder {
		return 0
	}
	return h.SYNACKTime.Sub(h.SYNTime)
}

// SYNACKToACK is the time from the first SYN-ACK to the client's ACK: the
// client's reaction time plus the path. Zero when either is missing, or
// when the handshake is OutOfOrder.
func (h *Handshake) SYNACKToACK() time.Duration {
	if !h.SYNACK || !h.ACK || h.OutOfOrder {
		return 0
	}
	return h.ACKTime.Sub(h.SYNACKTime)
}

// Total is the time from the first SYN to the handshake's final ACK. Zero
// when the handshake is not complete, or OutOfOrder.
func (h *Handshake) Total() time.Duration {
	if !h.Complete() || h.OutOfOrder {
		return 0
	}
	return h.ACKTime.Sub(h.SYNTime)
}

// dated records that a stage was first seen at t, and whether t is before
// a stage seen earlier.
func (h *Handshake) dated(stage *time.Time, t time.Time) {
	*stage = t
	h.OutOfOrder = h.OutOfOrder || h.SYN && t.Before(h.SYNTime) || h.SYNACK && t.Before(h.SYNACKTime)
}

// Conn is one TCP connection: the record the decoder hands to its Sink.
// Arrays of two are indexed by Side (Client, Server).
type Conn struct {
	// ID numbers connections from 1 in the order of their first packet.
	ID uint64
	// Resumed is set on a record that goes on with a connection an
	// earlier record with the same ID already reported, the decoder
	// having handed it over before its last segment: when it closed
	// (both FINs acknowledged, or a RST) and a segment came late (a
	// retransmitted FIN, a last ACK, a RST), or early at the MaxConns
	// cap. Its roles, Partial and ClosedBy are the connection's, its
	// relative sequence numbers go on from the same bases, and the
	// analysers go on from the state the decoder kept (a tombstone: see
	// Decoder). Its counters, events, handshake stages and times,
	// Anomalies, RTT, History and ZeekBytes cover its own segments;
	// its Verdict and ConnState sum up the whole connection, and
	// PriorVerdict and PriorConnState say what the record before it
	// summed up, so that a tally can move the connection from one to
	// the other instead of counting it twice (as Totals does).
	Resumed        bool
	PriorVerdict   Verdict
	PriorConnState ConnState
	// Proto is TCP, or UDP for a datagram flow (Config.UDP).
	Proto Proto
	// Client sent the first SYN. When no SYN was seen, Partial is set and
	// the roles are a guess (see guessRoles).
	Client, Server netip.AddrPort
	Partial        bool
	// TimeBackwards counts the segments dated before an earlier segment
	// of the connection (each has NoteTimeBackwards): the capture's clock
	// ran backwards, or the capture merged sources out of order.
	TimeBackwards uint32

	// FirstSeen is the date of the first segment, LastSeen the latest date
	// of any: they are the first and the last unless the clock ran
	// backwards, and Duration is never negative.
	FirstSeen, LastSeen time.Time
	Handshake           Handshake

	Packets [2]uint64
	Bytes   [2]uint64 // payload bytes, retransmissions included
	IPBytes [2]uint64 // IP packet bytes, headers included
	FINs    [2]uint32
	RSTs    [2]uint32
	// ClosedBy is the side that sent the first FIN or RST.
	ClosedBy Side

	// Options are those of each side's SYN (HasOptions tells whether that
	// side's SYN was seen).
	Options    [2]Options
	HasOptions [2]bool

	// Events holds one entry per segment, up to the decoder's MaxEvents;
	// EventsOmitted counts the segments beyond it.
	Events        []Event
	EventsOmitted uint64

	// IRTT is tshark's initial RTT (tcp.analysis.initial_rtt): from the
	// first SYN to the first segment with ACK and without SYN, whoever
	// sends it (the handshake's ACK; for a refused connection, the RST).
	// When that segment is dated before the SYN, IRTTUnknown is set and
	// IRTT is 0 (tshark would show a negative time).
	IRTT time.Duration
	// FirstData is when each side first sent payload (zero if never).
	FirstData [2]time.Time
	// RTT holds round-trip samples for the data each side sends: the
	// time from a segment to the peer's ACK covering it, one segment
	// timed at a time and never a retransmitted one (Karn's rule).
	RTT [2]RTTStats
	// ECN is set when the SYN offered ECN (ECE+CWR) and the SYN-ACK
	// accepted it (ECE), RFC 3168 §6.1.1.
	ECN bool
	// HalfClosed is set when a side sent data after the peer's FIN.
	HalfClosed  bool
	IRTTUnknown bool // see IRTT

	// Anomalies counts the segments carrying each analysis flag, indexed
	// by Anomaly.Index.
	Anomalies [NumAnomalies]uint32

	// Verdict, ConnState, History and ZeekBytes sum the connection up.
	// The decoder sets them when it hands the connection to its Sink, and
	// they are final from then on. Before that they are refreshed just
	// before each Config.OnEvent call, so a callback sees them as of its
	// segment: what the record would say if the connection ended there.
	// At any other time before the hand-over they may lag behind.
	Verdict Verdict
	// ConnState is Zeek's conn_state; History is Zeek's history string
	// ("ShADadFf" for the greeting; see the README for the letters).
	ConnState ConnState
	History   string
	// ZeekBytes is Zeek's orig_bytes and resp_bytes, by Side: the payload
	// in sequence space (the highest of the last sequence number sent and
	// the peer's ACK, less the SYN and FIN octets), so that
	// retransmissions count once.
	ZeekBytes [2]uint64

	// The analysers, each with its own state; add runs them in order.
	// Their fields (and rttTimer's) are ordered to leave little padding,
	// and times kept only to be subtracted are Durations from FirstSeen
	// (8 bytes, not a time.Time's 24): a Conn is allocated per
	// connection, and at 1048 bytes, with the 8-byte header Go puts on a
	// large object that holds pointers, it fits Go's 1152-byte size class
	// (BenchmarkConnections, TestConnFitsItsSizeClass). The next class
	// is 1280 bytes.
	zeek   zeekConn    // Zeek's endpoint machine, history and conn_state
	tshark tsharkFlows // tshark's analysis flags
	rfc    rfcMachine  // RFC 9293's states

	marks      [2]seqMarks
	rtt        [2]rttTimer
	lastSYN    [2]time.Duration // each side's latest SYN, from FirstSeen
	prior      carried          // of a Resumed record: its connection before it
	finAcked   [2]bool
	finsBefore bool // both FINs were seen before any RST
	ecnOffer   bool
	class      int8    // its list in the decoder (a timeout class), or noList
	key        connKey // its entry in the decoder's table
	// active is when the connection last saw a segment, on the sweep
	// clock's activity clock; latest is LastSeen, from FirstSeen: a
	// comparison of Durations is cheaper than one of times.
	active, latest time.Duration
	links          links[Conn] // its place in the decoder's lists
}

func (c *Conn) linksOf() *links[Conn] { return &c.links }

// carried is what a Resumed record knows of its connection's earlier
// records beyond the analysers' own state, so that its summing-up covers
// the whole connection: all zero in a record that is not Resumed.
type carried struct {
	syn, synack, ack bool    // handshake stages seen
	rst              [2]bool // each side sent a RST
	sent             [2]bool // each side sent a segment
	ws               windowScaling
	data             [2]bool   // each side sent payload
	zeekBytes        [2]uint64 // ZeekBytes of a TCP connection
}

// seqMarks are the sequence numbers of one side that more than one
// analysis needs: its initial sequence number, the base of relative
// numbering, and the number its first FIN occupies.
type seqMarks struct {
	isn, fin         Seq
	haveISN, haveFIN bool
}

// Established reports whether the three-way handshake completed.
func (c *Conn) Established() bool { return c.Handshake.Complete() }

// Duration is the time from the first packet to the latest date of any.
func (c *Conn) Duration() time.Duration { return c.LastSeen.Sub(c.FirstSeen) }

// closed reports whether the connection has ended: FINs both ways, or a RST.
func (c *Conn) closed() bool {
	return c.marks[Client].haveFIN && c.marks[Server].haveFIN || c.reset()
}

// over reports whether the connection is over: both FINs acknowledged,
// or a RST. The decoder hands it over then (see tomb).
func (c *Conn) over() bool {
	return c.finAcked[Client] && c.finAcked[Server] || c.reset()
}

// reset reports whether either side of the connection sent a RST.
func (c *Conn) reset() bool {
	return c.RSTs[Client]+c.RSTs[Server] > 0 || c.prior.rst != [2]bool{}
}

// stages reports the handshake stages the connection has seen, in this
// record or (Resumed) before it.
func (c *Conn) stages() (syn, synack, ack bool) {
	h, p := &c.Handshake, &c.prior
	return h.SYN || p.syn, h.SYNACK || p.synack, h.ACK || p.ack
}

// established reports whether the connection's handshake completed.
func (c *Conn) established() bool {
	syn, synack, ack := c.stages()
	return syn && synack && ack
}

// sumUp sets the fields that sum the connection up (Verdict, ConnState,
// History, ZeekBytes) from its counters and the analysers' state, taking
// history strings from known. It is cheap enough to run for every segment:
// it looks the history up only when it has grown, and allocates only for a
// history not seen before.
func (c *Conn) sumUp(known *histories) {
	c.Verdict = c.verdict()
	c.History = c.zeek.historyString(c.History, known)
	p, seen := &c.prior, c.Bytes
	for s := range seen { // whether any was sent is all conn_state asks
		if p.data[s] {
			seen[s]++
		}
	}
	c.ConnState = c.zeek.connState(c.History, seen)
	// Zeek's sequence-space bytes cover the connection: those of the
	// records before a Resumed one are taken off.
	c.ZeekBytes = [2]uint64{less(c.zeek.bytes(Client, c.Bytes), p.zeekBytes[Client]), less(c.zeek.bytes(Server, c.Bytes), p.zeekBytes[Server])}
}

// less is a-b, or 0 if b > a.
func less(a, b uint64) uint64 { return a - min(a, b) }

// verdict sums the connection up. Precedence: a connection that began
// before the capture is partial whatever followed; then the handshake
// decides refused / no-answer / incomplete; then the teardown decides.
func (c *Conn) verdict() Verdict {
	_, synack, ack := c.stages()
	switch {
	case c.Proto == UDP:
		return UDPFlow
	case c.Partial:
		return Partial
	case !synack:
		if c.RSTs[Server] > 0 || c.prior.rst[Server] {
			return Refused
		}
		if c.Packets[Server] == 0 && !c.prior.sent[Server] {
			return NoAnswer
		}
		return Incomplete
	case !ack:
		return Incomplete
	case c.finsBefore:
		return Complete
	case c.reset():
		return Reset
	}
	return Open
}

// guessRoles picks client and server for a connection whose first packet is
// not a SYN. A SYN-ACK names the server outright. Otherwise the server is
// the end with the well-known port (below 1024) if exactly one has one,
// else the end with the lower port (clients use high ephemeral ports), and
// on a tie the sender of the first packet is the client.
func guessRoles(seg *Segment) (client, server netip.AddrPort) {
	if seg.Flags.Has(SYN | ACK) {
		return seg.Dst, seg.Src
	}
	sp, dp := seg.Src.Port(), seg.Dst.Port()
	switch {
	case sp < 1024 && dp >= 1024:
		return seg.Dst, seg.Src
	case dp < 1024 && sp >= 1024:
		return seg.Src, seg.Dst
	case sp < dp:
		return seg.Dst, seg.Src
	}
	return seg.Src, seg.Dst
}

// add accounts one segment to the connection and returns the event for
// it, with a payload preview when preview is set (someone will see it).
// The steps run in this order, each reading what those before it left:
// counters and ISNs, the event's relative numbers, Zeek's endpoint
// machine, tshark's flags (with the initial RTT as it stood before this
// segment), the segment's meaning (handshake, teardown, FIN numbers),
// handshake and round-trip timing, and last RFC 9293's states, which need
// the FIN numbers.
func (c *Conn) add(seg *Segment, t time.Time, frame uint64, preview bool) Event {
	dir := ClientToServer
	if seg.Src != c.Client {
		dir = ServerToClient
	}
	side := dir.Sender()
	since := t.Sub(c.FirstSeen)
	backwards := c.count(seg, side, t, since)
	c.markISNs(seg, side)
	ws := c.windowScaling()
	var ev Event
	c.fillEvent(&ev, seg, dir, since, frame, ws)
	if preview {
		ev.previewLen = uint8(copy(ev.preview[:], seg.Payload))
	}
	c.zeek.observe(seg, side)
	if c.Proto == UDP {
		ev.Seq, ev.Ack, ev.Win, ev.Note = 0, 0, 0, NoteDatagram
		return ev
	}
	ev.Anomalies, ev.DupAck = c.tshark.observe(seg, side, since, c.IRTT, ws)
	for i := range NumAnomalies {
		if ev.Anomalies&(1<<i) != 0 {
			c.Anomalies[i]++
		}
	}
	ev.Note = c.meaning(seg, side, t)
	if backwards {
		ev.Note |= NoteTimeBackwards
	}
	ev.Backoff = c.timeHandshake(seg, side, t, ev.Note)
	c.timeRTT(seg, side, since, ev.Anomalies)
	c.rfc.observe(seg, side, c.marks[side.Other()])
	ev.ClientState, ev.ServerState = c.rfc.state[Client], c.rfc.state[Server]
	return ev
}

// count adds the segment, dated t (since FirstSeen), to the sender's
// counters and keeps the options of its first SYN. It reports whether the
// segment is dated before an earlier one.
func (c *Conn) count(seg *Segment, side Side, t time.Time, since time.Duration) (backwards bool) {
	if backwards = since < c.latest; backwards {
		c.TimeBackwards++
	} else {
		c.LastSeen, c.latest = t, since
	}
	c.Packets[side]++
	c.Bytes[side] += uint64(seg.Len)
	c.IPBytes[side] += uint64(seg.IPLen)
	if seg.Len > 0 && c.FirstData[side].IsZero() {
		c.FirstData[side] = t
	}
	if seg.Flags&SYN != 0 && !c.HasOptions[side] {
		c.Options[side], c.HasOptions[side] = seg.Opts, true
	}
	return backwards
}

// markISNs takes each side's base for relative numbering: its ISN.
// Without its SYN we act as if the SYN had been seen just before (base =
// seq-1, or the peer's ack-1), so the first data byte is 1 as in
// Wireshark.
func (c *Conn) markISNs(seg *Segment, side Side) {
	if m := &c.marks[side]; !m.haveISN {
		m.isn, m.haveISN = seg.Seq, true
		if seg.Flags&SYN == 0 {
			m.isn--
		}
	}
	if m := &c.marks[side.Other()]; seg.Flags&ACK != 0 && !m.haveISN {
		m.isn, m.haveISN = seg.Ack-1, true
	}
}

// fillEvent describes the segment in ev: relative numbers, and the window
// as scaled (RFC 7323 §2.2: SYNs themselves are never scaled). It fills
// ev in place because returning an Event by value costs a copy of it on
// every packet (about 20 ns in BenchmarkPacketSteadyState).
func (c *Conn) fillEvent(ev *Event, seg *Segment, dir Dir, since time.Duration, frame uint64, ws windowScaling) {
	side := dir.Sender()
	// An event dated before the connection's first is at 0: a negative
	// time would run the timeline backwards (the note says why).
	ev.Frame, ev.T, ev.Dir, ev.Flags = frame, max(since, 0), dir, seg.Flags
	ev.Seq, ev.Len, ev.Win = seg.Seq.Sub(c.marks[side].isn), uint32(seg.Len), uint32(seg.Window)
	if seg.Flags&ACK != 0 {
		ev.Ack = seg.Ack.Sub(c.marks[side.Other()].isn)
	}
	if seg.Flags&SYN == 0 {
		ev.Win <<= ws.shift[side]
	}
}

// timeHandshake takes tshark's initial RTT from the first segment with ACK
// and without SYN, and returns, for a retransmitted SYN or SYN-ACK, the
// time since the previous one (0 if it is dated before it).
func (c *Conn) timeHandshake(seg *Segment, side Side, t time.Time, n Note) (backoff time.Duration) {
	f := seg.Flags
	if c.IRTT == 0 && !c.IRTTUnknown && c.Handshake.SYN && f&(SYN|ACK) == ACK {
		if c.IRTT = t.Sub(c.Handshake.SYNTime); c.IRTT < 0 {
			c.IRTT, c.IRTTUnknown = 0, true
		}
	}
	if f&SYN != 0 {
		at := t.Sub(c.FirstSeen)
		if n&(NoteSYNRetransmit|NoteSYNACKRetransmit) != 0 {
			backoff = max(at-c.lastSYN[side], 0)
		}
		c.lastSYN[side] = at
	}
	return backoff
}

// meaning updates handshake and teardown state and says what the segment
// means.
func (c *Conn) meaning(seg *Segment, side Side, t time.Time) Note {
	f, h, peer := seg.Flags, &c.Handshake, side.Other()
	sawSYN, sawSYNACK, sawACK := c.stages()
	var n Note
	switch {
	case f&RST != 0:
		c.RSTs[side]++
		switch {
		case side == Server && h.SYN && !h.SYNACK:
			n = NoteRefused
		case side == Client:
			n = NoteClientResets
		default:
			n = NoteServerResets
		}
		if c.ClosedBy == NoSide {
			c.ClosedBy = side
		}
	case f&(SYN|ACK) == SYN:
		if side == Server {
			n = NoteSimultaneousOpen
			break
		}
		h.SYNCount++
		if sawSYN {
			n = NoteSYNRetransmit
			break
		}
		h.SYN, h.SYNTime, n = true, t, NoteHandshake1
	case f&SYN != 0: // SYN-ACK
		if side == Client { // simultaneous open: both sides answer SYN-ACK
			n = NoteSimultaneousOpen
			if sawSYNACK && !sawACK {
				// It acknowledges the server's SYN: the open is done.
				h.ACK = true
				h.dated(&h.ACKTime, t)
				n |= NoteHandshakeDone
			}
			break
		}
		h.SYNACKCount++
		if sawSYNACK {
			n = NoteSYNACKRetransmit
			break
		}
		h.dated(&h.SYNACKTime, t)
		h.SYNACK, n = true, NoteHandshake2
	case f&ACK != 0 && side == Client && sawSYNACK && !sawACK:
		h.dated(&h.ACKTime, t)
		h.ACK, n = true, NoteHandshakeDone
	}
	if seg.Len > 0 {
		n |= NoteData
		if f&SYN != 0 {
			n |= NoteDataOnSYN
		}
		if c.marks[peer].haveFIN && !c.marks[side].haveFIN {
			n |= NoteHalfClose
			c.HalfClosed = true
		}
	}
	switch { // RFC 3168 §6.1.1: ECN-setup SYN and SYN-ACK
	case f&(SYN|ACK|ECE|CWR) == SYN|ECE|CWR && side == Client:
		c.ecnOffer = true
	case f&(SYN|ACK|ECE|CWR) == SYN|ACK|ECE && side == Server && c.ecnOffer:
		c.ECN = true
	}
	if f&FIN != 0 {
		if !c.marks[side].haveFIN {
			// The FIN occupies the sequence number after the data
			// it carries (RFC 9293 §3.4).
			m := &c.marks[side]
			m.fin, m.haveFIN = seg.Seq.Add(uint32(seg.Len)), true
			if f&SYN != 0 {
				m.fin = m.fin.Add(1)
			}
			n |= closeNote(side)
			if c.ClosedBy == NoSide {
				c.ClosedBy = side
			}
		}
		c.FINs[side]++
	}
	if f&(ACK|RST) == ACK && c.marks[peer].haveFIN && !c.finAcked[peer] && c.marks[peer].fin.LessThan(seg.Ack) {
		c.finAcked[peer] = true
		if c.finAcked[side] {
			n |= NoteClosed
		} else {
			n |= NoteFINAcked
		}
	}
	if n == 0 && f&ACK != 0 {
		n = NoteAck
	}
	if f&RST == 0 && c.marks[Client].haveFIN && c.marks[Server].haveFIN && !c.reset() {
		c.finsBefore = true
	}
	return n
}

func closeNote(s Side) Note {
	if s == Client {
		return NoteClientCloses
	}
	return NoteServerCloses
}

// RTTStats sums up round-trip samples.
type RTTStats struct {
	Count         uint64
	Min, Max, Sum time.Duration
}

// Avg is the mean sample, 0 without samples.
func (r *RTTStats) Avg() time.Duration {
	if r.Count == 0 {
		return 0
	}
	return r.Sum / time.Duration(r.Count)
}

func (r *RTTStats) add(d time.Duration) {
	if r.Count == 0 || d < r.Min {
		r.Min = d
	}
	r.Max = max(r.Max, d)
	r.Sum += d
	r.Count++
}

// rttTimer times one data segment of a side at a time.
type rttTimer struct {
	sent    time.Duration // from FirstSeen
	end     Seq           // sequence number just past the timed segment
	pending bool
}

// timeRTT starts timing new data a side sends and takes a sample when the
// peer's ACK covers it; t is the segment's date from FirstSeen. A
// retransmission while timing voids the sample, and so does an ACK dated
// before the data.
func (c *Conn) timeRTT(seg *Segment, side Side, t time.Duration, a Anomaly) {
	if peer := side.Other(); seg.Flags&ACK != 0 && c.rtt[peer].pending && c.rtt[peer].end.LessThanEq(seg.Ack) {
		if d := t - c.rtt[peer].sent; d >= 0 {
			c.RTT[peer].add(d)
		}
		c.rtt[peer].pending = false
	}
	r := &c.rtt[side]
	retrans := a&(Retransmission|FastRetransmission|SpuriousRetransmission|OutOfOrder) != 0
	switch {
	case seg.Len == 0:
	case retrans:
		r.pending = false
	case !r.pending:
		r.end, r.sent, r.pending = seg.Seq.Add(uint32(seg.Len)), t, true
	}
}

// TTFB is the time from the client's first payload to the server's first
// payload after it; 0 when there is no such pair (the server spoke first,
// or one side sent nothing).
func (c *Conn) TTFB() time.Duration {
	cl, sv := c.FirstData[Client], c.FirstData[Server]
	if cl.IsZero() || sv.IsZero() || sv.Before(cl) {
		return 0
	}
	return sv.Sub(cl)
}
