package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"synack/decode"
	"synack/pipeline"
)

// TestConnectionBoundaries reads the boundary fixtures (fixtures/synth,
// boundaries.go) and checks where synack draws each connection: one line
// per record, "ID verdict" with "partial" or "resumed" when it is, and
// what the category is about.
func TestConnectionBoundaries(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
		// check looks at what the category is about beyond the records.
		check func(t *testing.T, conns []*decode.Conn)
	}{
		// Mid-stream and idle 5 minutes: one connection, not two.
		{"midstream-idle.pcap", []string{"1 partial partial"}, nil},
		// FINs resent after the close, up to 40 s late: Resumed records of
		// the same connections, never new partial ones.
		{"late-fin.pcap", []string{"1 complete", "1 complete resumed", "2 complete", "2 complete resumed"}, nil},
		// The SYN-ACK before its SYN: one connection, complete.
		{"synack-first.pcap", []string{"1 complete"}, func(t *testing.T, conns []*decode.Conn) {
			if h := conns[0].Handshake; !h.OutOfOrder || h.SYNCount != 1 || h.SYNACKCount != 1 {
				t.Errorf("handshake %+v: want out of order, one SYN, one SYN-ACK", h)
			}
		}},
		// RSTs in SYN-SENT that do not acknowledge the SYN end nothing; an
		// injected one sets no sequence base.
		{"syn-sent-rst.pcap", []string{"1 complete", "2 complete"}, func(t *testing.T, conns []*decode.Conn) {
			for _, c := range conns {
				var notes int
				for i := range c.Events {
					if e := &c.Events[i]; e.Note&decode.NoteRSTIgnored != 0 {
						notes++
					}
				}
				if notes != 1 || c.Handshake.SYNCount != 1+int(c.ID%2) {
					t.Errorf("connection %d: %d RSTs unacceptable in SYN-SENT, %d SYNs", c.ID, notes, c.Handshake.SYNCount)
				}
			}
			c := conns[1]
			if isn, ok := c.ISN(decode.Server); !ok || isn != 9000 {
				t.Errorf("server ISN %d (%v), want 9000, the SYN-ACK's", isn, ok)
			}
			if seq, _ := c.Absolute(&c.Events[1]); seq != 0 || c.Events[1].Flags&decode.RST == 0 {
				t.Errorf("the injected RST: seq %d on the wire, want 0", seq)
			}
		}},
		// A SYN refused twice, same ISN: two refused attempts.
		{"refused-retry.pcap", []string{"1 refused", "2 refused"}, nil},
		// Simultaneous opens with one SYN-ACK: complete.
		{"simultaneous-one-synack.pcap", []string{"1 complete", "2 complete"}, nil},
		// iRTT from the resent SYN; the resent segment is a retransmission
		// (the iRTT is the out-of-order threshold), the spurious one too.
		{"irtt-resyn.pcap", []string{"1 complete"}, func(t *testing.T, conns []*decode.Conn) {
			c := conns[0]
			a := func(x decode.Anomaly) uint32 { return c.Anomalies[x.Index()] }
			if c.IRTT != 60*time.Microsecond || a(decode.OutOfOrder) != 0 || a(decode.Retransmission) != 3 || a(decode.SpuriousRetransmission) != 1 {
				t.Errorf("iRTT %v, out-of-order %d, retransmission %d, spurious %d; want 60µs, 0, 3, 1",
					c.IRTT, a(decode.OutOfOrder), a(decode.Retransmission), a(decode.SpuriousRetransmission))
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rep, err := pipeline.ReadFile(context.Background(), "../fixtures/"+tc.file, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range rep.Conns {
				s := fmt.Sprintf("%d %s", c.ID, c.Verdict)
				if c.Partial {
					s += " partial"
				}
				if c.Resumed {
					s += " resumed"
				}
				got = append(got, s)
			}
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Fatalf("records %q, want %q", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, rep.Conns)
			}
		})
	}
}
