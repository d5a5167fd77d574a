package decode

// outlet makes the record of each connection the decoder hands over and
// gives it to the sink: on the decoder's goroutine, or on one of its own
// (Background), the two never at once.
type outlet struct {
	sink    Sink
	records *Records // Config.Records
	recycle bool     // Config.Recycle, without Records
	record  *Conn    // the record to reuse (recycle), or nil
	known   histories
	// newTombs allocates the tombstones the decoder asks for (see
	// handed.fresh).
	newTombs tombAlloc
}

// conn hands c over as a record with encap, and empties c's cold part for
// reuse.
func (o *outlet) conn(c *flow, encap *Encap) {
	var spare []Event // the room for events a record given back brings
	rec := o.record
	switch {
	case o.records != nil:
		rec = o.records.get()
		spare = rec.Events[:0]
	case rec == nil:
		rec = new(Conn)
		if o.recycle {
			o.record = rec
		}
	}
	c.record(rec, &o.known)
	rec.Encap = encap
	o.sink.Conn(rec)
	if cold := c.cold; cold != nil {
		switch {
		case o.records != nil: // the record took the events; the cold part takes its room
		case o.recycle: // the record is reused: the cold part keeps the room of its events
			spare = cold.events[:0]
		default: // the record has its events
			spare = nil
		}
		*cold = coldFlow{events: spare}
	}
}

// background runs an outlet on a goroutine of its own, so that making
// records (flow.record) and whatever the sink does with them (an
// aggregate, rendering), and writing their tombstones' state (tomb.fill),
// are off the goroutine that applies frames, which bounds how fast a file
// is read. Flows go to it in batches, in the order they are handed over,
// and come back in the same batches to be reused.
type background struct {
	todo, back chan *handed
	cur        *handed   // being filled
	spare      []*handed // come back, empty
}

// handed is a batch of flows handed over, with their encapsulations and
// tombstones (nil for none) and the verdicts to write into those (see
// tomb.fill).
type handed struct {
	flows    [handedBatch]*flow
	encaps   [handedBatch]*Encap
	tombs    [handedBatch]*tomb
	verdicts [handedBatch]Verdict
	n        int
	// fresh are tombstones the outlet's goroutine allocated, when asked
	// (wantFresh): new memory, whose first write is a page fault, and not
	// on the goroutine that applies frames.
	fresh     [handedBatch]*tomb
	nFresh    int
	wantFresh bool
	// freshPairs of them are to be allocated in pairs, in the room of
	// flows let go (see tombPair), the rest from a slab.
	freshPairs int
}

// handedBatch is how many flows go to the outlet's goroutine at once, and
// handedBatches how many batches go round: a few hundred flows in flight,
// each waking the goroutine once.
const (
	handedBatch   = 64
	handedBatches = 8
)

// Background makes the decoder hand connections to the sink on a
// goroutine of its own until Wait (or Flush) is called. The sink is
// called from that goroutine, in the order connections are handed over,
// as before; nothing else of the decoder's may be called from the sink.
// Config.OnEvent, whose calls interleave with the sink's, keeps the
// decoder as it was.
func (d *Decoder) Background() {
	if d.bg != nil || d.cfg.OnEvent != nil {
		return
	}
	b := &background{todo: make(chan *handed, handedBatches), back: make(chan *handed, handedBatches), cur: new(handed)}
	for range handedBatches - 1 {
		b.spare = append(b.spare, new(handed))
	}
	d.bg = b
	go d.out.run(b.todo, b.back)
}

// Wait returns once the sink has had every connection handed over, and
// stops the goroutine Background started: the decoder hands connections
// over on the caller's goroutine again.
func (d *Decoder) Wait() {
	b := d.bg
	if b == nil {
		return
	}
	d.bg = nil
	if b.cur.n > 0 {
		b.todo <- b.cur
		d.handedSent++
	}
	close(b.todo)
	for h := range b.back {
		d.takeBack(h)
	}
}

// run hands over the flows of each batch from todo, and gives the batch
// back on back.
func (o *outlet) run(todo <-chan *handed, back chan<- *handed) {
	defer close(back)
	for h := range todo {
		for i := range h.n {
			if t := h.tombs[i]; t != nil {
				t.fill(h.flows[i], h.verdicts[i])
			}
			o.conn(h.flows[i], h.encaps[i])
		}
		if h.wantFresh {
			k := 0
			for ; k < 2*h.freshPairs; k += 2 {
				h.fresh[k], h.fresh[k+1] = newTombPair()
			}
			for ; k < handedBatch; k++ {
				h.fresh[k] = o.newTombs.next()
			}
			h.nFresh = handedBatch
		}
		back <- h
	}
}

// add queues c, with encap, and t, its tombstone (or nil) to fill with
// verdict, for the outlet's goroutine.
func (b *background) add(d *Decoder, c *flow, encap *Encap, t *tomb, verdict Verdict) {
	h := b.cur
	h.flows[h.n], h.encaps[h.n], h.tombs[h.n], h.verdicts[h.n] = c, encap, t, verdict
	if t != nil {
		t.batch = d.handedSent + 1
	}
	if h.n++; h.n < handedBatch {
		return
	}
	b.rotate(d)
}

// rotate sends the batch being filled to the outlet's goroutine, and
// takes an empty one.
func (b *background) rotate(d *Decoder) {
	// As many tombstones as a batch can bury, while there are fewer
	// spare than two batches can.
	if b.cur.wantFresh = len(d.freeTombs) < 2*handedBatch; b.cur.wantFresh {
		b.cur.freshPairs = min(d.dropped, handedBatch/2)
		d.dropped -= b.cur.freshPairs
	}
	b.todo <- b.cur // never waits: there are as many places as batches
	d.handedSent++
	for len(b.spare) == 0 || len(b.back) > 0 {
		b.receive(d)
	}
	b.cur, b.spare = b.spare[len(b.spare)-1], b.spare[:len(b.spare)-1]
}

// receive waits for the next batch the outlet's goroutine gives back,
// takes its flows back and keeps it to fill again.
func (b *background) receive(d *Decoder) {
	h := <-b.back
	d.takeBack(h)
	b.spare = append(b.spare, h)
}

// takeBack reuses the flows of h, come back from the outlet's goroutine.
func (d *Decoder) takeBack(h *handed) {
	for i := range h.n {
		d.reuse(h.flows[i])
	}
	clear(h.flows[:h.n])
	clear(h.encaps[:h.n])
	clear(h.tombs[:h.n])
	h.n = 0
	d.freeTombs = append(d.freeTombs, h.fresh[:h.nFresh]...)
	clear(h.fresh[:h.nFresh])
	h.nFresh, h.wantFresh, h.freshPairs = 0, false, 0
	d.handedBack++
}
