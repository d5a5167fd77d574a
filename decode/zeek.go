package decode

import "time"

// Zeek's view of a connection: its per-endpoint state machine
// (TCPSessionAdapter::Process, init_endpoint, init_peer, update_ack_seq,
// update_last_seq and UpdateStateMachine in
// src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc), the history
// string (update_history there; Connection::CheckHistory, AddHistory,
// ScaledHistoryEntry and FlipRoles in src/Conn.cc) and conn_state
// (conn_state in scripts/base/protocols/conn/main.zeek).
//
// Zeek's originator is our client; when the client is a guess that
// disagrees with who sent first, the history starts with '^' as Zeek
// marks a connection it flips when it creates it
// (IPBasedAnalyzer::NewConn, TCPAnalyzer::WantConnection). One exception:
// a connection that begins with a SYN-ACK Zeek does not flip at once (see
// start) has the SYN-ACK's sender, our server, for its originator until
// the SYN comes and Zeek flips the roles in its state machine.
//
// Where this differs from Zeek: Zeek decides on a flip by its
// likely_server_ports, a set the loaded scripts fill; synack takes ports
// below 1024. A connection that begins with a SYN-ACK Zeek did not flip
// and that no SYN follows keeps the SYN-ACK's sender for Zeek's
// originator: its history is written so, but the record still names our
// client first; Zeek 5.1 and later also flip such a connection at an ACK
// or data segment right after the SYN-ACK (zeek/zeek pull request 2191),
// which synack does not model. synack does not reassemble streams or
// verify checksums, so the letters G and C never appear, and it ignores
// sequence-number wraps.
// Where a connection ends and the next begins on the same 4-tuple is the
// decoder's (startsNew), not Zeek's (TCPSessionAdapter::IsReuse).

// ConnState is Zeek's conn_state for a connection, named as Zeek names
// it (base/protocols/conn/main.zeek).
type ConnState uint8

// Zeek's conn_state values, in the order Zeek documents them; Zeek's
// originator is our client and its responder our server.
const (
	ZeekS0     ConnState = iota // attempt seen, no reply
	ZeekS1                      // established, not terminated
	ZeekSF                      // normal establishment and termination
	ZeekREJ                     // attempt rejected
	ZeekS2                      // established; the originator's close seen, no reply
	ZeekS3                      // established; the responder's close seen, no reply
	ZeekRSTO                    // established; the originator aborted (RST)
	ZeekRSTR                    // the responder sent a RST
	ZeekRSTOS0                  // the originator sent a SYN then a RST; no SYN-ACK seen
	ZeekRSTRH                   // the responder sent a SYN-ACK then a RST; no SYN seen
	ZeekSH                      // the originator sent a SYN then a FIN; no SYN-ACK seen
	ZeekSHR                     // the responder sent a SYN-ACK then a FIN; no SYN seen
	ZeekOTH                     // no SYN seen, just midstream traffic
	// NumConnStates is the number of conn_state values, not one of them:
	// the length of arrays indexed by ConnState.
	NumConnStates
)

var connStateNames = [NumConnStates]string{"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"}

// String returns Zeek's name for the state, e.g. "SF".
func (s ConnState) String() string {
	if s < NumConnStates {
		return connStateNames[s]
	}
	return "?"
}

// ConnStates lists every conn_state value in Zeek's order.
func ConnStates() []ConnState {
	s := make([]ConnState, NumConnStates)
	for i := range s {
		s[i] = ConnState(i)
	}
	return s
}

type zeekState uint8

const (
	zInactive zeekState = iota
	zSynSent
	zSynAckSent
	zPartial
	zEstablished
	zClosed
	zReset
)

// Zeek's history bits (TCP_Endpoint::HIST_*), one set per endpoint.
const (
	histSYN uint8 = 1 << iota
	histFIN
	histRST
	histFINRST
	histData
	histACK
	histMultiFlag
)

// maxHistory bounds the history string: Zeek's grows with every SYN, FIN
// or RST that carries a new sequence number; ours stops there.
const maxHistory = 64

// tooLargeSeqDelta: Zeek ignores SYN and RST sequence jumps beyond 1 MiB.
const tooLargeSeqDelta = 1 << 20

type zeekEndpoint struct {
	state, prev               zeekState
	histSeen                  uint8
	inited                    bool
	startSeq, lastSeq, ackSeq Seq
	fins                      uint32
	lastSYN, lastFIN, lastRST uint32
	rxmit, win0               uint32
}

// zeekConn is Zeek's model of one connection: an endpoint machine per
// side (indexed by Side) and the history letters so far. The first
// shortHistory letters are kept here; a longer history, which few
// connections have, moves to an array of its own (long, first so that
// the collector scans no further into a flow).
type zeekConn struct {
	long       *[maxHistory]byte
	ep         [2]zeekEndpoint
	short      [shortHistory]byte
	historyLen uint8
	udp        bool
	flipped    bool // partial, and the guessed client did not send first
	// origServer: Zeek's originator is our server, the sender of the
	// SYN-ACK that began the connection, until the SYN flips the roles.
	origServer bool
	// lastTime is Zeek's last time of the connection, from the first
	// segment (see touch).
	lastTime time.Duration
}

// shortHistory is how many history letters a connection keeps in place:
// "ShADadFf", a whole greeting, is 8. (12 leaves room for lastTime in
// the flow's size class: TestFlowFitsItsSizeClass.)
const shortHistory = 12

// touch dates a segment, since from the first, before the model sees it:
// Zeek's last time moves with every segment but those that come once both
// endpoints have closed, by FIN or RST (TCPSessionAdapter::Process sets
// it unless both did_close, which is CLOSED or RESET here), so that the
// last ACK of a teardown is not in the duration.
func (z *zeekConn) touch(since time.Duration) {
	if z.udp || !z.ep[Client].closed() || !z.ep[Server].closed() {
		z.lastTime = since
	}
}

// closed reports whether the endpoint has closed, by FIN or RST.
func (e *zeekEndpoint) closed() bool { return e.state == zClosed || e.state == zReset }

// history is the history letters so far.
func (z *zeekConn) history() []byte {
	if z.long != nil {
		return z.long[:z.historyLen]
	}
	return z.short[:z.historyLen]
}

// start readies z for a connection opened by seg: UDP or TCP, and whether
// the client is a guess that did not send first. Zeek flips a connection
// that begins with a SYN-ACK only when its source port is a likely server
// port and its destination port is not (TCPAnalyzer::WantConnection);
// otherwise the SYN-ACK's sender is Zeek's originator.
func (z *zeekConn) start(udp, flipped bool, seg *Segment) {
	z.udp, z.flipped = udp, flipped
	if !udp && flipped && seg.Flags&(SYN|ACK) == SYN|ACK && !(likelyServerPort(seg.Src.Port()) && !likelyServerPort(seg.Dst.Port())) {
		z.flipped, z.origServer = false, true
	}
}

// likelyServerPort stands for Zeek's likely_server_ports, which the
// loaded scripts fill (80, 443, 8080…): synack takes the ports below 1024.
func likelyServerPort(p uint16) bool { return p < 1024 }

// isOrig reports whether side is Zeek's originator.
func (z *zeekConn) isOrig(side Side) bool { return (side == Client) != z.origServer }

// add adds code for a packet from side: upper case from Zeek's
// originator, lower case from its responder (TCP_Endpoint::CheckHistory).
func (z *zeekConn) add(side Side, code byte) {
	if !z.isOrig(side) {
		code += 'a' - 'A'
	}
	z.addRaw(code)
}

// addRaw adds a letter as it is.
func (z *zeekConn) addRaw(code byte) {
	switch n := int(z.historyLen); {
	case n < shortHistory:
		z.short[n] = code
	case n < maxHistory:
		if z.long == nil {
			z.long = new([maxHistory]byte)
			copy(z.long[:], z.short[:])
		}
		z.long[n] = code
	default:
		return
	}
	z.historyLen++
}

// flipRoles is Zeek's FlipRoles during a connection: the SYN/SYN-ACK
// reversal (UpdateInactiveState). The endpoints swap roles with their
// states and sequence numbers, but the kinds of packet seen so far stay
// with the role (Connection::CheckHistory keeps them per role), and Zeek
// writes '^'.
func (z *zeekConn) flipRoles() {
	z.origServer = !z.origServer
	z.ep[Client].histSeen, z.ep[Server].histSeen = z.ep[Server].histSeen, z.ep[Client].histSeen
	z.addRaw('^')
}

// check records code the first time an endpoint shows the kind of packet;
// it reports whether the kind had been seen before. The kinds are kept by
// endpoint here, swapped when the roles flip (flipRoles).
func (z *zeekConn) check(side Side, mask uint8, code byte) bool {
	if z.ep[side].histSeen&mask != 0 { // the usual case: inlined
		return true
	}
	z.firstOfKind(side, mask, code)
	return false
}

// firstOfKind is check for a kind side has not shown before.
func (z *zeekConn) firstOfKind(side Side, mask uint8, code byte) {
	z.ep[side].histSeen |= mask
	z.add(side, code)
}

// scaled adds code at the 1st, 10th, 100th… occurrence (Zeek's
// ScaledHistoryEntry): when count is a power of 10.
func (z *zeekConn) scaled(side Side, code byte, count *uint32) {
	*count++
	n := *count
	for n%10 == 0 {
		n /= 10
	}
	if n == 1 {
		z.add(side, code)
	}
}

// set is TCP_Endpoint::SetState: the previous state changes only with
// the state.
func (e *zeekEndpoint) set(s zeekState) {
	if s != e.state {
		e.prev, e.state = e.state, s
	}
}

// observe runs one segment sent by side through Zeek's model, in the
// order of TCPSessionAdapter::Process: init_endpoint, update_history,
// the zero-window letter (update_window), the ACK (init_peer or
// update_ack_seq), update_last_seq and its retransmission letter, then the
// state machine.
func (z *zeekConn) observe(seg *Segment, side Side) {
	if z.udp {
		z.check(side, histData, 'D')
		if z.ep[side].state == zInactive {
			z.ep[side].set(zEstablished) // UDP_ACTIVE
		}
		return
	}
	e, p := &z.ep[side], &z.ep[side.Other()]
	f, seq, ln := seg.Flags, seg.Seq, uint32(seg.Len)
	segLen := ln
	if f&SYN != 0 {
		segLen++
	}
	if f&FIN != 0 {
		segLen++
	}
	if f&RST != 0 {
		segLen -= ln
	}
	last := seq.Add(segLen)
	e.initEndpoint(f, seq, last)
	if f&FIN != 0 {
		e.fins++
	}
	rel := seq.Sub(e.startSeq)
	z.history1(side, f, rel, ln)
	if seg.Window == 0 && f&RST == 0 && p.state != zClosed && e.state != zReset {
		z.scaled(side, 'W', &e.win0)
	}
	if f&ACK != 0 {
		switch {
		case p.state == zInactive: // init_peer, as often as the peer is inactive
			p.inited = true
			p.startSeq, p.lastSeq, p.ackSeq = seg.Ack-1, seg.Ack-1, seg.Ack-1
		case int32(seg.Ack.Sub(p.startSeq)) < 0: // an ACK below the peer's start: not trusted
		case f&RST != 0: // ACKs on RSTs are not trusted
		case seg.Ack == 0 && int32(seg.Ack.Sub(p.ackSeq)) > tooLargeSeqDelta: // more likely broken than a wrap to 0
		case p.ackSeq.LessThan(seg.Ack): // update_ack_seq
			p.ackSeq = seg.Ack
		}
	}
	// update_last_seq; near: within tooLargeSeqDelta either way.
	near := last.InWindow(e.lastSeq-tooLargeSeqDelta, 2*tooLargeSeqDelta+1)
	switch {
	case f&(SYN|RST) != 0 && !near:
	case f&FIN != 0 && e.lastSeq == e.startSeq.Add(1):
		e.lastSeq = last
	case e.state == zReset:
	case e.lastSeq.LessThan(last):
		e.lastSeq = last
	case ln > 0:
		z.scaled(side, 'T', &e.rxmit)
	}
	z.stateMachine(e, p, side, f, seq, ln)
}

// initEndpoint is Zeek's init_endpoint: the sequence numbers an endpoint
// starts from, set by its first packet (a SYN's own number, or one less
// than a later segment's, as though the SYN had been seen), and set again
// by a SYN that says the connection starts over.
func (e *zeekEndpoint) initEndpoint(f Flags, seq, last Seq) {
	switch e.state {
	case zInactive: // even if init_peer set them already
		e.inited = true
		if f&SYN != 0 {
			e.startSeq, e.lastSeq = seq, last
		} else {
			e.startSeq, e.lastSeq = seq-1, seq
		}
		e.ackSeq = e.startSeq
		return
	case zSynSent, zSynAckSent: // a SYN with another ISN
		if f&SYN == 0 || seq == e.startSeq {
			return
		}
	case zEstablished, zPartial: // a SYN: the connection is taken to start with it
		if f&SYN == 0 {
			return
		}
	case zReset: // numbers taken from a RST that may have been injected, then a SYN
		if f&SYN == 0 || e.prev != zInactive {
			return
		}
	default:
		return
	}
	e.startSeq, e.ackSeq, e.lastSeq = seq, seq, last
}

// history1 is Zeek's update_history.
func (z *zeekConn) history1(side Side, f Flags, rel, ln uint32) {
	e := &z.ep[side]
	// More than one of SYN, FIN and RST: clearing the lowest leaves some.
	x := f & (SYN | FIN | RST)
	multi := x&(x-1) != 0
	switch {
	case multi && f&(FIN|RST) == FIN|RST:
		z.check(side, histFINRST, 'I')
	case multi:
		z.check(side, histMultiFlag, 'Q')
	case f&SYN != 0:
		code := byte('S')
		if f&ACK != 0 {
			code = 'H'
		}
		if z.check(side, histSYN, code) && rel != e.lastSYN {
			z.add(side, code)
		}
		e.lastSYN = rel
	case f&FIN != 0:
		if z.check(side, histFIN, 'F') && rel+ln != e.lastFIN {
			z.add(side, 'F')
		}
		e.lastFIN = rel + ln
	case f&RST != 0:
		if z.check(side, histRST, 'R') && rel != e.lastRST {
			z.add(side, 'R')
		}
		e.lastRST = rel
	case ln > 0:
		z.check(side, histData, 'D')
	case f&ACK != 0:
		z.check(side, histACK, 'A')
	}
}

// stateMachine is Zeek's UpdateStateMachine for the sending endpoint e
// (UpdateInactiveState, UpdateSYN_SentState, UpdateEstablishedState,
// UpdateClosedState; a RESET endpoint stays so).
func (z *zeekConn) stateMachine(e, p *zeekEndpoint, side Side, f Flags, seq Seq, ln uint32) {
	isOrig := z.isOrig(side)
	switch e.state {
	case zInactive:
		if f&SYN != 0 {
			if isOrig {
				if f&ACK != 0 {
					e.set(zSynAckSent)
				} else {
					e.set(zSynSent)
				}
			} else {
				if f&ACK == 0 && p.state == zSynAckSent && seq == e.startSeq {
					// The SYN-ACK came first: Zeek flips the roles.
					z.flipRoles()
					p.set(zEstablished)
				}
				if p.state == zSynSent {
					p.set(zEstablished)
				}
				e.set(zEstablished)
			}
		}
		if f&FIN != 0 {
			e.set(zClosed)
		}
		if f&RST != 0 {
			e.set(zReset)
		}
		if e.state == zInactive {
			orig := &z.ep[Client]
			if z.origServer {
				orig = &z.ep[Server]
			}
			switch {
			case !isOrig && ln == 0 && orig.state == zSynSent:
				// Some stacks ACK a SYN before answering it: not yet
				// a partial connection.
			case f&ACK != 0 && p.state == zEstablished:
				e.set(zEstablished) // the SYN was missed, the SYN-ACK seen
			default:
				e.set(zPartial)
			}
		}
	case zSynSent, zSynAckSent:
		if f&FIN != 0 {
			e.set(zClosed)
		}
		if f&RST != 0 {
			e.set(zReset)
		}
	case zEstablished, zPartial:
		if f&SYN != 0 && f&ACK == 0 && e.state == zPartial && p.state == zInactive {
			e.set(zSynSent)
		}
		if f&FIN != 0 && f&RST == 0 {
			e.set(zClosed)
			if p.state == zReset && p.prev == zClosed {
				p.set(zClosed) // FIN then RST from the peer: a normal close
			}
		}
		if f&RST != 0 {
			e.set(zReset)
		}
	case zClosed:
		if f&RST != 0 && p.state != zClosed {
			e.set(zReset)
		}
	}
}

// historyString is Zeek's history string, '^' first when the connection is
// flipped. Letters are only ever appended, so when prev, the string made
// last time, has the length the history has now, it is the history and is
// returned as is. Otherwise the string comes from known, when it holds it.
func (z *zeekConn) historyString(prev string, known *histories) string {
	n := int(z.historyLen)
	if z.flipped {
		n++
	}
	if len(prev) == n {
		return prev
	}
	var b [1 + maxHistory]byte
	i := 0
	if z.flipped {
		b[0], i = '^', 1
	}
	i += copy(b[i:], z.history())
	return known.intern(b[:i])
}

// histories interns history strings. A capture holds few distinct ones
// ("ShADadFf", "S", "ShR"…), so once a history has been seen another
// connection with it costs no allocation, and a decoder that recycles its
// connections stays allocation-free per connection too. It stops growing
// at maxHistories, so a hostile capture cannot make it grow without end.
type histories map[string]string

const maxHistories = 4096

// intern returns b as a string, the one it already holds if any.
func (h *histories) intern(b []byte) string {
	if s, ok := (*h)[string(b)]; ok { // looking up string(b) does not allocate
		return s
	}
	s := string(b)
	if *h == nil {
		*h = make(histories)
	}
	if len(*h) < maxHistories {
		(*h)[s] = s
	}
	return s
}

// connState is Zeek's conn_state (conn_state in base/protocols/conn/main.zeek),
// given each side's payload bytes (for UDP, see bytes). os and rs are the states of Zeek's originator and responder;
// REJ asks for their sizes in sequence space (TCP_Endpoint::Size, our
// bytes), not for the payload captured.
func (z *zeekConn) connState(payload [2]uint64) ConnState {
	orig := Client
	if z.origServer {
		orig = Server
	}
	os, rs := z.ep[orig].state, z.ep[orig.Other()].state
	if z.udp {
		switch {
		case os != zInactive && rs != zInactive:
			return ZeekSF
		case os != zInactive:
			return ZeekS0
		case rs != zInactive:
			return ZeekSHR
		}
		return ZeekOTH
	}
	oInactive := os == zInactive || os == zPartial
	rInactive := rs == zInactive || rs == zPartial
	switch {
	case rs == zReset:
		switch {
		case os == zSynSent || os == zSynAckSent || os == zReset && z.bytes(Client, payload) == 0 && z.bytes(Server, payload) == 0:
			return ZeekREJ
		case oInactive:
			return ZeekRSTRH
		}
		return ZeekRSTR
	case os == zReset:
		if rInactive {
			if z.rstOS0() {
				return ZeekRSTOS0
			}
			return ZeekOTH
		}
		return ZeekRSTO
	case rs == zClosed && os == zClosed:
		return ZeekSF
	case os == zClosed:
		if rInactive {
			return ZeekSH
		}
		return ZeekS2
	case rs == zClosed:
		if oInactive {
			return ZeekSHR
		}
		return ZeekS3
	case os == zSynSent && rs == zInactive:
		return ZeekS0
	case os == zEstablished && rs == zEstablished:
		return ZeekS1
	}
	return ZeekOTH
}

// rstOS0 matches Zeek's /^\^?S[^HAFGIQ]*R.*/ (a pattern compared with ==
// in Zeek matches the whole string) on the history string (see
// historyString), without making it.
func (z *zeekConn) rstOS0() bool {
	h := z.history()
	if !z.flipped && len(h) > 0 && h[0] == '^' { // else the '^' is the flip's
		h = h[1:]
	}
	if len(h) == 0 || h[0] != 'S' {
		return false
	}
	for i := 1; i < len(h); i++ {
		switch h[i] {
		case 'H', 'A', 'F', 'G', 'I', 'Q':
			return false
		case 'R':
			return true
		}
	}
	return false
}

// bytes is Zeek's orig_bytes / resp_bytes for a side: the payload in
// sequence space (the highest of the last sequence number sent and the
// peer's ACK, less the SYN and FIN octets), so retransmissions count once.
// payload is each side's payload bytes as captured.
func (z *zeekConn) bytes(s Side, payload [2]uint64) uint64 {
	e := &z.ep[s]
	if !e.inited {
		return 0
	}
	if z.udp {
		return payload[s]
	}
	if e.prev == zSynSent && e.state == zReset && z.ep[s.Other()].state == zInactive && e.ackSeq != e.startSeq && e.ackSeq != e.startSeq.Add(1) {
		return 0 // a half-open connection discovered and aborted: data acknowledged that was never sent
	}
	end := e.lastSeq
	if end.LessThan(e.ackSeq) {
		end = e.ackSeq
	}
	size := uint64(end.Sub(e.startSeq))
	if size > 0 {
		size-- // the SYN octet (or, without a SYN, the one Zeek pretends)
	}
	if e.fins > 0 && size > 0 {
		size--
	}
	return size
}
