package decode

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/gopacket/layers"
)

// fastTCP decodes the usual frame straight from its bytes, and reports
// whether it did: Ethernet without tags, then IPv4 without options and
// not a fragment, or IPv6 without extension headers, then a TCP header
// whose options are well formed, all of it held in the frame and the
// lengths agreeing. gopacket's layers take every other frame, and say
// what is wrong with it. The frame a capture is made of goes through
// four DecodingLayers, their interface calls and their bookkeeping there;
// here it is a few loads and compares, which was most of what parsing cost
// (BenchmarkParse). fastTCP must leave seg as the layers would:
// TestFastTCPAgrees and FuzzPacket compare the two.
func fastTCP(data []byte, whole bool, seg *Segment) bool {
	if len(data) < 14+40 {
		return false
	}
	var ip, tcp []byte
	var ipLen, declared int // IP packet and TCP segment as the header says
	switch binary.BigEndian.Uint16(data[12:14]) {
	case uint16(layers.EthernetTypeIPv4):
		ip = data[14:]
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		// IHL 5, TCP, neither a fragment nor more to come, a length that
		// holds both headers (0, for segmentation offload, is the layers').
		if ip[0]&0x0f != 5 || ip[9] != 6 || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 || total < 40 {
			return false
		}
		tcp = ip[20:min(total, len(ip))]
		ipLen, declared = total, total-20
		seg.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), binary.BigEndian.Uint16(ip[20:22]))
		seg.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), binary.BigEndian.Uint16(ip[22:24]))
		seg.src, seg.dst = endpointOf(ip[12:16], seg.Src.Port()), endpointOf(ip[16:20], seg.Dst.Port())
	case uint16(layers.EthernetTypeIPv6):
		ip = data[14:]
		if len(ip) < 40+20 {
			return false
		}
		payload := int(binary.BigEndian.Uint16(ip[4:6]))
		if ip[6] != 6 || payload < 20 {
			return false
		}
		tcp = ip[40:min(40+payload, len(ip))]
		ipLen, declared = 40+payload, payload
		seg.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip[8:24])), binary.BigEndian.Uint16(ip[40:42]))
		seg.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip[24:40])), binary.BigEndian.Uint16(ip[42:44]))
		seg.src, seg.dst = endpointOf(ip[8:24], seg.Src.Port()), endpointOf(ip[24:40], seg.Dst.Port())
	default:
		return false
	}
	// The layers' own errors and a frame captured whole whose IP length
	// lies (a lengthError) are theirs to report.
	if len(tcp) < 20 || whole && len(tcp) < declared {
		return false
	}
	hdr := int(tcp[12]>>4) * 4
	if hdr < 20 || hdr > len(tcp) || hdr > declared {
		return false
	}
	seg.Opts = Options{}
	for opts := tcp[20:hdr]; len(opts) > 0; {
		switch kind := layers.TCPOptionKind(opts[0]); kind {
		case layers.TCPOptionKindEndList:
			opts = nil
		case layers.TCPOptionKindNop:
			opts = opts[1:]
		default:
			if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
				return false
			}
			parseOption(kind, opts[2:opts[1]], &seg.Opts)
			opts = opts[opts[1]:]
		}
	}
	seg.Seq, seg.Ack = Seq(binary.BigEndian.Uint32(tcp[4:8])), Seq(binary.BigEndian.Uint32(tcp[8:12]))
	seg.Flags = Flags(tcp[13]) | Flags(tcp[12]&1)<<8 // FIN…CWR in header order, then NS
	seg.Window = binary.BigEndian.Uint16(tcp[14:16])
	seg.IPLen, seg.Len = ipLen, declared-hdr
	seg.Payload = tcp[hdr:min(len(tcp), hdr+seg.Len)]
	return true
}
