package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"time"
)

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	pcapngBlockSHB       = 0x0a0d0d0a // section header
	pcapngBlockIDB       = 0x00000001 // interface description
	pcapngBlockOPB       = 0x00000002 // packet (obsolete)
	pcapngBlockSPB       = 0x00000003 // simple packet
	pcapngBlockEPB       = 0x00000006 // enhanced packet
	pcapngByteOrderMagic = 0x1a2b3c4d
)

type ngInterface struct {
	linkType uint32
	snaplen  uint32
	// Timestamps count units of 10^-exp10 seconds, or 2^-exp2 seconds
	// when pow2 is set (option if_tsresol), plus offset seconds.
	pow2   bool
	exp    uint8
	offset int64
}

type pcapngReader struct {
	r      *countingReader
	order  binary.ByteOrder
	ifaces []ngInterface
	first  uint32 // link type of the first interface
}

func newPcapng(r *countingReader) (*pcapngReader, error) {
	p := &pcapngReader{r: r, order: binary.LittleEndian}
	typ, body, err := p.block()
	if err != nil {
		if err == io.EOF {
			err = fmt.Errorf("truncated section header: %w", io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	if typ != pcapngBlockSHB {
		return nil, fmt.Errorf("pcapng: first block is type %#x, not a section header", typ)
	}
	if err := p.control(typ, body); err != nil {
		return nil, err
	}
	// Read up to the first interface so that LinkType is known.
	for len(p.ifaces) == 0 {
		typ, body, err := p.block()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch typ {
		case pcapngBlockEPB, pcapngBlockOPB, pcapngBlockSPB:
			return nil, fmt.Errorf("pcapng: packet block before any interface description")
		}
		if err := p.control(typ, body); err != nil {
			return nil, err
		}
	}
	if len(p.ifaces) > 0 {
		p.first = p.ifaces[0].linkType
	}
	return p, nil
}

func (p *pcapngReader) linkType() uint32 { return p.first }
func (p *pcapngReader) format() string   { return "pcapng" }

// block reads one whole block and returns its type and body (without the
// type and the two length fields). A section header also sets the byte
// order, which the block itself announces.
func (p *pcapngReader) block() (uint32, []byte, error) {
	b, err := p.r.read(8, "block header")
	if err != nil {
		return 0, nil, err
	}
	// Both fields are taken as numbers now: the next peek may move
	// bufio's buffer, and a copied [8]byte handed to the ByteOrder
	// interface would escape, one allocation per block.
	typ, rawTotal := p.order.Uint32(b), binary.LittleEndian.Uint32(b[4:])
	if binary.LittleEndian.Uint32(b) == pcapngBlockSHB {
		typ = pcapngBlockSHB
		bom, err := p.r.peek(4)
		if err != nil {
			return 0, nil, fmt.Errorf("truncated section header (%d of 4 byte-order bytes): %w", len(bom), io.ErrUnexpectedEOF)
		}
		switch {
		case binary.LittleEndian.Uint32(bom) == pcapngByteOrderMagic:
			p.order = binary.LittleEndian
		case binary.BigEndian.Uint32(bom) == pcapngByteOrderMagic:
			p.order = binary.BigEndian
		default:
			return 0, nil, fmt.Errorf("section header with bad byte-order magic % x", bom)
		}
		p.ifaces = p.ifaces[:0]
	}
	total := rawTotal
	if p.order == binary.BigEndian {
		total = bits.ReverseBytes32(rawTotal)
	}
	if total < 12 || total%4 != 0 || total > MaxFrame+64 {
		return 0, nil, fmt.Errorf("block type %#x has invalid length %d", typ, total)
	}
	b, err = p.r.mustRead(int(total)-8, "block")
	if err != nil {
		return 0, nil, err
	}
	body := b[:len(b)-4]
	if trailer := p.order.Uint32(b[len(b)-4:]); trailer != total {
		return 0, nil, fmt.Errorf("block type %#x: trailing length %d differs from leading length %d", typ, trailer, total)
	}
	return typ, body, nil
}

// control handles a non-packet block.
func (p *pcapngReader) control(typ uint32, body []byte) error {
	switch typ {
	case pcapngBlockSHB:
		if len(body) < 16 {
			return fmt.Errorf("section header too short (%d bytes)", len(body))
		}
		if major := p.order.Uint16(body[4:]); major != 1 {
			return fmt.Errorf("pcapng version %d is not supported", major)
		}
	case pcapngBlockIDB:
		if len(body) < 8 {
			return fmt.Errorf("interface description too short (%d bytes)", len(body))
		}
		ifc := ngInterface{linkType: uint32(p.order.Uint16(body)), snaplen: p.order.Uint32(body[4:]), exp: 6}
		p.interfaceOptions(&ifc, body[8:])
		p.ifaces = append(p.ifaces, ifc)
	}
	return nil
}

func (p *pcapngReader) interfaceOptions(ifc *ngInterface, opts []byte) {
	for len(opts) >= 4 {
		code, n := p.order.Uint16(opts), int(p.order.Uint16(opts[2:]))
		if code == 0 || 4+n > len(opts) {
			return
		}
		v := opts[4 : 4+n]
		switch {
		case code == 9 && n == 1: // if_tsresol
			ifc.pow2, ifc.exp = v[0]&0x80 != 0, v[0]&0x7f
		case code == 14 && n == 8: // if_tsoffset
			ifc.offset = int64(p.order.Uint64(v))
		}
		opts = opts[4+(n+3)&^3:]
	}
}

// maxSeconds is the latest pcapng time read as it is: 2^62 s after 1970
// (year 146138514283). A 64-bit count of seconds plus if_tsoffset reaches
// far past what int64 seconds hold, and used to wrap (to 1969, or before
// the Unix epoch); the bound also leaves room to add any time.Duration
// without saturating time.Time, which the decoder's sweeps rely on.
const maxSeconds = 1 << 62

// lastRFC3339 is the last second of year 9999, the last that RFC 3339
// (and so JSON's dates) can write.
const lastRFC3339 = 253402300799

// time converts a timestamp in the interface's units. pcapng counts time
// from 1970 (draft-ietf-opsawg-pcapng, the EPB's Timestamp), so a time
// before 1970 (a negative if_tsoffset) or after 2^62 s is clamped to that
// range; one after year 9999 but within it is kept. Either gives a
// warning, which a sound time does not allocate.
func (ifc *ngInterface) time(ts uint64) (time.Time, error) {
	sec, nsec := ifc.split(ts)
	// sec is unsigned and if_tsoffset signed: their sum may need 65 bits.
	var sum uint64
	switch {
	case ifc.offset >= 0:
		var carry uint64
		if sum, carry = bits.Add64(sec, uint64(ifc.offset), 0); carry != 0 {
			sum = math.MaxUint64
		}
	case sec >= uint64(-ifc.offset): // -MinInt64 wraps to MinInt64, as uint64 still its magnitude
		sum = sec - uint64(-ifc.offset)
	default:
		return time.Unix(0, 0).UTC(), ifc.rangeWarning(ts, "is before 1970: clamped to 1970-01-01T00:00:00Z")
	}
	if sum >= maxSeconds {
		clamped := time.Unix(maxSeconds, 0).UTC()
		return clamped, ifc.rangeWarning(ts, fmt.Sprintf("is after 2^62 s (year %d): clamped to 2^62 s", clamped.Year()))
	}
	t := time.Unix(int64(sum), int64(nsec)).UTC()
	if sum > lastRFC3339 {
		return t, ifc.rangeWarning(ts, fmt.Sprintf("is in year %d, after 9999: kept", t.Year()))
	}
	return t, nil
}

// split divides a timestamp into seconds and nanoseconds. Every
// resolution has an exact answer: beyond 10^-19 s or 2^-63 s a 64-bit
// timestamp is less than a second.
func (ifc *ngInterface) split(ts uint64) (sec, nsec uint64) {
	if ifc.pow2 {
		if ifc.exp >= 64 {
			hi, _ := bits.Mul64(ts, 1e9)
			return 0, hi >> (ifc.exp - 64)
		}
		sec, frac := ts>>ifc.exp, ts&(1<<ifc.exp-1)
		hi, lo := bits.Mul64(frac, 1e9)
		nsec, _ = bits.Div64(hi, lo, 1<<ifc.exp)
		return sec, nsec
	}
	sec, nsec = 0, ts
	if ifc.exp <= 19 {
		units := uint64(1)
		for range ifc.exp {
			units *= 10
		}
		sec, nsec = ts/units, ts%units
	}
	if ifc.exp <= 9 {
		for range 9 - ifc.exp {
			nsec *= 10
		}
	} else {
		for i := ifc.exp; i > 9 && nsec > 0; i-- {
			nsec /= 10
		}
	}
	return sec, nsec
}

// rangeWarning says what became of a time out of range.
func (ifc *ngInterface) rangeWarning(ts uint64, what string) error {
	base := "10"
	if ifc.pow2 {
		base = "2"
	}
	return fmt.Errorf("timestamp %d × %s^-%d s + if_tsoffset %d s %s", ts, base, ifc.exp, ifc.offset, what)
}

func (p *pcapngReader) next(fr *Frame) error {
	for {
		typ, body, err := p.block()
		if err != nil {
			return err
		}
		switch typ {
		case pcapngBlockEPB, pcapngBlockOPB:
			return p.packet(typ, body, fr)
		case pcapngBlockSPB:
			return p.simplePacket(body, fr)
		}
		if err := p.control(typ, body); err != nil {
			return err
		}
	}
}

func (p *pcapngReader) iface(id uint32) (*ngInterface, error) {
	if int64(id) >= int64(len(p.ifaces)) {
		return nil, fmt.Errorf("packet names interface %d but the section describes %d", id, len(p.ifaces))
	}
	return &p.ifaces[id], nil
}

// packet decodes an enhanced (or obsolete) packet block.
func (p *pcapngReader) packet(typ uint32, body []byte, fr *Frame) error {
	if len(body) < 20 {
		return fmt.Errorf("packet block too short (%d bytes)", len(body))
	}
	id := p.order.Uint32(body)
	if typ == pcapngBlockOPB {
		id = uint32(p.order.Uint16(body))
	}
	ifc, err := p.iface(id)
	if err != nil {
		return err
	}
	ts := uint64(p.order.Uint32(body[4:]))<<32 | uint64(p.order.Uint32(body[8:]))
	caplen, wirelen := p.order.Uint32(body[12:]), p.order.Uint32(body[16:])
	if uint64(caplen) > uint64(len(body)-20) {
		return fmt.Errorf("packet claims %d captured bytes but its block holds %d", caplen, len(body)-20)
	}
	fr.Time, fr.Warning = ifc.time(ts)
	fr.Data = body[20 : 20+caplen]
	fr.Length = int(max(wirelen, caplen))
	fr.LinkType, fr.Interface = ifc.linkType, id
	return nil
}

// simplePacket decodes a simple packet block: interface 0, no timestamp,
// captured length = min(original length, snaplen, block).
func (p *pcapngReader) simplePacket(body []byte, fr *Frame) error {
	if len(body) < 4 {
		return fmt.Errorf("simple packet block too short (%d bytes)", len(body))
	}
	ifc, err := p.iface(0)
	if err != nil {
		return err
	}
	wirelen := p.order.Uint32(body)
	caplen := min(uint64(wirelen), uint64(len(body)-4))
	if ifc.snaplen != 0 {
		caplen = min(caplen, uint64(ifc.snaplen))
	}
	fr.Time = time.Time{}
	fr.Data = body[4 : 4+caplen]
	fr.Length = int(wirelen)
	fr.LinkType, fr.Interface = ifc.linkType, 0
	return nil
}
