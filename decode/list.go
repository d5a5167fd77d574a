package decode

// links are a record's place in one of the decoder's lists: each list
// holds records in the order they were last active, the least recently
// active first, so that finding those idle past a timeout, or the least
// recently active at the cap, looks at the head and at nothing else.
type links[T any] struct{ prev, next *T }

// linked is a record type with links.
type linked[T any] interface {
	*T
	linksOf() *links[T]
}

// list is an intrusive doubly linked list of records.
type list[T any, P linked[T]] struct {
	head, tail *T
	n          int
}

// pushBack puts x, which is in no list, at the tail.
func (l *list[T, P]) pushBack(x *T) {
	lx := P(x).linksOf()
	lx.prev, lx.next = l.tail, nil
	if l.tail != nil {
		P(l.tail).linksOf().next = x
	} else {
		l.head = x
	}
	l.tail = x
	l.n++
}

// remove takes x out of l, which holds it.
func (l *list[T, P]) remove(x *T) {
	lx := P(x).linksOf()
	if lx.prev != nil {
		P(lx.prev).linksOf().next = lx.next
	} else {
		l.head = lx.next
	}
	if lx.next != nil {
		P(lx.next).linksOf().prev = lx.prev
	} else {
		l.tail = lx.prev
	}
	lx.prev, lx.next = nil, nil
	l.n--
}
