package decode_test

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"synack/capture"
	"synack/decode"
)

// decodeFixture runs a fixture through a decoder, as `synack read` does,
// and returns its connections and totals.
func decodeFixture(t *testing.T, name string) ([]*decode.Conn, decode.Totals) {
	t.Helper()
	file, err := capture.Open(filepath.Join("..", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var conns []*decode.Conn
	d := decode.New(decode.Config{DropEvents: true}, decode.SinkFunc(func(c *decode.Conn) { conns = append(conns, c) }))
	var fr capture.Frame
	for {
		if err := file.Next(&fr); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		df := decode.Frame{Number: fr.Number, Time: fr.Time, Data: fr.Data, Length: fr.Length, LinkType: decode.LinkType(fr.LinkType)}
		if err := d.Packet(&df); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	d.Flush()
	return conns, d.Totals()
}

// TestEncapsulations reads the encapsulation fixtures: each connection's
// encapsulation as the text report names it, and its payload bytes each
// way; frames in encapsulations not decoded are counted by kind, and
// none is counted as non-TCP.
func TestEncapsulations(t *testing.T) {
	greeting := "0/14"
	for _, tc := range []struct {
		file   string
		conns  []string // encapsulation, then client/server payload bytes
		undec  map[decode.Undecoded]uint64
		nonTCP uint64
	}{
		{"vlan.pcap", []string{"VLAN 100 " + greeting}, nil, 0},
		{"qinq.pcap", []string{"VLAN 200, 100 " + greeting}, nil, 0},
		// The directions carry different label stacks: one connection,
		// labelled as its first segment was.
		{"mpls.pcap", []string{"MPLS label 100, 200 " + greeting}, nil, 0},
		{"gre.pcap", []string{"GRE key 7 between 192.0.2.1 and 192.0.2.2 " + greeting}, nil, 0},
		{"gretap.pcap", []string{"GRE between 192.0.2.1 and 192.0.2.2 " + greeting}, nil, 0},
		{"vxlan.pcap", []string{"VXLAN VNI 42 between 192.0.2.1 and 192.0.2.2 " + greeting}, nil, 0},
		// The ping that resolves neighbours before the greeting: ARP and ICMP
		// inside the tunnel, not TCP.
		{"real-vxlan.pcap", []string{"VXLAN VNI 42 between 192.0.2.1 and 192.0.2.2 0/15"}, nil, 6},
		{"geneve.pcap", []string{"Geneve VNI 4242 between 192.0.2.1 and 192.0.2.2 " + greeting}, nil, 0},
		{"pppoe.pcap", []string{"PPPoE session 0x002a " + greeting}, nil, 0},
		{"ppp.pcap", []string{" " + greeting}, nil, 0},
		{"chdlc.pcap", []string{" " + greeting}, nil, 0},
		{"nflog.pcap", []string{" " + greeting}, nil, 0},
		{"real-nflog.pcap", []string{" 0/15"}, nil, 0},
		{"encap-collide.pcap", []string{
			"VLAN 10 " + greeting, "VLAN 20 " + greeting,
			"VXLAN VNI 1 between 192.0.2.1 and 192.0.2.2 " + greeting, "VXLAN VNI 2 between 192.0.2.1 and 192.0.2.2 " + greeting,
		}, map[decode.Undecoded]uint64{decode.UndecodedMPLS: 1, decode.UndecodedGRE: 1, decode.UndecodedMACsec: 1}, 0},
		// The first fragment holds 8 of the greeting's 14 bytes.
		{"ip-fragment.pcap", []string{" 0/8"}, nil, 0},
		// 80,000 bytes, not 80,000 mod 65,536.
		{"tso-ipv4.pcap", []string{" 80000/0"}, nil, 0},
		{"jumbo-ipv6.pcap", []string{" 80000/0"}, nil, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			conns, tot := decodeFixture(t, tc.file)
			var got []string
			for _, c := range conns {
				e := ""
				if c.Encap != nil {
					e = c.Encap.String()
				}
				got = append(got, fmt.Sprintf("%s %d/%d", e, c.Bytes[decode.Client], c.Bytes[decode.Server]))
			}
			if strings.Join(got, "\n") != strings.Join(tc.conns, "\n") {
				t.Errorf("connections:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.conns, "\n"))
			}
			var want [decode.NumUndecoded]uint64
			var n uint64
			for k, v := range tc.undec {
				want[k], n = v, n+v
			}
			if tot.UndecodedBy != want || tot.Undecoded != n || tot.NonTCP != tc.nonTCP || tot.Malformed != 0 {
				t.Errorf("totals %+v; want %d undecoded %v, %d non-TCP", tot, n, want, tc.nonTCP)
			}
		})
	}
}

// TestEncapsulationKeys: the same 4-tuple in two VLANs, or in one VLAN and
// untagged, is two connections; in the same VLAN, one.
func TestEncapsulationKeys(t *testing.T) {
	const frames = "vlan.pcap"
	conns, _ := decodeFixture(t, frames)
	if len(conns) != 1 {
		t.Fatalf("%s: %d connections", frames, len(conns))
	}
	// Untagged greeting frames and the tagged ones, interleaved, in one
	// decoder: two connections, the tagged one with its VLAN.
	var got []*decode.Conn
	d := decode.New(decode.Config{}, decode.SinkFunc(func(c *decode.Conn) { got = append(got, c) }))
	files := [2]*capture.File{}
	for i, name := range [2]string{"greeting.pcap", "vlan.pcap"} {
		f, err := capture.Open(filepath.Join("..", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	var fr capture.Frame
	for n := uint64(1); ; n++ {
		f := files[n%2]
		if err := f.Next(&fr); err != nil {
			break
		}
		df := decode.Frame{Number: n, Time: time.Unix(0, 0).Add(time.Duration(n) * time.Millisecond), Data: fr.Data, Length: fr.Length, LinkType: decode.LinkType(fr.LinkType)}
		if err := d.Packet(&df); err != nil {
			t.Fatal(err)
		}
	}
	d.Flush()
	if len(got) != 2 || (got[0].Encap == nil) == (got[1].Encap == nil) {
		t.Fatalf("%d connections, want an untagged one and a tagged one: %+v", len(got), got)
	}
}
