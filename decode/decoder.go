package decode

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
	"unsafe"
)

// Frame is one captured link-layer frame.
type Frame struct {
	// Number is the frame's 1-based position in its capture.
	Number uint64
	Time   time.Time
	// Data holds the captured bytes; it may be reused once Packet returns.
	Data []byte
	// Length is the frame's length on the wire (Data may be shorter).
	Length   int
	LinkType LinkType
}

// Sink receives connections from the decoder once they are finished:
// over (both FINs acknowledged, or a RST), replaced by a new connection
// on the same 4-tuple, idle past their timeout, handed over early at the
// MaxConns cap, or flushed at the end of the capture. A Conn is final
// when it is handed over, its summing-up (Verdict, ConnState, History,
// ZeekBytes) included; the decoder does not touch it afterwards. A
// segment that comes later for a connection handed over before its end
// goes to a record of its own with the same ID (Conn.Resumed).
type Sink interface {
	Conn(c *Conn)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(c *Conn)

// Conn calls f(c).
func (f SinkFunc) Conn(c *Conn) { f(c) }

// DefaultMaxConns is the default cap on connections held at once: 2^20,
// so that a million open at once are held (about 700 MB: a 640-byte flow
// and a table slot or two each), and past it a flood cannot take much
// more than a gigabyte and a half with the tombstones.
const DefaultMaxConns = 1 << 20

// DefaultMaxEvents bounds the events kept per connection so that memory
// stays bounded whatever a capture holds; counters stay exact beyond it.
const DefaultMaxEvents = 10000

// Config tunes the decoder. The zero value is ready to use.
type Config struct {
	// MaxEvents is the number of events kept per connection: 0 means
	// DefaultMaxEvents, a negative value means no limit.
	MaxEvents int
	// ClosedTimeout is how long, in capture time, a connection both of
	// whose sides sent a FIN, one not yet acknowledged, is held for the
	// last ACK before it is handed over. 0 means 10 s (Zeek waits 5 s,
	// tcp_close_delay). A connection that is over (both FINs
	// acknowledged, or a RST) is handed over at once. Either way a
	// tombstone stays (see tomb), and a segment that comes later, however
	// late (up to IdleTimeout after a FIN left unacknowledged; up to the
	// 15 minutes a sender goes on retransmitting after a connection the
	// capture saw was over), goes to a Resumed record of the connection, as
	// tshark keeps it in one stream; only a SYN with a new ISN starts a new
	// connection.
	ClosedTimeout time.Duration
	// HandshakeTimeout applies to connections whose handshake did not
	// complete. 0 means 3 minutes: Linux gives up on a SYN after about
	// 127 s (tcp_syn_retries 6).
	HandshakeTimeout time.Duration
	// IdleTimeout applies to established connections. 0 means 1 hour.
	IdleTimeout time.Duration
	// MaxConns caps the connections held at once: past it, the least
	// recently active quarter is handed over early (and counted), so that
	// a SYN flood from a million sources cannot exhaust memory. Each
	// keeps a tombstone, so that one still active goes on as Resumed
	// records of the same ID rather than as new, partial connections;
	// twice MaxConns tombstones are kept at most (see maxTombs). 0 means
	// DefaultMaxConns, a negative value no cap.
	MaxConns int
	// Recycle lets the decoder reuse a Conn once the sink has returned
	// from it: set it only when the sink keeps no reference (a streaming
	// writer, an aggregator). It spares an allocation per connection.
	Recycle bool
	// Records, if set, is where the decoder takes the records it hands
	// over, and where the sink gives each back (Records.Put) once it is
	// done with it, from any goroutine: Recycle for a sink that works on
	// the records on other goroutines. Recycle is ignored when it is set.
	Records *Records
	// DropEvents keeps no events at all, only the counters: for outputs
	// that stream (NDJSON) or need no timeline (check, summaries).
	DropEvents bool
	// UDP makes the decoder follow UDP flows (client = first sender) as
	// well; without it UDP datagrams are counted as non-TCP.
	UDP bool
	// OnEvent, if set, is called for every segment as it is decoded, with
	// the connection's record as of that segment, summing-up fields
	// (Conn.Verdict and the rest) included. The record is the decoder's,
	// made again for each segment: keep nothing of it.
	OnEvent func(c *Conn, e Event)
}

// Totals counts what the decoder was given.
type Totals struct {
	Packets uint64 // frames decoded
	TCP     uint64 // frames carrying a TCP segment
	UDP     uint64 // UDP datagrams followed as flows (Config.UDP)
	NonTCP  uint64 // other frames: ARP, ICMP, IP fragments, UDP unless followed…
	// Malformed counts frames whose headers could not be decoded, and
	// frames whose lengths lie: an IP length past the end of a frame
	// captured whole, a UDP length past the IP payload (UDP followed).
	// The segment of the latter is still followed, with the length there
	// is, but the frame is counted here and not as TCP or UDP.
	Malformed uint64
	// Undecoded counts frames in an encapsulation synack does not look
	// into, UndecodedBy each kind's (see Undecoded): counted apart so
	// that none is taken for a frame without TCP.
	Undecoded   uint64
	UndecodedBy [NumUndecoded]uint64
	// Connections counts connections handed to the sink, Evicted those of
	// them handed over because they were idle past their timeout (not
	// those handed over when they were over: see Config.ClosedTimeout).
	Connections uint64
	Evicted     uint64
	// Shed counts connections handed over early because MaxConns
	// connections were held at once.
	Shed uint64
	// Resumed counts records that go on with a connection handed over
	// before (Conn.Resumed): Connections does not count them again, and
	// ByVerdict counts each connection once, by its latest record.
	Resumed   uint64
	ByVerdict [NumVerdicts]uint64
}

// endpoint is one end of a flow as the connection table keys it: the
// address as 16 bytes (IPv4 mapped into IPv6, RFC 4291 §2.5.5.2) in two
// big-endian words, and the port.
type endpoint struct {
	hi, lo uint64
	port   uint16
}

// less orders endpoints as their bytes would order.
func (a *endpoint) less(b *endpoint) bool {
	if a.hi != b.hi {
		return a.hi < b.hi
	}
	if a.lo != b.lo {
		return a.lo < b.lo
	}
	return a.port < b.port
}

// connKey identifies a flow: both endpoints, the lower one first so that
// both directions find the same entry, then the protocol and the
// encapsulation's zone (see zones; 0 for none) in one word, zone<<8 |
// proto, which keeps the key at 40 bytes. It is words, so that making one
// and comparing two (equal) are a few operations on registers, where a
// 37-byte array took copies and a call to memequal.
type connKey struct {
	aHi, aLo, bHi, bLo uint64
	aPort, bPort       uint16
	zoneProto          uint32
}

// equal reports whether k and o are the same key. (Go's == on connKey
// calls memequal for the words.)
func (k *connKey) equal(o *connKey) bool {
	return k.aLo == o.aLo && k.bLo == o.bLo && k.aHi == o.aHi && k.bHi == o.bHi &&
		k.aPort == o.aPort && k.bPort == o.bPort && k.zoneProto == o.zoneProto
}

// set makes k the key of endpoints x and y (in either order: the lesser
// first) for proto in zone, field by field: a key built whole and copied
// is read in 16-byte loads from the narrower stores just made, which wait
// for every store before them to reach the cache (in the Parser, stores
// into a batch item the other core may still hold).
func (k *connKey) set(x, y *endpoint, proto Proto, zone uint32) {
	if y.less(x) {
		x, y = y, x
	}
	k.aHi, k.aLo, k.bHi, k.bLo = x.hi, x.lo, y.hi, y.lo
	k.aPort, k.bPort, k.zoneProto = x.port, y.port, zone<<8|uint32(proto)
}

// zone is the encapsulation's zone of k.
func (k *connKey) zone() uint32 { return k.zoneProto >> 8 }

// first and second are the endpoints of k.
func (k *connKey) first() endpoint  { return endpoint{k.aHi, k.aLo, k.aPort} }
func (k *connKey) second() endpoint { return endpoint{k.bHi, k.bLo, k.bPort} }

// Decoder rebuilds TCP connections from frames. It is not safe for
// concurrent use; use one Decoder per capture.
type Decoder struct {
	cfg       Config
	own       *Parser // for Packet
	parsed    Parsed
	conns     table[flow]
	nextID    uint64
	totals    Totals
	clock     sweepClock
	idleSwept time.Time   // the last sweep Idle made
	free      []*flow     // flows to reuse
	colds     colds       // cold parts to reuse
	out       outlet      // makes the records handed over
	bg        *background // d.out's goroutine (Background), or nil
	ev        Event       // the event of a segment whose event is not kept
	live      Conn        // the record Config.OnEvent sees
	histories histories   // the live record's
	expired   []*flow     // reused by sweep and shed
	// lists holds the connections by timeout class, each list in the
	// order they were last active (see sweepClock.activity): a sweep
	// looks at the heads only, and so does shedding at the cap.
	lists    [numClasses]list[flow]
	timeouts [numClasses]time.Duration
	// tombs holds tombstones of connections handed over before their
	// last segment (see tomb), tombLists them by list, as lists does.
	tombs     table[tomb]
	tombLists [numTombLists]tombList
	freeTombs []*tomb
	newTombs  tombAlloc // for tombstones when freeTombs is empty
	// dropped counts flows let go (see reuse) whose room no pair of
	// tombstones has taken yet (see tombPair).
	dropped int
	// handedSent and handedBack count the batches of flows sent to the
	// outlet's goroutine and given back (see settle).
	handedSent, handedBack uint64
	locations              []*time.Location // the tombstones' (see location)
	zones                  zones            // the encapsulations met
	// labels holds the MPLS labels of the first segment of each
	// connection open in MPLS, which its key leaves out (see Encap).
	labels    map[*flow]mplsLabels
	liveEncap Encap // live's, with its labels
}

// Timeout classes: which of Config's timeouts applies to a connection.
const (
	classClosed    = iota // FINs both ways, or a RST: ClosedTimeout
	classHandshake        // the handshake did not complete: HandshakeTimeout
	classIdle             // established: IdleTimeout
	numClasses
	noList = -1 // in no list
)

// New returns a Decoder that hands finished connections to sink.
func New(cfg Config, sink Sink) *Decoder {
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if cfg.ClosedTimeout == 0 {
		cfg.ClosedTimeout = 10 * time.Second
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 3 * time.Minute
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = time.Hour
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	d := &Decoder{cfg: cfg, conns: newTable[flow](), tombs: newTable[tomb]()}
	// The tombstones hash with the connections' seed: a key the Parser
	// hashed looks up both.
	d.tombs.seed = d.conns.seed
	d.out = outlet{sink: sink, records: cfg.Records, recycle: cfg.Recycle && cfg.Records == nil}
	d.own = d.NewParser()
	d.timeouts = [numClasses]time.Duration{cfg.ClosedTimeout, cfg.HandshakeTimeout, cfg.IdleTimeout}
	d.clock.maxStep = max(cfg.ClosedTimeout, cfg.HandshakeTimeout, cfg.IdleTimeout, sweepEvery)
	return d
}

// Packet decodes one frame. A frame that is not TCP is counted and
// ignored; a frame with damaged headers is counted and reported in the
// returned error, which names the frame. Decoding goes on either way.
func (d *Decoder) Packet(f *Frame) error {
	d.own.Parse(f, &d.parsed)
	return d.Apply(&d.parsed)
}

// Parsed is a frame as a Parser decoded it, ready for Decoder.Apply. Its
// segment's payload still points into the frame's bytes.
type Parsed struct {
	number uint64
	time   time.Time
	nano   int64 // time for the sweep clock (frameNano)
	kind   frameKind
	// salvaged is set when err is a *lengthError: the frame is malformed
	// but its segment good.
	salvaged bool
	// tombAhead says that Apply will look a tombstone up for the segment
	// (a SYN), or put one there (a RST): see Decoder.Ahead.
	tombAhead bool
	err       error
	// by is the decoder whose table hash is key's hash, when the Parser
	// was that decoder's (Decoder.NewParser) and the frame the usual TCP
	// frame; nil otherwise.
	by   *Decoder
	key  connKey
	hash uint64
	seg  Segment
}

// Parser decodes frames into Parsed values. Parsing is the half of the
// work that needs no connection table, so it can run in a goroutine of its
// own ahead of Apply (one Parser per goroutine).
type Parser struct {
	p    *parser
	dec  *Decoder
	seed [4]uint64 // dec's connection table's
	// previews copies each segment's preview (Segment.preview), for a
	// decoder that keeps events.
	previews bool
}

// NewParser returns a Parser with its layers allocated.
func NewParser() *Parser { return &Parser{p: newParser()} }

// NewParser returns a Parser for d: besides parsing, it keys each usual
// TCP segment and hashes the key for d's connection table, work that
// Apply then leaves out. With the batch reader, that is work moved off
// the goroutine that applies frames in order, the one that bounds how
// fast a file is read.
func (d *Decoder) NewParser() *Parser {
	return &Parser{p: newParser(), dec: d, seed: d.conns.seed, previews: d.keepsEvents()}
}

// keepsEvents reports whether anyone sees the events: the records keep
// them, or OnEvent is called with each.
func (d *Decoder) keepsEvents() bool { return !d.cfg.DropEvents || d.cfg.OnEvent != nil }

// Parse decodes f into out. A Parser of a Decoder (Decoder.NewParser)
// leaves nothing in out that refers to f.Data, which may be read over
// once Parse returns: what Apply needs of the payload, its first bytes,
// is copied into out when the decoder keeps events.
func (p *Parser) Parse(f *Frame, out *Parsed) {
	out.number, out.time, out.nano = f.Number, f.Time, frameNano(f.Time)
	p.p.cut = max(f.Length-len(f.Data), 0)
	out.kind, out.err = p.p.parse(f.Data, f.LinkType, f.Length <= len(f.Data), &out.seg)
	_, out.salvaged = out.err.(*lengthError)
	out.seg.fromFirst = !out.seg.dst.less(&out.seg.src)
	out.by, out.tombAhead = nil, false
	if out.seg.previewed = p.previews && out.kind <= frameUDP; out.seg.previewed {
		out.seg.previewLen = uint8(copy(out.seg.preview[:], out.seg.Payload))
	}
	if p.dec == nil {
		return
	}
	out.seg.Payload = nil
	if out.kind == frameTCP && out.err == nil && !out.seg.encapped {
		out.key.set(&out.seg.src, &out.seg.dst, TCP, 0)
		out.hash, out.by = hashKey(&p.seed, &out.key), p.dec
		out.tombAhead = out.seg.Flags&(SYN|RST) != 0 && out.seg.Flags&(SYN|ACK) != SYN|ACK
	}
}

// Apply runs a parsed frame through the connection table and analysis, as
// Packet does. Frames must be applied in capture order.
func (d *Decoder) Apply(pf *Parsed) error {
	d.totals.Packets++
	taken, due := true, false
	if !d.clock.usual(pf.nano) {
		taken, due = d.clock.observe(pf.time)
	}
	if due {
		d.sweep()
	}
	var warning error
	proto := TCP
	if pf.kind == frameTCP && pf.err == nil { // the usual frame, without a call
		d.totals.TCP++
	} else {
		var follow bool
		if proto, follow, warning = d.classify(pf); !follow {
			return warning
		}
	}
	seg := &pf.seg
	var zone uint32
	if seg.encapped {
		var ok bool
		if zone, ok = d.zones.zoneOf(&seg.encap); !ok {
			d.uncount(pf, proto)
			d.totals.Undecoded++
			d.totals.UndecodedBy[UndecodedTooMany]++
			return warning
		}
	}
	key := &pf.key // keyed and hashed by d's Parser (TCP, no zone), or now
	if pf.by != d {
		pf.key.set(&seg.src, &seg.dst, proto, zone)
		pf.hash = d.conns.hash(key)
	}
	c := d.conns.getHashed(key, pf.hash)
	if c != nil && !taken && pf.time.Sub(d.clock.lastActive(c)) > d.timeouts[c.class] {
		d.totals.Evicted++ // idle past its timeout by the frame's own date: see sweepClock
		d.emit(c)
		c = nil
	}
	if c != nil && proto == TCP && c.startsNew(seg) {
		d.emit(c)
		c = nil
	}
	if c == nil {
		var tb *tomb
		if d.tombs.n > 0 {
			tb = d.unearth(key, pf.hash, seg, pf.time, taken, proto)
		}
		if d.cfg.MaxConns > 0 && d.conns.n >= d.cfg.MaxConns {
			if d.totals.Shed == 0 {
				warning = errors.Join(warning, fmt.Errorf("frame %d: %d connections held at once: the least recently active are handed over early (--max-conns)",
					pf.number, d.conns.n))
			}
			d.shed()
		}
		c = d.fresh()
		if tb != nil {
			d.resume(c, tb)
			d.freeTombs = append(d.freeTombs, tb)
		} else {
			d.nextID++
			c.start(seg, key, pf.time, pf.nano, proto, d.nextID, &d.colds)
			if seg.encap.NLabels > 0 && seg.encapped {
				d.setLabels(c, &seg.encap)
			}
		}
		d.conns.putHashed(c, pf.hash)
	}
	wasOver := c.over()
	// The event is filled where it is kept, not on the stack and copied
	// there: a copy reads it in wide loads from the narrow stores that
	// filled it, which wait for every store before them to reach the
	// cache. (A guessed ISN replaced in add renumbers the events kept,
	// this empty one too, which add then fills whole.)
	ev, kept := &d.ev, false
	if !d.cfg.DropEvents {
		if cold := c.coldPart(&d.colds); d.cfg.MaxEvents < 0 || len(cold.events) < d.cfg.MaxEvents {
			cold.events = append(cold.events, Event{})
			n := len(cold.events)
			ev, kept = &cold.events[n-1], true
			if n < cap(cold.events) {
				prefetchRangeW(unsafe.Pointer(&cold.events[:n+1][n]), unsafe.Sizeof(*ev))
			}
		}
	}
	if !kept {
		*ev = Event{}
		c.eventsOmitted++
	}
	c.add(ev, seg, pf.time, pf.nano, pf.number, d.keepsEvents(), &d.colds)
	d.touch(c)
	if !taken {
		d.clock.prevConn = c
	}
	if d.cfg.OnEvent != nil {
		// The callback may print or select on the summing-up.
		c.record(&d.live, &d.histories)
		d.live.Encap = d.encapOf(c, &d.liveEncap)
		d.cfg.OnEvent(&d.live, *ev)
	}
	if !wasOver && c.over() {
		// Handed over now, so that memory follows the connections open;
		// a tombstone catches what comes late.
		d.handOver(c, tombOver)
	} else if c.closed() {
		d.prefetchTomb(pf.hash) // for the last ACK, which hands it over
	}
	return warning
}

// classify counts a parsed frame in the totals and says whether its
// segment is followed, and as which protocol.
func (d *Decoder) classify(pf *Parsed) (proto Proto, follow bool, warning error) {
	switch {
	case pf.err != nil && pf.salvaged && pf.kind == frameUDP && !d.cfg.UDP:
		d.totals.NonTCP++ // not followed, so its lengths do not matter
		return TCP, false, nil
	case pf.err != nil:
		// A frame whose lengths lie (salvaged) is counted as malformed,
		// not TCP, so that each frame is counted once; its segment is
		// still followed.
		d.totals.Malformed++
		if pf.kind == frameUDP {
			proto = UDP
		}
		return proto, pf.salvaged, fmt.Errorf("frame %d: %w", pf.number, pf.err)
	case pf.kind == frameTCP:
		d.totals.TCP++
		return TCP, true, nil
	case pf.kind == frameEncap:
		d.totals.Undecoded++
		d.totals.UndecodedBy[pf.seg.why]++
		return TCP, false, nil
	case pf.kind == frameUDP && d.cfg.UDP:
		d.totals.UDP++
		return UDP, true, nil
	}
	d.totals.NonTCP++
	return TCP, false, nil
}

// uncount takes back the count classify (or Apply) made of pf, a frame
// that is counted as Undecoded after all.
func (d *Decoder) uncount(pf *Parsed, proto Proto) {
	switch {
	case pf.err != nil:
		d.totals.Malformed--
	case proto == UDP:
		d.totals.UDP--
	default:
		d.totals.TCP--
	}
}

// shed hands over the least recently active quarter of the connections
// held, the least recently active first, keeping a tombstone of each so
// that they go on if they are still active (see tomb). The least recently
// active are at the heads of the lists: it takes them from there, the
// oldest head first, and never sorts the table.
func (d *Decoder) shed() {
	all := d.expired[:0]
	for range max(d.conns.n/4, 1) {
		var oldest *flow
		for i := range d.lists {
			if h := d.lists[i].head; h != nil && (oldest == nil || h.active < oldest.active) {
				oldest = h
			}
		}
		if oldest == nil {
			break
		}
		d.unlist(oldest)
		all = append(all, oldest)
	}
	for _, c := range all { // oldest first, so that tombstones are in order too
		d.totals.Shed++
		d.handOver(c, class(c)) // the list it was in
	}
	clear(all)
	d.expired = all[:0]
}

// class is the timeout class of c.
func class(c *flow) int8 {
	switch {
	case c.closed():
		return classClosed
	case !c.established():
		return classHandshake
	}
	return classIdle
}

// touch stamps c active now on the activity clock and moves it to the
// tail of its class's list.
func (d *Decoder) touch(c *flow) {
	c.active = d.clock.activity()
	cl := class(c)
	if c.class == cl && d.lists[cl].tail == c {
		return
	}
	d.unlist(c)
	d.lists[cl].pushBack(c)
	c.class = cl
}

// unlist takes c out of its list, if it is in one.
func (d *Decoder) unlist(c *flow) {
	if l := c.class; l != noList {
		d.lists[l].remove(c)
		c.class = noList
	}
}

// startsNew reports whether a SYN begins a new connection on the 4-tuple of
// c (port reuse): c has closed, c never saw its client's SYN, or the SYN
// carries a different initial sequence number than c's. A copy of c's own
// SYN (same ISN) after c was answered and closed is an old duplicate, not
// a new incarnation (which needs a new ISN, RFC 9293 §3.4.1), as tshark
// keeps it; after a refusal it is a new attempt (see oldSYN).
func (c *flow) startsNew(seg *Segment) bool {
	if seg.Flags&(SYN|ACK|RST) != SYN {
		return false
	}
	if syn, synack, _ := c.stages(); c.closed() || !syn {
		return !c.answeredBefore(seg) && !oldSYN(syn, synack, c.sideOf(seg), &c.marks[Client], seg)
	}
	return c.sideOf(seg) == Client && seg.Seq != c.marks[Client].isn
}

// oldSYN reports whether seg, a SYN on the 4-tuple of a connection that
// has closed, is a late copy of that connection's own SYN: sent by its
// client with the ISN of its SYN, after the server answered it. A SYN
// retried after a refusal (no SYN-ACK: the RST answered the SYN) is a new
// attempt, as Zeek logs it, whatever its ISN.
func oldSYN(syn, synack bool, from Side, client *seqMarks, seg *Segment) bool {
	return syn && synack && from == Client && client.haveISN && client.isnOfSYN && seg.Seq == client.isn
}

// fresh returns an empty flow, one used before if there is one.
func (d *Decoder) fresh() *flow {
	var c *flow
	if n := len(d.free); n > 0 {
		c, d.free = d.free[n-1], d.free[:n-1]
		*c = flow{}
	} else {
		c = new(flow)
		d.dropped = max(d.dropped-1, 0) // it takes the room of one let go, if any
	}
	c.class = noList
	return c
}

// emit hands c over for good.
func (d *Decoder) emit(c *flow) { d.handOver(c, noList) }

// handOver hands c's record to the sink and forgets c, keeping a
// tombstone of it in tombList unless that is noList. A resumed
// connection is not counted again: its verdict replaces its prior one.
// The record is made and handed over by d.out, here or on its own
// goroutine (Background), which gives c back then (reuse).
func (d *Decoder) handOver(c *flow, tombList int8) {
	d.conns.remove(c)
	d.unlist(c)
	if d.clock.prevConn == c {
		d.clock.prevConn = nil
	}
	verdict := c.verdict()
	if c.resumed {
		d.totals.Resumed++
		d.totals.ByVerdict[c.priorVerdict]--
	} else {
		d.totals.Connections++
	}
	d.totals.ByVerdict[verdict]++
	var tb *tomb
	if tombList != noList {
		tb = d.bury(c, tombList)
	}
	encap := d.encapOf(c, nil)
	if d.labels != nil {
		delete(d.labels, c)
	}
	if d.bg != nil {
		d.bg.add(d, c, encap, tb, verdict)
		return
	}
	if tb != nil {
		tb.fill(c, verdict)
	}
	d.out.conn(c, encap)
	d.reuse(c)
}

// reuse takes back c, handed over, and its cold part, which d.out has
// emptied, to use them again.
func (d *Decoder) reuse(c *flow) {
	if c.cold != nil {
		d.colds = append(d.colds, c.cold)
		c.cold = nil
	}
	// Spare flows follow the connections open: enough that opening and
	// handing over at the same pace allocates nothing, not so many that
	// the peak stays held once it has passed. Those on their way back
	// from the outlet's goroutine are spares too.
	keep := d.conns.n/8 + 64
	if d.bg != nil {
		keep += handedBatch * handedBatches
	}
	switch {
	case len(d.free) < keep:
		d.free = append(d.free, c)
	case len(d.free) > 2*keep: // the peak has passed: let the spares above it go
		d.dropped += len(d.free) - keep + 1
		clear(d.free[keep:])
		d.free = d.free[:keep]
	default:
		d.dropped++
	}
}

// sweep hands over connections idle past their timeout at the clock's
// time, in ID order. Each list is in the order its connections were last
// active, so those idle past the list's timeout are at its head, and a
// sweep costs what it hands over, not what the table holds.
func (d *Decoder) sweep() {
	d.clock.swept()
	expired := d.expired[:0]
	for i := range d.lists {
		l := &d.lists[i]
		for c := l.head; c != nil && d.clock.idle(c) > d.timeouts[i]; c = l.head {
			d.unlist(c)
			expired = append(expired, c)
		}
	}
	slices.SortFunc(expired, func(a, b *flow) int { return cmp.Compare(a.id, b.id) })
	for _, c := range expired {
		d.totals.Evicted++
		tombs := int8(noList)
		if c.closed() { // its late segments are its own (see tomb)
			tombs = tombClosed
		}
		d.handOver(c, tombs)
	}
	clear(expired)
	d.expired = expired[:0]
	d.sweepTombs()
}

// Flush hands every connection still open to the sink, in ID order. Call it
// when the capture ends.
func (d *Decoder) Flush() {
	rest := make([]*flow, 0, d.conns.n)
	d.conns.each(func(c *flow) { rest = append(rest, c) })
	slices.SortFunc(rest, func(a, b *flow) int { return cmp.Compare(a.id, b.id) })
	for _, c := range rest {
		d.emit(c)
	}
	d.Wait()
}

// Totals returns the counts so far.
func (d *Decoder) Totals() Totals { return d.totals }

// Open returns the number of connections the decoder holds right now.
func (d *Decoder) Open() int { return d.conns.n }
