package decode_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"synack/capture"
	"synack/decode"
)

// linkTypes are the link types the fuzzer picks from with its first byte.
var linkTypes = []decode.LinkType{
	decode.LinkTypeEthernet, decode.LinkTypeLinuxSLL, decode.LinkTypeLinuxSLL2, decode.LinkTypeNull,
	decode.LinkTypeLoop, decode.LinkTypeRaw, decode.LinkTypeIPv4, decode.LinkTypeIPv6,
	decode.LinkTypePPP, decode.LinkTypeCHDLC, decode.LinkTypeNFLOG,
}

// FuzzPacket feeds arbitrary frames of every supported link type to the
// decoder, twice (so the second sees a connection the first created). It
// must never panic; errors are fine. The selector's low bits pick the link
// type; its top bit makes the frame one a snaplen cut (longer on the wire
// than the bytes held), where IP lengths past the end are believed.
func FuzzPacket(f *testing.F) {
	paths, _ := filepath.Glob("../fixtures/*.pcap*")
	for _, p := range paths {
		if filepath.Ext(p) == ".json" {
			continue
		}
		file, err := capture.Open(p)
		if err != nil {
			continue
		}
		var fr capture.Frame
		for file.Next(&fr) == nil {
			for i, lt := range linkTypes {
				if uint32(lt) == fr.LinkType {
					f.Add(byte(i), append([]byte(nil), fr.Data...))
				}
			}
		}
		file.Close()
	}
	const sll, raw, ipv6 = 1, 5, 7 // indexes into linkTypes
	hello := ipv4TCP(45, "hello")
	// An IPv4 total length of 60000 in a frame captured whole: a lie;
	// in a frame a snaplen cut, the truth about the wire.
	f.Add(byte(raw), ipv4TCP(60000, "hello"))
	f.Add(byte(raw|0x80), ipv4TCP(60000, "hello"))
	// An SLL address length far past the 8 bytes of the header.
	f.Add(byte(sll), append([]byte{0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0}, hello...))
	// IPv4 in IPv6 behind a destination options header: the outer
	// extension bytes are not the inner packet's.
	ip6 := make([]byte, 40, 40+8+len(hello))
	ip6[0], ip6[5], ip6[6], ip6[7], ip6[23], ip6[39] = 0x60, byte(8+len(hello)), 60, 64, 1, 2 // ::1 → ::2
	f.Add(byte(ipv6), append(append(ip6, 4, 0, 1, 4, 0, 0, 0, 0), hello...))
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		d := decode.New(decode.Config{}, decode.SinkFunc(func(*decode.Conn) {}))
		lt := linkTypes[int(sel&0x7f)%len(linkTypes)]
		wire := len(data)
		if sel&0x80 != 0 {
			wire += 65535
		}
		for i := range 2 {
			fr := decode.Frame{Number: uint64(i + 1), Time: time.Unix(int64(i), 0), Data: data, Length: wire, LinkType: lt}
			_ = d.Packet(&fr)
		}
		d.Flush()
		tot := d.Totals()
		if tot.TCP+tot.NonTCP+tot.Malformed+tot.Undecoded != tot.Packets {
			t.Fatalf("totals do not add up: %+v", tot)
		}
	})
}

// FuzzReaderAndDecoder runs arbitrary bytes through the pcap/pcapng reader
// and the decoder, as `synack read` does.
func FuzzReaderAndDecoder(f *testing.F) {
	paths, _ := filepath.Glob("../fixtures/*.pcap*")
	for _, p := range paths {
		if filepath.Ext(p) == ".json" {
			continue
		}
		// Small captures only: the fuzzer stalls on inputs of 100 KB and
		// more (one mutation of them runs for seconds under coverage).
		if data, err := os.ReadFile(p); err == nil && len(data) <= 16<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := capture.NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		d := decode.New(decode.Config{}, decode.SinkFunc(func(*decode.Conn) {}))
		var fr capture.Frame
		for n := 0; ; n++ {
			err := file.Next(&fr)
			if err == io.EOF || err != nil {
				break
			}
			if n > len(data) {
				t.Fatalf("read %d frames from %d bytes", n, len(data))
			}
			df := decode.Frame{Number: fr.Number, Time: fr.Time, Data: fr.Data, Length: fr.Length, LinkType: decode.LinkType(fr.LinkType)}
			_ = d.Packet(&df)
		}
		d.Flush()
	})
}

// ipv4TCP is an IPv4 packet of a TCP segment carrying payload, whose total
// length field says totalLen.
func ipv4TCP(totalLen uint16, payload string) []byte {
	b := []byte{0x45, 0, byte(totalLen >> 8), byte(totalLen), 0, 0, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
		0xc3, 0x50, 0, 80, 0, 0, 3, 0xe9, 0, 0, 0, 0, 0x50, 0x18, 2, 0, 0, 0, 0, 0}
	return append(b, payload...)
}
