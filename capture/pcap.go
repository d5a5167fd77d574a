package capture

import (
	"encoding/binary"
	"fmt"
	"time"
)

// pcap magic numbers as read little-endian (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap).
const (
	pcapMicro        = 0xa1b2c3d4
	pcapNano         = 0xa1b23c4d
	pcapMicroSwapped = 0xd4c3b2a1
	pcapNanoSwapped  = 0x4d3cb2a1
)

func isPcapMagic(m uint32) bool {
	switch m {
	case pcapMicro, pcapNano, pcapMicroSwapped, pcapNanoSwapped:
		return true
	}
	return false
}

type pcapReader struct {
	r       *countingReader
	order   binary.ByteOrder
	big     bool // order is big-endian
	nanos   bool
	lt      uint32
	snaplen uint32
}

func newPcap(r *countingReader) (*pcapReader, error) {
	h, err := r.mustRead(24, "pcap file header")
	if err != nil {
		return nil, err
	}
	p := &pcapReader{r: r, order: binary.LittleEndian}
	switch binary.LittleEndian.Uint32(h) {
	case pcapNano:
		p.nanos = true
	case pcapMicroSwapped:
		p.order = binary.BigEndian
	case pcapNanoSwapped:
		p.order, p.nanos = binary.BigEndian, true
	}
	if major := p.order.Uint16(h[4:]); major != 2 {
		return nil, fmt.Errorf("pcap version %d.%d is not supported", major, p.order.Uint16(h[6:]))
	}
	p.big = p.order == binary.ByteOrder(binary.BigEndian)
	p.snaplen = p.order.Uint32(h[16:])
	// The upper bits of the link type field carry FCS information.
	p.lt = p.order.Uint32(h[20:]) & 0xffff
	return p, nil
}

func (p *pcapReader) linkType() uint32 { return p.lt }

func (p *pcapReader) format() string {
	if p.nanos {
		return "pcap (ns)"
	}
	return "pcap"
}

func (p *pcapReader) next(fr *Frame) error {
	h, err := p.r.read(16, "record header")
	if err != nil {
		return err
	}
	// Not through p.order: a call through the interface per field, not
	// inlined, was a twentieth of reading a file for --summary.
	var sec, frac, caplen, wirelen uint32
	if p.big {
		sec, frac = binary.BigEndian.Uint32(h), binary.BigEndian.Uint32(h[4:])
		caplen, wirelen = binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:])
	} else {
		sec, frac = binary.LittleEndian.Uint32(h), binary.LittleEndian.Uint32(h[4:])
		caplen, wirelen = binary.LittleEndian.Uint32(h[8:]), binary.LittleEndian.Uint32(h[12:])
	}
	if caplen > MaxFrame {
		return fmt.Errorf("record claims %d bytes (limit %d): corrupt record header", caplen, MaxFrame)
	}
	nsec := int64(frac)
	if !p.nanos {
		nsec *= 1000
	}
	data, err := p.r.mustRead(int(caplen), "packet data")
	if err != nil {
		return err
	}
	// time.Unix carries a fraction of a second or more into the seconds.
	fr.Time = time.Unix(int64(sec), nsec).UTC()
	if nsec >= 1e9 {
		fr.Warning = p.fractionWarning(frac, fr.Time)
	}
	fr.Data = data
	fr.Length = int(max(wirelen, caplen))
	fr.LinkType, fr.Interface = p.lt, 0
	return nil
}

// fractionWarning is for a record whose fraction of a second is a second
// or more. libpcap 1.10 hands such a record on as it is (pcap_next_ex
// gives tv_usec 2500000) and tshark 4 prints a garbled negative time; one
// bad header field is no reason to stop reading the file, so the frame is
// kept with its time carried into the seconds, and said so.
func (p *pcapReader) fractionWarning(frac uint32, t time.Time) error {
	unit, second := "µs", 1000000
	if p.nanos {
		unit, second = "ns", 1000000000
	}
	return fmt.Errorf("timestamp fraction %d %s out of range (a second is %d): carried into the seconds, read as %s",
		frac, unit, second, t.Format(time.RFC3339Nano))
}
