package decode

import (
	"strings"
	"testing"
)

// states renders each event's client and server states as "C/S".
func states(c *Conn) string {
	var out []string
	for _, e := range c.Events {
		out = append(out, e.ClientState.String()+"/"+e.ServerState.String())
	}
	return strings.Join(out, " ")
}

func TestStates(t *testing.T) {
	for _, tc := range []struct {
		name string
		segs []tseg
		want string
	}{
		{"server closes first", greeting,
			"SYN-SENT/LISTEN ESTABLISHED/SYN-RECEIVED ESTABLISHED/ESTABLISHED ESTABLISHED/ESTABLISHED ESTABLISHED/ESTABLISHED " +
				"CLOSE-WAIT/FIN-WAIT-1 LAST-ACK/TIME-WAIT CLOSED/TIME-WAIT"},
		{"client closes first", cat(handshake, []tseg{{'c', "F.", 1, 1, ""}, {'s', ".", 1, 2, ""}, {'s', "F.", 1, 2, ""}, {'c', ".", 2, 2, ""}}),
			"SYN-SENT/LISTEN ESTABLISHED/SYN-RECEIVED ESTABLISHED/ESTABLISHED " +
				"FIN-WAIT-1/CLOSE-WAIT FIN-WAIT-2/CLOSE-WAIT TIME-WAIT/LAST-ACK TIME-WAIT/CLOSED"},
		{"simultaneous close", cat(handshake, []tseg{{'c', "F.", 1, 1, ""}, {'s', "F.", 1, 1, ""}, {'s', ".", 2, 2, ""}, {'c', ".", 2, 2, ""}}),
			"SYN-SENT/LISTEN ESTABLISHED/SYN-RECEIVED ESTABLISHED/ESTABLISHED " +
				"FIN-WAIT-1/CLOSE-WAIT CLOSING/LAST-ACK TIME-WAIT/LAST-ACK TIME-WAIT/CLOSED"},
		// Nothing listens: the server side holds no TCB (RFC 9293 §3.5), CLOSED
		// from the first segment on, not LISTEN.
		{"refused", []tseg{{'c', "S", 0, 0, ""}, {'s', "R.", 0, 1, ""}}, "SYN-SENT/CLOSED CLOSED/CLOSED"},
		{"no answer", []tseg{{'c', "S", 0, 0, ""}, {'c', "S", 0, 0, ""}}, "SYN-SENT/LISTEN SYN-SENT/LISTEN"},
		{"simultaneous open", []tseg{{'c', "S", 0, 0, ""}, {'s', "S", 0, 0, ""}, {'s', "S.", 0, 1, ""}, {'c', "S.", 0, 1, ""}},
			// RFC 9293 Figure 8: the SYNs cross; each side shows SYN-RECEIVED
			// with its SYN-ACK and becomes ESTABLISHED when the other's
			// SYN-ACK arrives.
			"SYN-SENT/LISTEN SYN-SENT/SYN-SENT ESTABLISHED/SYN-RECEIVED ESTABLISHED/ESTABLISHED"},
		{"partial", []tseg{{'c', "P.", 5, 5, "x"}, {'s', "F.", 5, 6, ""}}, "ESTABLISHED/ESTABLISHED CLOSE-WAIT/FIN-WAIT-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := replay(t, tc.segs)
			if got := states(conns[0]); got != tc.want {
				t.Errorf("states\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}
