package decode

import (
	"encoding/binary"
	"testing"
)

// TestEncapsulationEdges: frames at the edges of what is decoded, each
// counted once, in the right total.
func TestEncapsulationEdges(t *testing.T) {
	ip := ethFrame(t, cli, srv, "P.", cISN+1, sISN+1, []byte("0123456789"), nil)[14:] // 50 bytes
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	eth := func(etype uint16) []byte { return cat(make([]byte, 12), binary.BigEndian.AppendUint16(nil, etype)) }
	// fragment is ip with the given flags and offset field.
	fragment := func(field uint16, keep int) []byte {
		f := append([]byte(nil), ip[:keep]...)
		binary.BigEndian.PutUint16(f[2:], uint16(keep))
		binary.BigEndian.PutUint16(f[6:], field)
		return f
	}
	outer := func(proto byte, payload []byte) []byte {
		h := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2}
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
		return cat(h, payload)
	}
	udp := func(dport uint16, payload []byte) []byte {
		h := []byte{0xc0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint16(h[2:], dport)
		binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
		return cat(h, payload)
	}
	tso := append([]byte(nil), ip...)
	tso[2], tso[3] = 0, 0
	for _, tc := range []struct {
		name  string
		lt    LinkType
		data  []byte
		count func(*Totals) uint64
		bytes int // the segment's payload bytes, for TCP
		wire  int // the frame's length on the wire, if more than it holds
	}{
		{"PPP LCP", LinkTypePPP, []byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, func(t *Totals) uint64 { return t.NonTCP }, 0, 0},
		{"PPP, VJ compressed", LinkTypePPP, cat([]byte{0x00, 0x2d}, ip), func(t *Totals) uint64 { return t.UndecodedBy[UndecodedPPP] }, 0, 0},
		{"PPP, one-byte protocol", LinkTypePPP, cat([]byte{0x21}, ip), func(t *Totals) uint64 { return t.TCP }, 10, 0},
		{"Cisco HDLC SLARP", LinkTypeCHDLC, []byte{0x8f, 0, 0x80, 0x35, 0, 0, 0, 0}, func(t *Totals) uint64 { return t.NonTCP }, 0, 0},
		{"IPv4 first fragment", LinkTypeRaw, fragment(0x2000, 46), func(t *Totals) uint64 { return t.TCP }, 6, 0},
		{"IPv4 first fragment, TCP header cut", LinkTypeRaw, fragment(0x2000, 32), func(t *Totals) uint64 { return t.NonTCP }, 0, 0},
		{"IPv4 later fragment", LinkTypeRaw, fragment(0x0003, 46), func(t *Totals) uint64 { return t.NonTCP }, 0, 0},
		{"IPv4 total length 0", LinkTypeRaw, tso, func(t *Totals) uint64 { return t.TCP }, 10, 0},
		// 80,040 bytes on the wire, the snaplen kept 50: what was on the
		// wire counts, as for any frame the snaplen cut.
		{"IPv4 total length 0, frame cut", LinkTypeRaw, tso, func(t *Totals) uint64 { return t.TCP }, 80000, 80040},
		{"VXLAN without its VNI flag", LinkTypeRaw, outer(17, udp(4789, cat(make([]byte, 8), eth(0x0800), ip))),
			func(t *Totals) uint64 { return t.UndecodedBy[UndecodedVXLAN] }, 0, 0},
		{"VXLAN header cut", LinkTypeRaw, outer(17, udp(4789, []byte{8, 0, 0})), func(t *Totals) uint64 { return t.Malformed }, 0, 0},
		{"GRE header cut", LinkTypeRaw, outer(47, []byte{0x20, 0, 0x08, 0, 0, 0}), func(t *Totals) uint64 { return t.Malformed }, 0, 0},
		{"GRE, ERSPAN", LinkTypeRaw, outer(47, cat([]byte{0, 0, 0x88, 0xbe}, ip)), func(t *Totals) uint64 { return t.UndecodedBy[UndecodedGRE] }, 0, 0},
		{"Geneve, NSH inside", LinkTypeRaw, outer(17, udp(6081, cat([]byte{0, 0, 0x89, 0x4f, 0, 0, 1, 0}, ip))),
			func(t *Totals) uint64 { return t.UndecodedBy[UndecodedGeneve] }, 0, 0},
		{"IP in IP", LinkTypeRaw, outer(4, ip), func(t *Totals) uint64 { return t.TCP }, 10, 0},
		{"MPLS, IPv4", LinkTypeEthernet, cat(eth(0x8848), []byte{0, 1, 0x01, 64}, ip), func(t *Totals) uint64 { return t.TCP }, 10, 0},
		{"MPLS stack cut", LinkTypeEthernet, cat(eth(0x8847), []byte{0, 1, 0, 64}), func(t *Totals) uint64 { return t.Malformed }, 0, 0},
		{"PBB", LinkTypeEthernet, cat(eth(0x88e7), make([]byte, 20)), func(t *Totals) uint64 { return t.UndecodedBy[UndecodedPBB] }, 0, 0},
		{"PPPoE discovery", LinkTypeEthernet, cat(eth(0x8863), []byte{0x11, 0x09, 0, 0, 0, 0}), func(t *Totals) uint64 { return t.NonTCP }, 0, 0},
		{"NFLOG without a payload", LinkTypeNFLOG, []byte{2, 0, 0, 5, 8, 0, 1, 0, 8, 0, 3, 0}, func(t *Totals) uint64 { return t.NonTCP }, 0, 0},
		{"NFLOG TLV past the end", LinkTypeNFLOG, []byte{2, 0, 0, 5, 200, 0, 9, 0}, func(t *Totals) uint64 { return t.Malformed }, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []*Conn
			d := New(Config{}, SinkFunc(func(c *Conn) { got = append(got, c) }))
			_ = d.Packet(&Frame{Number: 1, Time: t0, Data: tc.data, Length: max(len(tc.data), tc.wire), LinkType: tc.lt})
			d.Flush()
			tot := d.Totals()
			if tc.count(&tot) != 1 || tot.TCP+tot.NonTCP+tot.Malformed+tot.Undecoded != 1 {
				t.Fatalf("totals %+v", tot)
			}
			if tot.TCP == 1 && (len(got) != 1 || got[0].Bytes[Client] != uint64(tc.bytes)) {
				t.Errorf("%d connections, want one of %d bytes", len(got), tc.bytes)
			}
		})
	}
}

// TestZonesCap: past maxZones distinct encapsulations, a frame in a new
// one is counted as not decoded (too_many), not as TCP, and opens no
// connection; one in an encapsulation already held is decoded.
func TestZonesCap(t *testing.T) {
	tagged := func(vlan uint16) []byte {
		f := ethFrame(t, cli, srv, "S", cISN, 0, nil, nil)
		out := append(append([]byte(nil), f[:12]...), 0x81, 0, byte(vlan>>8), byte(vlan))
		return append(out, f[12:]...)
	}
	var got []*Conn
	d := New(Config{}, SinkFunc(func(c *Conn) { got = append(got, c) }))
	first := tagged(10)
	if err := d.Packet(&Frame{Number: 1, Time: t0, Data: first, Length: len(first), LinkType: LinkTypeEthernet}); err != nil {
		t.Fatal(err)
	}
	for len(d.zones.list) < maxZones {
		d.zones.list = append(d.zones.list, &Encap{})
	}
	for i, vlan := range []uint16{20, 10} {
		f := tagged(vlan)
		if err := d.Packet(&Frame{Number: uint64(i + 2), Time: t0, Data: f, Length: len(f), LinkType: LinkTypeEthernet}); err != nil {
			t.Fatal(err)
		}
	}
	d.Flush()
	tot := d.Totals()
	if tot.TCP != 2 || tot.Undecoded != 1 || tot.UndecodedBy[UndecodedTooMany] != 1 || len(got) != 1 || got[0].Packets[Client] != 2 {
		t.Errorf("totals %+v, %d connections", tot, len(got))
	}
}
