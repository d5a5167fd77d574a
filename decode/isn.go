package decode

// ISN is side s's initial sequence number as seen: the sequence number of
// its SYN (or SYN-ACK), the base its relative numbers count from. ok is
// false when no SYN of that side was captured: then there is no ISN to
// show, only a base guessed from the first segment.
func (c *Conn) ISN(s Side) (isn uint32, ok bool) {
	m := &c.marks[s]
	return uint32(m.isn), m.haveISN && c.isnSeen[s]
}

// Absolute turns an event's relative sequence and acknowledgement numbers
// back into the numbers on the wire, as tcpdump -S prints them.
func (c *Conn) Absolute(e *Event) (seq, ack uint32) {
	sender := e.Dir.Sender()
	seq = e.Seq + uint32(c.marks[sender].isn)
	if e.Flags&ACK != 0 {
		ack = e.Ack + uint32(c.marks[sender.Other()].isn)
	}
	return seq, ack
}
