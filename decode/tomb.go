package decode

import (
	"time"
	"unsafe"
)

// tomb is what the decoder keeps of a connection it handed over before
// the connection's last segment, so that a segment that comes later is
// attributed to it and not taken for a new, partial connection: a
// connection handed over when it closed (both FINs acknowledged, or a
// RST), which a retransmitted FIN, a last ACK or a RST may follow, and one
// handed over early at the MaxConns cap, which goes on.
//
// It holds the connection's identity (key, ID, roles) and what the
// analysers need to go on: the sequence numbers of its ISNs and FINs,
// tshark's, Zeek's and RFC 9293's state, the handshake stages and resets
// its verdict needs, and the summing-up the record said. It leaves out
// what is large and belongs to the record handed over: events, options,
// counters, history, round-trip timing. A segment for it opens a
// Resumed record (see Conn.Resumed) with the same ID.
//
// A tombstone lasts as long as its connection would have stayed in the
// table, idle: the timeout of its class from its last segment. One of a
// connection swept while closed, a FIN still unacknowledged, lasts
// IdleTimeout from the close, so that a FIN or data resent with back-off
// however late is not taken for a new connection (tshark keeps it in the
// connection's stream). One of a connection that was over (both FINs
// acknowledged, or a RST) lasts retransmitGiveUp: only a sender that did
// not get the last ACK the capture saw sends more, and it gives up by
// then; so memory follows the connections of the last minutes, not of the
// last hour. At most maxTombs times MaxConns are kept: past that, those of
// connections that were over are forgotten first, then those of closed
// ones, then the least recently active, and a segment for one of those
// starts a connection of its own, as it would without tombstones.
type tomb struct {
	// The decoder's part, written when the tombstone is buried: its key
	// (first: see entry), its place in its list (tombList), when it was
	// last active (sweepClock.activity), which a sweep reads beside it,
	// which of the decoder's tomb lists holds it, and the location of
	// FirstSeen (see firstSec).
	key      connKey
	pos      uint64
	active   time.Duration
	batch    uint64 // the batch of its state's job (see settle)
	firstLoc int32
	list     int8
	// The rest is written from the connection's flow when its record
	// is made, on the outlet's goroutine with Background (see fill).
	tombState
}

// tombState is a tombstone's state: see fill.
type tombState struct {
	proto     Proto
	partial   bool
	closedBy  Side
	verdict   Verdict
	connState ConnState
	// clientFirst says that the client is the first half of key, and is4
	// that its addresses are IPv4 (key halves map IPv4 into IPv6).
	clientFirst, is4 bool
	// The analysers' state that goes on (see resume).
	ecn, finsBefore bool
	finAcked        [2]bool
	rfc             rfcMachine
	marks           [2]seqMarks
	zeek            [2]zeekKept
	tshark          [2]tsharkKept
	id              uint64
	zeekLast        time.Duration // zeekConn.lastTime
	// firstSec, firstNsec and firstLoc are FirstSeen: its Unix time and
	// its location, an index into the decoder's locations. A tombstone
	// holds no pointer, so that the collector, which scans the
	// tombstones of the last minutes (tens of megabytes) in every cycle
	// otherwise, does not.
	firstSec  int64
	firstNsec int32
	prior     carried
}

// zeekKept is what a tombstone keeps of a Zeek endpoint: its states, for
// conn_state; the kinds of packet its history has had, so that a letter
// is not written twice; its sequence numbers, for orig_bytes and
// resp_bytes and retransmissions; whether it is Zeek's originator.
type zeekKept struct {
	state, prev               zeekState
	histSeen                  uint8
	inited, fin, orig         bool
	startSeq, lastSeq, ackSeq Seq
	lastSYN, lastFIN, lastRST uint32
}

// tsharkKept is what a tombstone keeps of tshark's flow state for the
// segments one side sends: enough to call a late segment a retransmission,
// a spurious one or a duplicate ACK.
type tsharkKept struct {
	nextSeq, lastAck                  Seq
	window                            uint16
	haveNext, haveLastAck, haveWindow bool
}

// Tombstones are allocated in one of two ways, and never given back (a
// decoder reuses them: freeTombs):
//
//   - in pairs padded to a flow's size, while there are flows let go
//     (Decoder.dropped): a flow handed over and not kept to reuse is
//     garbage, and Go reuses the room of the one for the other only in the
//     same size class, so that the flows of a million connections that end
//     do not stay held beside their tombstones (1.2 GB where a million
//     were open at once, without the pairs; 0.96 GB with them, with the
//     root's memory limit: see main);
//   - otherwise, in slabs of 64 KiB: memory new from the system, which
//     the allocator does not write into (a slab is too large for a size
//     class, and holds no pointer), so that populate maps its pages in one
//     system call. On the 200,000-connection capture, whose connections
//     end as others open, the 62,000 tombstones of its last 925 seconds
//     took 4,000 page faults as pairs (11 µs each in a virtual machine:
//     45 ms of --summary's 1.1 s of CPU time).

// tombPair is two tombstones allocated at once, padded to a flow's size.
// Go keeps objects that hold pointers and objects that hold none in spans
// of their own even in one size class, and a tombstone holds none (see
// tomb): the pair begins with a pointer that is never set, so that it
// takes a flow's room all the same, and the collector, which scans an
// object no further than its last pointer, reads 8 bytes of it.
type tombPair struct {
	_ *flow
	t [2]tomb
	_ [unsafe.Sizeof(flow{}) - unsafe.Sizeof((*flow)(nil)) - 2*unsafe.Sizeof(tomb{})]byte
}

// tombSlab is tombstones allocated together: memory the collector does
// not scan.
type tombSlab [tombsPerSlab]tomb

const tombsPerSlab = int(64 << 10 / unsafe.Sizeof(tomb{}))

// newTombPair returns two new tombstones in a flow's room.
func newTombPair() (*tomb, *tomb) {
	p := new(tombPair)
	return &p.t[0], &p.t[1]
}

// tombAlloc hands out the tombstones of a slab at a time.
type tombAlloc struct {
	slab  *tombSlab
	used  int
	slabs int // allocated so far
}

// next returns a new tombstone from the slab.
func (a *tombAlloc) next() *tomb {
	if a.slab == nil || a.used == len(a.slab) {
		a.slab, a.used = new(tombSlab), 0
		a.slabs++
		populate(unsafe.Pointer(a.slab), unsafe.Sizeof(*a.slab))
	}
	a.used++
	return &a.slab[a.used-1]
}

// maxTombs is how many tombstones are kept per connection of the cap
// (MaxConns). A tombstone takes a fifth of a record's memory or less, so
// twice the cap adds less than half to what the records hold, and
// connections handed over at the cap keep their identity with up to three
// times the cap open at once.
const maxTombs = 2

// Tombstone lists: one per timeout class for connections handed over at
// the cap, ordered by their last activity; one for connections handed
// over when they were over, and one for those swept while closed, each
// ordered by their hand-over.
const (
	tombOver     = numClasses
	tombClosed   = numClasses + 1
	numTombLists = numClasses + 2
)

// retransmitGiveUp is how long a sender goes on resending an
// unacknowledged segment: Linux's default (tcp_retries2 15) gives up after
// 924.6 s, the longest of the common stacks (RFC 9293 asks at least 100 s).
const retransmitGiveUp = 925 * time.Second

// bury keeps a tombstone in list of c, just handed over, and returns it.
// Its state is for the caller to write (fill), here or where c's record
// is made: a tombstone reused is out of every cache, and writing it there
// takes that wait off the goroutine that applies frames.
func (d *Decoder) bury(c *flow, list int8) *tomb {
	if d.cfg.MaxConns > 0 && d.tombs.n >= maxTombs*d.cfg.MaxConns {
		d.forget(d.oldestTomb())
	}
	var t *tomb
	if n := len(d.freeTombs); n > 0 {
		t, d.freeTombs = d.freeTombs[n-1], d.freeTombs[:n-1]
		if n > 1 { // the next to reuse, cold: ready for the next burial
			prefetch(unsafe.Pointer(d.freeTombs[n-2]))
		}
	} else if d.dropped > 0 {
		d.dropped--
		var spare *tomb
		t, spare = newTombPair()
		d.freeTombs = append(d.freeTombs, spare)
	} else {
		t = d.newTombs.next()
	}
	t.key, t.list, t.active, t.batch = c.key, list, c.active, 0
	t.firstLoc = d.location(c.firstSeen().Location())
	if list == tombOver || list == tombClosed {
		// Dated at its burial, so that the list stays in order: a closed
		// connection swept idle was last active before those handed over
		// as they closed.
		t.active = d.clock.activity()
	}
	d.tombs.put(t)
	d.tombLists[list].pushBack(t)
	return t
}

// fill writes t's state from c, its connection, handed over with verdict
// and not yet made its record (which empties c's cold part).
func (t *tomb) fill(c *flow, verdict Verdict) {
	syn, synack, ack := c.stages()
	p := c.before()
	first := c.firstSeen()
	t.tombState = tombState{
		proto: c.proto, partial: c.partial, closedBy: c.closedBy,
		verdict: verdict, connState: c.connState(), clientFirst: c.clientFirst, is4: c.is4,
		ecn: c.ecn, finsBefore: c.finsBefore, finAcked: c.finAcked, rfc: c.rfc,
		marks: c.marks, id: c.id, zeekLast: c.zeek.lastTime,
		firstSec: first.Unix(), firstNsec: int32(first.Nanosecond()),
		prior: carried{
			syn: syn, synack: synack, ack: ack,
			rst:  [2]bool{c.rsts[Client] > 0 || p.rst[Client], c.rsts[Server] > 0 || p.rst[Server]},
			sent: [2]bool{c.packets[Client] > 0 || p.sent[Client], c.packets[Server] > 0 || p.sent[Server]},
			ws:   c.ws,
			data: [2]bool{c.bytes[Client] > 0 || p.data[Client], c.bytes[Server] > 0 || p.data[Server]},
		},
	}
	if c.proto == TCP { // a UDP flow's are its records' own
		all := c.zeekBytes()
		for s := range t.prior.zeekBytes { // the sequence space covers the records before
			t.prior.zeekBytes[s] = max(all[s], p.zeekBytes[s])
		}
	}
	// Field by field: a struct made whole on the stack and copied in waits
	// for its own stores, which was half of what bury cost.
	for s := range 2 {
		e, z := &c.zeek.ep[s], &t.zeek[s]
		z.state, z.prev, z.histSeen, z.inited, z.fin, z.orig = e.state, e.prev, e.histSeen, e.inited, e.fins > 0, c.zeek.isOrig(Side(s))
		z.startSeq, z.lastSeq, z.ackSeq, z.lastSYN, z.lastFIN, z.lastRST = e.startSeq, e.lastSeq, e.ackSeq, e.lastSYN, e.lastFIN, e.lastRST
		f, k := &c.tshark.flow[s], &t.tshark[s]
		k.nextSeq, k.lastAck, k.window, k.haveNext, k.haveLastAck, k.haveWindow = f.nextSeq, f.lastAck, f.window, f.haveNext, f.haveLastAck, f.haveWindow
	}
}

// settle makes sure that t's state is written: with Background, the
// outlet's goroutine writes it, and the decoder waits until that
// goroutine has given back the batch of its job, sending the batch first
// if it is the one being filled. Only a tombstone found for a segment
// (see unearth) is read, and most are written long before.
func (d *Decoder) settle(t *tomb) {
	if t.batch <= d.handedBack {
		return
	}
	b := d.bg // batches are in flight only with Background
	if t.batch > d.handedSent {
		b.rotate(d)
	}
	for d.handedBack < t.batch {
		b.receive(d)
	}
}

// oldestTomb is the tombstone to forget first: the oldest of a
// connection handed over when it was over or closed, which only a late
// retransmission would need; else the least recently active of those
// handed over at the cap, which go on if they are still active at all.
func (d *Decoder) oldestTomb() *tomb {
	for _, l := range [...]int8{tombOver, tombClosed} {
		if h := d.tombLists[l].first(); h != nil {
			return h
		}
	}
	var oldest *tomb
	for i := range d.tombLists {
		if h := d.tombLists[i].first(); h != nil && (oldest == nil || h.active < oldest.active) {
			oldest = h
		}
	}
	return oldest
}

// forget drops t.
func (d *Decoder) forget(t *tomb) {
	d.exhume(t)
	d.freeTombs = append(d.freeTombs, t)
}

// exhume takes t out of the table and its list.
func (d *Decoder) exhume(t *tomb) {
	d.tombs.remove(t)
	d.tombLists[t.list].remove(t)
}

// tombTimeout is how long a tombstone in list lasts, idle.
func (d *Decoder) tombTimeout(list int8) time.Duration {
	switch list {
	case tombOver:
		return max(d.cfg.ClosedTimeout, min(d.cfg.IdleTimeout, retransmitGiveUp))
	case tombClosed:
		return max(d.cfg.ClosedTimeout, d.cfg.IdleTimeout)
	}
	return d.timeouts[list]
}

// sweepTombs forgets the tombstones idle past their timeout. They were
// buried minutes ago, out of every cache by now: it asks for those a few
// places on while it forgets one, so that it waits for memory once for
// several of them.
func (d *Decoder) sweepTombs() {
	for i := range d.tombLists {
		l := &d.tombLists[i]
		for k := range uint64(tombsAhead) {
			l.prefetch(l.head + k)
		}
		for t := l.first(); t != nil && d.clock.activity()-t.active > d.tombTimeout(int8(i)); t = l.first() {
			l.prefetch(l.head + tombsAhead)
			d.forget(t)
		}
	}
}

// tombsAhead is how many places ahead of its head a sweep asks for a
// tombstone list's tombstones.
const tombsAhead = 8

// tombList holds tombstones in the order they were buried, which is the
// order they were last active (see bury), the least recently active
// first: a ring of pointers in that order, not links in the tombstones.
// A sweep forgets tombstones from its head, out of the cache as they
// are: reading the next one's address from the ring, it can ask for
// several at once, where following links it waited for each in turn.
type tombList struct {
	// ring holds the tombstones from position head to tail (excluded),
	// at ring[pos & (len(ring)-1)], nil where one was taken out (exhume);
	// head holds one, unless head == tail. Positions are a tombstone's
	// pos; len(ring) is a power of two.
	ring       []*tomb
	head, tail uint64
	n          int
}

// first returns the least recently active tombstone, or nil.
func (l *tombList) first() *tomb {
	if l.head == l.tail {
		return nil
	}
	return l.ring[l.head&uint64(len(l.ring)-1)]
}

// pushBack puts t, which is in no list, at the tail.
func (l *tombList) pushBack(t *tomb) {
	if l.tail-l.head == uint64(len(l.ring)) {
		l.grow()
	}
	l.ring[l.tail&uint64(len(l.ring)-1)] = t
	t.pos = l.tail
	l.tail++
	l.n++
}

// remove takes t out of l, which holds it.
func (l *tombList) remove(t *tomb) {
	mask := uint64(len(l.ring) - 1)
	l.ring[t.pos&mask] = nil
	l.n--
	for l.head < l.tail && l.ring[l.head&mask] == nil {
		l.head++
	}
}

// grow makes room in a full ring: twice as much, or, where it holds
// mostly places of tombstones taken out, the same, its tombstones moved
// together.
func (l *tombList) grow() {
	size := max(len(l.ring), 64)
	if l.n > len(l.ring)/2 {
		size = 2 * len(l.ring)
	}
	ring, mask := make([]*tomb, size), uint64(len(l.ring)-1)
	pos := l.head
	for p := l.head; p < l.tail; p++ {
		if t := l.ring[p&mask]; t != nil {
			ring[pos&uint64(size-1)], t.pos = t, pos
			pos++
		}
	}
	l.ring, l.tail = ring, pos
}

// prefetch asks for the tombstone at position pos, if there is one.
func (l *tombList) prefetch(pos uint64) {
	if pos < l.tail {
		if t := l.ring[pos&uint64(len(l.ring)-1)]; t != nil {
			prefetch(unsafe.Pointer(t))
		}
	}
}

// unearth takes the tombstone of key (whose hash is hash) out of the
// table, if there is one that seg, dated t, goes on with; the caller frees
// it once resumed. One idle past its timeout by the frame's own date
// (taken false: see sweepClock), or whose 4-tuple seg opens anew, is
// forgotten.
func (d *Decoder) unearth(key *connKey, hash uint64, seg *Segment, t time.Time, taken bool, proto Proto) *tomb {
	tb := d.tombs.getHashed(key, hash)
	if tb == nil {
		return nil
	}
	d.settle(tb)
	last := d.clock.now.Add(tb.active - d.clock.activity())
	if !taken && t.Sub(last) > d.tombTimeout(tb.list) || proto == TCP && tb.startsNew(seg) {
		d.forget(tb)
		return nil
	}
	d.exhume(tb)
	return tb
}

// startsNew is startsNew for the connection of t.
func (t *tomb) startsNew(seg *Segment) bool {
	if seg.Flags&(SYN|ACK|RST) != SYN {
		return false
	}
	client := t.key.second()
	if t.clientFirst {
		client = t.key.first()
	}
	from := Server
	if seg.src == client {
		from = Client
	}
	closed := t.marks[Client].haveFIN && t.marks[Server].haveFIN || t.prior.rst != [2]bool{}
	if closed || !t.prior.syn {
		return !oldSYN(t.prior.syn, t.prior.synack, from, &t.marks[Client], seg)
	}
	return from == Client && seg.Seq != t.marks[Client].isn
}

// longAgo dates tshark's last sequence number and ACK of a resumed
// connection: long enough before its first segment that no timing rule
// (out-of-order, fast retransmission) counts on them.
const longAgo = -1 << 62

// resume makes c, fresh, go on with t's connection. Its first date is the
// connection's, so that its times go on from the same start.
func (d *Decoder) resume(c *flow, t *tomb) {
	c.key, c.id, c.proto = t.key, t.id, t.proto
	first := time.Unix(t.firstSec, int64(t.firstNsec)).In(d.locations[t.firstLoc])
	c.first(first, frameNano(first), &d.colds)
	c.clientFirst, c.is4, c.partial, c.closedBy = t.clientFirst, t.is4, t.partial, t.closedBy
	c.resumed, c.priorVerdict, c.priorConnState, c.ws = true, t.verdict, t.connState, t.prior.ws
	c.coldPart(&d.colds).prior = t.prior
	c.ecn, c.finsBefore, c.finAcked, c.rfc, c.marks = t.ecn, t.finsBefore, t.finAcked, t.rfc, t.marks
	c.zeek.udp, c.zeek.origServer, c.zeek.lastTime = t.proto == UDP, t.zeek[Server].orig, t.zeekLast
	for s := range 2 {
		k, e := &t.zeek[s], &c.zeek.ep[s]
		e.state, e.prev, e.histSeen, e.inited = k.state, k.prev, k.histSeen, k.inited
		e.startSeq, e.lastSeq, e.ackSeq = k.startSeq, k.lastSeq, k.ackSeq
		e.lastSYN, e.lastFIN, e.lastRST = k.lastSYN, k.lastFIN, k.lastRST
		if k.fin {
			e.fins = 1
		}
		kt, f := &t.tshark[s], &c.tshark.flow[s]
		f.nextSeq, f.lastAck, f.window = kt.nextSeq, kt.lastAck, kt.window
		f.haveNext, f.haveLastAck, f.haveWindow = kt.haveNext, kt.haveLastAck, kt.haveWindow
		f.maxSeqToBeAcked, f.haveMax = kt.nextSeq, kt.haveNext
		c.tshark.dates[s] = flowDates{longAgo, longAgo}
	}
}

// location returns the index of loc in d.locations, which it is added to
// the first time: the locations of the dates tombstones keep (UTC, or
// time.Local for a live capture), so that tombstones need not point to
// them (see tomb).
func (d *Decoder) location(loc *time.Location) int32 {
	for i, l := range d.locations {
		if l == loc {
			return int32(i)
		}
	}
	d.locations = append(d.locations, loc)
	return int32(len(d.locations) - 1)
}
