package pipeline_test

import (
	"context"
	"encoding/json"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"synack/decode"
	"synack/pipeline"
)

// oracleStream is one tcp.stream as fixtures/*.oracle.json record it. The
// files were written by shared/tools/tshark-oracle.py from tshark 4.x's
// view of each fixture (tshark -2 -T fields -e tcp.stream -e tcp.flags...);
// the test compares synack's connections with them and needs no tshark.
type oracleStream struct {
	Stream        int               `json:"stream"`
	Client        *string           `json:"client"`
	Server        *string           `json:"server"`
	First         string            `json:"first"`
	Peer          string            `json:"peer"`
	SYN           bool              `json:"syn"`
	SYNACK        bool              `json:"syn_ack"`
	ACK           bool              `json:"ack"`
	Packets       uint64            `json:"packets"`
	Bytes         map[string]uint64 `json:"bytes"`
	FIN           map[string]uint32 `json:"fin"`
	RST           map[string]uint32 `json:"rst"`
	FirstCloser   *string           `json:"first_closer"`
	SYNToSYNACKus *int64            `json:"syn_to_synack_us"`
	SYNACKToACKus *int64            `json:"synack_to_ack_us"`
	Analysis      map[string]uint32 `json:"analysis"`
	InitialRTT    *float64          `json:"initial_rtt"`
	SYNOptions    map[string]struct {
		MSS      string `json:"mss"`
		WScale   string `json:"wscale"`
		SACKPerm bool   `json:"sack_perm"`
		TS       bool   `json:"ts"`
	} `json:"syn_options"`
}

// oracleKey writes an endpoint the way the oracle does: address, colon,
// port, with no brackets around IPv6 addresses.
func oracleKey(ap netip.AddrPort) string {
	return ap.Addr().String() + ":" + strconv.Itoa(int(ap.Port()))
}

// disagreements are where synack differs from the oracle on purpose, by
// file, stream and check. Each is named in the README too.
var disagreements = map[string]map[int]map[string]string{
	"handshakes.pcap": {2: {
		// In a simultaneous open (RFC 9293 §3.5, Figure 8) the client's
		// SYN-ACK acknowledges the server's SYN: the handshake is complete
		// without a bare ACK. The oracle counts only a non-SYN ACK.
		"ack": "simultaneous open: the client's SYN-ACK completes the handshake",
	}},
	"simultaneous-one-synack.pcap": {1: {
		// The client sent the only SYN-ACK: the server's ACK of it
		// completes the handshake. The oracle waits for the client's
		// first ACK without SYN, its request.
		"syn-ack→ack": "split handshake: the server's ACK of the client's SYN-ACK completes it",
	}},
	"synack-first.pcap": {0: {
		// The SYN-ACK was captured before its SYN: synack dates no
		// handshake stage from another (Handshake.OutOfOrder); the oracle
		// subtracts the dates as they are, a negative SYN→SYN-ACK.
		"syn→syn-ack": "handshake captured out of order: no stage times",
		"syn-ack→ack": "handshake captured out of order: no stage times",
	}},
	"syn-sent-rst.pcap": {1: {
		// A RST without an ACK in SYN-SENT is dropped (RFC 9293
		// §3.10.7.3) and closes nothing: the client's FIN closes first.
		// The oracle takes the first FIN or RST.
		"first to close": "a RST unacceptable in SYN-SENT closes nothing",
	}},
	"ip-fragment.pcap": {0: {
		// A first fragment whose other fragments never came: tshark
		// (reassembly off) decodes its TCP header but gives it no
		// tcp.len; synack counts the payload bytes it holds, as tcpdump
		// prints them ("length 8").
		"payload bytes from 10.0.0.2:80": "a first fragment's payload counted as tcpdump counts it",
	}},
}

// splits are tshark streams that synack draws as several connections on
// purpose, by file and stream: how many, and why. Each is named in the
// README too; the connections together must hold the stream's packets.
var splits = map[string]map[int]struct {
	n   int
	why string
}{
	"refused-retry.pcap": {0: {2, "a SYN retried after a refusal (RST-ACK) is a new attempt, as Zeek logs it (REJ, Sr each); tshark splits only on a new ISN"}},
}

// keyedApart are captures where synack keys apart connections that tshark
// 4.0 puts in one stream: the same 4-tuple in other VLANs or tunnels,
// which Zeek 8 keys apart too with its VLAN and VNI connection keys. Each tshark stream must be the sum of the
// connections on its endpoints.
var keyedApart = map[string]string{
	"encap-collide.pcap": "one 4-tuple in VLANs 10, 20 and VXLAN VNIs 1, 2: Zeek's four connections, tshark's one stream",
}

// compareKeyedApart checks a capture of keyedApart: more connections than
// streams, and each stream's packets, bytes, FINs and RSTs the sums of
// those of the connections on its endpoints.
func compareKeyedApart(t *testing.T, conns []*decode.Conn, streams []oracleStream) {
	t.Helper()
	if len(conns) <= len(streams) {
		t.Errorf("%d connections, tshark has %d streams: expected synack to key more apart", len(conns), len(streams))
	}
	taken := 0
	for _, want := range streams {
		var packets uint64
		bytes, fins, rsts := map[string]uint64{}, map[string]uint32{}, map[string]uint32{}
		for _, c := range conns {
			cl, sv := oracleKey(c.Client), oracleKey(c.Server)
			if (cl != want.First || sv != want.Peer) && (cl != want.Peer || sv != want.First) {
				continue
			}
			taken++
			packets += c.Packets[0] + c.Packets[1]
			for s, ep := range [2]string{cl, sv} {
				bytes[ep] += c.Bytes[s]
				fins[ep] += c.FINs[s]
				rsts[ep] += c.RSTs[s]
			}
		}
		if packets != want.Packets {
			t.Errorf("stream %d: synack's connections on its endpoints have %d packets, tshark %d", want.Stream, packets, want.Packets)
		}
		for ep, n := range want.Bytes {
			if bytes[ep] != n || fins[ep] != want.FIN[ep] || rsts[ep] != want.RST[ep] {
				t.Errorf("stream %d from %s: synack %d bytes, %d FINs, %d RSTs; tshark %d, %d, %d",
					want.Stream, ep, bytes[ep], fins[ep], rsts[ep], n, want.FIN[ep], want.RST[ep])
			}
		}
	}
	if taken != len(conns) {
		t.Errorf("%d of %d connections are on no tshark stream's endpoints", len(conns)-taken, len(conns))
	}
}

func TestConnectionsMatchTshark(t *testing.T) {
	oracles, err := filepath.Glob("../fixtures/*.oracle.json")
	if err != nil || len(oracles) == 0 {
		t.Fatalf("no oracle files in fixtures/: %v", err)
	}
	for _, path := range oracles {
		capturePath := strings.TrimSuffix(path, ".oracle.json")
		t.Run(filepath.Base(capturePath), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var oracle struct {
				Streams []oracleStream `json:"streams"`
			}
			if err := json.Unmarshal(raw, &oracle); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			rep, err := pipeline.ReadFile(context.Background(), capturePath, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep.Conns = joinResumed(rep.Conns)
			if _, ok := keyedApart[filepath.Base(capturePath)]; ok {
				compareKeyedApart(t, rep.Conns, oracle.Streams)
				return
			}
			split := splits[filepath.Base(capturePath)]
			n := len(oracle.Streams)
			for _, sp := range split {
				n += sp.n - 1
			}
			if len(rep.Conns) != n {
				t.Fatalf("%d connections, want %d (tshark has %d streams)", len(rep.Conns), n, len(oracle.Streams))
			}
			i := 0
			for _, want := range oracle.Streams {
				if sp, ok := split[want.Stream]; ok {
					compareSplit(t, rep.Conns[i:i+sp.n], &want, sp.why)
					i += sp.n
					continue
				}
				compareStream(t, rep.Conns[i], &want, rep.Format == "pcap (ns)", disagreements[filepath.Base(capturePath)][want.Stream])
				i++
			}
			compareFlags(t, capturePath+".flags.json", rep.Conns)
		})
	}
}

func compareStream(t *testing.T, c *decode.Conn, want *oracleStream, nanos bool, except map[string]string) {
	t.Helper()
	cl, sv := oracleKey(c.Client), oracleKey(c.Server)
	side := map[string]decode.Side{cl: decode.Client, sv: decode.Server}
	check := func(what string, got, exp any) {
		t.Helper()
		if why, ok := except[what]; ok {
			if got == exp {
				t.Errorf("stream %d %s: expected to differ from tshark (%s) but agrees", want.Stream, what, why)
			}
			return
		}
		if got != exp {
			t.Errorf("stream %d (conn %d) %s: synack %v, tshark %v", want.Stream, c.ID, what, got, exp)
		}
	}
	if want.Client != nil {
		check("client", cl, *want.Client)
		check("server", sv, *want.Server)
	} else {
		// No SYN: tshark names no client; synack guesses, and the two
		// endpoints must still be the stream's.
		check("partial", c.Partial, true)
		if (cl != want.First || sv != want.Peer) && (cl != want.Peer || sv != want.First) {
			t.Errorf("stream %d: endpoints %s %s, tshark %s %s", want.Stream, cl, sv, want.First, want.Peer)
		}
	}
	h := &c.Handshake
	check("syn", h.SYN, want.SYN)
	check("syn_ack", h.SYNACK, want.SYNACK)
	check("ack", h.ACK, want.ACK)
	// The oracle subtracts epoch times as float64 seconds, which carry
	// only about 0.24 µs of precision today: for nanosecond captures its
	// microseconds may be off by one. Microsecond captures must agree.
	slack := int64(0)
	if nanos {
		slack = 1
	}
	near := func(what string, got time.Duration, exp *int64) {
		t.Helper()
		if exp == nil {
			return
		}
		d := got.Round(time.Microsecond).Microseconds() - *exp
		if why, ok := except[what]; ok {
			if d >= -slack && d <= slack {
				t.Errorf("stream %d %s: expected to differ from tshark (%s) but agrees", want.Stream, what, why)
			}
			return
		}
		if d < -slack || d > slack {
			t.Errorf("stream %d (conn %d) %s: synack %v, tshark %dµs", want.Stream, c.ID, what, got, *exp)
		}
	}
	near("syn→syn-ack", h.SYNToSYNACK(), want.SYNToSYNACKus)
	near("syn-ack→ack", h.SYNACKToACK(), want.SYNACKToACKus)
	if want.InitialRTT != nil { // tcp.analysis.initial_rtt, seconds
		irtt := int64(math.Round(*want.InitialRTT * 1e6))
		near("iRTT", c.IRTT, &irtt)
	} else {
		check("iRTT", c.IRTT, time.Duration(0))
	}
	check("packets", c.Packets[0]+c.Packets[1], want.Packets)
	for ep, s := range side {
		check("payload bytes from "+ep, c.Bytes[s], want.Bytes[ep])
		check("FINs from "+ep, c.FINs[s], want.FIN[ep])
		check("RSTs from "+ep, c.RSTs[s], want.RST[ep])
		o, seen := want.SYNOptions[ep]
		check("SYN seen from "+ep, c.HasOptions[s], seen)
		if seen && !c.Options[s].Cut {
			got := &c.Options[s]
			check("mss of "+ep, optNum(got.HasMSS, int(got.MSS)), o.MSS)
			check("wscale of "+ep, optNum(got.HasWScale, int(got.WScale)), o.WScale)
			check("sackOK of "+ep, got.SACKPermitted, o.SACKPerm)
			check("timestamps of "+ep, got.Timestamps, o.TS)
		}
	}
	names := map[string]decode.Anomaly{}
	for _, a := range decode.Anomalies() {
		names[a.String()] = a
	}
	for name, n := range want.Analysis {
		a, ok := names[name]
		if !ok {
			t.Errorf("oracle flag %q unknown to synack", name)
			continue
		}
		check("tcp.analysis."+name, c.Anomalies[a.Index()], n)
	}
	closer := ""
	if want.FirstCloser != nil {
		closer = *want.FirstCloser
	}
	gotCloser := ""
	switch c.ClosedBy {
	case decode.Client:
		gotCloser = cl
	case decode.Server:
		gotCloser = sv
	}
	check("first to close", gotCloser, closer)
}

// joinResumed folds each Resumed record into the connection it goes on
// with (the same ID), as tshark keeps a late segment in the connection's
// stream: its packets, bytes, FINs, RSTs and analysis flags are added.
func joinResumed(conns []*decode.Conn) []*decode.Conn {
	byID := map[uint64]*decode.Conn{}
	var out []*decode.Conn
	for _, c := range conns {
		first, ok := byID[c.ID]
		if !ok || !c.Resumed {
			cp := *c
			byID[c.ID] = &cp
			out = append(out, &cp)
			continue
		}
		for s := range 2 {
			first.Packets[s] += c.Packets[s]
			first.Bytes[s] += c.Bytes[s]
			first.FINs[s] += c.FINs[s]
			first.RSTs[s] += c.RSTs[s]
		}
		for i := range first.Anomalies {
			first.Anomalies[i] += c.Anomalies[i]
		}
		if first.ClosedBy == decode.NoSide {
			first.ClosedBy = c.ClosedBy
		}
	}
	return out
}

// compareSplit checks connections that synack draws where tshark has one
// stream (see splits): the stream's endpoints, and its packets, FINs and
// RSTs between them.
func compareSplit(t *testing.T, conns []*decode.Conn, want *oracleStream, why string) {
	t.Helper()
	var packets uint64
	fins, rsts := map[string]uint32{}, map[string]uint32{}
	for _, c := range conns {
		cl, sv := oracleKey(c.Client), oracleKey(c.Server)
		if want.Client != nil && (cl != *want.Client || sv != *want.Server) {
			t.Errorf("stream %d (%s): conn %d is %s → %s, tshark %s → %s", want.Stream, why, c.ID, cl, sv, *want.Client, *want.Server)
		}
		packets += c.Packets[0] + c.Packets[1]
		fins[cl] += c.FINs[decode.Client]
		fins[sv] += c.FINs[decode.Server]
		rsts[cl] += c.RSTs[decode.Client]
		rsts[sv] += c.RSTs[decode.Server]
	}
	if packets != want.Packets {
		t.Errorf("stream %d (%s): %d packets in %d connections, tshark %d", want.Stream, why, packets, len(conns), want.Packets)
	}
	for ep := range fins {
		if fins[ep] != want.FIN[ep] || rsts[ep] != want.RST[ep] {
			t.Errorf("stream %d (%s): from %s FIN %d RST %d, tshark FIN %d RST %d", want.Stream, why, ep, fins[ep], rsts[ep], want.FIN[ep], want.RST[ep])
		}
	}
}

func optNum(ok bool, v int) string {
	if !ok {
		return ""
	}
	return strconv.Itoa(v)
}

// compareFlags checks the analysis flags the oracle does not record
// against fixtures/NAME.flags.json, written by fixtures/tshark-flags.py
// from tshark's tcp.analysis.ack_lost_segment, window_full, keep_alive_ack
// and zero_window_probe_ack.
func compareFlags(t *testing.T, path string, conns []*decode.Conn) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run fixtures/tshark-flags.py)", err)
	}
	var doc struct {
		Streams []map[string]int `json:"streams"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	names := map[string]decode.Anomaly{}
	for _, a := range decode.Anomalies() {
		names[a.String()] = a
	}
	for _, st := range doc.Streams {
		i := st["stream"]
		if i >= len(conns) {
			t.Errorf("%s: stream %d has no connection", path, i)
			continue
		}
		for name, n := range st {
			if name == "stream" {
				continue
			}
			a, ok := names[name]
			if !ok {
				t.Fatalf("%s: unknown flag %q", path, name)
			}
			if got := int(conns[i].Anomalies[a.Index()]); got != n {
				t.Errorf("stream %d tcp.analysis %s: synack %d, tshark %d", i, name, got, n)
			}
		}
	}
}
