package decode

import "hash/maphash"

// table holds the flows by key: open addressing with linear probing over
// a power-of-two array of pointers, at most three quarters full, each
// flow keeping its key's hash. It is what a Go map of the 37-byte keys
// was, in a fifth of the memory (8 bytes a slot, against the map's key,
// value and control bytes) and for less time a packet: the hash is
// compared before the key, and the key is in the flow, which the packet
// goes on to read. Keys are hashed with a seed of the table's own
// (hash/maphash), so that a capture cannot be made to collide.
type table struct {
	slots []*flow
	n     int
	seed  maphash.Seed
}

// minTableSlots is the table's size before its first growth.
const minTableSlots = 1 << 10

func newTable() table {
	return table{slots: make([]*flow, minTableSlots), seed: maphash.MakeSeed()}
}

// hash is key's hash.
func (t *table) hash(key *connKey) uint64 { return maphash.Bytes(t.seed, key[:]) }

// get returns the flow of key, whose hash is h, or nil.
func (t *table) get(key *connKey, h uint64) *flow {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		f := t.slots[i]
		if f == nil || f.hash == h && f.key == *key {
			return f
		}
	}
}

// put adds f, whose key is in no flow of the table.
func (t *table) put(f *flow) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	t.place(f)
	t.n++
}

// place puts f in the first free slot from its own.
func (t *table) place(f *flow) {
	mask := uint64(len(t.slots) - 1)
	i := f.hash & mask
	for t.slots[i] != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = f
}

// grow doubles the slots.
func (t *table) grow() {
	old := t.slots
	t.slots = make([]*flow, 2*len(old))
	for _, f := range old {
		if f != nil {
			t.place(f)
		}
	}
}

// remove takes f out. The flows after it in its run move back, each to
// the first slot on its way from its own (backward-shift deletion), so
// that no probe meets a hole it should not stop at, and no tombstones
// build up.
func (t *table) remove(f *flow) {
	mask := uint64(len(t.slots) - 1)
	i := f.hash & mask
	for t.slots[i] != f {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; t.slots[j] != nil; j = (j + 1) & mask {
		// The flow at j may fill the hole at i if its own slot is not
		// in (i, j], cyclically.
		if home := t.slots[j].hash & mask; (j-home)&mask >= (j-i)&mask {
			t.slots[i], i = t.slots[j], j
		}
	}
	t.slots[i] = nil
	t.n--
}

// each calls fn for every flow, in no order.
func (t *table) each(fn func(*flow)) {
	for _, f := range t.slots {
		if f != nil {
			fn(f)
		}
	}
}
