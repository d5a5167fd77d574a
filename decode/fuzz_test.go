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
}

// FuzzPacket feeds arbitrary frames of every supported link type to the
// decoder, twice (so the second sees a connection the first created). It
// must never panic; errors are fine.
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
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		d := decode.New(decode.Config{}, decode.SinkFunc(func(*decode.Conn) {}))
		lt := linkTypes[int(sel)%len(linkTypes)]
		for i := range 2 {
			fr := decode.Frame{Number: uint64(i + 1), Time: time.Unix(int64(i), 0), Data: data, Length: len(data), LinkType: lt}
			_ = d.Packet(&fr)
		}
		d.Flush()
		tot := d.Totals()
		if tot.TCP+tot.NonTCP+tot.Malformed != tot.Packets {
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
		if data, err := os.ReadFile(p); err == nil {
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
