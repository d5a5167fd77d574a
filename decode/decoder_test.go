package decode

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
)

var (
	handshake = []tseg{{'c', "S", 0, 0, ""}, {'s', "S.", 0, 1, ""}, {'c', ".", 1, 1, ""}}
	greeting  = append(append([]tseg(nil), handshake...),
		tseg{'s', "P.", 1, 1, "Hello, Client!"}, tseg{'c', ".", 1, 15, ""},
		tseg{'s', "F.", 15, 1, ""}, tseg{'c', "F.", 1, 16, ""}, tseg{'s', ".", 16, 2, ""})
)

func cat(parts ...[]tseg) []tseg {
	var out []tseg
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name string
		segs []tseg
		want []Verdict
	}{
		{"complete", greeting, []Verdict{Complete}},
		{"refused", []tseg{{'c', "S", 0, 0, ""}, {'s', "R.", 0, 1, ""}}, []Verdict{Refused}},
		{"no answer", []tseg{{'c', "S", 0, 0, ""}, {'c', "S", 0, 0, ""}}, []Verdict{NoAnswer}},
		{"incomplete", []tseg{{'c', "S", 0, 0, ""}, {'s', "S.", 0, 1, ""}}, []Verdict{Incomplete}},
		{"open", cat(handshake, []tseg{{'c', "P.", 1, 1, "hi"}}), []Verdict{Open}},
		{"half-closed is still open", cat(handshake, []tseg{{'c', "F.", 1, 1, ""}, {'s', ".", 1, 2, ""}}), []Verdict{Open}},
		{"reset after data", cat(handshake, []tseg{{'c', "P.", 1, 1, "hi"}, {'s', "R.", 1, 3, ""}}), []Verdict{Reset}},
		// Handed over when it closed, then resumed by the late RST: the
		// connection is complete still (see TestLateSegmentsGoOn).
		{"RST after both FINs is still complete", cat(greeting, []tseg{{'c', "R", 2, 0, ""}}), []Verdict{Complete, Complete}},
		{"partial", []tseg{{'c', "P.", 5, 5, "x"}, {'s', ".", 5, 6, ""}}, []Verdict{Partial}},
		{"SYN-ACK first is partial", []tseg{{'s', "S.", 0, 1, ""}, {'c', ".", 1, 1, ""}}, []Verdict{Partial}},
		{"port reuse after close", cat(greeting, greeting), []Verdict{Complete, Complete}},
		{"new ISN while unanswered", []tseg{{'c', "S", 0, 0, ""}, {'c', "S", 7777, 0, ""}}, []Verdict{NoAnswer, NoAnswer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := replay(t, tc.segs)
			if len(conns) != len(tc.want) {
				t.Fatalf("%d connections, want %d", len(conns), len(tc.want))
			}
			for i, c := range conns {
				if got := c.Verdict; got != tc.want[i] {
					t.Errorf("connection %d: verdict %s, want %s", i+1, got, tc.want[i])
				}
			}
		})
	}
}

func TestGreetingEvents(t *testing.T) {
	conns := replay(t, greeting)
	c := conns[0]
	if c.Client != cli || c.Server != srv || c.Partial {
		t.Fatalf("roles %s → %s partial=%v", c.Client, c.Server, c.Partial)
	}
	want := []struct {
		flags    string
		seq, ack uint32
		note     string
	}{
		{"S", 0, 0, "handshake 1/3"},
		{"S.", 0, 1, "handshake 2/3"},
		{".", 1, 1, "handshake complete"},
		{"P.", 1, 1, "data"},
		{".", 1, 15, "ack"},
		{"F.", 15, 1, "server closes"},
		{"F.", 1, 16, "client closes, FIN acknowledged"},
		{".", 16, 2, "connection closed"},
	}
	if len(c.Events) != len(want) {
		t.Fatalf("%d events", len(c.Events))
	}
	for i, w := range want {
		e := c.Events[i]
		if e.Flags.Tcpdump() != w.flags || e.Seq != w.seq || e.Ack != w.ack || e.Note.String() != w.note {
			t.Errorf("event %d: %s seq %d ack %d %q, want %s seq %d ack %d %q", i+1, e.Flags.Tcpdump(), e.Seq, e.Ack, e.Note, w.flags, w.seq, w.ack, w.note)
		}
	}
	if got := string(c.Events[3].Preview()); got != "Hello, Client!" {
		t.Errorf("preview %q", got)
	}
	if c.ClosedBy != Server || c.Bytes[Server] != 14 || c.Packets[Client] != 4 || c.FINs != [2]uint32{1, 1} {
		t.Errorf("closed by %s, bytes %v, packets %v, FINs %v", c.ClosedBy, c.Bytes, c.Packets, c.FINs)
	}
	if hs := c.Handshake; hs.SYNToSYNACK().Milliseconds() != 1 || hs.SYNACKToACK().Milliseconds() != 1 {
		t.Errorf("handshake times %v %v", hs.SYNToSYNACK(), hs.SYNACKToACK())
	}
}

// TestOnEventSeesSummingUp: while OnEvent runs, the summing-up fields
// say what the record would say were the capture cut after that segment.
func TestOnEventSeesSummingUp(t *testing.T) {
	type summingUp struct {
		verdict   Verdict
		connState ConnState
		history   string
		zeekBytes [2]uint64
	}
	of := func(c *Conn) summingUp { return summingUp{c.Verdict, c.ConnState, c.History, c.ZeekBytes} }
	for _, tc := range []struct {
		name string
		segs []tseg
	}{
		{"greeting", greeting},
		{"refused", []tseg{{'c', "S", 0, 0, ""}, {'s', "R.", 0, 1, ""}}},
		{"partial, server first (history flipped)", []tseg{{'s', "P.", 5, 5, "x"}, {'c', ".", 5, 6, ""}, {'c', "R", 5, 0, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []summingUp
			replayWith(t, Config{OnEvent: func(c *Conn, _ Event) { seen = append(seen, of(c)) }}, tc.segs)
			if len(seen) != len(tc.segs) {
				t.Fatalf("%d events, want %d", len(seen), len(tc.segs))
			}
			for i := range tc.segs {
				if want := of(replay(t, tc.segs[:i+1])[0]); seen[i] != want {
					t.Errorf("after segment %d: OnEvent saw %+v, the record cut there says %+v", i+1, seen[i], want)
				}
			}
		})
	}
}

func TestFlagsNotation(t *testing.T) {
	for _, tc := range []struct {
		f           Flags
		dump, named string
	}{
		{SYN, "S", "SYN"},
		{SYN | ACK, "S.", "SYN-ACK"},
		{ACK, ".", "ACK"},
		{PSH | ACK, "P.", "PSH-ACK"},
		{FIN | ACK, "F.", "FIN-ACK"},
		{RST | ACK, "R.", "RST-ACK"},
		{FIN | PSH | ACK, "FP.", "FIN-PSH-ACK"},
		{SYN | ECE | CWR, "SEW", "SYN-ECE-CWR"},
		{0, "none", "none"},
	} {
		if got := tc.f.Tcpdump(); got != tc.dump {
			t.Errorf("%s: Tcpdump() %q, want %q", tc.named, got, tc.dump)
		}
		if got := tc.f.String(); got != tc.named {
			t.Errorf("String() %q, want %q", got, tc.named)
		}
	}
}

func TestMalformedFrames(t *testing.T) {
	good := ethFrame(t, cli, srv, "S", 1, 0, nil, nil)
	badOffset := append([]byte(nil), good...)
	badOffset[14+20+12] = 0x30 // TCP data offset 3
	shortIP := append([]byte(nil), good...)
	shortIP[14+2], shortIP[14+3] = 0, 30 // IP total length 30: 10 bytes for a 20-byte TCP header
	withOpts := ethFrame(t, cli, srv, "S", 1, 0, nil, []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}})
	optsCut := withOpts[:14+20+22] // a snaplen would leave the fixed header; in a frame captured whole it lies
	for _, tc := range []struct {
		name string
		data []byte
		lt   LinkType
		want string
	}{
		{"TCP data offset below 5", badOffset, LinkTypeEthernet, "frame 1: TCP: Invalid TCP data offset 3 < 5"},
		{"IP length shorter than TCP header", shortIP, LinkTypeEthernet, "frame 1: TCP"},
		{"cut Ethernet header", good[:10], LinkTypeEthernet, "frame 1: Ethernet"},
		{"TCP options past a frame captured whole", optsCut, LinkTypeEthernet, "frame 1: TCP: TCP data offset greater than packet length"},
		{"unsupported link type", good, LinkType(147), "frame 1: unsupported link type 147"},
		{"raw frame that is not IP", []byte{0x50, 0, 0, 0}, LinkTypeRaw, "raw IP frame with IP version 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := New(Config{}, SinkFunc(func(*Conn) {}))
			err := d.Packet(&Frame{Number: 1, Time: t0, Data: tc.data, Length: len(tc.data), LinkType: tc.lt})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if d.Totals().Malformed != 1 {
				t.Errorf("totals %+v", d.Totals())
			}
		})
	}
}

func TestIdleConnectionsAreFlushed(t *testing.T) {
	var got []*Conn
	d := New(Config{}, SinkFunc(func(c *Conn) { got = append(got, c) }))
	for i, s := range handshake[:2] {
		src, dst := cli, srv
		if s.from == 's' {
			src, dst = srv, cli
		}
		data := ethFrame(t, src, dst, s.flags, s.seq, s.ack, []byte(s.payload), nil)
		d.Packet(&Frame{Number: uint64(i + 1), Time: t0, Data: data, Length: len(data), LinkType: LinkTypeEthernet})
	}
	// A frame of another connection four minutes later evicts the
	// unfinished handshake (handshake timeout 3 min) before the capture
	// ends.
	other := ethFrame(t, srv, netip.AddrPortFrom(cli.Addr(), 1), "S", 1, 0, nil, nil)
	d.Packet(&Frame{Number: 9, Time: t0.Add(4 * 60e9), Data: other, Length: len(other), LinkType: LinkTypeEthernet})
	if len(got) != 1 || d.Totals().Evicted != 1 || d.Open() != 1 {
		t.Fatalf("%d flushed, %d evicted, %d open", len(got), d.Totals().Evicted, d.Open())
	}
}

// withExtension inserts an IPv6 extension header of the given kind after
// the fixed IPv6 header of an Ethernet frame.
func withExtension(frame []byte, kind byte, ext []byte) []byte {
	const ip6 = 14
	out := append([]byte(nil), frame[:ip6+40]...)
	ext = append([]byte{out[ip6+6]}, ext...) // next header: what the IPv6 header had
	out[ip6+6] = kind
	plen := int(out[ip6+4])<<8 | int(out[ip6+5]) + len(ext)
	out[ip6+4], out[ip6+5] = byte(plen>>8), byte(plen)
	out = append(out, ext...)
	return append(out, frame[ip6+40:]...)
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	c6, s6 := netip.MustParseAddrPort("[2001:db8::1]:40000"), netip.MustParseAddrPort("[2001:db8::2]:443")
	base := ethFrame(t, c6, s6, "P.", 1, 1, []byte("payload!"), nil)
	destOpts := []byte{0, 1, 4, 0, 0, 0, 0} // hdr ext len 0, PadN of 4
	hopThenDest := withExtension(withExtension(base, 60, destOpts), 0, destOpts)
	firstFragment := withExtension(base, 44, []byte{0, 0, 0, 0, 0, 0, 1}) // offset 0, no more fragments
	laterFragment := withExtension(base, 44, []byte{0, 0, 8, 0, 0, 0, 1}) // offset 1 (8 bytes)
	for _, tc := range []struct {
		name string
		data []byte
		tcp  bool
	}{
		{"destination options", withExtension(base, 60, destOpts), true},
		{"hop-by-hop then destination options", hopThenDest, true},
		{"atomic fragment", firstFragment, true},
		{"non-first fragment", laterFragment, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []*Conn
			d := New(Config{}, SinkFunc(func(c *Conn) { got = append(got, c) }))
			if err := d.Packet(&Frame{Number: 1, Time: t0, Data: tc.data, Length: len(tc.data), LinkType: LinkTypeEthernet}); err != nil {
				t.Fatal(err)
			}
			d.Flush()
			if !tc.tcp {
				if d.Totals().NonTCP != 1 || len(got) != 0 {
					t.Fatalf("totals %+v", d.Totals())
				}
				return
			}
			if len(got) != 1 || got[0].Bytes[Client] != 8 || got[0].Server != s6 {
				t.Fatalf("%d conns, totals %+v", len(got), d.Totals())
			}
		})
	}
}
