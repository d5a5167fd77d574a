package decode

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// churn builds frames of n connections, open at most open at a time and
// interleaved at random (as fixtures/gen does), gap apart on average:
// greetings, SYNs left unanswered, refusals and connections that stop
// after their handshake, so that every timeout class fills and drains.
func churn(tb testing.TB, n, open int, gap time.Duration, seed uint64) []Frame {
	r := rand.New(rand.NewPCG(seed, 1))
	srv := netip.MustParseAddrPort("10.255.0.1:443")
	type conv struct {
		c    netip.AddrPort
		segs []tseg
		next int
	}
	scripts := [][]tseg{greeting, greeting, handshake, {{'c', "S", 0, 0, ""}, {'c', "S", 0, 0, ""}},
		{{'c', "S", 0, 0, ""}, {'s', "R.", 0, 1, ""}}}
	var frames []Frame
	var active []*conv
	t, started := t0, 0
	for started < n || len(active) > 0 {
		for len(active) < open && started < n {
			k := started
			c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)}), uint16(1024+k%60000))
			active = append(active, &conv{c: c, segs: scripts[r.IntN(len(scripts))]})
			started++
		}
		i := r.IntN(len(active))
		cv := active[i]
		g := cv.segs[cv.next]
		src, dst, seq, ack := cv.c, srv, cISN+g.seq, sISN+g.ack
		if g.from == 's' {
			src, dst, seq, ack = srv, cv.c, sISN+g.seq, cISN+g.ack
		}
		t = t.Add(time.Duration(r.Int64N(int64(2 * gap))))
		data := ethFrame(tb, src, dst, g.flags, seq, ack, []byte(g.payload), nil)
		frames = append(frames, Frame{Number: uint64(len(frames) + 1), Time: t, Data: data, Length: len(data), LinkType: LinkTypeEthernet})
		if cv.next++; cv.next == len(cv.segs) {
			active[i] = active[len(active)-1]
			active = active[:len(active)-1]
		}
	}
	return frames
}

// checkTable checks the decoder's lists against its table: every
// connection held is in the list of its timeout class, each list is in
// the order of last activity, and after a sweep no list's head is idle
// past its timeout.
func checkTable(t *testing.T, d *Decoder, swept bool) {
	t.Helper()
	n := 0
	for i := range d.lists {
		l := &d.lists[i]
		count := 0
		var prev *Conn
		for c := l.head; c != nil; c = c.links.next {
			if c.class != int8(i) || class(c) != int8(i) {
				t.Fatalf("connection %d in list %d, class %d, in its state %d", c.ID, i, c.class, class(c))
			}
			if d.conns[c.key] != c {
				t.Fatalf("connection %d listed but not in the table", c.ID)
			}
			if prev != nil && prev.active > c.active {
				t.Fatalf("list %d: connection %d (active %v) before %d (active %v)", i, prev.ID, prev.active, c.ID, c.active)
			}
			if c.links.prev != prev {
				t.Fatalf("list %d: connection %d links back to the wrong one", i, c.ID)
			}
			prev = c
			count++
		}
		if l.tail != prev || l.n != count {
			t.Fatalf("list %d: %d counted, %d recorded, tail right %v", i, count, l.n, l.tail == prev)
		}
		if h := l.head; swept && h != nil && d.clock.idle(h) > d.timeouts[i] {
			t.Fatalf("list %d: connection %d idle %v past %v after a sweep", i, h.ID, d.clock.idle(h), d.timeouts[i])
		}
		n += count
	}
	if n != len(d.conns) {
		t.Fatalf("%d connections listed, %d held", n, len(d.conns))
	}
}

// TestSweepFindsEveryIdleConnection: the lists the sweep reads stay in
// step with the table through churn, and a sweep leaves no connection
// idle past its timeout; every connection is handed over once.
func TestSweepFindsEveryIdleConnection(t *testing.T) {
	frames := churn(t, 3000, 200, 20*time.Millisecond, 1)
	seen := map[uint64]bool{}
	d := New(Config{ClosedTimeout: time.Second, HandshakeTimeout: 5 * time.Second, IdleTimeout: 8 * time.Second},
		SinkFunc(func(c *Conn) {
			if seen[c.ID] {
				t.Fatalf("connection %d handed over twice", c.ID)
			}
			seen[c.ID] = true
		}))
	for i := range frames {
		before := d.clock.next
		if err := d.Packet(&frames[i]); err != nil {
			t.Fatal(err)
		}
		checkTable(t, d, d.clock.next != before)
	}
	if d.totals.Evicted == 0 {
		t.Fatal("nothing went idle: the test tests nothing")
	}
	d.Flush()
	if uint64(len(seen)) != d.nextID || d.Open() != 0 {
		t.Fatalf("%d connections handed over of %d, %d held", len(seen), d.nextID, d.Open())
	}
}
