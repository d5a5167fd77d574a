package decode

import (
	"net/netip"
	"time"
)

// PreviewLen is how many payload bytes an Event keeps for display.
const PreviewLen = 32

// Event is one TCP segment as seen in its connection.
type Event struct {
	// Frame is the segment's position in the capture, 1-based, like
	// tshark's frame.number.
	Frame uint64
	// T is the time since the connection's first packet.
	T     time.Duration
	Dir   Dir
	Flags Flags
	// Seq and Ack are relative to each side's initial sequence number, as
	// tcpdump and Wireshark show them (the SYN has Seq 0). Ack is 0 when the
	// ACK bit is clear.
	Seq, Ack uint32
	// Len is the payload length (from the IP header, so it is right even
	// when the capture cut the payload short).
	Len uint32
	// Win is the advertised window, scaled once both SYNs carried the
	// window scale option (RFC 7323 §2.2); SYNs themselves are never scaled.
	Win  uint32
	Note Note
	// Anomalies are tshark's analysis flags for the segment; DupAck is
	// the duplicate ACK's number (#n) when DuplicateACK is set.
	Anomalies Anomaly
	DupAck    uint32
	// ClientState and ServerState are each side's RFC 9293 state after
	// the segment.
	ClientState, ServerState State
	// Backoff is, for a retransmitted SYN or SYN-ACK, the time since the
	// previous one (Linux doubles it: 1 s, 2 s, 4 s…).
	Backoff time.Duration

	previewLen uint8
	preview    [PreviewLen]byte
}

// Preview returns up to PreviewLen captured bytes of the payload, raw. It is
// bytes from the wire: escape them before they reach a terminal.
func (e *Event) Preview() []byte { return e.preview[:e.previewLen] }

// Handshake records which stages of the three-way handshake were seen and
// when (the first occurrence of each).
type Handshake struct {
	SYN, SYNACK, ACK bool
	// OutOfOrder is set when a stage is dated before an earlier one: the
	// capture's clock ran backwards, and the handshake's times are
	// unknown. They read 0 then, as those of a missing stage do.
	OutOfOrder                   bool
	SYNTime, SYNACKTime, ACKTime time.Time
	SYNCount, SYNACKCount        int // including retransmissions
}

// Complete reports whether SYN, SYN-ACK and the client's ACK were all seen.
func (h *Handshake) Complete() bool { return h.SYN && h.SYNACK && h.ACK }

// SYNToSYNACK is the time from the first SYN to the first SYN-ACK: the
// server's reaction time plus the path. Zero when either is missing, or
// when the handshake is OutOfOrder.
func (h *Handshake) SYNToSYNACK() time.Duration {
	if !h.SYN || !h.SYNACK || h.OutOfOrder {
		return 0
	}
	return h.SYNACKTime.Sub(h.SYNTime)
}

// SYNACKToACK is the time from the first SYN-ACK to the client's ACK: the
// client's reaction time plus the path. Zero when either is missing, or
// when the handshake is OutOfOrder.
func (h *Handshake) SYNACKToACK() time.Duration {
	if !h.SYNACK || !h.ACK || h.OutOfOrder {
		return 0
	}
	return h.ACKTime.Sub(h.SYNACKTime)
}

// Total is the time from the first SYN to the handshake's final ACK. Zero
// when the handshake is not complete, or OutOfOrder.
func (h *Handshake) Total() time.Duration {
	if !h.Complete() || h.OutOfOrder {
		return 0
	}
	return h.ACKTime.Sub(h.SYNTime)
}

// Conn is one TCP connection: the record the decoder hands to its Sink.
// Arrays of two are indexed by Side (Client, Server).
type Conn struct {
	// ID numbers connections from 1 in the order of their first packet.
	ID uint64
	// Resumed is set on a record that goes on with a connection an
	// earlier record with the same ID already reported, the decoder
	// having handed it over before its last segment: when it closed
	// (both FINs acknowledged, or a RST) and a segment came late (a
	// retransmitted FIN, a last ACK, a RST), or early at the MaxConns
	// cap. Its roles, Partial, ClosedBy and FirstSeen are the
	// connection's (so its Zeek uid is the earlier record's, and its
	// event times go on from the same start), its relative sequence
	// numbers go on from the same bases, and the analysers go on from the
	// state the decoder kept (a tombstone: see Decoder). Its counters,
	// events, handshake stages and times, Anomalies, RTT, History and
	// ZeekBytes cover its own segments;
	// its Verdict and ConnState sum up the whole connection, and
	// PriorVerdict and PriorConnState say what the record before it
	// summed up, so that a tally can move the connection from one to
	// the other instead of counting it twice (as Totals does).
	Resumed        bool
	PriorVerdict   Verdict
	PriorConnState ConnState
	// Proto is TCP, or UDP for a datagram flow (Config.UDP).
	Proto Proto
	// Client sent the first SYN. When no SYN was seen, Partial is set and
	// the roles are a guess (see guessRoles).
	Client, Server netip.AddrPort
	Partial        bool
	// Encap is the encapsulation the segments came in (VLAN tags, MPLS
	// labels, PPPoE, a tunnel), nil for none. It is the decoder's: the
	// same for every connection in it, not to be changed.
	Encap *Encap
	// TimeBackwards counts the segments dated before an earlier segment
	// of the connection (each has NoteTimeBackwards): the capture's clock
	// ran backwards, or the capture merged sources out of order.
	TimeBackwards uint32

	// FirstSeen is the date of the first segment, LastSeen the latest date
	// of any: they are the first and the last unless the clock ran
	// backwards, and Duration is never negative.
	FirstSeen, LastSeen time.Time
	Handshake           Handshake

	Packets [2]uint64
	Bytes   [2]uint64 // payload bytes, retransmissions included
	IPBytes [2]uint64 // IP packet bytes, headers included
	FINs    [2]uint32
	RSTs    [2]uint32
	// ClosedBy is the side that sent the first FIN or RST.
	ClosedBy Side

	// Options are those of each side's SYN (HasOptions tells whether that
	// side's SYN was seen).
	Options    [2]Options
	HasOptions [2]bool

	// Events holds one entry per segment, up to the decoder's MaxEvents;
	// EventsOmitted counts the segments beyond it.
	Events        []Event
	EventsOmitted uint64

	// IRTT is tshark's initial RTT (tcp.analysis.initial_rtt): from the
	// first SYN to the first segment with ACK and without SYN, whoever
	// sends it (the handshake's ACK; for a refused connection, the RST).
	// When that segment is dated before the SYN, IRTTUnknown is set and
	// IRTT is 0 (tshark would show a negative time).
	IRTT time.Duration
	// FirstData is when each side first sent payload (zero if never).
	FirstData [2]time.Time
	// RTT holds round-trip samples for the data each side sends: the
	// time from a segment to the peer's ACK covering it, one segment
	// timed at a time and never a retransmitted one (Karn's rule).
	RTT [2]RTTStats
	// ECN is set when the SYN offered ECN (ECE+CWR) and the SYN-ACK
	// accepted it (ECE), RFC 3168 §6.1.1.
	ECN bool
	// HalfClosed is set when a side sent data after the peer's FIN.
	HalfClosed  bool
	IRTTUnknown bool // see IRTT

	// Anomalies counts the segments carrying each analysis flag, indexed
	// by Anomaly.Index.
	Anomalies [NumAnomalies]uint32

	// Verdict, ConnState, History and ZeekBytes sum the connection up.
	// The decoder sets them when it hands the connection to its Sink, and
	// they are final from then on. The record a Config.OnEvent callback
	// is given is made as of its segment: what the record would say if
	// the connection ended there.
	Verdict Verdict
	// ConnState is Zeek's conn_state; History is Zeek's history string
	// ("ShADadFf" for the greeting; see the README for the letters).
	ConnState ConnState
	History   string
	// ZeekBytes is Zeek's orig_bytes and resp_bytes, by Side: the payload
	// in sequence space (the highest of the last sequence number sent and
	// the peer's ACK, less the SYN and FIN octets), so that
	// retransmissions count once.
	ZeekBytes [2]uint64

	// marks are each side's ISN and FIN numbers, isnSeen whether each
	// side's SYN was seen, here or in an earlier record (see ISN).
	marks   [2]seqMarks
	isnSeen [2]bool
}

// carried is what a Resumed record knows of its connection's earlier
// records beyond the analysers' own state, so that its summing-up covers
// the whole connection: all zero in a record that is not Resumed.
type carried struct {
	syn, synack, ack bool    // handshake stages seen
	rst              [2]bool // each side sent a RST
	sent             [2]bool // each side sent a segment
	ws               windowScaling
	data             [2]bool   // each side sent payload
	zeekBytes        [2]uint64 // ZeekBytes of a TCP connection
}

// seqMarks are the sequence numbers of one side that more than one
// analysis needs: its initial sequence number, the base of relative
// numbering, and the number its first FIN occupies.
type seqMarks struct {
	isn, fin         Seq
	haveISN, haveFIN bool
	isnOfSYN         bool // isn is a SYN's, not a guess
}

// Established reports whether the three-way handshake completed.
func (c *Conn) Established() bool { return c.Handshake.Complete() }

// Duration is the time from the first packet to the latest date of any.
func (c *Conn) Duration() time.Duration { return c.LastSeen.Sub(c.FirstSeen) }

// guessRoles picks client and server for a connection whose first packet is
// not a SYN. A SYN-ACK names the server outright. Otherwise the server is
// the end with the well-known port (below 1024) if exactly one has one,
// else the end with the lower port (clients use high ephemeral ports), and
// on a tie the sender of the first packet is the client.
func guessRoles(seg *Segment) (client, server netip.AddrPort) {
	if seg.Flags.Has(SYN | ACK) {
		return seg.Dst, seg.Src
	}
	sp, dp := seg.Src.Port(), seg.Dst.Port()
	switch {
	case sp < 1024 && dp >= 1024:
		return seg.Dst, seg.Src
	case dp < 1024 && sp >= 1024:
		return seg.Src, seg.Dst
	case sp < dp:
		return seg.Dst, seg.Src
	}
	return seg.Src, seg.Dst
}

// RTTStats sums up round-trip samples.
type RTTStats struct {
	Count         uint64
	Min, Max, Sum time.Duration
}

// Avg is the mean sample, 0 without samples.
func (r *RTTStats) Avg() time.Duration {
	if r.Count == 0 {
		return 0
	}
	return r.Sum / time.Duration(r.Count)
}

func (r *RTTStats) add(d time.Duration) {
	if r.Count == 0 || d < r.Min {
		r.Min = d
	}
	r.Max = max(r.Max, d)
	r.Sum += d
	r.Count++
}

// TTFB is the time from the client's first payload to the server's first
// payload after it; 0 when there is no such pair (the server spoke first,
// or one side sent nothing).
func (c *Conn) TTFB() time.Duration {
	cl, sv := c.FirstData[Client], c.FirstData[Server]
	if cl.IsZero() || sv.IsZero() || sv.Before(cl) {
		return 0
	}
	return sv.Sub(cl)
}
