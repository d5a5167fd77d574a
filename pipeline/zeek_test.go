package pipeline_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"synack/pipeline"
	"synack/report"
)

// TestZeekConnStateAndHistory checks conn_state and history for each
// fixture. Zeek is not packaged here, so the expected values were worked
// out by hand from Zeek's rules — conn_state() in
// base/protocols/conn/main.zeek, update_history() and the endpoint state
// machine in TCPSessionAdapter.cc — packet by packet:
//   - the greeting: S (SYN), h (SYN-ACK), A (ACK), d (the greeting), f (the
//     server's FIN), F (the client's FIN-ACK; A was already recorded), a
//     (the last ACK); both endpoints CLOSED: SF;
//   - refused: S, then the responder's RST r; responder RESET while the
//     originator is SYN_SENT: REJ;
//   - reset: the responder aborts an established connection: RSTR;
//   - SYNs only: the repeats carry the same sequence number, so one S: S0;
//   - no SYN seen: both endpoints PARTIAL, then both CLOSED: SF;
//   - SYN, SYN-ACK, ACK and no close: S1;
//   - 18 retransmissions by the responder: t at the 1st and 10th (Zeek's
//     logarithmic letters); a zero window from the originator: W.
func TestZeekConnStateAndHistory(t *testing.T) {
	type zeek struct{ state, history string }
	for _, tc := range []struct {
		file string
		want []zeek
	}{
		{"greeting.pcap", []zeek{{"SF", "ShAdfFa"}}},
		{"refused.pcap", []zeek{{"REJ", "Sr"}}},
		{"reset.pcap", []zeek{{"RSTR", "ShAdr"}}},
		{"half-close.pcap", []zeek{{"SF", "ShADaFdf"}}},
		{"http-curl.pcap", []zeek{{"SF", "ShADadFf"}}},
		{"syn-no-answer.pcap", []zeek{{"S0", "S"}}},
		{"syn-timeout.pcap", []zeek{{"S0", "S"}}},
		{"partial.pcap", []zeek{{"SF", "DdFfA"}}},
		{"port-reuse.pcap", []zeek{{"SF", "ShAdfFa"}, {"SF", "ShAdfFa"}, {"S0", "S"}, {"S1", "ShA"}}},
		{"loss.pcap", []zeek{{"SF", "ShADadttfF"}}},
		{"zero-window.pcap", []zeek{{"SF", "ShAdWafF"}}},
		{"keepalive.pcap", []zeek{{"SF", "ShAaDFf"}}},
		{"demo-client-closes.pcap", []zeek{{"SF", "ShAdFf"}}}, // the server sends no pure ACK: no a
		{"demo-reset.pcap", []zeek{{"RSTR", "ShAdr"}}},
		// A SYN refused, then the same SYN (same ISN) refused again: Zeek
		// logs each attempt, its connection removed at the RST.
		{"refused-retry.pcap", []zeek{{"REJ", "Sr"}, {"REJ", "Sr"}}},
		// The SYN-ACK captured first: Zeek takes its sender for the
		// originator (H), the SYN comes from the responder (s), and Zeek
		// flips the roles (^); then A, D, d, F, f in the SYN's roles.
		{"synack-first.pcap", []zeek{{"SF", "Hs^ADdFf"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rep, err := pipeline.ReadFile(context.Background(), "../fixtures/"+tc.file, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Conns) != len(tc.want) {
				t.Fatalf("%d connections, want %d", len(rep.Conns), len(tc.want))
			}
			for i, w := range tc.want {
				c := rep.Conns[i]
				if got := (zeek{c.ConnState.String(), c.History}); got != w {
					t.Errorf("connection %d: conn_state %s history %s, want %s %s", c.ID, got.state, got.history, w.state, w.history)
				}
			}
		})
	}
}

// TestZeekConnLogParses reads `--format zeek` output the way zeek-cut does:
// by the names in #fields. Every row has one column per field and type,
// and the columns hold what the connections say.
func TestZeekConnLogParses(t *testing.T) {
	rep, err := pipeline.ReadFile(context.Background(), "../fixtures/parallel.pcap", pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := report.Zeek(&buf, rep); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	var fields, types []string
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "#fields\t"):
			fields = strings.Split(line, "\t")[1:]
		case strings.HasPrefix(line, "#types\t"):
			types = strings.Split(line, "\t")[1:]
		case strings.HasPrefix(line, "#"):
		default:
			rows = append(rows, strings.Split(line, "\t"))
		}
	}
	if !strings.HasPrefix(out, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t") {
		t.Errorf("header lines differ from Zeek's:\n%s", out[:min(len(out), 200)])
	}
	if len(fields) != 21 || len(types) != len(fields) {
		t.Fatalf("%d fields, %d types", len(fields), len(types))
	}
	col := map[string]int{}
	for i, f := range fields {
		col[f] = i
	}
	if len(rows) != len(rep.Conns) || len(rows) != 40 {
		t.Fatalf("%d rows for %d connections", len(rows), len(rep.Conns))
	}
	uids := map[string]bool{}
	for i, r := range rows {
		c := rep.Conns[i]
		if len(r) != len(fields) {
			t.Fatalf("row %d has %d columns", i, len(r))
		}
		if r[col["conn_state"]] != c.ConnState.String() || r[col["history"]] != c.History ||
			r[col["id.orig_p"]] != strconv.Itoa(int(c.Client.Port())) || r[col["proto"]] != "tcp" ||
			r[col["resp_bytes"]] != "14" || r[col["orig_pkts"]] != strconv.FormatUint(c.Packets[0], 10) {
			t.Errorf("row %d: %v", i, r)
		}
		if uid := r[col["uid"]]; len(uid) != 18 || uid[0] != 'C' || uids[uid] {
			t.Errorf("row %d: bad or repeated uid %q", i, uid)
		} else {
			uids[uid] = true
		}
	}
}
