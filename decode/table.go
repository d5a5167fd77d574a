package decode

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// table holds records (flows, tombstones) by key: open addressing with
// linear probing over a power-of-two array of slots, at most three
// quarters full. It is what a Go map of the keys was, in a third of the
// memory (16 bytes a slot, against the map's key, value and control
// bytes) and for less time a packet. Each slot keeps its record's hash
// beside the pointer, so that a probe reads a record (a cache miss, in a
// table of hundreds of thousands of tombstones) only when the hashes
// match: at three quarters full a key that is not there passes eight
// slots on average. Keys are hashed with a seed of the table's own (see
// hash), so that a capture cannot be made to collide.
type table[T any] struct {
	slots []slot[T]
	n     int
	seed  [4]uint64 // random: see hash
}

// slot is one place of a table: a record and its key's hash (p nil: free).
type slot[T any] struct {
	hash uint64
	p    *T
}

// writeFirst writes each page of s, fresh from make, before anything
// reads it. A page new from the system that is read first is mapped to
// the kernel's shared page of zeros, and the write that follows copies it
// and flushes the old mapping from every core the process runs on: an
// interrupt to the other core, costly in a virtual machine. A write first
// takes the page in one fault. On the 200,000-connection capture, the
// tombstones' table, probed as it grows and scanned by the collector, and
// the batch reader's batches, scanned before they are filled, had 1,700
// pages read first. On Linux the pages are mapped in one system call
// instead (populate), without a fault each: 0.6 µs a page against 11 µs a
// fault on the virtual machine measured on, 2,100 of the 11,800 faults of
// --summary on that capture.
func writeFirst[E any](s []E) []E {
	var e E
	n := uintptr(len(s)) * unsafe.Sizeof(e)
	p := unsafe.Pointer(unsafe.SliceData(s))
	if n == 0 || populate(p, n) {
		return s
	}
	for off := uintptr(0); off < n; off += pageSize {
		// A byte and not an element: storing an element that holds
		// pointers reads the old one first, while the collector runs.
		// s is fresh from make, all zeros: the value is unchanged.
		*(*byte)(unsafe.Add(p, off)) = 0
	}
	return s
}

// pageSize is the smallest page size of the systems synack runs on.
const pageSize = 4096

// minTableSlots is the table's size before its first growth.
const minTableSlots = 1 << 10

func newTable[T any]() table[T] {
	t := table[T]{slots: make([]slot[T], minTableSlots)}
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
func (t *table[T]) hash(k *connKey) uint64 { return hashKey(&t.seed, k) }

// hashKey is hash with seed.
func hashKey(seed *[4]uint64, k *connKey) uint64 {
	ports := uint64(k.aPort)<<48 | uint64(k.bPort)<<32 | uint64(k.zoneProto)
	h := mix(k.aLo^seed[0], k.bLo^seed[1]) ^ mix(k.aHi^seed[2], k.bHi^seed[3])
	return mix(h^ports, seed[0]^seed[3])
}

// mix is wyhash's mum: a*b in 128 bits, folded to 64.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// get returns the record of key, or nil.
func (t *table[T]) get(key *connKey) *T {
	return t.getHashed(key, t.hash(key))
}

// getHashed is get of key, whose hash is h.
func (t *table[T]) getHashed(key *connKey, h uint64) *T {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.p == nil || s.hash == h && keyAt(s.p).equal(key) {
			return s.p
		}
	}
}

// put adds f, whose key is in no record of the table.
func (t *table[T]) put(f *T) { t.putHashed(f, t.hash(keyAt(f))) }

// putHashed is put of f, whose key's hash is h.
func (t *table[T]) putHashed(f *T, h uint64) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	t.place(slot[T]{h, f})
	t.n++
}

// place puts s in the first free slot from its own.
func (t *table[T]) place(s slot[T]) {
	mask := uint64(len(t.slots) - 1)
	i := s.hash & mask
	for t.slots[i].p != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

// grow doubles the slots.
func (t *table[T]) grow() {
	old := t.slots
	t.slots = writeFirst(make([]slot[T], 2*len(old)))
	for _, s := range old {
		if s.p != nil {
			t.place(s)
		}
	}
}

// remove takes f out. The records after it in its run move back, each to
// the first slot on its way from its own (backward-shift deletion), so
// that no probe meets a hole it should not stop at, and no tombstones
// build up.
func (t *table[T]) remove(f *T) {
	mask := uint64(len(t.slots) - 1)
	i := t.hash(keyAt(f)) & mask
	for t.slots[i].p != f {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; t.slots[j].p != nil; j = (j + 1) & mask {
		// The record at j may fill the hole at i if its own slot is not
		// in (i, j], cyclically.
		if home := t.slots[j].hash & mask; (j-home)&mask >= (j-i)&mask {
			t.slots[i], i = t.slots[j], j
		}
	}
	t.slots[i] = slot[T]{}
	t.n--
}

// each calls fn for every record, in no order.
func (t *table[T]) each(fn func(*T)) {
	for _, s := range t.slots {
		if s.p != nil {
			fn(s.p)
		}
	}
}

// WriteFirst writes each page of items, fresh from make or new, before
// anything reads them: see writeFirst.
func WriteFirst(items []Parsed) { writeFirst(items) }
