package decode

import "unsafe"

// entry is how a flow begins: its key in the decoder's table, then its
// place in its list. Each list holds flows in the order they were last
// active, the least recently active first, so that finding those idle
// past a timeout, or the least recently active at the cap, looks at the
// head and at nothing else.
//
// The tables reach a record's key, and the lists a flow's entry, by
// converting the pointer to the record, which begins with them
// (TestEntryIsFirst): a method of the type parameter would be a call
// through the generic dictionary, not inlined, on every operation, and a
// packet makes several.
type entry[T any] struct {
	key        connKey
	prev, next *T
}

// entryOf is the entry of x, a flow.
func entryOf[T any](x *T) *entry[T] { return (*entry[T])(unsafe.Pointer(x)) }

// keyAt is the key of x, a flow or a tomb, which begins with it.
func keyAt[T any](x *T) *connKey { return (*connKey)(unsafe.Pointer(x)) }

// list is an intrusive doubly linked list of records.
type list[T any] struct {
	head, tail *T
	n          int
}

// pushBack puts x, which is in no list, at the tail.
func (l *list[T]) pushBack(x *T) {
	ex := entryOf(x)
	ex.prev, ex.next = l.tail, nil
	if l.tail != nil {
		entryOf(l.tail).next = x
	} else {
		l.head = x
	}
	l.tail = x
	l.n++
}

// remove takes x out of l, which holds it.
func (l *list[T]) remove(x *T) {
	ex := entryOf(x)
	if ex.prev != nil {
		entryOf(ex.prev).next = ex.next
	} else {
		l.head = ex.next
	}
	if ex.next != nil {
		entryOf(ex.next).prev = ex.prev
	} else {
		l.tail = ex.prev
	}
	ex.prev, ex.next = nil, nil
	l.n--
}
