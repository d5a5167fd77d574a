package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Tunnel is the kind of tunnel a connection's segments came through.
type Tunnel uint8

// Tunnels.
const (
	NoTunnel     Tunnel = iota
	TunnelGRE           // GRE (RFC 2784, 2890), IP or Ethernet (0x6558) inside
	TunnelVXLAN         // VXLAN (RFC 7348, UDP 4789)
	TunnelGeneve        // Geneve (RFC 8926, UDP 6081)
	TunnelIPinIP        // IPv4 or IPv6 straight inside IPv4 or IPv6 (RFC 2003, 2473)
)

var tunnelNames = [...]string{"", "gre", "vxlan", "geneve", "ipip"}

// String returns the tunnel's name as JSON writes it: "gre", "vxlan",
// "geneve", "ipip"; "" for none.
func (t Tunnel) String() string { return tunnelNames[t] }

// Encapsulation limits: a frame with more tags or labels than this still
// decodes; Encap keeps the outermost.
const (
	MaxVLANs  = 2
	MaxLabels = 3
)

// Encap is what a connection's segments were wrapped in: 802.1Q tags,
// MPLS labels, a PPPoE session, a tunnel. Two connections on the same
// 4-tuple in different encapsulations (another VLAN, another VNI, other
// tunnel endpoints) are different connections, as Zeek 8's VLAN-aware and
// VNI connection keys have them (its default, like tshark, is the
// 5-tuple alone). MPLS labels are not part of
// that: a label switched path goes one way, and the two directions of a
// connection carry different labels. When a frame nests tunnels, Tunnel
// is the innermost; VLANs and Labels are the first met.
type Encap struct {
	VLANs  [MaxVLANs]uint16
	NVLANs uint8
	MPLS   bool // inside MPLS
	// Labels are the MPLS labels of the connection's first segment,
	// outermost first.
	Labels  [MaxLabels]uint32
	NLabels uint8
	PPPoE   bool // inside a PPPoE session (RFC 2516)
	Session uint16
	Tunnel  Tunnel
	// HasVNI says that VNI holds the VXLAN or Geneve network identifier,
	// or the GRE key (RFC 2890).
	HasVNI bool
	VNI    uint32
	// Outer are the tunnel's outer IP addresses, the lower first, so that
	// both directions of a connection have the same Encap.
	Outer [2]netip.Addr
}

// String describes e as the text report shows it: "VLAN 10 · VXLAN VNI
// 42 between 192.0.2.1 and 192.0.2.2".
func (e *Encap) String() string {
	var parts []string
	if e.NVLANs > 0 {
		ids := make([]string, e.NVLANs)
		for i := range ids {
			ids[i] = strconv.Itoa(int(e.VLANs[i]))
		}
		parts = append(parts, "VLAN "+strings.Join(ids, ", "))
	}
	if e.NLabels > 0 {
		ls := make([]string, e.NLabels)
		for i := range ls {
			ls[i] = strconv.Itoa(int(e.Labels[i]))
		}
		parts = append(parts, "MPLS label "+strings.Join(ls, ", "))
	} else if e.MPLS {
		parts = append(parts, "MPLS")
	}
	if e.PPPoE {
		parts = append(parts, fmt.Sprintf("PPPoE session 0x%04x", e.Session))
	}
	if e.Tunnel != NoTunnel {
		s := map[Tunnel]string{TunnelGRE: "GRE", TunnelVXLAN: "VXLAN", TunnelGeneve: "Geneve", TunnelIPinIP: "IP in IP"}[e.Tunnel]
		if e.HasVNI {
			if e.Tunnel == TunnelGRE {
				s += fmt.Sprintf(" key %d", e.VNI)
			} else {
				s += fmt.Sprintf(" VNI %d", e.VNI)
			}
		}
		s += fmt.Sprintf(" between %s and %s", e.Outer[0], e.Outer[1])
		parts = append(parts, s)
	}
	return strings.Join(parts, " · ")
}

// Undecoded is an encapsulation whose frames synack counts but cannot
// look into (Totals.Undecoded).
type Undecoded uint8

// Encapsulations not decoded.
const (
	notUndecoded     Undecoded = iota
	UndecodedMPLS              // MPLS payload neither IPv4 nor IPv6 (a pseudowire)
	UndecodedGRE               // GRE version 1 (PPTP), source routing, or a payload not Ethernet, IP or MPLS (ERSPAN…)
	UndecodedGeneve            // Geneve payload not Ethernet, IPv4 or IPv6
	UndecodedVXLAN             // VXLAN header without its VNI flag
	UndecodedPPP               // PPP data protocol other than IPv4 and IPv6 (compressed, IPX…)
	UndecodedMACsec            // 802.1AE MACsec: encrypted
	UndecodedPBB               // 802.1ah provider backbone bridging
	UndecodedTooMany           // more distinct encapsulations than the decoder holds (maxZones)
	NumUndecoded
)

var undecodedNames = [NumUndecoded]string{"",
	"MPLS (payload neither IPv4 nor IPv6)", "GRE (version 1, routing, or payload not Ethernet, IP or MPLS)",
	"Geneve (payload not Ethernet, IPv4 or IPv6)", "VXLAN (no VNI flag)", "PPP (protocol neither IPv4 nor IPv6)",
	"MACsec (802.1AE)", "PBB (802.1ah)", "past the 1,048,576 distinct encapsulations held",
}

var undecodedKeys = [NumUndecoded]string{"", "mpls", "gre", "geneve", "vxlan", "ppp", "macsec", "pbb", "too_many"}

// String names u as the text totals do.
func (u Undecoded) String() string { return undecodedNames[u] }

// Key names u as JSON totals do: "mpls", "gre", "geneve", "vxlan",
// "ppp", "macsec", "pbb", "too_many".
func (u Undecoded) Key() string { return undecodedKeys[u] }

// maxZones bounds the distinct encapsulations a decoder keeps (each one's
// connections are keyed apart): a capture cannot make it hold more.
const maxZones = 1 << 20

// zones interns encapsulations: each distinct one gets a number from 1,
// which connection keys carry (0 is none).
type zones struct {
	ids  map[Encap]uint32
	list []*Encap
}

// zoneOf returns the number of e (its labels aside), or 0 and false
// when maxZones are held.
func (z *zones) zoneOf(e *Encap) (uint32, bool) {
	k := *e
	k.Labels, k.NLabels = [MaxLabels]uint32{}, 0
	if id, ok := z.ids[k]; ok {
		return id, true
	}
	if len(z.list) >= maxZones {
		return 0, false
	}
	if z.ids == nil {
		z.ids = map[Encap]uint32{}
	}
	z.list = append(z.list, &k)
	id := uint32(len(z.list))
	z.ids[k] = id
	return id, true
}

// mplsLabels are a connection's MPLS labels (Encap.Labels).
type mplsLabels struct {
	labels [MaxLabels]uint32
	n      uint8
}

// setLabels keeps the labels of e as f's.
func (d *Decoder) setLabels(f *flow, e *Encap) {
	if d.labels == nil {
		d.labels = map[*flow]mplsLabels{}
	}
	d.labels[f] = mplsLabels{e.Labels, e.NLabels}
}

// encapOf is the encapsulation of f: its zone's, with the labels of its
// first segment written into buf (nil: a new one).
func (d *Decoder) encapOf(f *flow, buf *Encap) *Encap {
	e := d.zones.encap(f.key.zone())
	if e == nil || !e.MPLS {
		return e
	}
	l, ok := d.labels[f]
	if !ok {
		return e
	}
	if buf == nil {
		buf = new(Encap)
	}
	*buf = *e
	buf.Labels, buf.NLabels = l.labels, l.n
	return buf
}

// encap returns the encapsulation of zone id, nil for 0.
func (z *zones) encap(id uint32) *Encap {
	if id == 0 {
		return nil
	}
	return z.list[id-1]
}

// encapState is what the parser learns of a frame's encapsulation while
// its layers decode.
type encapState struct {
	e   Encap
	any bool
	why Undecoded
}

func (s *encapState) reset() { *s = encapState{} }

// tunnel records a tunnel whose outer IP header is the last one decoded.
func (p *parser) tunnel(kind Tunnel, hasVNI bool, vni uint32) {
	e := &p.enc.e
	e.Tunnel, e.HasVNI, e.VNI = kind, hasVNI, vni
	var a, b netip.Addr
	switch t, _ := p.network(); t {
	case layers.LayerTypeIPv4:
		a, b = netip.AddrFrom4([4]byte(p.ip4.SrcIP)), netip.AddrFrom4([4]byte(p.ip4.DstIP))
	case layers.LayerTypeIPv6:
		a, b = netip.AddrFrom16([16]byte(p.ip6.SrcIP)), netip.AddrFrom16([16]byte(p.ip6.DstIP))
	}
	if b.Less(a) {
		a, b = b, a
	}
	e.Outer = [2]netip.Addr{a, b}
	p.enc.any = true
}

// stop ends decoding at an encapsulation not decoded.
func (p *parser) stop(why Undecoded) gopacket.LayerType {
	p.enc.why = why
	return gopacket.LayerTypeZero
}

// Layer types of the decoders below that gopacket has none for; like
// layerTypeLinuxSLL2, never registered.
const (
	layerTypePPP   gopacket.LayerType = 1990 // PPP protocol field, then IP
	layerTypeCHDLC gopacket.LayerType = 1991
	layerTypeNFLOG gopacket.LayerType = 1992
)

// ipv4 is gopacket's IPv4 with two differences. A first fragment (more
// fragments, offset 0) that holds the whole TCP header goes on to TCP,
// as tcpdump and tshark (without reassembly) decode it; later fragments
// are not TCP. A total length of 0 (segmentation offload on the capturing
// host: the frame is the packet) counts the frame as it was on the wire
// (what the snaplen cut included, as tshark's reported length), however
// long, where gopacket wraps it to 16 bits.
type ipv4 struct {
	layers.IPv4
	p *parser
	// big is the packet's length when its header says 0, else 0.
	big int
}

func (ip *ipv4) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	ip.p.beforeIP()
	ip.big = 0
	tso := len(data) >= 4 && data[2] == 0 && data[3] == 0
	if tso && len(data) > 0xffff {
		if err := ip.IPv4.DecodeFromBytes(data[:0xffff], df); err != nil {
			return err
		}
		ip.Payload = data[int(ip.IHL)*4:]
	} else if err := ip.IPv4.DecodeFromBytes(data, df); err != nil {
		return err
	}
	if tso {
		ip.big = len(data) + ip.p.cut
	}
	return nil
}

// length is the packet's length, header included.
func (ip *ipv4) length() int {
	if ip.big > 0 {
		return ip.big
	}
	return int(ip.Length)
}

func (ip *ipv4) NextLayerType() gopacket.LayerType {
	if ip.FragOffset == 0 && ip.Flags&layers.IPv4MoreFragments != 0 {
		// A first fragment: TCP if the whole TCP header is there.
		if pl := ip.Payload; ip.Protocol == layers.IPProtocolTCP && len(pl) >= 20 && len(pl) >= int(pl[12]>>4)*4 {
			return layers.LayerTypeTCP
		}
		return gopacket.LayerTypeFragment
	}
	return ip.IPv4.NextLayerType()
}

// ipv6 is gopacket's IPv6, noting IP in IP, and reading a jumbogram
// (RFC 2675: payload length 0, the length in a hop-by-hop option) to its
// end, where gopacket leaves the hop-by-hop header in the payload.
type ipv6 struct {
	layers.IPv6
	p *parser
	// jumbo is the Jumbo Payload option's length (the hop-by-hop header
	// included), or 0.
	jumbo int
}

func (ip *ipv6) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	ip.p.beforeIP()
	ip.jumbo = 0
	if err := ip.IPv6.DecodeFromBytes(data, df); err != nil {
		return err
	}
	if h := ip.HopByHop; h != nil && ip.Length == 0 {
		for _, o := range h.Options {
			if o.OptionType == layers.IPv6HopByHopOptionJumbogram && len(o.OptionData) == 4 {
				ip.jumbo = int(binary.BigEndian.Uint32(o.OptionData))
			}
		}
		if h.ActualLength > len(ip.Payload) || ip.jumbo < h.ActualLength {
			return fmt.Errorf("jumbo payload length %d does not hold the hop-by-hop header (%d bytes)", ip.jumbo, h.ActualLength)
		}
		ip.Payload = ip.Payload[h.ActualLength:]
	}
	return nil
}

// length is the payload length, extension headers included.
func (ip *ipv6) length() int {
	if ip.jumbo > 0 {
		return ip.jumbo
	}
	return int(ip.Length)
}

// beforeIP records IP in IP when an IP header comes straight after
// another (or its extension headers), before the inner one overwrites
// the outer in the parser's layers.
func (p *parser) beforeIP() {
	if n := len(p.decoded); n > 0 {
		switch p.decoded[n-1] {
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing,
			layers.LayerTypeIPv6Fragment, layers.LayerTypeIPv6Destination, layers.LayerTypeIPSecAH:
			p.tunnel(TunnelIPinIP, false, 0)
		}
	}
}

// dot1q is gopacket's Dot1Q, noting each tag's VLAN.
type dot1q struct {
	layers.Dot1Q
	p *parser
}

func (d *dot1q) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if err := d.Dot1Q.DecodeFromBytes(data, df); err != nil {
		return err
	}
	e := &d.p.enc.e
	if e.NVLANs < MaxVLANs {
		e.VLANs[e.NVLANs] = d.VLANIdentifier
		e.NVLANs++
	}
	d.p.enc.any = true
	return nil
}

func (d *dot1q) NextLayerType() gopacket.LayerType { return d.p.etherNext(d.Type) }

// ether is gopacket's Ethernet, naming the encapsulations behind it that
// are not decoded.
type ether struct {
	layers.Ethernet
	p *parser
}

func (e *ether) NextLayerType() gopacket.LayerType { return e.p.etherNext(e.EthernetType) }

// etherNext is the layer behind an EtherType.
func (p *parser) etherNext(t layers.EthernetType) gopacket.LayerType {
	switch t {
	case 0x88e5:
		return p.stop(UndecodedMACsec)
	case 0x88e7:
		return p.stop(UndecodedPBB)
	case layers.EthernetTypeMPLSMulticast:
		return layers.LayerTypeMPLS
	case layers.EthernetTypePPPoEDiscovery: // PADI, PADO…: not TCP
		return gopacket.LayerTypeZero
	}
	return t.LayerType()
}

// hop is what the encapsulation layers below share: the parser they
// report tunnels and stops to, the payload they leave, and the layer it
// holds (gopacket.LayerTypeZero, or the parser's stop, when none follows).
type hop struct {
	p       *parser
	payload []byte
	next    gopacket.LayerType
}

func (h *hop) NextLayerType() gopacket.LayerType { return h.next }
func (h *hop) LayerPayload() []byte              { return h.payload }

// truncated marks a header cut short: have of the want bytes it needs.
func truncated(df gopacket.DecodeFeedback, have, want int) error {
	df.SetTruncated()
	return fmt.Errorf("truncated header (%d of %d bytes)", have, want)
}

// mpls decodes an MPLS label stack (RFC 3032), unicast or multicast, and
// then IPv4 or IPv6 by the first nibble, as Wireshark and tcpdump guess.
type mpls struct{ hop }

func (m *mpls) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	e := &m.p.enc.e
	m.p.enc.any, e.MPLS = true, true
	for {
		if len(data) < 4 {
			df.SetTruncated()
			return fmt.Errorf("truncated label stack entry (%d of 4 bytes)", len(data))
		}
		v := binary.BigEndian.Uint32(data)
		if e.NLabels < MaxLabels {
			e.Labels[e.NLabels] = v >> 12
			e.NLabels++
		}
		data = data[4:]
		if v&0x100 != 0 { // bottom of stack
			break
		}
	}
	m.payload = data
	m.next = gopacket.LayerTypeZero
	if len(data) > 0 {
		switch data[0] >> 4 {
		case 4:
			m.next = layers.LayerTypeIPv4
		case 6:
			m.next = layers.LayerTypeIPv6
		default:
			m.next = m.p.stop(UndecodedMPLS)
		}
	}
	return nil
}

func (m *mpls) CanDecode() gopacket.LayerClass { return layers.LayerTypeMPLS }

// gre decodes a GRE header, version 0 (RFC 2784, RFC 2890's key and
// sequence number).
type gre struct{ hop }

func (g *gre) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		return truncated(df, len(data), 4)
	}
	flags := binary.BigEndian.Uint16(data)
	proto := layers.EthernetType(binary.BigEndian.Uint16(data[2:4]))
	if flags&7 != 0 || flags&0x4000 != 0 { // version 1 (PPTP), or source routing
		g.next, g.payload = g.p.stop(UndecodedGRE), nil
		return nil
	}
	n := 4
	var key uint32
	if flags&0x8000 != 0 { // checksum and reserved
		n += 4
	}
	if flags&0x2000 != 0 {
		if len(data) >= n+4 {
			key = binary.BigEndian.Uint32(data[n:])
		}
		n += 4
	}
	if flags&0x1000 != 0 { // sequence number
		n += 4
	}
	if len(data) < n {
		return truncated(df, len(data), n)
	}
	g.p.tunnel(TunnelGRE, flags&0x2000 != 0, key)
	g.payload = data[n:]
	switch proto {
	case layers.EthernetTypeIPv4, layers.EthernetTypeIPv6, layers.EthernetTypeTransparentEthernetBridging,
		layers.EthernetTypeMPLSUnicast, layers.EthernetTypeMPLSMulticast:
		g.next = g.p.etherNext(proto)
	default:
		g.next = g.p.stop(UndecodedGRE)
	}
	return nil
}

func (g *gre) CanDecode() gopacket.LayerClass { return layers.LayerTypeGRE }

// vxlan decodes a VXLAN header (RFC 7348): flags, VNI, then Ethernet.
type vxlan struct{ hop }

func (v *vxlan) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return truncated(df, len(data), 8)
	}
	v.payload = data[8:]
	if data[0]&0x08 == 0 {
		v.next = v.p.stop(UndecodedVXLAN)
		return nil
	}
	v.p.tunnel(TunnelVXLAN, true, binary.BigEndian.Uint32(data[4:8])>>8)
	v.next = layers.LayerTypeEthernet
	return nil
}

func (v *vxlan) CanDecode() gopacket.LayerClass { return layers.LayerTypeVXLAN }

// geneve decodes a Geneve header (RFC 8926): options skipped, VNI, then
// the protocol its EtherType names.
type geneve struct{ hop }

func (g *geneve) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return truncated(df, len(data), 8)
	}
	n := 8 + int(data[0]&0x3f)*4
	if len(data) < n {
		df.SetTruncated()
		return fmt.Errorf("truncated header (%d of %d bytes, options included)", len(data), n)
	}
	g.payload = data[n:]
	proto := layers.EthernetType(binary.BigEndian.Uint16(data[2:4]))
	switch proto {
	case layers.EthernetTypeTransparentEthernetBridging, layers.EthernetTypeIPv4, layers.EthernetTypeIPv6:
		g.p.tunnel(TunnelGeneve, true, binary.BigEndian.Uint32(data[4:8])>>8)
		g.next = proto.LayerType()
	default:
		g.next = g.p.stop(UndecodedGeneve)
	}
	return nil
}

func (g *geneve) CanDecode() gopacket.LayerClass { return layers.LayerTypeGeneve }

// pppoe decodes a PPPoE session header (RFC 2516) and the PPP protocol
// field behind it.
type pppoe struct{ hop }

func (s *pppoe) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return truncated(df, len(data), 8)
	}
	e := &s.p.enc.e
	e.PPPoE, e.Session = true, binary.BigEndian.Uint16(data[2:4])
	s.p.enc.any = true
	n := 6 + int(binary.BigEndian.Uint16(data[4:6])) // the length covers the PPP frame
	if n > len(data) {
		n = len(data) // a snaplen cut it; a lie is the IP length's to show
	}
	s.payload, s.next = data[8:max(n, 8)], s.p.pppNext(binary.BigEndian.Uint16(data[6:8]))
	if data[1] != 0 { // a discovery code: no PPP frame follows
		s.next = gopacket.LayerTypeZero
	}
	return nil
}

func (s *pppoe) CanDecode() gopacket.LayerClass { return layers.LayerTypePPPoE }

// pppNext is the layer behind a PPP protocol number (RFC 1661): IP, or
// the end of decoding (control protocols are not TCP; other data
// protocols are an encapsulation not decoded).
func (p *parser) pppNext(proto uint16) gopacket.LayerType {
	switch {
	case proto == 0x0021:
		return layers.LayerTypeIPv4
	case proto == 0x0057:
		return layers.LayerTypeIPv6
	case proto >= 0x8000: // network and link control (IPCP, LCP, PAP, CHAP…)
		return gopacket.LayerTypeZero
	}
	return p.stop(UndecodedPPP)
}

// ppp decodes LINKTYPE_PPP (9): PPP in HDLC-like framing (RFC 1662),
// with or without the address and control bytes, a protocol field of one
// or two bytes.
type ppp struct{ hop }

func (l *ppp) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) < 1 {
		df.SetTruncated()
		return fmt.Errorf("truncated header (no protocol field)")
	}
	proto, n := uint16(data[0]), 1
	if data[0]&1 == 0 { // a two-byte protocol field (RFC 1661 §2)
		if len(data) < 2 {
			df.SetTruncated()
			return fmt.Errorf("truncated header (1 of 2 protocol bytes)")
		}
		proto, n = binary.BigEndian.Uint16(data), 2
	}
	l.payload, l.next = data[n:], l.p.pppNext(proto)
	return nil
}

func (l *ppp) CanDecode() gopacket.LayerClass { return layerTypePPP }

// chdlc decodes LINKTYPE_C_HDLC (104), Cisco HDLC: address, control,
// then an EtherType.
type chdlc struct {
	p       *parser
	payload []byte
	proto   layers.EthernetType
}

func (l *chdlc) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		return truncated(df, len(data), 4)
	}
	l.proto, l.payload = layers.EthernetType(binary.BigEndian.Uint16(data[2:4])), data[4:]
	return nil
}

func (l *chdlc) CanDecode() gopacket.LayerClass    { return layerTypeCHDLC }
func (l *chdlc) NextLayerType() gopacket.LayerType { return l.p.etherNext(l.proto) }
func (l *chdlc) LayerPayload() []byte              { return l.payload }

// nflog decodes LINKTYPE_NFLOG (239): a 4-byte header (address family,
// version, resource ID), then TLVs whose length and type are in the
// capturing host's byte order; the packet is the NFULA_PAYLOAD (9) TLV.
type nflog struct{ hop }

func (l *nflog) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		return truncated(df, len(data), 4)
	}
	family := data[0]
	l.payload, l.next = nil, gopacket.LayerTypeZero
	// The byte order is the capturing host's: little-endian unless that
	// makes the first TLV's length impossible.
	order := binary.ByteOrder(binary.LittleEndian)
	if len(data) >= 6 {
		if n := int(binary.LittleEndian.Uint16(data[4:6])); n < 4 || n > len(data)-4 {
			order = binary.BigEndian
		}
	}
	for tlvs := data[4:]; len(tlvs) >= 4; {
		n, kind := int(order.Uint16(tlvs)), order.Uint16(tlvs[2:4])
		if n < 4 || n > len(tlvs) {
			df.SetTruncated()
			return fmt.Errorf("TLV length %d exceeds the %d bytes left", n, len(tlvs))
		}
		if kind == 9 { // NFULA_PAYLOAD
			l.payload = tlvs[4:n]
			switch family {
			case 2: // AF_INET
				l.next = layers.LayerTypeIPv4
			case 10: // AF_INET6
				l.next = layers.LayerTypeIPv6
			}
			return nil
		}
		tlvs = tlvs[min((n+3)&^3, len(tlvs)):]
	}
	return nil
}

func (l *nflog) CanDecode() gopacket.LayerClass { return layerTypeNFLOG }
