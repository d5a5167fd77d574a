package expect

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"synack/decode"
)

// handshakeDatedBackwards decodes a handshake whose ACK is dated 9 ms
// before its SYN, as a capture whose clock stepped back would have it.
func handshakeDatedBackwards(t *testing.T) *decode.Conn {
	t.Helper()
	cli, srv := netip.MustParseAddrPort("192.0.2.1:50000"), netip.MustParseAddrPort("192.0.2.2:80")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var got []*decode.Conn
	d := decode.New(decode.Config{}, decode.SinkFunc(func(c *decode.Conn) { got = append(got, c) }))
	for i, s := range []struct {
		src, dst netip.AddrPort
		syn, ack bool
		seq, a   uint32
		at       time.Duration
	}{
		{cli, srv, true, false, 1000, 0, 10 * time.Millisecond},
		{srv, cli, true, true, 5000, 1001, 11 * time.Millisecond},
		{cli, srv, false, true, 1001, 5001, 1 * time.Millisecond},
	} {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: s.src.Addr().AsSlice(), DstIP: s.dst.Addr().AsSlice()}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(s.src.Port()), DstPort: layers.TCPPort(s.dst.Port()), Seq: s.seq, Ack: s.a, SYN: s.syn, ACK: s.ack, Window: 512}
		tcp.SetNetworkLayerForChecksum(ip)
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
			t.Fatal(err)
		}
		f := decode.Frame{Number: uint64(i + 1), Time: t0.Add(s.at), Data: buf.Bytes(), Length: len(buf.Bytes()), LinkType: decode.LinkTypeEthernet}
		if err := d.Packet(&f); err != nil {
			t.Fatal(err)
		}
	}
	d.Flush()
	if len(got) != 1 {
		t.Fatalf("%d connections", len(got))
	}
	return got[0]
}

// TestTimeBackwards: a time the capture's clock made unmeasurable is
// unknown, and an unknown time meets no expectation, whichever way it is
// compared; time_backwards counts the segments dated backwards.
func TestTimeBackwards(t *testing.T) {
	c := handshakeDatedBackwards(t)
	for _, tc := range []struct {
		expr   string
		ok     bool
		actual string
	}{
		{"handshake<1ms", false, "unknown"},
		{"handshake>=1ms", false, "unknown"},
		{"syn_to_synack<1s", false, "unknown"},
		{"synack_to_ack!=0s", false, "unknown"},
		{"irtt<1ms", false, "unknown"},
		{"duration>=0s", true, "1ms"}, // from the first segment to the latest date
		{"time_backwards>0", true, "1"},
		{"time_backwards=0", false, "1"},
	} {
		e, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if ok, actual := e.Eval(c); ok != tc.ok || actual != tc.actual {
			t.Errorf("%q: %v %q, want %v %q", tc.expr, ok, actual, tc.ok, tc.actual)
		}
	}
}
