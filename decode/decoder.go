package decode

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"
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
// replaced by a new connection on the same 4-tuple, idle past their
// timeout, or flushed at the end of the capture. The decoder does not touch
// a Conn after handing it over.
type Sink interface {
	Conn(c *Conn)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(c *Conn)

// Conn calls f(c).
func (f SinkFunc) Conn(c *Conn) { f(c) }

// DefaultMaxEvents bounds the events kept per connection so that memory
// stays bounded whatever a capture holds; counters stay exact beyond it.
const DefaultMaxEvents = 10000

// Config tunes the decoder. The zero value is ready to use.
type Config struct {
	// MaxEvents is the number of events kept per connection: 0 means
	// DefaultMaxEvents, a negative value means no limit.
	MaxEvents int
	// ClosedTimeout is how long, in capture time, a closed connection (FINs
	// both ways, or a RST) is kept for late segments before it is handed
	// to the sink. 0 means 2 minutes: longer than Linux's 60 s TIME-WAIT.
	ClosedTimeout time.Duration
	// HandshakeTimeout applies to connections whose handshake did not
	// complete. 0 means 3 minutes: Linux gives up on a SYN after about
	// 127 s (tcp_syn_retries 6).
	HandshakeTimeout time.Duration
	// IdleTimeout applies to established connections. 0 means 1 hour.
	IdleTimeout time.Duration
	// DropEvents keeps no events at all, only the counters: for outputs
	// that stream (NDJSON) or need no timeline (check, summaries).
	DropEvents bool
	// UDP makes the decoder follow UDP flows (client = first sender) as
	// well; without it UDP datagrams are counted as non-TCP.
	UDP bool
	// OnEvent, if set, is called for every segment as it is decoded.
	OnEvent func(c *Conn, e Event)
}

// Totals counts what the decoder was given.
type Totals struct {
	Packets   uint64 // frames decoded
	TCP       uint64 // frames carrying a TCP segment
	UDP       uint64 // UDP datagrams followed as flows (Config.UDP)
	NonTCP    uint64 // other frames: ARP, ICMP, IP fragments, UDP unless followed…
	Malformed uint64 // frames whose headers could not be decoded
	// Connections counts connections handed to the sink, Evicted those of
	// them handed over because they were idle past their timeout.
	Connections uint64
	Evicted     uint64
	ByVerdict   [numVerdicts]uint64
}

// endpoints is a 4-tuple, lower endpoint first so that both directions
// find the same entry.
type endpoints struct{ lo, hi netip.AddrPort }

func keyOf(a, b netip.AddrPort) endpoints {
	if a.Compare(b) < 0 {
		return endpoints{a, b}
	}
	return endpoints{b, a}
}

// connKey identifies a flow: its 4-tuple and protocol.
type connKey struct {
	endpoints
	proto Proto
}

// sweepEvery is how often, in capture time, idle connections are looked for.
const sweepEvery = 10 * time.Second

// Decoder rebuilds TCP connections from frames. It is not safe for
// concurrent use; use one Decoder per capture.
type Decoder struct {
	cfg       Config
	sink      Sink
	p         *parser
	seg       Segment
	conns     map[connKey]*Conn
	nextID    uint64
	totals    Totals
	nextSweep time.Time
}

// New returns a Decoder that hands finished connections to sink.
func New(cfg Config, sink Sink) *Decoder {
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if cfg.ClosedTimeout == 0 {
		cfg.ClosedTimeout = 2 * time.Minute
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 3 * time.Minute
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = time.Hour
	}
	return &Decoder{cfg: cfg, sink: sink, p: newParser(), conns: make(map[connKey]*Conn)}
}

// Packet decodes one frame. A frame that is not TCP is counted and
// ignored; a frame with damaged headers is counted and reported in the
// returned error, which names the frame. Decoding goes on either way.
func (d *Decoder) Packet(f *Frame) error {
	d.totals.Packets++
	if !f.Time.Before(d.nextSweep) {
		d.sweep(f.Time)
	}
	kind, err := d.p.parse(f.Data, f.LinkType, &d.seg)
	if err != nil {
		d.totals.Malformed++
		return fmt.Errorf("frame %d: %w", f.Number, err)
	}
	proto := TCP
	switch {
	case kind == frameTCP:
		d.totals.TCP++
	case kind == frameUDP && d.cfg.UDP:
		d.totals.UDP++
		proto = UDP
	default:
		d.totals.NonTCP++
		return nil
	}
	seg := &d.seg
	key := connKey{keyOf(seg.Src, seg.Dst), proto}
	c := d.conns[key]
	if c != nil && proto == TCP && startsNew(c, seg) {
		d.emit(c)
		c = nil
	}
	if c == nil {
		c = d.open(seg, f.Time, proto)
		d.conns[key] = c
	}
	ev := c.add(seg, f.Time, f.Number)
	if d.cfg.DropEvents {
		c.EventsOmitted++
	} else if d.cfg.MaxEvents < 0 || len(c.Events) < d.cfg.MaxEvents {
		c.Events = append(c.Events, ev)
	} else {
		c.EventsOmitted++
	}
	if d.cfg.OnEvent != nil {
		d.cfg.OnEvent(c, ev)
	}
	return nil
}

// startsNew reports whether a SYN begins a new connection on the 4-tuple of
// c (port reuse): c has closed, c never saw its client's SYN, or the SYN
// carries a different initial sequence number than c's.
func startsNew(c *Conn, seg *Segment) bool {
	if seg.Flags&(SYN|ACK|RST) != SYN {
		return false
	}
	if c.closed() || !c.Handshake.SYN {
		return true
	}
	return seg.Src == c.Client && seg.Seq != c.isn[Client]
}

func (d *Decoder) open(seg *Segment, t time.Time, proto Proto) *Conn {
	d.nextID++
	c := &Conn{ID: d.nextID, Proto: proto, FirstSeen: t, LastSeen: t, ClosedBy: NoSide}
	if seg.Flags&(SYN|ACK) == SYN || proto == UDP {
		c.Client, c.Server = seg.Src, seg.Dst
	} else {
		c.Client, c.Server = guessRoles(seg)
		c.Partial = true
		c.flipped = seg.Src != c.Client
	}
	c.initialStates()
	return c
}

// emit hands c to the sink and forgets it.
func (d *Decoder) emit(c *Conn) {
	delete(d.conns, connKey{keyOf(c.Client, c.Server), c.Proto})
	d.totals.Connections++
	d.totals.ByVerdict[c.Verdict()]++
	d.sink.Conn(c)
}

// sweep hands over connections idle past their timeout at capture time now.
func (d *Decoder) sweep(now time.Time) {
	d.nextSweep = now.Add(sweepEvery)
	for _, c := range d.conns {
		limit := d.cfg.IdleTimeout
		switch {
		case c.closed():
			limit = d.cfg.ClosedTimeout
		case !c.Established():
			limit = d.cfg.HandshakeTimeout
		}
		if now.Sub(c.LastSeen) > limit {
			d.totals.Evicted++
			d.emit(c)
		}
	}
}

// Flush hands every connection still open to the sink, in ID order. Call it
// when the capture ends.
func (d *Decoder) Flush() {
	rest := make([]*Conn, 0, len(d.conns))
	for _, c := range d.conns {
		rest = append(rest, c)
	}
	slices.SortFunc(rest, func(a, b *Conn) int { return cmp.Compare(a.ID, b.ID) })
	for _, c := range rest {
		d.emit(c)
	}
}

// Totals returns the counts so far.
func (d *Decoder) Totals() Totals { return d.totals }

// Open returns the number of connections the decoder holds right now.
func (d *Decoder) Open() int { return len(d.conns) }
