package decode

import "strings"

// Flags holds a TCP segment's control bits in the order of the header byte
// (FIN is bit 0, CWR bit 7) plus the ECN nonce bit as bit 8.
type Flags uint16

// TCP control bits.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
	NS
)

// Has reports whether all bits of m are set in f.
func (f Flags) Has(m Flags) bool { return f&m == m }

// Tcpdump renders the flags the way tcpdump prints them: "S", "S.", "P.",
// "F.", "R.", "." for a bare ACK, "none" when no bit is set.
func (f Flags) Tcpdump() string {
	var b [10]byte
	n := 0
	for _, x := range [...]struct {
		bit Flags
		c   byte
	}{{FIN, 'F'}, {SYN, 'S'}, {RST, 'R'}, {PSH, 'P'}, {URG, 'U'}, {ECE, 'E'}, {CWR, 'W'}} {
		if f&x.bit != 0 {
			b[n] = x.c
			n++
		}
	}
	if f&ACK != 0 {
		b[n] = '.'
		n++
	}
	if n == 0 {
		return "none"
	}
	return string(b[:n])
}

// String names the set bits, most significant first as people say them:
// "SYN", "SYN-ACK", "PSH-ACK", "FIN-ACK", "RST-ACK".
func (f Flags) String() string {
	var parts []string
	for _, x := range [...]struct {
		bit  Flags
		name string
	}{{SYN, "SYN"}, {FIN, "FIN"}, {RST, "RST"}, {PSH, "PSH"}, {URG, "URG"}, {ECE, "ECE"}, {CWR, "CWR"}, {NS, "NS"}, {ACK, "ACK"}} {
		if f&x.bit != 0 {
			parts = append(parts, x.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "-")
}

// Dir is the direction of a segment relative to the connection's roles.
type Dir uint8

// Directions.
const (
	ClientToServer Dir = iota
	ServerToClient
)

// String returns "c2s" or "s2c", the names used in JSON.
func (d Dir) String() string {
	if d == ClientToServer {
		return "c2s"
	}
	return "s2c"
}

// Sender returns the side that sends segments in direction d.
func (d Dir) Sender() Side {
	if d == ClientToServer {
		return Client
	}
	return Server
}

// Side names one end of a connection. Client and Server index the
// two-element arrays of Conn.
type Side uint8

// Sides. NoSide is used where no side applies (for example ClosedBy of a
// connection that never closed).
const (
	Client Side = iota
	Server
	NoSide
)

// String returns "client", "server" or "".
func (s Side) String() string {
	switch s {
	case Client:
		return "client"
	case Server:
		return "server"
	}
	return ""
}

// Other returns the opposite side.
func (s Side) Other() Side { return 1 - s }

// Verdict sums up how a connection went.
type Verdict uint8

// Verdicts, in the order the summary lists them.
const (
	// Complete: three-way handshake, then closed by FINs both ways.
	Complete Verdict = iota
	// Refused: the SYN was answered by RST.
	Refused
	// Reset: established, then aborted by RST.
	Reset
	// NoAnswer: SYNs and nothing back.
	NoAnswer
	// Incomplete: the handshake started and never finished.
	Incomplete
	// Open: established and not closed when the capture ended.
	Open
	// Partial: the connection began before the capture (no SYN seen).
	Partial
	// UDPFlow: datagrams between two endpoints; UDP has no handshake and
	// no teardown to judge.
	UDPFlow
	// NumVerdicts is the number of verdicts, not a verdict: the length
	// of arrays indexed by Verdict.
	NumVerdicts
)

// Verdicts lists every verdict in summary order.
func Verdicts() []Verdict {
	v := make([]Verdict, NumVerdicts)
	for i := range v {
		v[i] = Verdict(i)
	}
	return v
}

var verdictNames = [NumVerdicts]string{"complete", "refused", "reset", "no-answer", "incomplete", "open", "partial", "udp"}

// String returns the verdict's name as used in text and JSON output.
func (v Verdict) String() string {
	if v < NumVerdicts {
		return verdictNames[v]
	}
	return "unknown"
}

// Note says what a segment means in the life of its connection. A segment
// can mean several things at once (data carried on the FIN, say), so Note
// is a set of bits.
type Note uint32

// Meanings of a segment.
const (
	NoteHandshake1    Note = 1 << iota // the client's SYN
	NoteHandshake2                     // the server's SYN-ACK
	NoteHandshakeDone                  // the client's ACK of the SYN-ACK
	NoteSYNRetransmit                  // a SYN sent again with the same ISN
	NoteSYNACKRetransmit
	NoteSimultaneousOpen // a SYN from the server side (RFC 9293 §3.5, simultaneous open)
	NoteData
	NoteClientCloses // first FIN of the client
	NoteServerCloses // first FIN of the server
	NoteFINAcked     // acknowledges the peer's FIN
	NoteClosed       // acknowledges the last FIN: both directions are closed
	NoteRefused      // RST answering a SYN
	NoteClientResets // RST from the client after the handshake started
	NoteServerResets // RST from the server on an established connection
	NoteAck          // a bare acknowledgement
	NoteDatagram     // a UDP datagram
	NoteDataOnSYN    // payload on a SYN: TCP Fast Open (RFC 7413)
	NoteHalfClose    // data after the peer's FIN: the peer half-closed
	// NoteTimeBackwards: dated before an earlier segment of the
	// connection (Conn.TimeBackwards).
	NoteTimeBackwards
	// NoteRSTIgnored: a RST in SYN-SENT that does not end the attempt
	// (RFC 9293 §3.10.7.3): the client's answer to an unacceptable ACK,
	// or the server's without an ACK of the SYN.
	NoteRSTIgnored
)

var noteNames = [...]string{
	"handshake 1/3", "handshake 2/3", "handshake complete", "SYN retransmitted", "SYN-ACK retransmitted",
	"simultaneous open", "data", "client closes", "server closes", "FIN acknowledged", "connection closed",
	"refused", "client aborts (RST)", "server aborts (RST)", "ack", "datagram", "data on SYN (Fast Open)",
	"half-close: sent after the peer's FIN", "time went backwards", "RST unacceptable in SYN-SENT: the attempt goes on",
}

// String joins the meanings with ", ", for example "data, server closes".
func (n Note) String() string { return joinBits(uint64(n), noteNames[:]) }

// joinBits joins, with ", ", the names of the bits set in bits (bit i is
// names[i]).
func joinBits(bits uint64, names []string) string {
	var b strings.Builder
	for i, name := range names {
		if bits&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name)
	}
	return b.String()
}

// Proto is a flow's transport protocol.
type Proto uint8

// Protocols.
const (
	TCP Proto = iota
	UDP
)

// String returns "tcp" or "udp".
func (p Proto) String() string {
	if p == UDP {
		return "udp"
	}
	return "tcp"
}
