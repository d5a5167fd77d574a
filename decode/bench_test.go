package decode

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// workload builds conns interleaved connections of a greeting each (8
// segments), 100 of them open at a time, as frames ready to decode.
func workload(tb testing.TB, conns int) []Frame {
	const open = 100
	var frames []Frame
	for base := 0; base < conns; base += open {
		for i := range greeting {
			for k := base; k < min(base+open, conns); k++ {
				c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)}), uint16(1024+k%60000))
				s := netip.MustParseAddrPort("10.255.0.1:443")
				g := greeting[i]
				src, dst, seq, ack := c, s, cISN+g.seq, sISN+g.ack
				if g.from == 's' {
					src, dst, seq, ack = s, c, sISN+g.seq, cISN+g.ack
				}
				data := ethFrame(tb, src, dst, g.flags, seq, ack, []byte(g.payload), nil)
				frames = append(frames, Frame{Data: data, Length: len(data), LinkType: LinkTypeEthernet})
			}
		}
	}
	for i := range frames {
		frames[i].Number = uint64(i + 1)
		frames[i].Time = t0.Add(time.Duration(i) * time.Microsecond)
	}
	return frames
}

// steady returns frames of 64 established connections exchanging data,
// and a decoder that has already seen their handshakes and filled their
// event buffers, so that decoding more of them is the steady state.
func steady(tb testing.TB) (*Decoder, []Frame) {
	d := New(Config{MaxEvents: 16}, SinkFunc(func(*Conn) {}))
	var frames []Frame
	s := netip.MustParseAddrPort("10.255.0.1:443")
	for k := range 64 {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(k)}), uint16(2000+k))
		for _, g := range handshake {
			src, dst, seq, ack := c, s, cISN+g.seq, sISN+g.ack
			if g.from == 's' {
				src, dst, seq, ack = s, c, sISN+g.seq, cISN+g.ack
			}
			data := ethFrame(tb, src, dst, g.flags, seq, ack, nil, nil)
			d.Packet(&Frame{Time: t0, Data: data, Length: len(data), LinkType: LinkTypeEthernet})
		}
		data := ethFrame(tb, c, s, "P.", cISN+1, sISN+1, []byte("0123456789abcdef"), nil)
		frames = append(frames, Frame{Time: t0, Data: data, Length: len(data), LinkType: LinkTypeEthernet})
	}
	for range 20 { // fill every connection's event buffer
		for i := range frames {
			d.Packet(&frames[i])
		}
	}
	return d, frames
}

func TestSteadyStateDoesNotAllocate(t *testing.T) {
	d, frames := steady(t)
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		if err := d.Packet(&frames[i%len(frames)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations per packet, want 0", allocs)
	}
}

// TestSteadyStateWithOnEventDoesNotAllocate: refreshing the summing-up
// fields for an OnEvent callback costs no allocation either.
func TestSteadyStateWithOnEventDoesNotAllocate(t *testing.T) {
	d, frames := steady(t)
	events := 0
	d.cfg.OnEvent = func(*Conn, Event) { events++ }
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		if err := d.Packet(&frames[i%len(frames)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 || events == 0 {
		t.Fatalf("%.2f allocations per packet over %d events, want 0", allocs, events)
	}
}

func reportPerPacket(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkPacketSteadyState is the per-packet path of established
// connections: parse, table lookup, event. It must report 0 allocs/op.
func BenchmarkPacketSteadyState(b *testing.B) {
	d, frames := steady(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Packet(&frames[i%len(frames)])
	}
	reportPerPacket(b)
}

// BenchmarkConnections decodes whole connections (one op = one packet),
// including creating and handing over each connection record.
func BenchmarkConnections(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			frames := workload(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			var d *Decoder
			for i := 0; i < b.N; i++ {
				if i%len(frames) == 0 {
					if d != nil {
						d.Flush()
					}
					d = New(Config{}, SinkFunc(func(*Conn) {}))
				}
				d.Packet(&frames[i%len(frames)])
			}
			reportPerPacket(b)
		})
	}
}
