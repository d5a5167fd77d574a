package decode

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
)

// table holds records (flows, tombstones) by key: open addressing with
// linear probing over a power-of-two array of pointers, at most three
// quarters full. It is what a Go map of the keys was, in a fifth of the
// memory (8 bytes a slot, against the map's key, value and control
// bytes) and for less time a packet: the key compared is in the record,
// which the packet goes on to read anyway. Keys are hashed with a seed of
// the table's own (see hash), so that a capture cannot be made to
// collide.
type table[T any, P keyed[T]] struct {
	slots []*T
	n     int
	seed  [4]uint64 // random: see hash
}

// keyed is a record type with a key.
type keyed[T any] interface {
	*T
	keyOf() *connKey
}

func (f *flow) keyOf() *connKey { return &f.key }
func (t *tomb) keyOf() *connKey { return &t.key }

// minTableSlots is the table's size before its first growth.
const minTableSlots = 1 << 10

func newTable[T any, P keyed[T]]() table[T, P] {
	t := table[T, P]{slots: make([]*T, minTableSlots)}
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	for i := range t.seed {
		t.seed[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return t
}

// hash is key's hash: wyhash's mixing (the high and low halves of a
// 128-bit product, xored) of the key's words with the table's random
// seed, in four multiplications. hash/maphash took three times as long,
// a call to hash 40 bytes.
func (t *table[T, P]) hash(k *connKey) uint64 {
	ports := uint64(k.aPort)<<48 | uint64(k.bPort)<<32 | uint64(k.zoneProto)
	h := mix(k.aLo^t.seed[0], k.bLo^t.seed[1]) ^ mix(k.aHi^t.seed[2], k.bHi^t.seed[3])
	return mix(h^ports, t.seed[0]^t.seed[3])
}

// mix is wyhash's mum: a*b in 128 bits, folded to 64.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// get returns the record of key, or nil.
func (t *table[T, P]) get(key *connKey) *T {
	mask := uint64(len(t.slots) - 1)
	for i := t.hash(key) & mask; ; i = (i + 1) & mask {
		f := t.slots[i]
		if f == nil || P(f).keyOf().equal(key) {
			return f
		}
	}
}

// put adds f, whose key is in no record of the table.
func (t *table[T, P]) put(f *T) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	t.place(f)
	t.n++
}

// place puts f in the first free slot from its own.
func (t *table[T, P]) place(f *T) {
	mask := uint64(len(t.slots) - 1)
	i := t.hash(P(f).keyOf()) & mask
	for t.slots[i] != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = f
}

// grow doubles the slots.
func (t *table[T, P]) grow() {
	old := t.slots
	t.slots = make([]*T, 2*len(old))
	for _, f := range old {
		if f != nil {
			t.place(f)
		}
	}
}

// remove takes f out. The records after it in its run move back, each to
// the first slot on its way from its own (backward-shift deletion), so
// that no probe meets a hole it should not stop at, and no tombstones
// build up.
func (t *table[T, P]) remove(f *T) {
	mask := uint64(len(t.slots) - 1)
	i := t.hash(P(f).keyOf()) & mask
	for t.slots[i] != f {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; t.slots[j] != nil; j = (j + 1) & mask {
		// The flow at j may fill the hole at i if its own slot is not
		// in (i, j], cyclically.
		if home := t.hash(P(t.slots[j]).keyOf()) & mask; (j-home)&mask >= (j-i)&mask {
			t.slots[i], i = t.slots[j], j
		}
	}
	t.slots[i] = nil
	t.n--
}

// each calls fn for every record, in no order.
func (t *table[T, P]) each(fn func(*T)) {
	for _, f := range t.slots {
		if f != nil {
			fn(f)
		}
	}
}
