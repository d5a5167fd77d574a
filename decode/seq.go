package decode

// Seq is a TCP sequence (or acknowledgement) number. Sequence space wraps
// at 2^32, so numbers are compared as RFC 9293 §3.4 says, by their
// distance modulo 2^32, never as plain integers; these methods are the
// package's one spelling of that comparison (after gVisor's
// pkg/tcpip/seqnum). Two numbers exactly 2^31 apart are not ordered
// (RFC 1982 §3.2 leaves the case undefined): neither is LessThan the
// other, and each is LessThanEq the other.
type Seq uint32

// LessThan reports a < b in sequence space: b is 1 to 2^31-1 ahead of a.
func (a Seq) LessThan(b Seq) bool { return int32(b-a) > 0 }

// LessThanEq reports a <= b in sequence space: b is not 1 to 2^31-1
// behind a.
func (a Seq) LessThanEq(b Seq) bool { return !b.LessThan(a) }

// InRange reports a <= v < b in sequence space: v lies in the window that
// starts at a and ends just before b.
func (v Seq) InRange(a, b Seq) bool { return v-a < b-a }

// InWindow reports whether v lies in the size numbers starting at first.
func (v Seq) InWindow(first Seq, size uint32) bool { return v.InRange(first, first.Add(size)) }

// Add returns the number n past a: the end of n octets that start at a.
func (a Seq) Add(n uint32) Seq { return a + Seq(n) }

// Sub returns how far a is past b, modulo 2^32: a's number relative to a
// base b, as tcpdump and Wireshark show relative sequence numbers.
func (a Seq) Sub(b Seq) uint32 { return uint32(a - b) }
