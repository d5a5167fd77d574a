package decode

import (
	"net/netip"
	"testing"
	"time"
)

// TestZeekModel replays segments through Zeek's model and checks
// conn_state, history and orig_bytes/resp_bytes against values worked out
// by hand from Zeek's source (TCPSessionAdapter.cc, TCP_Endpoint.cc,
// Conn.cc, conn/main.zeek): each case names the rule it exercises.
func TestZeekModel(t *testing.T) {
	high := netip.MustParseAddrPort("192.0.2.2:40000") // a server port Zeek does not take for one
	synackFirst := []tseg{{'s', "S.", 0, 1, ""}, {'c', "S", 0, 0, ""}, {'c', ".", 1, 1, ""}}
	synackFirstClosed := cat(synackFirst, []tseg{{'c', "P.", 1, 1, "GET"}, {'s', "P.", 1, 4, "OK"},
		{'c', "F.", 4, 3, ""}, {'s', "F.", 3, 5, ""}, {'c', ".", 5, 4, ""}})
	for _, tc := range []struct {
		name    string
		server  netip.AddrPort
		segs    []tseg
		state   ConnState
		history string
		bytes   [2]uint64
	}{
		{"greeting", srv, greeting, ZeekSF, "ShAdfFa", [2]uint64{0, 14}},
		{"refused", srv, []tseg{{'c', "S", 0, 0, ""}, {'s', "R.", 0, 1, ""}}, ZeekREJ, "Sr", [2]uint64{}},
		// A SYN-ACK from port 80 to an ephemeral port: Zeek flips the
		// connection when it creates it (WantConnection), '^' first; the
		// SYN then comes from the originator, which stays SYN_SENT.
		{"SYN-ACK first, flipped at once", srv, synackFirstClosed, ZeekSF, "^hSADdFf", [2]uint64{3, 2}},
		{"SYN-ACK first, flipped at once, open", srv, synackFirst, ZeekOTH, "^hSA", [2]uint64{}},
		{"SYN-ACK only, flipped at once", srv, synackFirst[:1], ZeekOTH, "^h", [2]uint64{}},
		// From a port Zeek does not take for a server's: the SYN-ACK's
		// sender is the originator (H) until the SYN, from the responder
		// (s), flips the roles (^) and establishes both endpoints.
		{"SYN-ACK first, flipped by the SYN", high, synackFirstClosed, ZeekSF, "Hs^ADdFf", [2]uint64{3, 2}},
		{"SYN-ACK first, flipped by the SYN, open", high, synackFirst, ZeekS1, "Hs^A", [2]uint64{}},
		// A RST with data: Zeek's sizes leave a RST's payload out, and
		// REJ asks for sizes, not captured bytes. update_last_seq takes
		// the payload at a number not past the last for a retransmission
		// (T).
		{"RSTs both ways, one with data", srv, []tseg{{'c', "S", 0, 0, ""}, {'c', "R", 1, 0, "x"}, {'s', "R.", 0, 1, ""}},
			ZeekREJ, "SRTr", [2]uint64{}},
		// A half-open connection found and aborted: the originator's RST
		// answers an ACK for data it never sent, and its size is 0.
		{"half-open aborted", srv, []tseg{{'c', "S", 0, 0, ""}, {'s', ".", 7, 100001, ""}, {'c', "R", 100001, 0, ""}},
			ZeekRSTOS0, "SaR", [2]uint64{}},
		// A bare ACK of the SYN before the SYN-ACK leaves the responder
		// INACTIVE, so init_endpoint takes its numbers again from the
		// SYN-ACK: the data after it is new, not retransmitted.
		{"ACK before the SYN-ACK", srv, []tseg{{'c', "S", 0, 0, ""}, {'s', ".", 50, 1, ""}, {'s', "S.", 0, 1, ""},
			{'c', ".", 1, 1, ""}, {'s', "P.", 1, 1, "hi"}}, ZeekS1, "SahAd", [2]uint64{0, 2}},
		// The same RST with nothing acknowledged (TCP_Endpoint::Size asks
		// NoDataAcked): the RST's number counts.
		{"SYN then RST ahead", srv, []tseg{{'c', "S", 0, 0, ""}, {'c', "R", 5000, 0, ""}}, ZeekRSTOS0, "SR", [2]uint64{4999, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := replayBetween(t, Config{}, cli, tc.server, tc.segs)
			if len(conns) != 1 {
				t.Fatalf("%d connections, want 1", len(conns))
			}
			c := conns[0]
			if c.ConnState != tc.state || c.History != tc.history || c.ZeekBytes != tc.bytes {
				t.Errorf("conn_state %s history %s bytes %v, want %s %s %v", c.ConnState, c.History, c.ZeekBytes, tc.state, tc.history, tc.bytes)
			}
		})
	}
}

// TestZeekDuration: Zeek's last time stops at the segment with which both
// sides have closed, by FIN or RST; later segments (the teardown's last
// ACK, a RST after both FINs) are not in the duration.
func TestZeekDuration(t *testing.T) {
	for _, tc := range []struct {
		name string
		segs []tseg
		want time.Duration
	}{
		{"greeting: to the second FIN", greeting, 6 * time.Millisecond},
		{"refused: one side closed, to the RST", []tseg{{'c', "S", 0, 0, ""}, {'s', "R.", 0, 1, ""}}, time.Millisecond},
		{"one SYN: none", []tseg{{'c', "S", 0, 0, ""}}, 0},
		{"open: to the last segment", cat(handshake, []tseg{{'c', "P.", 1, 1, "hi"}, {'s', ".", 1, 3, ""}}), 4 * time.Millisecond},
		{"FIN and RST: to the RST", cat(handshake, []tseg{{'c', "F.", 1, 1, ""}, {'s', "R.", 1, 2, ""}, {'c', ".", 2, 1, ""}}), 4 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := replay(t, tc.segs)[0]
			if c.ZeekDuration != tc.want {
				t.Errorf("Zeek's duration %v, want %v (LastSeen after %v)", c.ZeekDuration, tc.want, c.Duration())
			}
		})
	}
}
