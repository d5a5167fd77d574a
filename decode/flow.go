package decode

import (
	"math"
	"net/netip"
	"time"
)

// flow is a connection while the decoder follows it: the state each
// segment reads and writes, kept together and small, for the decoder
// holds one per connection open (a million open connections are a
// million flows). The record handed to the Sink, a Conn, is made from it
// then (record). Endpoints are kept as the table's key, times as
// Durations from firstSeen, a SYN's options in 12 bytes; what most
// connections never need (events, anomaly counts, a Fast Open cookie) is
// in cold, allocated the first time it is. Flows are the decoder's own
// and reused, with their cold part, whatever Config.Recycle says.
type flow struct {
	// Its place in the decoder's lists and its key in its table, first
	// (see entry); then pointers: the collector scans an object no
	// further than its last pointer.
	entry[flow]
	cold *coldFlow
	zeek zeekConn // Zeek's endpoint machine, history and conn_state
	// firstN is the first segment's date in Unix nanoseconds, when
	// firstExact: a date in unixNano's exact range, in UTC as capture's
	// readers date frames. Any other is cold's firstSeen.
	firstN int64
	id     uint64
	// The fields are ordered by size, to leave no padding: a flow is 632
	// bytes, and with the 8-byte header Go puts on a larger object that
	// holds pointers, it fits the 640-byte size class (the next is 704:
	// TestFlowFitsItsSizeClass).
	firstExact bool
	// clientFirst says that the client is the first half of key, is4
	// that the endpoints are IPv4 (key halves map IPv4 into IPv6).
	clientFirst, is4 bool
	class            int8 // its list in the decoder (a timeout class), or noList
	proto            Proto
	closedBy         Side
	partial          bool
	// midstream says that a connection seen without its SYN carried data
	// or an ACK: it was established before the capture.
	midstream      bool
	resumed        bool // see Conn.Resumed
	priorVerdict   Verdict
	priorConnState ConnState
	ecn, ecnOffer  bool
	halfClosed     bool
	irttUnknown    bool
	finsBefore     bool // both FINs were seen before any RST
	finAcked       [2]bool
	hasOpts        [2]bool // each side's SYN was seen, and opts are its options
	haveData       [2]bool // firstData holds when each side first sent payload
	ws             windowScaling
	rfc            rfcMachine // RFC 9293's states, for events only (see add)
	timeBackwards  uint32
	fins, rsts     [2]uint32
	marks          [2]seqMarks
	opts           [2]synOptions
	hs             handshakeState
	// active is when the connection last saw a segment, on the sweep
	// clock's activity clock; latest is LastSeen, from firstSeen.
	active, latest          time.Duration
	packets, bytes, ipBytes [2]uint64
	lastSYN                 [2]time.Duration // each side's latest SYN or SYN-ACK
	irtt                    time.Duration
	firstData               [2]time.Duration
	rttStats                [2]RTTStats
	rtt                     [2]rttTimer
	eventsOmitted           uint64
	tshark                  tsharkFlows // tshark's analysis flags
}

// coldFlow is the part of a flow that most connections never need.
type coldFlow struct {
	firstSeen time.Time // see flow.firstN
	events    []Event
	anomalies [NumAnomalies]uint32
	// ignoredRSTs counts each side's RSTs that did not end the attempt
	// (NoteRSTIgnored): flow.rsts counts the others.
	ignoredRSTs [2]uint32
	tfo         [2]tfoCookie // of each side's SYN
	prior       carried      // of a resumed connection: what came before
}

// before is what came before a resumed connection, and nothing for
// another.
func (f *flow) before() *carried {
	if f.resumed {
		return &f.cold.prior
	}
	return &nothingBefore
}

// nothingBefore is the carried state of a connection that is not resumed;
// it is never written.
var nothingBefore carried

// tfoCookie is a TCP Fast Open cookie (RFC 7413), as Options keep it.
type tfoCookie struct {
	n      uint8
	cookie [16]byte
}

// coldPart returns f's cold part, taking it from spare the first time.
func (f *flow) coldPart(spare *colds) *coldFlow {
	if f.cold == nil {
		f.cold = spare.get()
	}
	return f.cold
}

// colds are cold parts to reuse. A flow gives its cold part back when it
// is handed over, so that there are as many as connections need at once,
// not one for each flow that ever needed one.
type colds []*coldFlow

func (s *colds) get() *coldFlow {
	n := len(*s)
	if n == 0 {
		return new(coldFlow)
	}
	c := (*s)[n-1]
	*s = (*s)[:n-1]
	return c
}

// handshakeState is Handshake as a flow keeps it: times as Durations
// from firstSeen.
type handshakeState struct {
	syn, synack, ack, outOfOrder bool
	synCount, synackCount        uint32
	synAt, synackAt, ackAt       time.Duration
	// lastSYN is when the latest SYN without ACK was seen, from either
	// side (tshark's ts_mru_syn): the initial RTT counts from it.
	lastSYN time.Duration
}

// dated records that a stage was first seen at t, and whether t is before
// a stage seen earlier.
func (h *handshakeState) dated(stage *time.Duration, t time.Duration) {
	*stage = t
	h.outOfOrder = h.outOfOrder || h.syn && t < h.synAt || h.synack && t < h.synackAt
}

// synOptions are the Options of a SYN, packed: a SYN's Fast Open cookie
// is in the flow's cold part.
type synOptions struct {
	mss          uint16
	wscale       uint8
	bits         uint8 // optMSS…
	tsval, tsecr uint32
}

const (
	optMSS uint8 = 1 << iota
	optWScale
	optSACK
	optTimestamps
	optTFO
	optCut
)

func packOptions(o *Options) synOptions {
	var b uint8
	for _, x := range [...]struct {
		set bool
		bit uint8
	}{{o.HasMSS, optMSS}, {o.HasWScale, optWScale}, {o.SACKPermitted, optSACK}, {o.Timestamps, optTimestamps}, {o.TFO, optTFO}, {o.Cut, optCut}} {
		if x.set {
			b |= x.bit
		}
	}
	return synOptions{o.MSS, o.WScale, b, o.TSval, o.TSecr}
}

// options unpacks o, with the cookie of c.
func (o synOptions) options(c *tfoCookie) Options {
	out := Options{MSS: o.mss, HasMSS: o.bits&optMSS != 0, WScale: o.wscale, HasWScale: o.bits&optWScale != 0,
		SACKPermitted: o.bits&optSACK != 0, Timestamps: o.bits&optTimestamps != 0, TSval: o.tsval, TSecr: o.tsecr,
		TFO: o.bits&optTFO != 0, Cut: o.bits&optCut != 0}
	if c != nil {
		out.tfoLen, out.tfoCookie = c.n, c.cookie
	}
	return out
}

// firstSeen is the date of the first segment.
func (f *flow) firstSeen() time.Time {
	if f.firstExact {
		return time.Unix(0, f.firstN).UTC()
	}
	return f.cold.firstSeen
}

// first dates the first segment at t, n in Unix nanoseconds (frameNano).
func (f *flow) first(t time.Time, n int64, spare *colds) {
	if f.firstN, f.firstExact = n, n != math.MinInt64 && t.Location() == time.UTC; !f.firstExact {
		f.coldPart(spare).firstSeen = t
	}
}

// since is how long after the first segment t is, n in Unix nanoseconds
// (frameNano): a subtraction of integers, but for dates far off.
func (f *flow) since(t time.Time, n int64) time.Duration {
	if f.firstExact && n != math.MinInt64 { // the usual case: inlined
		return time.Duration(n - f.firstN)
	}
	return f.sinceFar(t)
}

// sinceFar is since for a date that is not the usual one.
func (f *flow) sinceFar(t time.Time) time.Duration { return t.Sub(f.firstSeen()) }

// start readies f, fresh, for a connection opened by seg at t (n in Unix
// nanoseconds).
func (f *flow) start(seg *Segment, key *connKey, t time.Time, n int64, proto Proto, id uint64, spare *colds) {
	f.key, f.id, f.proto, f.closedBy = *key, id, proto, NoSide
	f.first(t, n, spare)
	client := seg.src
	if seg.Flags&(SYN|ACK) != SYN && proto != UDP {
		if c, _ := guessRoles(seg); c != seg.Src {
			client = seg.dst
		}
		f.partial = true
	}
	f.clientFirst, f.is4 = client == key.first(), seg.Src.Addr().Is4()
	// Zeek marks a connection whose guessed client did not send first.
	f.zeek.start(proto == UDP, f.partial && client != seg.src, seg)
	f.rfc.start(f.partial)
}

// answeredBefore reports whether seg is the SYN of a connection whose
// SYN-ACK was captured first (the capture reordered them): the connection
// began with the SYN-ACK, the client has sent nothing since, and the SYN
// carries the ISN the SYN-ACK acknowledged.
func (f *flow) answeredBefore(seg *Segment) bool {
	return f.partial && !f.midstream && seg.Flags&(SYN|ACK|RST) == SYN && f.hs.synack && !f.hs.syn && !f.resumed &&
		f.packets[Client] == 0 && f.sideOf(seg) == Client && f.marks[Client].haveISN && !f.marks[Client].isnOfSYN &&
		seg.Seq == f.marks[Client].isn
}

// joinSYN makes the connection begun with its SYN-ACK whole again when its
// SYN comes (answeredBefore): not partial, the handshake out of order,
// the server in SYN-RECEIVED and the client past SYN-SENT (it has had the
// SYN-ACK). Zeek's model needs nothing: its state machine sees the SYN as
// Zeek does (a SYN/SYN-ACK reversal, or a SYN from the originator of a
// connection flipped at its SYN-ACK).
func (f *flow) joinSYN() {
	f.partial, f.hs.outOfOrder = false, true
	f.rfc.state = [2]State{Established, SynReceived}
}

// sideOf is the side that sent seg, a segment of f's (whose key orders
// the same endpoints).
func (f *flow) sideOf(seg *Segment) Side {
	if seg.fromFirst == f.clientFirst {
		return Client
	}
	return Server
}

// roles are the client and the server.
func (f *flow) roles() (client, server netip.AddrPort) {
	a, b := f.key.first().addrPort(f.is4), f.key.second().addrPort(f.is4)
	if f.clientFirst {
		return a, b
	}
	return b, a
}

// closed reports whether the connection has ended: FINs both ways, or a RST.
func (f *flow) closed() bool {
	return f.marks[Client].haveFIN && f.marks[Server].haveFIN || f.reset()
}

// over reports whether the connection is over: both FINs acknowledged,
// or a RST. The decoder hands it over then (see tomb).
func (f *flow) over() bool {
	return f.finAcked[Client] && f.finAcked[Server] || f.reset()
}

// reset reports whether either side of the connection sent a RST.
func (f *flow) reset() bool {
	return f.rsts[Client]+f.rsts[Server] > 0 || f.resumed && f.cold.prior.rst != [2]bool{}
}

// stages reports the handshake stages the connection has seen, here or
// (resumed) before.
func (f *flow) stages() (syn, synack, ack bool) {
	h := &f.hs
	if !f.resumed {
		return h.syn, h.synack, h.ack
	}
	p := &f.cold.prior
	return h.syn || p.syn, h.synack || p.synack, h.ack || p.ack
}

// established reports whether the connection's handshake completed, or,
// seen without its SYN, it carried data or ACKs: it is established for
// the timeouts (Zeek and tshark keep such a connection as long as any
// other established one).
func (f *flow) established() bool {
	syn, synack, ack := f.stages()
	return syn && synack && ack || f.midstream
}

// record makes c the record of f as it stands, summing-up included,
// taking history strings from known. The record's events are f's own:
// the caller decides whether f keeps them.
func (f *flow) record(c *Conn, known *histories) {
	first := f.firstSeen()
	at := func(d time.Duration) time.Time { return first.Add(d) }
	h := &f.hs
	*c = Conn{
		ID: f.id, Resumed: f.resumed, PriorVerdict: f.priorVerdict, PriorConnState: f.priorConnState,
		Proto: f.proto, Partial: f.partial, TimeBackwards: f.timeBackwards,
		FirstSeen: first, LastSeen: at(f.latest),
		Handshake: Handshake{SYN: h.syn, SYNACK: h.synack, ACK: h.ack, OutOfOrder: h.outOfOrder,
			SYNCount: int(h.synCount), SYNACKCount: int(h.synackCount)},
		Packets: f.packets, Bytes: f.bytes, IPBytes: f.ipBytes, FINs: f.fins, RSTs: f.rsts, ClosedBy: f.closedBy,
		HasOptions: f.hasOpts, EventsOmitted: f.eventsOmitted,
		IRTT: f.irtt, RTT: f.rttStats, ECN: f.ecn, HalfClosed: f.halfClosed, IRTTUnknown: f.irttUnknown,
		marks: f.marks,
	}
	c.Client, c.Server = f.roles()
	if h.syn {
		c.Handshake.SYNTime = at(h.synAt)
	}
	if h.synack {
		c.Handshake.SYNACKTime = at(h.synackAt)
	}
	if h.ack {
		c.Handshake.ACKTime = at(h.ackAt)
	}
	var tfo [2]*tfoCookie
	if f.cold != nil {
		c.Events, c.Anomalies = f.cold.events, f.cold.anomalies
		c.RSTs[Client] += f.cold.ignoredRSTs[Client]
		c.RSTs[Server] += f.cold.ignoredRSTs[Server]
		tfo = [2]*tfoCookie{&f.cold.tfo[Client], &f.cold.tfo[Server]}
	}
	for s := range 2 {
		if f.haveData[s] {
			c.FirstData[s] = at(f.firstData[s])
		}
		if f.hasOpts[s] {
			c.Options[s] = f.opts[s].options(tfo[s])
		}
	}
	syn, synack, _ := f.stages()
	c.isnSeen = [2]bool{syn, synack}
	if c.Verdict = f.verdict(); c.Verdict == Refused {
		c.noListener()
	}
	c.History = f.zeek.historyString("", known)
	c.ConnState = f.connState()
	c.ZeekDuration = f.zeek.lastTime
	// Zeek's sequence-space bytes cover the connection: those of the
	// records before a resumed one are taken off.
	p, all := f.before(), f.zeekBytes()
	c.ZeekBytes = [2]uint64{less(all[Client], p.zeekBytes[Client]), less(all[Server], p.zeekBytes[Server])}
}

// connState is Zeek's conn_state of the connection, records before a
// resumed one included.
func (f *flow) connState() ConnState {
	p, seen := f.before(), f.bytes
	for s := range seen { // whether any was sent is all conn_state asks
		if p.data[s] {
			seen[s]++
		}
	}
	return f.zeek.connState(seen)
}

// zeekBytes are Zeek's orig_bytes and resp_bytes of the connection,
// records before a resumed one included: the sequence space covers them.
func (f *flow) zeekBytes() [2]uint64 {
	return [2]uint64{f.zeek.bytes(Client, f.bytes), f.zeek.bytes(Server, f.bytes)}
}

// less is a-b, or 0 if b > a.
func less(a, b uint64) uint64 { return a - min(a, b) }

// verdict sums the connection up. Precedence: a connection that began
// before the capture is partial whatever followed; then the handshake
// decides refused / no-answer / incomplete; then the teardown decides.
func (f *flow) verdict() Verdict {
	_, synack, ack := f.stages()
	switch {
	case f.proto == UDP:
		return UDPFlow
	case f.partial:
		return Partial
	case !synack:
		if f.rsts[Server] > 0 || f.before().rst[Server] {
			return Refused
		}
		if f.packets[Server] == 0 && !f.before().sent[Server] {
			return NoAnswer
		}
		return Incomplete
	case !ack:
		return Incomplete
	case f.finsBefore:
		return Complete
	case f.reset():
		return Reset
	}
	return Open
}

// add accounts one segment to the connection and returns the event for
// it. Its numbers, payload preview and RFC 9293 states are filled only
// when keep is set (someone will see it): else only its note, anomalies
// and back-off are. Nothing but events shows RFC 9293's states, so
// without keep the flow does not follow them either (keep is the same for
// every segment a decoder sees: see Apply).
// The steps run in this order, each reading what those before it left:
// counters and ISNs, the event's relative numbers, Zeek's endpoint
// machine, tshark's flags (with the initial RTT as it stood before this
// segment), the segment's meaning (handshake, teardown, FIN numbers),
// handshake and round-trip timing, and last RFC 9293's states, which need
// the FIN numbers.
func (f *flow) add(ev *Event, seg *Segment, t time.Time, n int64, frame uint64, keep bool, spare *colds) {
	side := f.sideOf(seg)
	dir := ClientToServer
	if side == Server {
		dir = ServerToClient
	}
	since := f.since(t, n)
	if f.partial {
		switch {
		case seg.Flags&(SYN|RST) == 0 && (seg.Flags&ACK != 0 || seg.Len > 0):
			f.midstream = true
		case f.answeredBefore(seg): // from the client, as the SYN-ACK's receiver was taken for it
			f.joinSYN()
		}
	}
	backwards := f.count(seg, side, since, !t.IsZero(), spare)
	f.markISNs(seg, side)
	if keep {
		f.fillEvent(ev, seg, dir, since, frame)
		if seg.previewed {
			ev.preview, ev.previewLen = seg.preview, seg.previewLen
		} else {
			ev.previewLen = uint8(copy(ev.preview[:], seg.Payload))
		}
	}
	f.zeek.touch(since)
	f.zeek.observe(seg, side)
	if f.proto == UDP {
		ev.Seq, ev.Ack, ev.Win, ev.Note = 0, 0, 0, NoteDatagram
		return
	}
	ev.Anomalies, ev.DupAck = f.tshark.observe(seg, side, since, f.irtt, &f.ws)
	if ev.Anomalies != 0 {
		counts := &f.coldPart(spare).anomalies
		for i := range NumAnomalies {
			if ev.Anomalies&(1<<i) != 0 {
				counts[i]++
			}
		}
	}
	ev.Note = f.meaning(seg, side, since, spare)
	if backwards {
		ev.Note |= NoteTimeBackwards
	}
	ev.Backoff = f.timeHandshake(seg, side, since, ev.Note)
	f.timeRTT(seg, side, since, ev.Anomalies)
	if !keep {
		return
	}
	if ev.Note&NoteRSTIgnored == 0 {
		f.rfc.observe(seg, side, f.marks[side.Other()])
	}
	ev.ClientState, ev.ServerState = f.rfc.state[Client], f.rfc.state[Server]
}

// count adds the segment, dated since (from firstSeen), to the sender's
// counters and keeps the options of its first SYN. It reports whether the
// segment is dated before an earlier one. dated is false for a frame
// dated at the zero time, which dates no first payload.
func (f *flow) count(seg *Segment, side Side, since time.Duration, dated bool, spare *colds) (backwards bool) {
	if backwards = since < f.latest; backwards {
		f.timeBackwards++
	} else {
		f.latest = since
	}
	f.packets[side]++
	f.bytes[side] += uint64(seg.Len)
	f.ipBytes[side] += uint64(seg.IPLen)
	if seg.Len > 0 && !f.haveData[side] {
		f.firstData[side], f.haveData[side] = since, dated
	}
	if seg.Flags&SYN != 0 && !f.hasOpts[side] {
		f.keepOptions(&seg.Opts, side, spare)
	}
	return backwards
}

// keepOptions keeps the options of side's first SYN, and the window
// scaling they make once both SYNs were seen (RFC 7323 §2.2).
func (f *flow) keepOptions(o *Options, side Side, spare *colds) {
	f.opts[side], f.hasOpts[side] = packOptions(o), true
	if o.tfoLen > 0 {
		f.coldPart(spare).tfo[side] = tfoCookie{o.tfoLen, o.tfoCookie}
	}
	if f.resumed { // its scaling came with it
		return
	}
	f.ws.known = f.hasOpts[Client] && f.hasOpts[Server]
	if f.opts[Client].bits&f.opts[Server].bits&optWScale != 0 {
		f.ws.shift = [2]uint8{f.opts[Client].wscale, f.opts[Server].wscale}
	}
}

// markISNs takes each side's base for relative numbering: its ISN.
// Without its SYN we act as if the SYN had been seen just before (base =
// seq-1, or the peer's ack-1), so the first data byte is 1 as in
// Wireshark; a SYN that comes after such a guess replaces it (the guess
// may come from a stale ACK or an injected RST before the SYN-ACK).
func (f *flow) markISNs(seg *Segment, side Side) {
	if m := &f.marks[side]; !m.haveISN || seg.Flags&SYN != 0 && !m.isnOfSYN {
		old, guessed := m.isn, m.haveISN
		m.isn, m.haveISN, m.isnOfSYN = seg.Seq, true, seg.Flags&SYN != 0
		if seg.Flags&SYN == 0 {
			m.isn--
		}
		if guessed && f.cold != nil {
			f.rebase(side, uint32(old-m.isn))
		}
	}
	if m := &f.marks[side.Other()]; seg.Flags&ACK != 0 && !m.haveISN {
		m.isn, m.haveISN = seg.Ack-1, true
	}
}

// rebase adds delta to the relative numbers of side's sequence space in
// the events kept, when its base moved from a guess to its SYN, so that
// they and Conn.Absolute go on agreeing with the wire.
func (f *flow) rebase(side Side, delta uint32) {
	for i := range f.cold.events {
		switch e := &f.cold.events[i]; {
		case e.Dir.Sender() == side:
			e.Seq += delta
		case e.Flags&ACK != 0:
			e.Ack += delta
		}
	}
}

// fillEvent describes the segment in ev: relative numbers, and the window
// as scaled (RFC 7323 §2.2: SYNs themselves are never scaled). It fills
// ev in place because returning an Event by value costs a copy of it on
// every packet (about 20 ns in BenchmarkPacketSteadyState).
func (f *flow) fillEvent(ev *Event, seg *Segment, dir Dir, since time.Duration, frame uint64) {
	side := dir.Sender()
	// An event dated before the connection's first is at 0: a negative
	// time would run the timeline backwards (the note says why).
	ev.Frame, ev.T, ev.Dir, ev.Flags = frame, max(since, 0), dir, seg.Flags
	ev.Seq, ev.Len, ev.Win = seg.Seq.Sub(f.marks[side].isn), uint32(seg.Len), uint32(seg.Window)
	if seg.Flags&ACK != 0 {
		ev.Ack = seg.Ack.Sub(f.marks[side.Other()].isn)
	}
	if seg.Flags&SYN == 0 {
		ev.Win <<= f.ws.shift[side]
	}
}

// timeHandshake takes tshark's initial RTT from the first segment with ACK
// and without SYN, counted from the latest SYN without ACK (tshark
// re-bases on each retransmitted SYN: the ones before it got no answer),
// and
// returns, for a retransmitted SYN or SYN-ACK, the time since the
// previous one (0 if it is dated before it).
func (f *flow) timeHandshake(seg *Segment, side Side, t time.Duration, n Note) (backoff time.Duration) {
	fl := seg.Flags
	if f.irtt == 0 && !f.irttUnknown && f.hs.syn && fl&(SYN|ACK) == ACK {
		if f.irtt = t - f.hs.lastSYN; f.irtt < 0 {
			f.irtt, f.irttUnknown = 0, true
		}
	}
	if fl&SYN != 0 {
		if n&(NoteSYNRetransmit|NoteSYNACKRetransmit) != 0 {
			backoff = max(t-f.lastSYN[side], 0)
		}
		f.lastSYN[side] = t
	}
	return backoff
}

// meaning updates handshake and teardown state and says what the segment,
// dated t (from firstSeen), means.
func (f *flow) meaning(seg *Segment, side Side, t time.Duration, spare *colds) Note {
	fl, h, peer := seg.Flags, &f.hs, side.Other()
	sawSYN, sawSYNACK, sawACK := f.stages()
	var n Note
	switch {
	case fl&RST != 0 && f.unacceptableRST(seg, side):
		f.coldPart(spare).ignoredRSTs[side]++
		return NoteRSTIgnored
	case fl&RST != 0:
		f.rsts[side]++
		switch {
		case side == Server && sawSYN && !sawSYNACK:
			n = NoteRefused
		case side == Client:
			n = NoteClientResets
		default:
			n = NoteServerResets
		}
		if f.closedBy == NoSide {
			f.closedBy = side
		}
	case fl&(SYN|ACK) == SYN:
		h.lastSYN = t
		if side == Server {
			n = NoteSimultaneousOpen
			break
		}
		h.synCount++
		if sawSYN {
			n = NoteSYNRetransmit
			break
		}
		h.syn, h.synAt, n = true, t, NoteHandshake1
	case fl&SYN != 0: // SYN-ACK
		if side == Client { // simultaneous open: the client answers the server's SYN
			n = NoteSimultaneousOpen
			switch {
			case sawSYNACK && !sawACK:
				// It acknowledges the server's SYN: the open is done.
				h.ack = true
				h.dated(&h.ackAt, t)
				n |= NoteHandshakeDone
			case !sawSYNACK && sawSYN && f.hasOpts[Server]:
				// The only SYN-ACK of the open (the "split
				// handshake"): the server's ACK of it completes it.
				h.dated(&h.synackAt, t)
				h.synack = true
				n |= NoteHandshake2
			}
			break
		}
		h.synackCount++
		if sawSYNACK {
			n = NoteSYNACKRetransmit
			break
		}
		h.dated(&h.synackAt, t)
		h.synack, n = true, NoteHandshake2
	case fl&ACK != 0 && sawSYNACK && !sawACK && (side == Client) == (h.synackCount > 0 || f.resumed):
		// The ACK of the SYN-ACK: the client's, or the server's when the
		// client sent the only SYN-ACK (simultaneous open).
		h.dated(&h.ackAt, t)
		h.ack, n = true, NoteHandshakeDone
	}
	if seg.Len > 0 {
		n |= NoteData
		if fl&SYN != 0 {
			n |= NoteDataOnSYN
		}
		if f.marks[peer].haveFIN && !f.marks[side].haveFIN {
			n |= NoteHalfClose
			f.halfClosed = true
		}
	}
	switch { // RFC 3168 §6.1.1: ECN-setup SYN and SYN-ACK
	case fl&(SYN|ACK|ECE|CWR) == SYN|ECE|CWR && side == Client:
		f.ecnOffer = true
	case fl&(SYN|ACK|ECE|CWR) == SYN|ACK|ECE && side == Server && f.ecnOffer:
		f.ecn = true
	}
	if fl&FIN != 0 {
		if !f.marks[side].haveFIN {
			// The FIN occupies the sequence number after the data
			// it carries (RFC 9293 §3.4).
			m := &f.marks[side]
			m.fin, m.haveFIN = seg.Seq.Add(uint32(seg.Len)), true
			if fl&SYN != 0 {
				m.fin = m.fin.Add(1)
			}
			n |= closeNote(side)
			if f.closedBy == NoSide {
				f.closedBy = side
			}
		}
		f.fins[side]++
	}
	if fl&(ACK|RST) == ACK && f.marks[peer].haveFIN && !f.finAcked[peer] && f.marks[peer].fin.LessThan(seg.Ack) {
		f.finAcked[peer] = true
		if f.finAcked[side] {
			n |= NoteClosed
		} else {
			n |= NoteFINAcked
		}
	}
	if n == 0 && fl&ACK != 0 {
		n = NoteAck
	}
	if fl&RST == 0 && f.marks[Client].haveFIN && f.marks[Server].haveFIN && !f.reset() {
		f.finsBefore = true
	}
	return n
}

// unacceptableRST reports whether a RST sent by side leaves the client in
// SYN-SENT (its SYN seen, no SYN-ACK, RFC 9293 §3.10.7.3): the client's
// own, which answers an unacceptable ACK (<SEQ=SEG.ACK><CTL=RST>), and the
// server's that does not acknowledge the SYN (no ACK, or not ISN+1: an
// injected or stale RST). Only a server's RST-ACK of the SYN refuses it.
func (f *flow) unacceptableRST(seg *Segment, side Side) bool {
	syn, synack, _ := f.stages()
	if f.partial || !syn || synack {
		return false
	}
	return side == Client || seg.Flags&ACK == 0 || seg.Ack != f.marks[Client].isn.Add(1)
}

func closeNote(s Side) Note {
	if s == Client {
		return NoteClientCloses
	}
	return NoteServerCloses
}

// rttTimer times one data segment of a side at a time.
type rttTimer struct {
	sent    time.Duration // from firstSeen
	end     Seq           // sequence number just past the timed segment
	pending bool
}

// timeRTT starts timing new data a side sends and takes a sample when the
// peer's ACK covers it; t is the segment's date from firstSeen. A
// retransmission while timing voids the sample, and so does an ACK dated
// before the data.
func (f *flow) timeRTT(seg *Segment, side Side, t time.Duration, a Anomaly) {
	if peer := side.Other(); seg.Flags&ACK != 0 && f.rtt[peer].pending && f.rtt[peer].end.LessThanEq(seg.Ack) {
		if d := t - f.rtt[peer].sent; d >= 0 {
			f.rttStats[peer].add(d)
		}
		f.rtt[peer].pending = false
	}
	r := &f.rtt[side]
	retrans := a&(Retransmission|FastRetransmission|SpuriousRetransmission|OutOfOrder) != 0
	switch {
	case seg.Len == 0:
	case retrans:
		r.pending = false
	case !r.pending:
		r.end, r.sent, r.pending = seg.Seq.Add(uint32(seg.Len)), t, true
	}
}
