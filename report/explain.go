package report

import (
	"slices"
	"strings"

	"synack/decode"
)

// An explanation says in plain words what a kind of segment is and why it
// happens, and where the rule is written. The table below is the only
// place synack explains TCP (--explain): one entry per kind, each checked
// by TestExplanations.
type explanation struct {
	text string
	ref  string
}

// Kinds of segment an explanation is keyed by: a meaning (decode.Note),
// an analysis flag (decode.Anomaly), or one of these, which no single bit
// names.
type explainKind string

const (
	kindSYNOptions  explainKind = "syn-options"  // the first SYN that carries options
	kindWindowScale explainKind = "window-scale" // the first window after both SYNs offered scaling
	kindTimeWait    explainKind = "time-wait"    // a side enters TIME-WAIT
)

var noteExplanations = map[decode.Note]explanation{
	decode.NoteHandshake1: {"The client's SYN opens the connection (connect()). It carries a random initial sequence number, the ISN, so that segments of an old connection cannot be taken for this one, and it consumes one sequence number: that is why the answer acknowledges ISN+1.",
		"RFC 9293 §3.4.1, RFC 6528"},
	decode.NoteHandshake2: {"The server's SYN-ACK does two things at once: it acknowledges the client's SYN (ack = the client's ISN+1) and sends the server's own SYN with its own ISN. Each side needs its ISN acknowledged by the other, which is why the handshake takes three segments and not two.",
		"RFC 9293 §3.5"},
	decode.NoteHandshakeDone: {"The client's ACK acknowledges the server's SYN (ack = the server's ISN+1). Each side now knows the other's ISN and has had its own acknowledged: the connection is ESTABLISHED. connect() has returned in the client; accept() returns in the server.",
		"RFC 9293 §3.5"},
	decode.NoteSYNRetransmit: {"The SYN was sent again with the same ISN: no answer came within the retransmission timeout, 1 s to start, doubling after each try (1, 2, 4, 8 s…); Linux 6.5 and later first retry 4 times after 1 s each (tcp_syn_linear_timeouts). A firewall that drops SYNs, a full accept queue, or a server too busy to answer looks like this.",
		"RFC 6298 §5, RFC 9293 §3.8.1"},
	decode.NoteSYNACKRetransmit: {"The SYN-ACK was sent again: the server had no ACK for it within its retransmission timeout, so the client's ACK (or the SYN-ACK itself) was lost.",
		"RFC 6298 §5"},
	decode.NoteSimultaneousOpen: {"Both ends sent a SYN at the same time, each to the other's port (a simultaneous open): each answers the other's SYN with a SYN-ACK, and the connection is established without a LISTEN on either side.",
		"RFC 9293 §3.5, Figure 8"},
	decode.NoteData: {"Data: seq says where these bytes sit in the sender's stream and len how many (write() or send() made them); the receiver acknowledges the next byte it expects, seq+len. PSH asks the receiver to hand them to the application (read() or recv()) at once.",
		"RFC 9293 §3.4, §3.9.1"},
	decode.NoteDataOnSYN: {"Data on the SYN: TCP Fast Open, where a client that got a cookie from this server before sends its first bytes without waiting for the handshake.",
		"RFC 7413"},
	decode.NoteClientCloses: {"The client's FIN says 'I will send no more' (close() or shutdown(SHUT_WR)). Like a SYN, it consumes one sequence number, which is why its acknowledgement is one higher than the data alone would make it. The server may still send until its own FIN.",
		"RFC 9293 §3.6"},
	decode.NoteServerCloses: {"The server's FIN says 'I will send no more' (close() or shutdown(SHUT_WR)). Like a SYN, it consumes one sequence number, which is why its acknowledgement is one higher than the data alone would make it. The client may still send until its own FIN.",
		"RFC 9293 §3.6"},
	decode.NoteFINAcked: {"This acknowledges the peer's FIN (ack = its FIN's sequence number + 1): that direction of the connection is closed for good.",
		"RFC 9293 §3.6"},
	decode.NoteClosed: {"The last ACK: both FINs are acknowledged and the connection is over. Four segments close it, two per direction, because each direction closes on its own (a FIN may also ride on an ACK, making three).",
		"RFC 9293 §3.6"},
	decode.NoteRefused: {"A RST answering the SYN: nothing listens on that port, so the server side holds no connection at all (no TCB: its state is CLOSED, not LISTEN) and refuses. connect() fails with ECONNREFUSED.",
		"RFC 9293 §3.5.2, §3.10.7.1"},
	decode.NoteClientResets: {"The client's RST aborts the connection at once: no FIN exchange and no TIME-WAIT, and data not yet read is thrown away. A program does it with SO_LINGER 0 before close(); the stack does it for a segment that reaches a socket that is gone.",
		"RFC 9293 §3.5.2"},
	decode.NoteServerResets: {"The server's RST aborts the connection at once: no FIN exchange and no TIME-WAIT, and data not yet read is thrown away. The client's next recv() or send() fails with ECONNRESET.",
		"RFC 9293 §3.5.2"},
	decode.NoteAck: {"A bare acknowledgement: no data, only 'I have every byte before this number'. Its window says how many more bytes the receiver can take now (flow control).",
		"RFC 9293 §3.4, §3.8.6"},
	decode.NoteDatagram: {"A UDP datagram: no connection, no handshake, no sequence number and no acknowledgement. The server's side was only socket() and bind(), then recvfrom() and sendto(). A datagram that is lost is not sent again, unless the application does it.",
		"RFC 768"},
	decode.NoteRSTIgnored: {"A RST the client in SYN-SENT does not act on: one without an ACK, or whose ACK is not the client's ISN+1, could be forged or belong to an old connection, so it is dropped and the attempt goes on. The client's own RST here answers an unacceptable ACK (<SEQ=SEG.ACK><CTL=RST>), such as one from a server still holding an old connection on the same ports; the client then resends its SYN.",
		"RFC 9293 §3.10.7.3, §3.5.2"},
	decode.NoteHalfClose: {"Data after the peer's FIN: the peer only closed its sending half (shutdown(SHUT_WR)), and this side may go on sending until it closes too.",
		"RFC 9293 §3.6"},
}

var anomalyExplanations = map[decode.Anomaly]explanation{
	decode.Retransmission: {"A retransmission: the same bytes again, because no acknowledgement covered them within the retransmission timeout (RTO), or three duplicate ACKs asked for them.",
		"RFC 6298, RFC 5681 §3.2; tshark tcp.analysis.retransmission"},
	decode.FastRetransmission: {"A fast retransmission: the receiver's duplicate ACKs said a segment was missing, so the sender sent it again without waiting for the timeout.",
		"RFC 5681 §3.2"},
	decode.SpuriousRetransmission: {"A spurious retransmission: bytes the receiver had already acknowledged, sent again (the acknowledgement came too late, or was lost).",
		"tshark tcp.analysis.spurious_retransmission"},
	decode.DuplicateACK: {"A duplicate ACK: the receiver acknowledges the same byte again because a later segment arrived before the one it expects. Three of them make the sender retransmit at once.",
		"RFC 5681 §2, §3.2"},
	decode.OutOfOrder: {"Out of order: a segment that belongs before one already seen, arriving later (a path that reorders, or a retransmission within one round trip).",
		"tshark tcp.analysis.out_of_order"},
	decode.LostSegment: {"The previous segment was not captured: there is a gap in the sequence numbers (lost on the way, or dropped by the capture).",
		"tshark tcp.analysis.lost_segment"},
	decode.ACKUnseen: {"This acknowledges bytes the capture never saw: they went by without being captured.",
		"tshark tcp.analysis.ack_lost_segment"},
	decode.ZeroWindow: {"A zero window: the receiver's buffer is full (its application is not reading), and the sender must stop until the window opens again.",
		"RFC 9293 §3.8.6.1"},
	decode.ZeroWindowProbe: {"A zero-window probe: the sender, told the window is zero, sends one byte now and then to learn when it opens (in case the window update was lost).",
		"RFC 9293 §3.8.6.1"},
	decode.ZeroWindowProbeACK: {"The answer to a zero-window probe: the window is still closed.",
		"RFC 9293 §3.8.6.1"},
	decode.WindowFull: {"Window full: this segment fills the receiver's last advertised window; the sender can send nothing more until an acknowledgement opens it.",
		"tshark tcp.analysis.window_full"},
	decode.KeepAlive: {"A keep-alive: after a long silence, one old byte (seq one below the next) to check that the peer is still there; the peer answers with an ACK.",
		"RFC 9293 §3.8.4"},
	decode.KeepAliveACK: {"The answer to a keep-alive: the peer is still there.",
		"RFC 9293 §3.8.4"},
	decode.WindowUpdate: {"A window update: no data, the same acknowledgement, a larger window: the receiver's application read some bytes and there is room again. This is TCP working, not a problem.",
		"RFC 9293 §3.8.6; tshark tcp.analysis.window_update"},
}

var kindExplanations = map[explainKind]explanation{
	kindSYNOptions: {"The SYN's options set up the connection: MSS is the largest segment this side will accept; window scale is a shift that multiplies the 16-bit window field, used only if both SYNs offer it; SACK-permitted lets the receiver report which blocks arrived; timestamps measure round trips and guard against old, wrapped sequence numbers. What both sides offered is what they agreed.",
		"RFC 9293 §3.7.1, RFC 7323, RFC 2018"},
	kindWindowScale: {"From here on the window is scaled: both SYNs offered window scaling, so the 16-bit window field is shifted left by the sender's scale (the SYNs' own windows never are). That is why the window jumps after the handshake.",
		"RFC 7323 §2.2"},
	kindTimeWait: {"TIME-WAIT: the side that closed first keeps the connection for 2×MSL (60 s on Linux) so that a late segment of this connection cannot be taken for a new one on the same ports, and so that it can acknowledge the peer's FIN again if its last ACK is lost. The other side never waits.",
		"RFC 9293 §3.6.1"},
}

var verdictExplanations = map[decode.Verdict]explanation{
	decode.Complete: {"Why it ended so: complete. The handshake finished, then each side sent a FIN and had it acknowledged: an orderly close, with no data lost.",
		"RFC 9293 §3.6"},
	decode.Refused: {"Why it ended so: refused. Nothing listened on the server's port, so its stack answered the SYN with a RST; there never was a connection.",
		"RFC 9293 §3.10.7.1"},
	decode.Reset: {"Why it ended so: reset. The connection was established, then one side aborted it with a RST instead of closing it with a FIN: any data in flight was thrown away.",
		"RFC 9293 §3.5.2"},
	decode.NoAnswer: {"Why it ended so: no answer. SYNs went out and nothing came back: the server is down or unreachable, or a firewall drops the SYNs silently (a refusal would have been a RST).",
		"RFC 9293 §3.8.1"},
	decode.Incomplete: {"Why it ended so: incomplete. The handshake began but its last step was not seen: the capture ended, or the client's ACK was lost.",
		"RFC 9293 §3.5"},
	decode.Open: {"Why it ended so: open. The connection was still established when the capture stopped.",
		"RFC 9293 §3.3.2"},
	decode.Partial: {"Why it ended so: partial. The capture began after the handshake, so the roles are a guess from the ports and nothing of its opening is known.",
		""},
	decode.UDPFlow: {"Why it ended so: UDP. There is nothing to end: UDP has no connection, so no handshake before the datagrams and no teardown after them.",
		"RFC 768"},
}

// explainer remembers which kinds a connection has explained already, so
// that each is explained the first time it appears: meanings and
// analysis flags by their bits, the other kinds in a list.
type explainer struct {
	notes     decode.Note
	anomalies decode.Anomaly
	kinds     []explainKind
	scaling   bool // both SYNs offered window scaling
}

func newExplainer(c *decode.Conn) *explainer {
	return &explainer{scaling: c.Options[decode.Client].HasWScale && c.Options[decode.Server].HasWScale}
}

// segment returns the explanations for e seen for the first time, in the
// order: meanings, analysis flags, then the kinds no bit names.
func (x *explainer) segment(c *decode.Conn, e *decode.Event) []explanation {
	var out []explanation
	for bit := decode.Note(1); bit != 0 && bit <= e.Note; bit <<= 1 {
		if e.Note&bit != 0 && x.notes&bit == 0 {
			if ex, ok := noteExplanations[bit]; ok {
				x.notes |= bit
				out = append(out, ex)
			}
		}
	}
	for i := range decode.NumAnomalies {
		if a := decode.Anomaly(1) << i; e.Anomalies&a != 0 && x.anomalies&a == 0 {
			if ex, ok := anomalyExplanations[a]; ok {
				x.anomalies |= a
				out = append(out, ex)
			}
		}
	}
	kind := func(k explainKind) {
		if !slices.Contains(x.kinds, k) {
			x.kinds = append(x.kinds, k)
			out = append(out, kindExplanations[k])
		}
	}
	if e.Flags&decode.SYN != 0 && c.HasOptions[e.Dir.Sender()] {
		kind(kindSYNOptions)
	}
	if x.scaling && e.Flags&decode.SYN == 0 && c.Proto == decode.TCP {
		kind(kindWindowScale)
	}
	if e.ClientState == decode.TimeWait || e.ServerState == decode.TimeWait {
		kind(kindTimeWait)
	}
	return out
}

// lines renders an explanation for text, wrapped at cols columns: the
// first line starts with first, the others with as many spaces.
func (ex explanation) lines(first string, cols int) []string {
	text := ex.text
	if ex.ref != "" {
		text += " (" + ex.ref + ")"
	}
	indent := strings.Repeat(" ", width(first))
	var lines []string
	line, start := first, first
	for _, word := range strings.Fields(text) {
		if width(line)+1+width(word) > cols && line != start {
			lines = append(lines, line)
			line, start = indent, indent
		}
		if line != start {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}
