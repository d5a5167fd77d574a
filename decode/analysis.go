package decode

import "time"

// Anomaly is a set of tshark's TCP analysis flags (tcp.analysis.*) for one
// segment. Each is computed with Wireshark 4.x's rules
// (epan/dissectors/packet-tcp.c, tcp_analyze_sequence_number), in the same
// order, so that counts agree with `tshark -2`.
type Anomaly uint16

// Analysis flags, named as tshark names its fields.
const (
	Retransmission Anomaly = 1 << iota
	FastRetransmission
	SpuriousRetransmission
	DuplicateACK
	OutOfOrder
	LostSegment // previous segment not captured
	ACKUnseen   // ACKed segment that was not captured
	ZeroWindow
	ZeroWindowProbe
	ZeroWindowProbeACK
	WindowFull
	KeepAlive
	KeepAliveACK
	WindowUpdate
	// NumAnomalies is the number of analysis flags (the length of
	// Conn.Anomalies), not a flag.
	NumAnomalies = iota
)

var anomalyNames = [NumAnomalies]string{
	"retransmission", "fast_retransmission", "spurious_retransmission", "duplicate_ack", "out_of_order",
	"lost_segment", "ack_unseen", "zero_window", "zero_window_probe", "zero_window_probe_ack",
	"window_full", "keep_alive", "keep_alive_ack", "window_update",
}

// Anomalies lists every analysis flag in order.
func Anomalies() []Anomaly {
	a := make([]Anomaly, NumAnomalies)
	for i := range a {
		a[i] = 1 << i
	}
	return a
}

// Index is the flag's position in Anomalies (and in Conn.Anomalies).
func (a Anomaly) Index() int {
	for i := range NumAnomalies {
		if a == 1<<i {
			return i
		}
	}
	return -1
}

// String joins the flags' names with ", ".
func (a Anomaly) String() string { return joinBits(uint64(a), anomalyNames[:]) }

// tsharkFlows is tshark's analysis state for both directions of a
// connection, indexed by the sending Side. The dates are apart from the
// rest, which then packs without padding.
type tsharkFlows struct {
	flow  [2]flowState
	dates [2]flowDates
}

// flowDates date a flowState's nextSeq and lastAck, from the connection's
// firstSeen.
type flowDates struct {
	nextSeq, lastAck time.Duration
}

// flowState is tshark's per-direction analysis state (tcp_analyze_seq_info
// and its neighbours) for the segments one side sends.
type flowState struct {
	nextSeq, maxSeqToBeAcked, lastAck Seq
	haveNext, haveMax, haveLastAck    bool
	window                            uint16 // raw, as last advertised
	haveWindow                        bool
	lastWasSYN                        bool // the window above is a SYN's, never scaled
	dupAcks                           uint32
	lastFlags                         Anomaly
}

// oooThreshold is tshark's default out-of-order threshold before the
// initial RTT is known.
const oooThreshold = 3 * time.Millisecond

// fastRetransmitWindow: a retransmission within this time of the peer's
// second duplicate ACK is a fast retransmission.
const fastRetransmitWindow = 20 * time.Millisecond

// windowScaling is what an observer knows of window scaling (RFC 7323
// §2.2) so far: whether both SYNs were seen, so the scale in use is known,
// and the shift each side's windows take (0 unless both SYNs offered the
// option).
type windowScaling struct {
	known bool
	shift [2]uint8 // by the Side that advertises the window
}

// observe applies tshark's rules to a segment sent by side at t (from
// the connection's FirstSeen) and returns its flags and, for a duplicate
// ACK, its number. irtt is the connection's initial RTT so far (0 while
// unknown).
func (ts *tsharkFlows) observe(seg *Segment, side Side, t, irtt time.Duration, ws *windowScaling) (Anomaly, uint32) {
	fwd, rev := &ts.flow[side], &ts.flow[side.Other()]
	fwdAt, revAt := &ts.dates[side], &ts.dates[side.Other()]
	f := seg.Flags
	seq, ack, win := seg.Seq, seg.Ack, seg.Window
	seglen := uint32(seg.Len)
	var a Anomaly
	var dup uint32
	control := f&(SYN|FIN|RST) != 0

	func() { // the checks that end at tshark's finished_fwd label
		// Zero window probe: one byte at the next sequence number into a
		// closed window.
		if seglen == 1 && fwd.haveNext && seq == fwd.nextSeq && rev.window == 0 { // tshark: a peer not yet seen counts as window 0
			a |= ZeroWindowProbe
			return
		}
		if win == 0 && !control {
			a |= ZeroWindow
		}
		if fwd.haveNext && fwd.nextSeq.LessThan(seq) && f&RST == 0 {
			a |= LostSegment
		}
		if seglen <= 1 && fwd.haveNext && seq == fwd.nextSeq-1 && !control {
			a |= KeepAlive
		}
		if seglen == 0 && win != 0 && fwd.haveWindow && win != fwd.window && fwd.haveNext && seq == fwd.nextSeq &&
			fwd.haveLastAck && ack == fwd.lastAck && !control {
			a |= WindowUpdate
		}
		if seglen > 0 && !control && ws.known && rev.haveLastAck && rev.haveWindow {
			shift := ws.shift[side.Other()]
			if rev.lastWasSYN {
				shift = 0 // a SYN's window is never scaled
			}
			if seq.Add(seglen) == rev.lastAck.Add(uint32(rev.window)<<shift) {
				a |= WindowFull
			}
		}
		sameAck := seglen == 0 && fwd.haveWindow && win == fwd.window && fwd.haveNext && seq == fwd.nextSeq &&
			fwd.haveLastAck && !control
		if sameAck && win != 0 && ack == fwd.lastAck && rev.lastFlags&KeepAlive != 0 {
			a |= KeepAliveACK
			return
		}
		if sameAck && win == 0 && (ack == fwd.lastAck || ack == fwd.lastAck.Add(1)) && rev.lastFlags&ZeroWindowProbe != 0 {
			a |= ZeroWindowProbeACK
			return
		}
		if sameAck && win != 0 && ack == fwd.lastAck {
			fwd.dupAcks++
			dup = fwd.dupAcks
			a |= DuplicateACK
		}
	}()
	// tshark resets the duplicate ACK count only when the ACK number
	// moves: a window update in between does not end a run of dup ACKs.
	if fwd.haveLastAck && ack != fwd.lastAck {
		fwd.dupAcks = 0
	}

	// An ACK beyond everything seen from the peer acknowledges a segment
	// the capture missed.
	if f&ACK != 0 && rev.haveMax && rev.maxSeqToBeAcked.LessThan(ack) {
		a |= ACKUnseen
		rev.maxSeqToBeAcked = rev.nextSeq
	}

	if seglen > 0 || f&(SYN|FIN) != 0 {
		a |= retransmissionKind(fwd, rev, fwdAt, revAt, seg, a, t, irtt)
	}

	next := seq.Add(seglen)
	if f&(SYN|FIN) != 0 {
		next = next.Add(1)
	}
	// A RST's sequence number moves nothing: it may answer an
	// unacceptable ACK with that ACK's number (RFC 9293 §3.10.7.3), or be
	// injected; tshark's next expected number ignores it.
	still := a&ZeroWindowProbe != 0 || f&RST != 0
	if (!fwd.haveNext || fwd.nextSeq.LessThan(next)) && !still {
		fwd.nextSeq, fwd.haveNext, fwdAt.nextSeq = next, true, t
	}
	if (!fwd.haveMax || seq == fwd.maxSeqToBeAcked) && !still {
		fwd.maxSeqToBeAcked, fwd.haveMax = fwd.nextSeq, true
	}
	fwd.window, fwd.haveWindow, fwd.lastWasSYN = win, true, f&SYN != 0
	fwd.lastAck, fwd.haveLastAck, fwdAt.lastAck = ack, true, t
	fwd.lastFlags = a
	return a, dup
}

// retransmissionKind tells a segment that does not advance the sequence
// number apart: spurious, fast, out-of-order, or plain retransmission.
func retransmissionKind(fwd, rev *flowState, fwdAt, revAt *flowDates, seg *Segment, a Anomaly, t, irtt time.Duration) Anomaly {
	if a&KeepAlive != 0 {
		return 0
	}
	seq, seglen, f := seg.Seq, uint32(seg.Len), seg.Flags
	notAdvanced := fwd.haveNext && seq.LessThan(fwd.nextSeq)
	// One byte less than expected with more than one byte of data: new
	// data after a zero window probe.
	if seglen > 1 && fwd.haveNext && fwd.nextSeq-1 == seq {
		notAdvanced = false
	}
	if seglen > 0 && rev.haveLastAck && rev.lastAck != 0 && seq.Add(seglen).LessThanEq(rev.lastAck) {
		// tshark 4.x marks a spurious retransmission as a retransmission
		// too, as it does a fast one.
		return SpuriousRetransmission | Retransmission
	}
	if !notAdvanced {
		return 0
	}
	if rev.dupAcks >= 2 && rev.lastAck == seq && t-revAt.lastAck < fastRetransmitWindow {
		// tshark marks a fast retransmission as a retransmission too.
		return FastRetransmission | Retransmission
	}
	threshold := oooThreshold
	if irtt > 0 {
		threshold = irtt
	}
	// A SYN or FIN occupies a sequence number: one that ends at the next
	// expected number resends the last segment, it is not out of order.
	end := seq.Add(seglen)
	if f&(SYN|FIN) != 0 {
		end = end.Add(1)
	}
	if t-fwdAt.nextSeq < threshold && fwd.nextSeq != end {
		return OutOfOrder
	}
	return Retransmission
}
