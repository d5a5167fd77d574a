package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// LinkType is a LINKTYPE_ value from the tcpdump.org registry, as pcap and
// pcapng files store it (32 bits: gopacket's layers.LinkType has only 8, too
// few for SLL2).
type LinkType uint32

// The link types the decoder understands.
const (
	LinkTypeNull       LinkType = 0   // BSD loopback, host byte order (macOS lo0)
	LinkTypeEthernet   LinkType = 1   // Ethernet, with any 802.1Q/802.1ad tags
	LinkTypeRawBSD     LinkType = 12  // bare IP, DLT_RAW on most BSDs
	LinkTypeRawOpenBSD LinkType = 14  // bare IP, DLT_RAW on OpenBSD
	LinkTypeRaw        LinkType = 101 // bare IPv4 or IPv6
	LinkTypeLoop       LinkType = 108 // OpenBSD loopback, network byte order
	LinkTypeLinuxSLL   LinkType = 113 // Linux cooked capture v1
	LinkTypeIPv4       LinkType = 228
	LinkTypeIPv6       LinkType = 229
	LinkTypeLinuxSLL2  LinkType = 276 // Linux cooked capture v2 (tcpdump -i any, libpcap >= 1.10)
	LinkTypePPP        LinkType = 9   // PPP, HDLC-like framing optional
	LinkTypeCHDLC      LinkType = 104 // Cisco HDLC
	LinkTypeNFLOG      LinkType = 239 // Linux netfilter NFLOG (tcpdump -i nflog:N)
)

var linkTypeNames = map[LinkType]string{
	LinkTypeNull: "NULL", LinkTypeEthernet: "EN10MB", LinkTypeRawBSD: "RAW", LinkTypeRawOpenBSD: "RAW",
	LinkTypeRaw: "RAW", LinkTypeLoop: "LOOP", LinkTypeLinuxSLL: "LINUX_SLL", LinkTypeIPv4: "IPV4",
	LinkTypeIPv6: "IPV6", LinkTypeLinuxSLL2: "LINUX_SLL2", LinkTypePPP: "PPP", LinkTypeCHDLC: "C_HDLC",
	LinkTypeNFLOG: "NFLOG",
}

// String returns the DLT name tcpdump prints ("EN10MB", "LINUX_SLL2"), or
// the number for a link type the decoder does not know.
func (lt LinkType) String() string {
	if n, ok := linkTypeNames[lt]; ok {
		return n
	}
	return fmt.Sprintf("link type %d", uint32(lt))
}

// layerTypeLinuxSLL2 names our SLL2 decoder inside the DecodingLayerParser.
// It is never registered with gopacket (that would be global state); the
// parser only needs a number no gopacket layer uses.
const layerTypeLinuxSLL2 gopacket.LayerType = 1999

// SupportsLinkType reports whether the decoder understands frames of link
// type lt.
func SupportsLinkType(lt LinkType) bool {
	_, ok := linkTypeNames[lt]
	return ok
}

// Options are the TCP options that matter for a handshake, as carried by a
// SYN or SYN-ACK (RFC 9293 §3.2, RFC 7323, RFC 2018, RFC 7413).
type Options struct {
	MSS           uint16
	HasMSS        bool
	WScale        uint8
	HasWScale     bool
	SACKPermitted bool
	Timestamps    bool
	TSval, TSecr  uint32
	// TFO is set when a TCP Fast Open option is present; an empty cookie is
	// a cookie request.
	TFO bool
	// Cut is set when the capture's snaplen cut the options off, so that
	// nothing is known of them.
	Cut       bool
	tfoLen    uint8
	tfoCookie [16]byte
}

// TFOCookie returns the Fast Open cookie (empty for a cookie request).
func (o *Options) TFOCookie() []byte { return o.tfoCookie[:o.tfoLen] }

// Segment is one decoded TCP segment. Payload aliases the frame's bytes and
// is valid only until the next frame is decoded.
type Segment struct {
	// src and dst are Src and Dst as the connection table keys them.
	// They and the fields that follow, down to IPLen, are what every
	// segment's analysis reads: together they take two cache lines, which
	// the batch reader's other core has just written.
	src, dst endpoint
	// fromFirst says that src is the first endpoint of the segment's
	// key, which orders them (connKey.set): the connection's sides
	// follow from it without comparing endpoints (flow.sideOf).
	fromFirst bool
	Seq, Ack  Seq
	Flags     Flags
	Window    uint16
	// Len is the payload length the IP header declares, which is the
	// segment's real length even when the capture's snaplen cut it short;
	// in a frame captured whole, it is at most what the frame holds.
	Len int
	// IPLen is the IP packet's length as its header declares it (header
	// included; in a frame captured whole, at most what it holds), for
	// Zeek's orig_ip_bytes and resp_ip_bytes.
	IPLen    int
	Src, Dst netip.AddrPort
	Payload  []byte
	Opts     Options
	// encapped says that the frame was encapsulated (VLAN tags, MPLS,
	// PPPoE, a tunnel), as encap describes; why names the encapsulation
	// of a frameEncap.
	encapped bool
	why      Undecoded
	encap    Encap
	// preview is the payload's first bytes, copied when the segment was
	// parsed (previewed), for a decoder that keeps events: a Parser on
	// another goroutine reads them while they are in its cache, where the
	// goroutine that applies the segment would wait for memory.
	previewed  bool
	previewLen uint8
	preview    [PreviewLen]byte
}

type frameKind uint8

const (
	frameTCP frameKind = iota
	frameUDP
	frameOther
	frameEncap // in an encapsulation not decoded: seg.why says which
)

// parser decodes frames into Segments with gopacket's DecodingLayerParser.
// Every layer is allocated once; parsing a frame allocates nothing.
type parser struct {
	eth    ether
	dot1q  dot1q
	sll    linuxSLL
	sll2   linuxSLL2
	loop   layers.Loopback
	ip4    ipv4
	ip6    ipv6
	ext    ipv6Ext
	tcp    layers.TCP
	udp    layers.UDP
	mpls   mpls
	gre    gre
	vxlan  vxlan
	geneve geneve
	pppoe  pppoe
	ppp    ppp
	chdlc  chdlc
	nflog  nflog
	enc    encapState
	// cut is how many bytes of the frame the capture's snaplen left out.
	cut int

	ethernet, cooked, cooked2, null, ipv4, ipv6 *gopacket.DecodingLayerParser
	pppLink, chdlcLink, nflogLink               *gopacket.DecodingLayerParser
	decoded                                     []gopacket.LayerType
}

func newParser() *parser {
	p := &parser{decoded: make([]gopacket.LayerType, 0, 16)}
	p.ext.p = p
	p.eth.p, p.dot1q.p, p.ip4.p, p.ip6.p, p.mpls.p, p.gre.p, p.vxlan.p, p.geneve.p, p.pppoe.p, p.ppp.p, p.chdlc.p = p, p, p, p, p, p, p, p, p, p, p
	p.ext.class = gopacket.NewLayerClass([]gopacket.LayerType{
		layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Fragment,
		layers.LayerTypeIPv6Destination, layers.LayerTypeIPSecAH,
	})
	all := []gopacket.DecodingLayer{&p.eth, &p.dot1q, &p.sll, &p.sll2, &p.loop, &p.ip4, &p.ip6, &p.ext, &p.tcp, &p.udp,
		&p.mpls, &p.gre, &p.vxlan, &p.geneve, &p.pppoe, &p.ppp, &p.chdlc, &p.nflog}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		dlp := gopacket.NewDecodingLayerParser(first)
		// A sparse array indexed by layer type: the default map costs a
		// hash lookup per layer per frame.
		dlc := gopacket.DecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
		for _, d := range all {
			dlc = dlc.Put(d)
		}
		dlp.SetDecodingLayerContainer(dlc)
		// Any layer we have no decoder for (ARP, UDP, ICMP, fragments)
		// simply ends the frame: it is not TCP and is counted as such.
		dlp.IgnoreUnsupported = true
		dlp.IgnorePanic = true // decodeLayers recovers instead
		return dlp
	}
	p.ethernet = mk(layers.LayerTypeEthernet)
	p.cooked = mk(layers.LayerTypeLinuxSLL)
	p.cooked2 = mk(layerTypeLinuxSLL2)
	p.null = mk(layers.LayerTypeLoopback)
	p.ipv4 = mk(layers.LayerTypeIPv4)
	p.ipv6 = mk(layers.LayerTypeIPv6)
	p.pppLink = mk(layerTypePPP)
	p.chdlcLink = mk(layerTypeCHDLC)
	p.nflogLink = mk(layerTypeNFLOG)
	return p
}

// ErrUnsupportedLinkType is returned for frames of a link type the decoder
// does not understand.
var ErrUnsupportedLinkType = errors.New("unsupported link type")

// parse decodes one frame; whole says that the frame was captured whole
// (its length on the wire is no more than the bytes held). It returns
// frameOther for anything that is not a complete TCP header inside IPv4 or
// IPv6, and an error for a frame whose headers are damaged. A *lengthError
// comes with a segment that is still good: see lengthError.
func (p *parser) parse(data []byte, lt LinkType, whole bool, seg *Segment) (frameKind, error) {
	var dlp *gopacket.DecodingLayerParser
	switch lt {
	case LinkTypeEthernet:
		dlp = p.ethernet
	case LinkTypeLinuxSLL:
		dlp = p.cooked
	case LinkTypeLinuxSLL2:
		dlp = p.cooked2
	case LinkTypeNull, LinkTypeLoop:
		dlp = p.null
	case LinkTypeIPv4:
		dlp = p.ipv4
	case LinkTypeIPv6:
		dlp = p.ipv6
	case LinkTypePPP:
		dlp = p.pppLink
	case LinkTypeCHDLC:
		dlp = p.chdlcLink
	case LinkTypeNFLOG:
		dlp = p.nflogLink
	case LinkTypeRaw, LinkTypeRawBSD, LinkTypeRawOpenBSD:
		if len(data) == 0 {
			return frameOther, errors.New("empty frame")
		}
		switch data[0] >> 4 {
		case 4:
			dlp = p.ipv4
		case 6:
			dlp = p.ipv6
		default:
			return frameOther, fmt.Errorf("raw IP frame with IP version %d", data[0]>>4)
		}
	default:
		return frameOther, fmt.Errorf("%w %d", ErrUnsupportedLinkType, uint32(lt))
	}
	p.ext.skipped, p.ext.owner = 0, -1
	// Frames read from a file are slices of the reader's one big buffer:
	// a frame's own length is also its capacity, so that no layer can
	// slice its way into the next record.
	data = data[:len(data):len(data)]
	seg.encapped = false
	if lt == LinkTypeEthernet && fastTCP(data, whole, seg) {
		return frameTCP, nil
	}
	return p.viaLayers(dlp, data, whole, seg)
}

// viaLayers is parse with gopacket's layers.
func (p *parser) viaLayers(dlp *gopacket.DecodingLayerParser, data []byte, whole bool, seg *Segment) (frameKind, error) {
	p.enc.reset()
	// gopacket's TCP layer returns before it sets a field when it gets
	// fewer than 20 bytes: what it holds would be the last TCP frame's.
	p.tcp.Contents, p.tcp.Payload = nil, nil
	err := p.decodeLayers(dlp, data)
	if p.enc.any {
		seg.encapped, seg.encap = true, p.enc.e
	}
	if p.enc.why != notUndecoded && err == nil {
		seg.why = p.enc.why
		return frameEncap, nil
	}
	if err != nil {
		failed := p.failedLayer(dlp)
		// A snaplen that cuts into the TCP options still leaves the fixed
		// header: keep the segment (without options), as Wireshark does.
		// In a frame captured whole, nothing was cut: the header lies.
		captured := len(p.tcp.Contents) + len(p.tcp.Payload)
		if failed == layers.LayerTypeTCP && dlp.Truncated && !whole && captured >= 20 && p.tcp.DataOffset >= 5 &&
			captured < int(p.tcp.DataOffset)*4 {
			if declared, _ := p.l4Lengths(); declared > captured {
				p.tcp.Options = p.tcp.Options[:0]
				p.decoded = append(p.decoded, layers.LayerTypeTCP)
				err := p.fill(seg, whole)
				seg.Opts.Cut = p.tcp.DataOffset > 5
				return frameTCP, err
			}
		}
		return frameOther, fmt.Errorf("%s: %w", layerName(failed), err)
	}
	n := len(p.decoded)
	switch {
	case n >= 2 && p.decoded[n-1] == layers.LayerTypeTCP:
		return frameTCP, p.fill(seg, whole)
	case n >= 2 && p.decoded[n-1] == layers.LayerTypeUDP:
		return frameUDP, p.fillUDP(seg, whole)
	}
	return frameOther, nil
}

// errUndecodable stands for a panic inside a gopacket layer: the frame is
// malformed, and the runtime's words ("slice bounds out of range") would
// only confuse whoever reads the warning.
var errUndecodable = errors.New("malformed header")

// decodeLayers runs dlp over data. gopacket's own recovery would turn a
// panic into a "panic: …" error, so it is switched off (IgnorePanic) and
// done here instead: a memory fault, which is not the frame's doing but a
// bug, goes on up; any other panic makes the frame malformed.
func (p *parser) decodeLayers(dlp *gopacket.DecodingLayerParser, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); fault {
				panic(r)
			}
			err = errUndecodable
		}
	}()
	return dlp.DecodeLayers(data, &p.decoded)
}

// layerName is t's name in a warning: gopacket's, or ours for the layer
// types synack defines without registering them with gopacket (which
// would print them as bare numbers).
func layerName(t gopacket.LayerType) string {
	switch t {
	case layerTypeLinuxSLL2:
		return "LinuxSLL2"
	case layerTypePPP:
		return "PPP"
	case layerTypeCHDLC:
		return "CiscoHDLC"
	case layerTypeNFLOG:
		return "NFLOG"
	}
	return t.String()
}

// failedLayer names the layer whose decoding failed: the one after the last
// layer decoded, or the link layer.
func (p *parser) failedLayer(dlp *gopacket.DecodingLayerParser) gopacket.LayerType {
	if len(p.decoded) == 0 {
		switch dlp {
		case p.ethernet:
			return layers.LayerTypeEthernet
		case p.cooked:
			return layers.LayerTypeLinuxSLL
		case p.cooked2:
			return layerTypeLinuxSLL2
		case p.null:
			return layers.LayerTypeLoopback
		case p.ipv4:
			return layers.LayerTypeIPv4
		case p.pppLink:
			return layerTypePPP
		case p.chdlcLink:
			return layerTypeCHDLC
		case p.nflogLink:
			return layerTypeNFLOG
		}
		return layers.LayerTypeIPv6
	}
	switch p.decoded[len(p.decoded)-1] {
	case layers.LayerTypeEthernet:
		return p.eth.NextLayerType()
	case layers.LayerTypeDot1Q:
		return p.dot1q.NextLayerType()
	case layers.LayerTypeLinuxSLL:
		return p.sll.NextLayerType()
	case layerTypeLinuxSLL2:
		return p.sll2.NextLayerType()
	case layers.LayerTypeLoopback:
		return p.loop.NextLayerType()
	case layers.LayerTypeIPv4:
		return p.ip4.NextLayerType()
	case layers.LayerTypeIPv6:
		return p.ip6.NextLayerType()
	case layers.LayerTypeMPLS:
		return p.mpls.NextLayerType()
	case layers.LayerTypeGRE:
		return p.gre.NextLayerType()
	case layers.LayerTypeVXLAN:
		return p.vxlan.NextLayerType()
	case layers.LayerTypeGeneve:
		return p.geneve.NextLayerType()
	case layers.LayerTypePPPoE:
		return p.pppoe.NextLayerType()
	case layerTypePPP:
		return p.ppp.NextLayerType()
	case layerTypeCHDLC:
		return p.chdlc.NextLayerType()
	case layerTypeNFLOG:
		return p.nflog.NextLayerType()
	case layers.LayerTypeUDP:
		return p.udp.NextLayerType()
	}
	return p.ext.NextLayerType()
}

// addresses sets seg's endpoints from the IP layer and the given ports and
// returns the transport length: the one the IP header declares, or in a
// frame captured whole (whole) that declares more than it holds, the one
// it holds, with a *lengthError.
func (p *parser) addresses(seg *Segment, sport, dport uint16, whole bool) (int, error) {
	t, _ := p.network()
	switch t {
	case layers.LayerTypeIPv4:
		seg.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(p.ip4.SrcIP)), sport)
		seg.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(p.ip4.DstIP)), dport)
		seg.src, seg.dst = endpointOf(p.ip4.SrcIP, sport), endpointOf(p.ip4.DstIP, dport)
		seg.IPLen = p.ip4.length()
	case layers.LayerTypeIPv6: // possibly behind extension headers
		seg.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(p.ip6.SrcIP)), sport)
		seg.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(p.ip6.DstIP)), dport)
		seg.src, seg.dst = endpointOf(p.ip6.SrcIP, sport), endpointOf(p.ip6.DstIP, dport)
		seg.IPLen = 40 + p.ip6.length()
	default:
		return 0, errors.New("transport header without an IP header")
	}
	declared, held := p.l4Lengths()
	if !whole || held >= declared {
		return declared, nil
	}
	// The frame was captured whole, so the bytes the IP length claims
	// beyond it never were on the wire: tshark's "IPv4 total length
	// exceeds packet length" (packet-ip.c) and "IPv6 payload length
	// exceeds framing length" (packet-ipv6.c). Count what is there.
	seg.IPLen -= declared - held
	if t == layers.LayerTypeIPv4 {
		return held, &lengthError{"IPv4 total length exceeds packet length", seg.IPLen, p.ip4.length()}
	}
	return held, &lengthError{"IPv6 payload length exceeds framing length", seg.IPLen - 40, p.ip6.length()}
}

// lengthError is a length field that claims more bytes than there are:
// an IP length past the end of a frame captured whole, or a UDP length
// past the IP payload. Its frame is malformed, but its segment is still
// good, with the length there is: keeping it keeps the connection whole.
type lengthError struct {
	what           string // tshark's words
	held, declared int
}

func (e *lengthError) Error() string {
	return fmt.Sprintf("%s (%d bytes): the header says %d; %d are counted", e.what, e.held, e.declared, e.held)
}

// l4Lengths returns the transport length (header and payload) the IP
// header declares, whatever the capture kept of it, and the transport
// bytes the frame holds.
func (p *parser) l4Lengths() (declared, held int) {
	t, i := p.network()
	// Extension headers count only behind their own IP header: in IP in
	// IP, those of the outer header are not the inner packet's.
	skipped := p.ext.skipped
	if p.ext.owner != i {
		skipped = 0
	}
	if t == layers.LayerTypeIPv4 {
		// gopacket cuts the payload at the total length.
		return p.ip4.length() - int(p.ip4.IHL)*4 - skipped, len(p.ip4.Payload) - skipped
	}
	// gopacket cuts the payload behind a hop-by-hop header at the payload
	// length, which counts that header too: held may run past declared
	// by its size, into Ethernet padding.
	held = len(p.ip6.Payload) - skipped
	declared = p.ip6.length() - skipped
	if p.ip6.HopByHop != nil {
		declared -= p.ip6.HopByHop.ActualLength
	}
	return declared, held
}

// fillUDP describes a UDP datagram in seg: endpoints, length, payload.
func (p *parser) fillUDP(seg *Segment, whole bool) error {
	u := &p.udp
	l4len, err := p.addresses(seg, uint16(u.SrcPort), uint16(u.DstPort), whole)
	if _, lie := err.(*lengthError); err != nil && !lie {
		return err
	}
	seg.Flags, seg.Seq, seg.Ack, seg.Window, seg.Opts = 0, 0, 0, 0, Options{}
	seg.Len = max(int(u.Length)-8, 0)
	if int(u.Length) > l4len && err == nil {
		// tshark's udp.length.bad (packet-udp.c): the datagram cannot be
		// longer than the IP payload that carries it.
		err = &lengthError{fmt.Sprintf("Bad length value %d > IP payload length", u.Length), l4len, int(u.Length)}
	}
	if int(u.Length) > l4len {
		seg.Len = max(l4len-8, 0)
	}
	seg.Payload = u.Payload
	if len(seg.Payload) > seg.Len {
		seg.Payload = seg.Payload[:seg.Len]
	}
	return err
}

// fill copies the decoded IP and TCP headers into seg.
func (p *parser) fill(seg *Segment, whole bool) error {
	l4len, lie := p.addresses(seg, uint16(p.tcp.SrcPort), uint16(p.tcp.DstPort), whole)
	if _, ok := lie.(*lengthError); lie != nil && !ok {
		return lie
	}
	t := &p.tcp
	seg.Seq, seg.Ack, seg.Window = Seq(t.Seq), Seq(t.Ack), t.Window
	seg.Flags = flagsOf(t)
	seg.Payload = t.Payload
	hdr := int(t.DataOffset) * 4
	seg.Len = l4len - hdr
	if seg.Len < 0 {
		return fmt.Errorf("TCP header (%d bytes) longer than the IP payload (%d bytes)", hdr, l4len)
	}
	if len(seg.Payload) > seg.Len {
		seg.Payload = seg.Payload[:seg.Len]
	}
	seg.Opts = Options{}
	for i := range t.Options {
		parseOption(t.Options[i].OptionType, t.Options[i].OptionData, &seg.Opts)
	}
	return lie
}

// network returns the IP layer of the frame just decoded, and its index in
// p.decoded: the last IPv4 or IPv6 layer (an IP-in-IP frame has two; the
// inner one is the TCP's).
func (p *parser) network() (gopacket.LayerType, int) {
	for i := len(p.decoded) - 1; i >= 0; i-- {
		if t := p.decoded[i]; t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
			return t, i
		}
	}
	return gopacket.LayerTypeZero, -1
}

func flagsOf(t *layers.TCP) Flags {
	var f Flags
	for _, x := range [...]struct {
		set bool
		bit Flags
	}{{t.FIN, FIN}, {t.SYN, SYN}, {t.RST, RST}, {t.PSH, PSH}, {t.ACK, ACK}, {t.URG, URG}, {t.ECE, ECE}, {t.CWR, CWR}, {t.NS, NS}} {
		if x.set {
			f |= x.bit
		}
	}
	return f
}

// tfoExperimentID is the experimental option 254 ExID used for Fast Open
// before kind 34 was assigned (RFC 7413 §4.1.1).
const tfoExperimentID = 0xF989

func parseOption(kind layers.TCPOptionKind, d []byte, out *Options) {
	switch kind {
	case layers.TCPOptionKindMSS:
		if len(d) == 2 {
			out.MSS, out.HasMSS = binary.BigEndian.Uint16(d), true
		}
	case layers.TCPOptionKindWindowScale:
		if len(d) == 1 {
			// RFC 7323 §2.3: a shift above 14 is treated as 14.
			out.WScale, out.HasWScale = min(d[0], 14), true
		}
	case layers.TCPOptionKindSACKPermitted:
		out.SACKPermitted = true
	case layers.TCPOptionKindTimestamps:
		if len(d) == 8 {
			out.Timestamps = true
			out.TSval, out.TSecr = binary.BigEndian.Uint32(d[:4]), binary.BigEndian.Uint32(d[4:])
		}
	case 34: // TCP Fast Open (RFC 7413)
		setTFO(out, d)
	case 254:
		if len(d) >= 2 && binary.BigEndian.Uint16(d) == tfoExperimentID {
			setTFO(out, d[2:])
		}
	}
}

func setTFO(out *Options, cookie []byte) {
	out.TFO = true
	out.tfoLen = uint8(copy(out.tfoCookie[:], cookie))
}

// linuxSLL decodes the 16-byte LINKTYPE_LINUX_SLL header:
// pkttype(2) hatype(2) halen(2) addr(8) protocol(2). It is ours rather
// than gopacket's LinuxSLL because that one slices the address by halen,
// and halen is not bounded by the header: the kernel writes the real
// length (20 for IPoIB) while libpcap keeps 8 bytes (SLL_ADDRLEN), and a
// hostile file can write anything. We do not need the address.
type linuxSLL struct {
	protocol layers.EthernetType
	payload  []byte
}

func (l *linuxSLL) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 16 {
		df.SetTruncated()
		return fmt.Errorf("truncated header (%d of 16 bytes)", len(data))
	}
	l.protocol = layers.EthernetType(binary.BigEndian.Uint16(data[14:16]))
	l.payload = data[16:]
	return nil
}

func (l *linuxSLL) CanDecode() gopacket.LayerClass    { return layers.LayerTypeLinuxSLL }
func (l *linuxSLL) NextLayerType() gopacket.LayerType { return l.protocol.LayerType() }
func (l *linuxSLL) LayerPayload() []byte              { return l.payload }

// linuxSLL2 decodes the 20-byte LINKTYPE_LINUX_SLL2 header:
// protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8).
type linuxSLL2 struct {
	protocol layers.EthernetType
	payload  []byte
}

func (l *linuxSLL2) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 20 {
		df.SetTruncated()
		return fmt.Errorf("truncated header (%d of 20 bytes)", len(data))
	}
	l.protocol = layers.EthernetType(binary.BigEndian.Uint16(data[0:2]))
	l.payload = data[20:]
	return nil
}

func (l *linuxSLL2) CanDecode() gopacket.LayerClass    { return layerTypeLinuxSLL2 }
func (l *linuxSLL2) NextLayerType() gopacket.LayerType { return l.protocol.LayerType() }
func (l *linuxSLL2) LayerPayload() []byte              { return l.payload }

// ipv6Ext skips one IPv6 extension header (RFC 8200 §4) and counts the bytes
// skipped, so that the TCP length can be derived from the payload length.
// A non-first fragment ends decoding: its bytes are not a TCP header.
type ipv6Ext struct {
	p        *parser
	class    gopacket.LayerClass
	next     layers.IPProtocol
	fragment bool
	payload  []byte
	// skipped counts the bytes of the extension headers behind the IP
	// header at index owner of p.decoded.
	skipped, owner int
}

func (e *ipv6Ext) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return fmt.Errorf("truncated IPv6 extension header (%d of 8 bytes)", len(data))
	}
	kind := e.current()
	if d := e.p.decoded; d[len(d)-1] == layers.LayerTypeIPv4 || d[len(d)-1] == layers.LayerTypeIPv6 {
		e.skipped, e.owner = 0, len(d)-1 // the first behind this IP header
	}
	e.next = layers.IPProtocol(data[0])
	n := (int(data[1]) + 1) * 8
	e.fragment = false
	switch kind {
	case layers.IPProtocolIPv6Fragment:
		n = 8
		// Offset other than zero, or more fragments to come: the TCP
		// segment is split and we do not reassemble.
		e.fragment = binary.BigEndian.Uint16(data[2:4]) != 0
	case layers.IPProtocolAH:
		n = (int(data[1]) + 2) * 4
	}
	if n > len(data) {
		df.SetTruncated()
		return fmt.Errorf("IPv6 extension header length %d exceeds the %d bytes left", n, len(data))
	}
	e.skipped += n
	e.payload = data[n:]
	return nil
}

// current returns the kind of the header being decoded: the previous
// header's next-header value. The parser does not pass it, so the first
// extension header takes it from the IPv6 header and later ones from the
// extension header before them.
func (e *ipv6Ext) current() layers.IPProtocol {
	// The parser appends a layer to p.decoded once it has decoded it, so
	// the last entry is the header before this one. (IPv4 can carry AH
	// too, so it is not always IPv6.)
	switch d := e.p.decoded; d[len(d)-1] {
	case layers.LayerTypeIPv4:
		return e.p.ip4.Protocol
	case layers.LayerTypeIPv6:
		if e.p.ip6.HopByHop != nil {
			return e.p.ip6.HopByHop.NextHeader
		}
		return e.p.ip6.NextHeader
	}
	return e.next
}

func (e *ipv6Ext) CanDecode() gopacket.LayerClass { return e.class }
func (e *ipv6Ext) NextLayerType() gopacket.LayerType {
	if e.fragment {
		return gopacket.LayerTypeFragment
	}
	return e.next.LayerType()
}
func (e *ipv6Ext) LayerPayload() []byte { return e.payload }

// endpointOf is an address of 4 or 16 bytes and a port as the connection
// table keys them.
func endpointOf(ip []byte, port uint16) endpoint {
	if len(ip) == 4 {
		return endpoint{0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(ip)), port}
	}
	return endpoint{binary.BigEndian.Uint64(ip[:8]), binary.BigEndian.Uint64(ip[8:16]), port}
}

// addrPort is e as an address and port, IPv4 if is4.
func (e endpoint) addrPort(is4 bool) netip.AddrPort {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], e.hi)
	binary.BigEndian.PutUint64(b[8:], e.lo)
	a := netip.AddrFrom16(b)
	if is4 {
		a = a.Unmap()
	}
	return netip.AddrPortFrom(a, e.port)
}
