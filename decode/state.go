package decode

// State is an endpoint's TCP state (RFC 9293 §3.3.2), as far as the
// capture shows it: each segment is taken as sent by one side and
// received by the other.
type State uint8

// States, named as RFC 9293 names them.
const (
	Closed State = iota
	Listen
	SynSent
	SynReceived
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

var stateNames = [...]string{"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}

// String returns the RFC name, e.g. "FIN-WAIT-1".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "?"
}

// rfcMachine is RFC 9293's state machine for both ends of a connection,
// as far as the capture shows it: each segment is taken as sent by one
// side and received by the other.
type rfcMachine struct {
	state [2]State // by Side
}

// start: a client starts CLOSED and a server LISTEN; for a connection that
// began before the capture both are taken as ESTABLISHED.
func (m *rfcMachine) start(partial bool) {
	if partial {
		m.state = [2]State{Established, Established}
		return
	}
	m.state = [2]State{Closed, Listen}
}

// observe applies RFC 9293's state diagram (Figure 5) to a segment sent
// by side; peer holds the receiver's ISN and FIN numbers. First the
// sender's own transition, then the receiver's, the ACK before the FIN (a
// FIN-ACK takes FIN-WAIT-1 through FIN-WAIT-2 to TIME-WAIT). A segment is
// taken as received when it is captured, except a SYN: the receiver's
// SYN-RECEIVED is shown from its SYN-ACK on, the first sign that the SYN
// arrived. It runs after Conn.meaning, so peer's FIN number is known.
func (m *rfcMachine) observe(seg *Segment, side Side, peer seqMarks) {
	f := seg.Flags
	s, r := &m.state[side], &m.state[side.Other()]
	if f&RST != 0 {
		// An abort closes both ends at once (§3.10.7.4); a refused SYN
		// never had a listener.
		*s, *r = Closed, Closed
		return
	}
	switch {
	case f&(SYN|ACK) == SYN && (*s == Closed || *s == Listen):
		*s = SynSent // active OPEN: send SYN
	case f&(SYN|ACK) == SYN|ACK && (*s == Listen || *s == SynSent):
		// A SYN-ACK shows that its sender received the peer's SYN: rcv
		// SYN, snd SYN-ACK. (A SYN alone does not show it arrived: a
		// server whose SYNs are dropped stays in LISTEN.)
		*s = SynReceived
	case f&FIN != 0 && (*s == Established || *s == SynReceived):
		*s = FinWait1 // CLOSE: send FIN
	case f&FIN != 0 && *s == CloseWait:
		*s = LastAck // CLOSE: send FIN
	}
	if f&SYN != 0 {
		switch {
		case f&ACK != 0 && *r == SynSent:
			*r = Established // rcv SYN-ACK, snd ACK
		case f&ACK != 0 && *r == SynReceived:
			*r = Established // simultaneous open: the SYN-ACK acknowledges our SYN
		}
	}
	if f&ACK != 0 && f&SYN == 0 {
		if *r == SynReceived && peer.haveISN && peer.isn.LessThan(seg.Ack) {
			*r = Established // rcv ACK of SYN
		}
		if peer.haveFIN && peer.fin.LessThan(seg.Ack) {
			switch *r { // rcv ACK of FIN
			case FinWait1:
				*r = FinWait2
			case Closing:
				*r = TimeWait
			case LastAck:
				*r = Closed
			}
		}
	}
	if f&FIN != 0 {
		switch *r { // rcv FIN
		case Established, SynReceived:
			*r = CloseWait
		case FinWait1:
			*r = Closing
		case FinWait2:
			*r = TimeWait
		}
	}
}
