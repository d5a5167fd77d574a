package expect

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"synack/decode"
)

// FuzzParse parses arbitrary expressions: an error must be a SyntaxError
// pointing inside the text, and whatever parses must evaluate without
// panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"verdict=complete", "syn_to_synack<5ms", "client.ip=10.0.0.0/8", "handshake.complete",
		"rst!=0", "connections>=1", "server.ip=2001:db8::/32", "duration>=1.5s", "history=ShAdfFa", "==", "<", "a<=b<=c"} {
		f.Add(s)
	}
	c := &decode.Conn{Client: netip.MustParseAddrPort("10.0.0.1:1000"), Server: netip.MustParseAddrPort("10.0.0.2:80"),
		FirstSeen: time.Unix(0, 0), LastSeen: time.Unix(1, 0)}
	f.Fuzz(func(t *testing.T, text string) {
		e, err := Parse(text)
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("%q: %T %v", text, err, err)
			}
			if se.Pos < 0 || se.Pos > len(se.Text) || !strings.Contains(err.Error(), "^") {
				t.Fatalf("%q: caret at %d of %q", text, se.Pos, se.Text)
			}
			return
		}
		if e.Capture() {
			e.Count(3)
			return
		}
		e.Eval(c)
	})
}
