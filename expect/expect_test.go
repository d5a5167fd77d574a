package expect

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"synack/decode"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in, msg string
		caret   int // column of ^ in the message's last line
	}{
		{"verdikt=complete", `unknown field "verdikt"`, 0},
		{"syn_to_synack<5", "syn_to_synack wants a duration with a unit (e.g. 5ms), not \"5\"", 14},
		{"rst=>0", "bad comparison", 3},
		{"rst==0", "bad comparison", 3},
		{"rst", "rst needs a comparison", 3},
		{"rst=", "missing value after =", 4},
		{"=3", "missing field name", 0},
		{"verdict<complete", "verdict is a word: compare it with = or !=", 8},
		{"client.ip=10.0.0.300/8", "client.ip wants an address or CIDR prefix", 10},
		{"handshake.complete>true", "wants = or != with true or false", 19},
	} {
		_, err := Parse(tc.in)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: error %v, want a SyntaxError", tc.in, err)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if !strings.Contains(lines[0], tc.msg) || se.Pos != tc.caret || len(lines) != 3 ||
			strings.Index(lines[2], "^")-2 != tc.caret {
			t.Errorf("%q: %q at %d, want %q at %d", tc.in, err, se.Pos, tc.msg, tc.caret)
		}
	}
}

func TestEval(t *testing.T) {
	c := &decode.Conn{
		ID: 3, Client: netip.MustParseAddrPort("10.1.2.3:40000"), Server: netip.MustParseAddrPort("[2001:db8::1]:443"),
		FirstSeen: time.Unix(0, 0), LastSeen: time.Unix(0, int64(250*time.Millisecond)),
		Handshake: decode.Handshake{SYN: true, SYNACK: true, ACK: true, SYNTime: time.Unix(0, 0),
			SYNACKTime: time.Unix(0, int64(3*time.Millisecond)), ACKTime: time.Unix(0, int64(4*time.Millisecond))},
		RSTs: [2]uint32{0, 1}, Packets: [2]uint64{5, 6}, ClosedBy: decode.Server,
		Verdict: decode.Reset, // as the decoder would have summed it up
	}
	c.Anomalies[decode.Retransmission.Index()] = 2
	for _, tc := range []struct {
		expr   string
		ok     bool
		actual string
	}{
		{"verdict=reset", true, "reset"},
		{"verdict!=complete", true, "reset"},
		{"handshake.complete", true, "true"},
		{"handshake.complete=false", false, "true"},
		{"rst=0", false, "1"},
		{"rst.server>=1", true, "1"},
		{"retransmission=0", false, "2"},
		{"packets>10", true, "11"},
		{"syn_to_synack<5ms", true, "3ms"},
		{"syn_to_synack<2500us", false, "3ms"},
		{"duration>=1s", false, "250ms"},
		{"client.ip=10.0.0.0/8", true, "10.1.2.3"},
		{"client.ip!=10.1.2.3", false, "10.1.2.3"},
		{"server.ip=2001:db8::/32", true, "2001:db8::1"},
		{"server.port=443", true, "443"},
		{" closed_by = server ", true, "server"},
	} {
		e, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		if ok, actual := e.Eval(c); ok != tc.ok || actual != tc.actual {
			t.Errorf("%q: %v %q, want %v %q", tc.expr, ok, actual, tc.ok, tc.actual)
		}
	}
	e, _ := Parse("connections>=1")
	if !e.Capture() {
		t.Fatal("connections is not capture-level")
	}
	if ok, n := e.Count(0); ok || n != "0" {
		t.Errorf("connections>=1 on 0: %v %s", ok, n)
	}
}
