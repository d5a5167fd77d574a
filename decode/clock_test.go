package decode

import (
	"net/netip"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// timed is a test segment with its own capture time; client names the
// client's end (cli when zero).
type timed struct {
	at     time.Time
	s      tseg
	client netip.AddrPort
}

// at dates segs from start, 1 ms apart, on the connection from client.
func at(start time.Time, client netip.AddrPort, segs ...tseg) []timed {
	out := make([]timed, len(segs))
	for i, s := range segs {
		out[i] = timed{start.Add(time.Duration(i) * time.Millisecond), s, client}
	}
	return out
}

// playTimed decodes the segments in order and returns the connections in
// the order they were handed over.
func playTimed(t *testing.T, cfg Config, segs []timed) []*Conn {
	t.Helper()
	var conns []*Conn
	d := New(cfg, SinkFunc(func(c *Conn) { conns = append(conns, c) }))
	for i, s := range segs {
		client := s.client
		if !client.IsValid() {
			client = cli
		}
		src, dst, seq, ack := client, srv, cISN+s.s.seq, sISN+s.s.ack
		if s.s.from == 's' {
			src, dst, seq, ack = srv, client, sISN+s.s.seq, cISN+s.s.ack
		}
		data := ethFrame(t, src, dst, s.s.flags, seq, ack, []byte(s.s.payload), nil)
		if err := d.Packet(&Frame{Number: uint64(i + 1), Time: s.at, Data: data, Length: len(data), LinkType: LinkTypeEthernet}); err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
	}
	d.Flush()
	return conns
}

// y2106 is the last second a pcap record's 32-bit timestamp can hold;
// pcapng's 64-bit timestamps reach y2300 and beyond.
var (
	y2106 = time.Unix(1<<32-1, 0)
	y2300 = time.Date(2300, 1, 2, 3, 4, 5, 0, time.UTC)
)

// TestClockThatJumps: the decoder hands connections over by capture time,
// and capture time is the capture host's clock, which can jump. One frame
// dated far off must not hand over every connection, nor stop the
// hand-over for the rest of the file; a step back that the frames agree on
// restarts the schedule. A late segment on a closed connection's 4-tuple,
// a minute later, goes to a record of its own (Resumed, the same ID).
func TestClockThatJumps(t *testing.T) {
	other, third := netip.MustParseAddrPort("192.0.2.1:50001"), netip.MustParseAddrPort("192.0.2.1:50002")
	lateACK := tseg{'c', ".", 2, 2, ""}
	for _, tc := range []struct {
		name    string
		segs    []timed
		packets []uint64 // of each connection handed over, in order
	}{
		{"a frame from 2106, then a closed connection and a late segment",
			cat3(at(t0, other, tseg{'c', "S", 0, 0, ""}), at(y2106, third, tseg{'c', "S", 0, 0, ""}),
				at(t0.Add(time.Second), cli, greeting...), at(t0.Add(time.Minute), cli, lateACK)),
			[]uint64{8, 1, 1, 1}},
		{"a frame from 2106 on an open connection hands that one over, and it alone",
			cat3(at(t0, other, tseg{'c', "S", 0, 0, ""}), at(t0, cli, handshake...),
				at(y2106, cli, greeting[3]), at(t0.Add(time.Second), cli, greeting[4:]...)),
			[]uint64{3, 5, 1}}, // the second closes, and is handed over then
		{"a frame from 2106 in the middle of an open connection",
			cat3(at(t0, cli, handshake...), at(y2106, other, tseg{'c', "S", 0, 0, ""}),
				at(t0.Add(time.Second), cli, greeting[3:]...)),
			[]uint64{8, 1}},
		{"a frame from 1970 in the middle of an open connection",
			cat3(at(t0, cli, handshake...), at(time.Unix(0, 0), other, tseg{'c', "S", 0, 0, ""}),
				at(t0.Add(time.Second), cli, greeting[3:]...)),
			[]uint64{8, 1}},
		{"the clock steps back a day, then a closed connection and a late segment",
			cat3(at(t0, other, tseg{'c', "S", 0, 0, ""}),
				at(t0.Add(-24*time.Hour), cli, greeting...), at(t0.Add(-24*time.Hour+time.Minute), cli, lateACK)),
			[]uint64{8, 1, 1}},
		{"a closed connection and a late segment, in a capture dated 2300 (past the clock's integer fast path)",
			cat3(at(y2300, cli, greeting...), at(y2300.Add(time.Minute), cli, lateACK)),
			[]uint64{8, 1}},
		{"a gap longer than every timeout, then a keep-alive and its ACK",
			cat3(at(t0, cli, handshake...), at(t0.Add(2*time.Hour), cli, tseg{'c', ".", 0, 1, ""}, tseg{'s', ".", 1, 1, ""})),
			[]uint64{3, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := playTimed(t, Config{}, tc.segs)
			var got []uint64
			for _, c := range conns {
				got = append(got, c.Packets[Client]+c.Packets[Server])
			}
			if !equal(got, tc.packets) {
				t.Fatalf("connections of %v packets, want %v", got, tc.packets)
			}
		})
	}
}

func cat3(parts ...[]timed) []timed {
	var out []timed
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTimeBackwards: a segment dated before an earlier segment of its
// connection is flagged, on the event and in the record, and no time the
// record measures comes out negative: a span whose end is dated before
// its start is unknown (0, and marked so), a round-trip sample is dropped.
func TestTimeBackwards(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	segs := []timed{
		{ms(10), tseg{'c', "S", 0, 0, ""}, cli},
		{ms(5), tseg{'c', "S", 0, 0, ""}, cli}, // the SYN again, dated before the first
		{ms(11), tseg{'s', "S.", 0, 1, ""}, cli},
		{ms(1), tseg{'c', ".", 1, 1, ""}, cli}, // the handshake's ACK, dated before the SYN
		{ms(20), tseg{'c', "P.", 1, 1, "hi"}, cli},
		{ms(15), tseg{'s', "P.", 1, 3, "hello"}, cli}, // answers and ACKs the data, dated before it
		{ms(30), tseg{'c', ".", 3, 6, ""}, cli},
	}
	conns := playTimed(t, Config{}, segs)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	c := conns[0]
	if c.TimeBackwards != 3 {
		t.Errorf("TimeBackwards %d, want 3", c.TimeBackwards)
	}
	for i, e := range c.Events {
		back := i == 1 || i == 3 || i == 5
		if got := e.Note&NoteTimeBackwards != 0; got != back {
			t.Errorf("event %d: note %q", i+1, e.Note)
		}
		if e.T < 0 || e.Backoff < 0 {
			t.Errorf("event %d: T %v, backoff %v", i+1, e.T, e.Backoff)
		}
	}
	h := &c.Handshake
	if !h.OutOfOrder || h.Total() != 0 || h.SYNToSYNACK() != 0 || h.SYNACKToACK() != 0 {
		t.Errorf("handshake out of order %v: total %v, SYN→SYN-ACK %v, SYN-ACK→ACK %v; want unknown (0)",
			h.OutOfOrder, h.Total(), h.SYNToSYNACK(), h.SYNACKToACK())
	}
	if !c.IRTTUnknown || c.IRTT != 0 {
		t.Errorf("IRTT %v, unknown %v; want unknown (0)", c.IRTT, c.IRTTUnknown)
	}
	if r := c.RTT[Client]; r.Count != 0 || r.Min < 0 || r.Sum < 0 {
		t.Errorf("client RTT %+v: the one sample is dated backwards and must be dropped", r)
	}
	if r := c.RTT[Server]; r.Count != 1 || r.Min != 15*time.Millisecond {
		t.Errorf("server RTT %+v, want one sample of 15ms", r)
	}
	if c.Duration() != 20*time.Millisecond || c.TTFB() < 0 {
		t.Errorf("duration %v (want 20ms, from the first segment to the latest date), TTFB %v", c.Duration(), c.TTFB())
	}
}

// TestFlowFitsItsSizeClass: the decoder holds a flow per open
// connection, and Go rounds an allocation up to its size class; the next
// one above 640 bytes is 704, 10% more memory per connection.
func TestFlowFitsItsSizeClass(t *testing.T) {
	const n = 1000
	flows := make([]*flow, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range flows {
		flows[i] = new(flow)
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(flows)
	// What else the runtime allocates meanwhile adds a byte or so each.
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per >= 700 {
		t.Errorf("a flow (%d bytes) takes %d bytes to allocate, past the 640-byte size class", unsafe.Sizeof(flow{}), per)
	}
}
