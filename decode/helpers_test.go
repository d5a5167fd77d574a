package decode

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// seg describes one test segment: from client (c) or server (s), tcpdump
// flags (S F R P .), sequence offsets from each side's ISN and payload.
type tseg struct {
	from    byte // 'c' or 's'
	flags   string
	seq     uint32
	ack     uint32
	payload string
}

// ethFrame serializes an Ethernet/IPv4-or-IPv6/TCP frame.
func ethFrame(t testing.TB, src, dst netip.AddrPort, flags string, seq, ack uint32, payload []byte, opts []layers.TCPOption) []byte {
	t.Helper()
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack, Window: 512, Options: opts}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		case 'P':
			tcp.PSH = true
		case '.':
			tcp.ACK = true
		}
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	var ip gopacket.SerializableLayer
	if src.Addr().Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

var (
	cli = netip.MustParseAddrPort("192.0.2.1:50000")
	srv = netip.MustParseAddrPort("192.0.2.2:80")
)

const cISN, sISN = 1000, 900000

// replay decodes segs between cli and srv, 1 ms apart, and returns the
// connections in ID order.
func replay(t testing.TB, segs []tseg) []*Conn {
	t.Helper()
	return replayWith(t, Config{}, segs)
}

// replayWith is replay with a decoder configured by cfg.
func replayWith(t testing.TB, cfg Config, segs []tseg) []*Conn {
	t.Helper()
	return replayBetween(t, cfg, cli, srv, segs)
}

// replayBetween is replayWith between the client c and the server s.
func replayBetween(t testing.TB, cfg Config, cli, srv netip.AddrPort, segs []tseg) []*Conn {
	t.Helper()
	var conns []*Conn
	d := New(cfg, SinkFunc(func(c *Conn) { conns = append(conns, c) }))
	for i, s := range segs {
		f := segFrame(t, uint64(i+1), t0.Add(time.Duration(i)*time.Millisecond), cli, srv, s)
		if err := d.Packet(&f); err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
	}
	d.Flush()
	return conns
}

// segFrame is s, sent between the client cli and the server srv (from
// the side s names, the ISNs cISN and sISN), as frame number at t.
func segFrame(t testing.TB, number uint64, at time.Time, cli, srv netip.AddrPort, s tseg) Frame {
	src, dst, seq, ack := cli, srv, cISN+s.seq, sISN+s.ack
	if s.from == 's' {
		src, dst, seq, ack = srv, cli, sISN+s.seq, cISN+s.ack
	}
	data := ethFrame(t, src, dst, s.flags, seq, ack, []byte(s.payload), nil)
	return Frame{Number: number, Time: at, Data: data, Length: len(data), LinkType: LinkTypeEthernet}
}
