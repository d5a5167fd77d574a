package decode

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"synack/capture"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// sllFrame puts a LINKTYPE_LINUX_SLL header with address length halen in
// front of an IPv4 packet.
func sllFrame(halen uint16, ip []byte) []byte {
	h := make([]byte, 16, 16+len(ip))
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], halen)
	binary.BigEndian.PutUint16(h[14:], 0x0800)
	return append(h, ip...)
}

// TestLinuxSLLAddressLength: the kernel writes the real hardware address
// length into the SLL header (20 for IPoIB) but keeps only 8 bytes of the
// address, and a hostile file can write anything. The length must not
// reach past the frame: not into the next record in the reader's buffer, and not
// into a panic that gopacket turns into a "panic:" warning.
func TestLinuxSLLAddressLength(t *testing.T) {
	ip := ethFrame(t, cli, srv, "S", cISN, 0, nil, nil)[14:]
	for _, tc := range []struct {
		name  string
		halen uint16
		spare int // bytes of the buffer past the frame, as in the reader's buffer
	}{
		{"Ethernet address", 6, 0},
		{"IPoIB address longer than the 8 bytes kept", 20, 0},
		{"address length past the frame", 4096, 0},
		{"address length past the frame, inside a larger buffer", 4096, 70000},
		{"address length that wraps gopacket's uint16 end", 0xffff, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := sllFrame(tc.halen, ip)
			buf := make([]byte, len(frame)+tc.spare)
			data := buf[:copy(buf, frame)]
			d := New(Config{}, SinkFunc(func(*Conn) {}))
			if err := d.Packet(&Frame{Number: 1, Time: t0, Data: data, Length: len(data), LinkType: LinkTypeLinuxSLL}); err != nil {
				t.Fatalf("warning %q", err)
			}
			if tot := d.Totals(); tot.TCP != 1 {
				t.Fatalf("totals %+v, want one TCP frame", tot)
			}
		})
	}
}

// TestShortLinuxSLL: an SLL frame shorter than its header is malformed,
// with a plain warning.
func TestShortLinuxSLL(t *testing.T) {
	d := New(Config{}, SinkFunc(func(*Conn) {}))
	data := sllFrame(6, nil)[:10]
	err := d.Packet(&Frame{Number: 1, Time: t0, Data: data, Length: len(data), LinkType: LinkTypeLinuxSLL})
	if err == nil || strings.Contains(err.Error(), "panic") || d.Totals().Malformed != 1 {
		t.Fatalf("warning %v, totals %+v", err, d.Totals())
	}
}

// TestParsedBytesEndAtTheFrame: frames read from a file are slices of the
// reader's one big buffer, so what a layer hands on must end where the frame
// ends, capacity included: appending to a payload must not write into the
// next record.
func TestParsedBytesEndAtTheFrame(t *testing.T) {
	eth := ethFrame(t, cli, srv, "P.", cISN+1, sISN+1, []byte("data"), nil)
	for _, tc := range []struct {
		name  string
		frame []byte
		lt    LinkType
	}{
		{"Ethernet", eth, LinkTypeEthernet},
		{"Linux SLL", sllFrame(6, eth[14:]), LinkTypeLinuxSLL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]byte, len(tc.frame)+64)
			for i := range buf {
				buf[i] = 0xaa
			}
			data := buf[:copy(buf, tc.frame)]
			var out Parsed
			NewParser().Parse(&Frame{Number: 1, Time: t0, Data: data, Length: len(data), LinkType: tc.lt}, &out)
			if out.err != nil || out.kind != frameTCP {
				t.Fatalf("kind %d, error %v", out.kind, out.err)
			}
			_ = append(out.seg.Payload, "next record"...)
			if buf[len(data)] != 0xaa {
				t.Fatalf("appending to the payload wrote past the frame: % x", buf[len(data):len(data)+11])
			}
		})
	}
}

// panicking is a layer that panics with what it holds.
type panicking struct{ with any }

func (l panicking) DecodeFromBytes([]byte, gopacket.DecodeFeedback) error { panic(l.with) }
func (panicking) CanDecode() gopacket.LayerClass                          { return gopacket.LayerTypePayload }
func (panicking) NextLayerType() gopacket.LayerType                       { return gopacket.LayerTypeZero }
func (panicking) LayerPayload() []byte                                    { return nil }

// fault is what the runtime panics with on a memory fault under
// debug.SetPanicOnFault.
type fault struct{}

func (fault) Error() string  { return "unexpected fault address" }
func (fault) Addr() uintptr  { return 0 }
func (fault) RuntimeError()  {}
func (fault) String() string { return "fault" }

// TestPanicInALayer: a panic inside a layer makes the frame malformed
// with a plain warning, not gopacket's "panic: …"; a memory fault is not
// the frame's doing and goes on up.
func TestPanicInALayer(t *testing.T) {
	p := newParser()
	dlp := func(with any) *gopacket.DecodingLayerParser {
		dlp := gopacket.NewDecodingLayerParser(gopacket.LayerTypePayload, panicking{with})
		dlp.IgnorePanic = true
		return dlp
	}
	if err := p.decodeLayers(dlp(errors.New("index out of range")), []byte{1}); !errors.Is(err, errUndecodable) || strings.Contains(err.Error(), "panic") {
		t.Errorf("error %v, want %v", err, errUndecodable)
	}
	defer func() {
		if r := recover(); r != (fault{}) {
			t.Errorf("recovered %v, want the fault itself", r)
		}
	}()
	p.decodeLayers(dlp(fault{}), []byte{1})
	t.Error("a memory fault was swallowed")
}

// ipv6Around wraps an IP packet in an Ethernet frame and an IPv6 header
// whose destination options header (8 bytes) names inner as the next
// header: IP in IP behind an extension header.
func ipv6Around(inner []byte, next byte) []byte {
	frame := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd}
	ip6 := make([]byte, 40)
	ip6[0] = 0x60
	binary.BigEndian.PutUint16(ip6[4:], uint16(8+len(inner)))
	ip6[6], ip6[7] = 60, 64 // destination options, hop limit
	ip6[23], ip6[39] = 1, 2 // 2001:db8::1 → ::2, roughly
	ip6[8], ip6[9], ip6[24], ip6[25] = 0x20, 0x01, 0x20, 0x01
	ext := []byte{next, 0, 1, 4, 0, 0, 0, 0} // PadN of 4
	return append(append(append(frame, ip6...), ext...), inner...)
}

// TestTunnelBehindExtensionHeader: the bytes of the outer IPv6 header's
// extension headers are not the inner packet's; the inner lengths come
// from the inner header alone.
func TestTunnelBehindExtensionHeader(t *testing.T) {
	c6, s6 := netip.MustParseAddrPort("[2001:db8::1]:40000"), netip.MustParseAddrPort("[2001:db8::2]:443")
	for _, tc := range []struct {
		name  string
		inner []byte
		next  byte
	}{
		{"IPv4 in IPv6", ethFrame(t, cli, srv, "P.", cISN+1, sISN+1, []byte("0123456789"), nil)[14:], 4},
		{"IPv6 in IPv6", ethFrame(t, c6, s6, "P.", cISN+1, sISN+1, []byte("0123456789"), nil)[14:], 41},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []*Conn
			d := New(Config{}, SinkFunc(func(c *Conn) { got = append(got, c) }))
			data := ipv6Around(tc.inner, tc.next)
			if err := d.Packet(&Frame{Number: 1, Time: t0, Data: data, Length: len(data), LinkType: LinkTypeEthernet}); err != nil {
				t.Fatal(err)
			}
			d.Flush()
			if len(got) != 1 {
				t.Fatalf("%d connections, totals %+v", len(got), d.Totals())
			}
			if c := got[0]; c.Bytes != [2]uint64{10, 0} || c.IPBytes != [2]uint64{uint64(len(tc.inner)), 0} {
				t.Errorf("payload bytes %v, IP bytes %v; want 10 and %d from the client", c.Bytes, c.IPBytes, len(tc.inner))
			}
		})
	}
}

// lyingFrame is an Ethernet frame of the client's "hello, world" (long
// enough to need no Ethernet padding) whose IP length field (IPv4 total
// length, IPv6 payload length) says 60000.
func lyingFrame(t *testing.T, src, dst netip.AddrPort) []byte {
	data := ethFrame(t, src, dst, "P.", cISN+1, sISN+1, []byte("hello, world"), nil)
	if src.Addr().Is4() {
		binary.BigEndian.PutUint16(data[14+2:], 60000)
	} else {
		binary.BigEndian.PutUint16(data[14+4:], 60000)
	}
	return data
}

// TestLengthsThatLie: in a frame captured whole, an IP length beyond the
// frame is a lie, not bytes the snaplen cut off. Only the bytes the frame
// holds are counted, the frame is malformed and says so in tshark's words,
// and its segment still joins its connection. In a frame the snaplen cut,
// the IP length is the truth about the wire and is counted.
func TestLengthsThatLie(t *testing.T) {
	c6, s6 := netip.MustParseAddrPort("[2001:db8::1]:40000"), netip.MustParseAddrPort("[2001:db8::2]:443")
	v4, v6 := lyingFrame(t, cli, srv), lyingFrame(t, c6, s6)
	udp := udpFrame(t, cli, srv, []byte("abc"))
	binary.BigEndian.PutUint16(udp[14+20+4:], 500) // UDP length 500, 3 bytes of payload
	for _, tc := range []struct {
		name           string
		data           []byte
		wire           int // the frame's length on the wire
		warning        string
		bytes, ipBytes uint64
		malformed      uint64
	}{
		{"IPv4 total length, frame whole", v4, len(v4),
			"frame 1: IPv4 total length exceeds packet length (52 bytes): the header says 60000", 12, 52, 1},
		{"IPv6 payload length, frame whole", v6, len(v6),
			"frame 1: IPv6 payload length exceeds framing length (32 bytes): the header says 60000", 12, 72, 1},
		{"IPv4 total length, frame cut by the snaplen", v4, 14 + 60000, "", 59960, 60000, 0},
		{"IPv6 payload length, frame cut by the snaplen", v6, 14 + 40 + 60000, "", 59980, 60040, 0},
		{"UDP length", udp, len(udp), "frame 1: Bad length value 500 > IP payload length (11 bytes)", 3, 31, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []*Conn
			d := New(Config{UDP: true}, SinkFunc(func(c *Conn) { got = append(got, c) }))
			err := d.Packet(&Frame{Number: 1, Time: t0, Data: tc.data, Length: tc.wire, LinkType: LinkTypeEthernet})
			if tc.warning == "" && err != nil || tc.warning != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.warning)) {
				t.Errorf("warning %v, want %q", err, tc.warning)
			}
			d.Flush()
			tot := d.Totals()
			if tot.Malformed != tc.malformed || tot.TCP+tot.UDP+tot.Malformed != 1 {
				t.Errorf("totals %+v, want %d malformed", tot, tc.malformed)
			}
			if len(got) != 1 {
				t.Fatalf("%d connections, want the segment kept", len(got))
			}
			if c := got[0]; c.Bytes[Client] != tc.bytes || c.IPBytes[Client] != tc.ipBytes || c.Events[0].Len != uint32(tc.bytes) {
				t.Errorf("payload bytes %d, IP bytes %d, event length %d; want %d and %d",
					c.Bytes[Client], c.IPBytes[Client], c.Events[0].Len, tc.bytes, tc.ipBytes)
			}
		})
	}
}

// udpFrame serializes an Ethernet/IPv4/UDP frame.
func udpFrame(t *testing.T, src, dst netip.AddrPort, payload []byte) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	u.SetNetworkLayerForChecksum(ip)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, u, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// fastAgrees checks that fastTCP, where it takes a frame, leaves the
// segment as gopacket's layers do.
func fastAgrees(t *testing.T, p *parser, data []byte, whole bool) (taken bool) {
	t.Helper()
	data = data[:len(data):len(data)]
	var fast, slow Segment
	if !fastTCP(data, whole, &fast) {
		return false
	}
	kind, err := p.viaLayers(p.ethernet, data, whole, &slow)
	if kind != frameTCP || err != nil {
		t.Fatalf("% x (whole %v): the fast path took a frame the layers make %v, %v", data, whole, kind, err)
	}
	if !reflect.DeepEqual(fast, slow) || unsafe.SliceData(fast.Payload) != unsafe.SliceData(slow.Payload) {
		t.Fatalf("% x (whole %v):\nfast %+v\nlayers %+v", data, whole, fast, slow)
	}
	return true
}

// TestFastTCPAgrees: on every frame of the fixtures, captured whole or
// not, and on frames made to miss each of its conditions, the fast path
// either leaves the frame to the layers or decodes it as they do.
func TestFastTCPAgrees(t *testing.T) {
	p := newParser()
	taken := 0
	for _, data := range fixtureFrames(t, LinkTypeEthernet) {
		for _, whole := range []bool{true, false} {
			if fastAgrees(t, p, data, whole) {
				taken++
			}
		}
	}
	if taken == 0 {
		t.Fatal("the fast path took no frame of the fixtures")
	}
	opts := []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1}, {OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2}, {OptionType: layers.TCPOptionKindEndList, OptionLength: 1}}
	c6, s6 := netip.MustParseAddrPort("[2001:db8::1]:40000"), netip.MustParseAddrPort("[2001:db8::2]:443")
	for _, base := range [][]byte{
		ethFrame(t, cli, srv, "S", cISN, 0, nil, opts),
		ethFrame(t, cli, srv, "P.", cISN, sISN, []byte("hello"), nil),
		ethFrame(t, c6, s6, "S", cISN, 0, nil, opts),
		ethFrame(t, c6, s6, "P.", cISN, sISN, []byte("hello"), nil),
	} {
		// Every byte of the headers in turn takes a few values, and the
		// frame is cut short and padded: whatever the fast path takes
		// must come out as from the layers.
		for i := 12; i < len(base); i++ {
			for _, v := range []byte{0, 1, 2, 5, 6, 0x0f, 0x11, 0x40, 0x45, 0x50, 0x60, 0x86, 0xdd, 0xff} {
				b := append([]byte(nil), base...)
				b[i] = v
				for _, whole := range []bool{true, false} {
					fastAgrees(t, p, b, whole)
					fastAgrees(t, p, b[:len(b)-3], whole)
					fastAgrees(t, p, append(b, 0, 0, 0, 0), whole)
				}
			}
		}
	}
}

// fixtureFrames returns the frames of the fixtures of link type lt.
func fixtureFrames(t testing.TB, lt LinkType) [][]byte {
	t.Helper()
	paths, _ := filepath.Glob("../fixtures/*.pcap*")
	var frames [][]byte
	for _, path := range paths {
		if filepath.Ext(path) == ".json" {
			continue
		}
		f, err := capture.Open(path)
		if err != nil {
			continue
		}
		var fr capture.Frame
		for f.Next(&fr) == nil {
			if LinkType(fr.LinkType) == lt {
				frames = append(frames, append([]byte(nil), fr.Data...))
			}
		}
		f.Close()
	}
	return frames
}

// FuzzFastTCP: whatever the bytes, the fast path leaves the frame to
// gopacket's layers or decodes it as they do.
func FuzzFastTCP(f *testing.F) {
	for _, data := range fixtureFrames(f, LinkTypeEthernet) {
		f.Add(data, true)
	}
	// IPv4 options (IHL 6): the layers' alone.
	f.Add(append(append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, 0x46}, make([]byte, 23)...), ipv4TCPHeader()...), true)
	p := newParser()
	f.Fuzz(func(t *testing.T, data []byte, whole bool) {
		fastAgrees(t, p, data, whole)
	})
}

// ipv4TCPHeader is a bare 20-byte TCP header.
func ipv4TCPHeader() []byte {
	return []byte{0xc3, 0x50, 0, 80, 0, 0, 3, 0xe9, 0, 0, 0, 0, 0x50, 0x18, 2, 0, 0, 0, 0, 0}
}

// BenchmarkParse parses the frames of a thousand greetings, with the
// fast path and with gopacket's layers alone.
func BenchmarkParse(b *testing.B) {
	frames := workload(b, 1000)
	p := newParser()
	var seg Segment
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			p.parse(frames[i%len(frames)].Data, LinkTypeEthernet, true, &seg)
		}
		reportPerPacket(b)
	})
	b.Run("layers", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d := frames[i%len(frames)].Data
			p.viaLayers(p.ethernet, d[:len(d):len(d)], true, &seg)
		}
		reportPerPacket(b)
	})
}

// TestTCPHeaderCutAfterAnotherCut: a snaplen that leaves fewer than the 20
// bytes of a TCP header (tcpdump -s 60 on IPv6, 14+40+6 bytes) makes the
// frame malformed, even right after a frame whose TCP header gopacket's
// layers decoded (an IPv4 SYN whose options the same snaplen cut):
// gopacket's TCP layer returns before it touches its fields, and the last
// frame's header (ports, sequence numbers, flags) must not stand in for
// the missing one. Seen in editcap -s 60 of fixtures/resets.pcapng: IPv6
// segments of [fd77::2]:9004 were taken for a connection on the ports of
// the IPv4 frames before them.
func TestTCPHeaderCutAfterAnotherCut(t *testing.T) {
	v6cli, v6srv := netip.MustParseAddrPort("[2001:db8::1]:40000"), netip.MustParseAddrPort("[2001:db8::2]:443")
	syn := ethFrame(t, cli, srv, "S", cISN, 0, nil, []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)},
	})
	cut := ethFrame(t, v6srv, v6cli, ".", sISN+1, cISN+1, make([]byte, 100), nil)
	d := New(Config{}, SinkFunc(func(*Conn) {}))
	if err := d.Packet(&Frame{Number: 1, Time: t0, Data: syn[:60], Length: len(syn), LinkType: LinkTypeEthernet}); err != nil {
		t.Fatalf("frame 1, its options cut: %v", err)
	}
	err := d.Packet(&Frame{Number: 2, Time: t0.Add(time.Millisecond), Data: cut[:14+40+6], Length: len(cut), LinkType: LinkTypeEthernet})
	if err == nil || !strings.Contains(err.Error(), "TCP") {
		t.Errorf("frame 2 cut inside its TCP header: warning %v, want one about TCP", err)
	}
	if tot := d.Totals(); tot.TCP != 1 || tot.Malformed != 1 {
		t.Errorf("totals %+v, want 1 TCP frame and 1 malformed", tot)
	}
}

// TestWarningsNameOurLayers: a frame cut inside a link layer synack
// defines itself is named in the warning, not numbered.
func TestWarningsNameOurLayers(t *testing.T) {
	for _, tc := range []struct {
		lt    LinkType
		frame []byte
		want  string
	}{
		{9, []byte{0xff, 0x03, 0x00}, "PPP: "},
		{104, []byte{0x0f}, "CiscoHDLC: "},
		{239, []byte{0x02}, "NFLOG: "},
		{276, []byte{0x08}, "LinuxSLL2: "},
	} {
		var seg Segment
		_, err := newParser().parse(tc.frame, tc.lt, true, &seg)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("link type %d, a 1-byte frame: %v; want a warning starting %q", tc.lt, err, tc.want)
		}
	}
}
