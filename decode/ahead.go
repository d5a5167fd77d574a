package decode

import "unsafe"

// Ahead tells d of a frame it will be given a few dozen frames on, so
// that the tombstones' table slot Apply will read for it is in the cache
// by then: a SYN opens a connection, for which Apply looks a tombstone
// up, and a RST ends one, whose tombstone it puts there. (The
// connections' slots, looked up for every frame, gained nothing from it.)
// A frame the Parser did not hash for d is left alone.
func (d *Decoder) Ahead(pf *Parsed) {
	if pf.tombAhead { // the rest out of line: Ahead is inlined
		d.aheadTomb(pf)
	}
}

// aheadTomb is Ahead for a SYN or a RST.
func (d *Decoder) aheadTomb(pf *Parsed) {
	if pf.by == d {
		d.prefetchTomb(pf.hash)
	}
}

// prefetchTomb asks for the tombstones' table slot of the key whose hash
// is h.
func (d *Decoder) prefetchTomb(h uint64) {
	prefetch(unsafe.Pointer(&d.tombs.slots[h&uint64(len(d.tombs.slots)-1)]))
}

// Prefetch asks the processor for pf's cache lines without waiting for
// them. The batch reader parses frames on one core and applies them on
// the other, so every Parsed it applies (seven cache lines) comes from
// the other core's cache: asked for a few dozen frames ahead, they are
// here when Apply reads them, where the lines Apply reads first would
// otherwise stall it one by one (8% of --summary's time on the
// 200,000-connection capture).
func Prefetch(pf *Parsed) { prefetchRange(unsafe.Pointer(pf), unsafe.Sizeof(*pf)) }

// PrefetchW asks for pf's cache lines to be written, without waiting for
// them: the batch reader's Parser writes each Parsed the other core has
// read last, and every store to a line the other core holds waits for the
// line to be taken from it (a tenth of a microsecond or more where the
// two cores share no cache), so the lines are asked for a few frames
// before they are parsed into.
func PrefetchW(pf *Parsed) { prefetchRangeW(unsafe.Pointer(pf), unsafe.Sizeof(*pf)) }

// PrefetchEvent asks for e's cache lines without waiting for them: a
// record's events were written on the decoder's core, and a renderer on
// another one reading them one after the other waits for each (a third
// of the time it takes to write an event's JSON object, where the cores
// share no cache) unless it asks for those a few events on first.
func PrefetchEvent(e *Event) { prefetchRange(unsafe.Pointer(e), unsafe.Sizeof(*e)) }
