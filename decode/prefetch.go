//go:build amd64 || arm64

package decode

import "unsafe"

// prefetch asks the processor for the two cache lines at p, without
// waiting for them: for memory the decoder will write a while later, which
// would otherwise stall it then (a tombstone to reuse, long out of the
// cache). The Go compiler has no such instruction to offer.
//
//go:noescape
func prefetch(p unsafe.Pointer)

// Ahead tells d of a frame it will be given a few dozen frames on, so
// that the memory Apply will read for it first is in the cache by then:
// the table slot of its connection and, for a SYN, which opens a
// connection, the slot of a tombstone. A frame the Parser did not hash
// for d is left alone.
func (d *Decoder) Ahead(pf *Parsed) {
	if pf.by != d {
		return
	}
	prefetch(unsafe.Pointer(&d.conns.slots[pf.hash&uint64(len(d.conns.slots)-1)]))
	if pf.seg.Flags&(SYN|ACK) == SYN && d.tombs.n > 0 {
		prefetch(unsafe.Pointer(&d.tombs.slots[pf.hash&uint64(len(d.tombs.slots)-1)]))
	}
}
