package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pcapFile builds a little-endian µs pcap with the given records.
func pcapFile(linkType uint32, records ...[]byte) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h, pcapMicro)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], linkType)
	b.Write(h)
	for i, r := range records {
		rh := make([]byte, 16)
		binary.LittleEndian.PutUint32(rh, uint32(1700000000+i))
		binary.LittleEndian.PutUint32(rh[4:], 250000)
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(r)))
		binary.LittleEndian.PutUint32(rh[12:], uint32(len(r)))
		b.Write(rh)
		b.Write(r)
	}
	return b.Bytes()
}

// readAll reads every frame and returns copies of their data and the error
// that ended reading (nil at a clean EOF).
func readAll(t *testing.T, data []byte) ([]Frame, error) {
	t.Helper()
	f, err := NewReader(bytes.NewReader(data), "test")
	if err != nil {
		return nil, err
	}
	var frames []Frame
	for {
		var fr Frame
		err := f.Next(&fr)
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return frames, err
		}
		fr.Data = append([]byte(nil), fr.Data...)
		frames = append(frames, fr)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pcap")
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(text, []byte("hello, this is not a capture\n"), 0o644)
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.pcap"), "no such file"},
		{"directory", dir, "is a directory"},
		{"empty", empty, "not a pcap or pcapng file: the file is empty"},
		{"text", text, "not a pcap or pcapng file (starts with 68 65 6c 6c)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(tc.path)
			if err == nil {
				f.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestPcapDamage(t *testing.T) {
	good := pcapFile(1, bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{2}, 70))
	huge := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(huge[24+16+60+8:], 0xffffffff) // second record claims 4 GiB
	for _, tc := range []struct {
		name   string
		data   []byte
		frames int
		want   string // "" for a clean read
	}{
		{"complete", good, 2, ""},
		{"short file header", good[:20], 0, "truncated pcap file header (20 of 24 bytes)"},
		{"cut record header", good[:24+16+60+5], 1, "frame 2 (byte 100): truncated record header (5 of 16 bytes)"},
		{"cut record data", good[:24+16+60+16+30], 1, "frame 2 (byte 100): truncated packet data (30 of 70 bytes)"},
		{"4 GiB record", huge, 1, "frame 2 (byte 100): record claims 4294967295 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames, err := readAll(t, tc.data)
			if len(frames) != tc.frames {
				t.Errorf("%d frames, want %d", len(frames), tc.frames)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPcapVariants(t *testing.T) {
	le := pcapFile(113, []byte("abcdef"))
	// Same file, big-endian with nanosecond timestamps.
	be := append([]byte(nil), le...)
	binary.BigEndian.PutUint32(be, pcapNano) // the ns magic, written big-endian
	for _, o := range []int{4, 6} {
		binary.BigEndian.PutUint16(be[o:], binary.LittleEndian.Uint16(le[o:]))
	}
	for _, o := range []int{8, 12, 16, 20, 24, 28, 32, 36} {
		binary.BigEndian.PutUint32(be[o:], binary.LittleEndian.Uint32(le[o:]))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(le)
	zw.Close()
	for _, tc := range []struct {
		name   string
		data   []byte
		format string
		nsec   int
	}{
		{"little-endian µs", le, "pcap", 250000000},
		{"big-endian ns", be, "pcap (ns)", 250000},
		{"gzip", gz.Bytes(), "pcap", 250000000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewReader(bytes.NewReader(tc.data), "t")
			if err != nil {
				t.Fatal(err)
			}
			if f.Format() != tc.format || f.LinkType() != 113 {
				t.Errorf("format %q link %d", f.Format(), f.LinkType())
			}
			var fr Frame
			if err := f.Next(&fr); err != nil {
				t.Fatal(err)
			}
			want := time.Unix(1700000000, int64(tc.nsec)).UTC()
			if !fr.Time.Equal(want) || string(fr.Data) != "abcdef" || fr.Number != 1 || fr.LinkType != 113 {
				t.Errorf("frame %+v, want time %v data abcdef", fr, want)
			}
		})
	}
}

// pcapngBlock frames a pcapng block.
func pcapngBlock(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b := make([]byte, 8, 12+len(body))
	binary.LittleEndian.PutUint32(b, typ)
	binary.LittleEndian.PutUint32(b[4:], uint32(12+len(body)))
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, uint32(12+len(body)))
}

func shb() []byte {
	body := make([]byte, 16)
	binary.LittleEndian.PutUint32(body, pcapngByteOrderMagic)
	binary.LittleEndian.PutUint16(body[4:], 1)
	binary.LittleEndian.PutUint64(body[8:], ^uint64(0))
	return pcapngBlock(pcapngBlockSHB, body)
}

func idb(linkType uint16, tsresol byte) []byte {
	body := make([]byte, 8)
	binary.LittleEndian.PutUint16(body, linkType)
	if tsresol != 0 {
		body = append(body, 9, 0, 1, 0, tsresol, 0, 0, 0, 0, 0, 0, 0)
	}
	return pcapngBlock(pcapngBlockIDB, body)
}

func epb(iface uint32, ts uint64, data []byte) []byte {
	body := make([]byte, 20)
	binary.LittleEndian.PutUint32(body, iface)
	binary.LittleEndian.PutUint32(body[4:], uint32(ts>>32))
	binary.LittleEndian.PutUint32(body[8:], uint32(ts))
	binary.LittleEndian.PutUint32(body[12:], uint32(len(data)))
	binary.LittleEndian.PutUint32(body[16:], uint32(len(data)))
	return pcapngBlock(pcapngBlockEPB, append(body, data...))
}

func TestPcapng(t *testing.T) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	unknown := pcapngBlock(0x0bad, []byte("ignored!"))
	okFile := cat(shb(), idb(1, 0), unknown, epb(0, 1700000000_123456, []byte("frame one")), idb(276, 9), epb(1, 1700000000_000000123, []byte("frame two")))
	badIface := cat(shb(), idb(1, 0), epb(3, 0, []byte("x")))
	badTrailer := cat(shb(), idb(1, 0), epb(0, 0, []byte("abcd")))
	badTrailer[len(badTrailer)-1] = 0x7f
	overclaim := cat(shb(), idb(1, 0), epb(0, 0, []byte("abcd")))
	binary.LittleEndian.PutUint32(overclaim[len(overclaim)-16:], 1000) // captured length 1000 in a 4-byte block
	for _, tc := range []struct {
		name   string
		data   []byte
		frames int
		want   string
	}{
		{"two interfaces and an unknown block", okFile, 2, ""},
		{"missing interface", badIface, 0, "packet names interface 3 but the section describes 1"},
		{"trailer mismatch", badTrailer, 0, "trailing length"},
		{"captured length past block", overclaim, 0, "claims 1000 captured bytes but its block holds 4"},
		{"cut block", okFile[:len(okFile)-7], 1, "truncated block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames, err := readAll(t, tc.data)
			if len(frames) != tc.frames {
				t.Errorf("%d frames, want %d", len(frames), tc.frames)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.want == "" {
				if got := frames[0].Time; !got.Equal(time.Unix(1700000000, 123456000)) || frames[0].LinkType != 1 {
					t.Errorf("frame 1: %v link %d", got, frames[0].LinkType)
				}
				if got := frames[1].Time; !got.Equal(time.Unix(1700000000, 123)) || frames[1].LinkType != 276 {
					t.Errorf("frame 2: %v link %d", got, frames[1].LinkType)
				}
			}
		})
	}
}

func TestFilter(t *testing.T) {
	if _, err := CompileFilter("tcp port", 1); err == nil || !strings.Contains(err.Error(), `bad filter "tcp port"`) {
		t.Fatalf("bad filter accepted or unclear: %v", err)
	}
	for _, tc := range []struct {
		file, expr string
		want       int
	}{
		{"greeting.pcap", "tcp port 12345", 8},
		{"greeting.pcap", "tcp port 80", 0},
		{"greeting.pcap", "tcp[tcpflags] & tcp-syn != 0", 2},
		{"greeting.pcap", "src port 12345", 4},
		// LINKTYPE_RAW (101) is DLT_RAW (12) to libpcap's compiler.
		{"raw.pcap", "tcp port 80", 8},
		{"raw.pcap", "ip6 and tcp port 443", 8},
		{"raw.pcap", "tcp[tcpflags] & tcp-syn != 0", 2}, // tcp[] reaches into IPv4 only
	} {
		data, err := os.ReadFile("../fixtures/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := NewReader(bytes.NewReader(data), tc.file)
		if err := f.SetFilter(tc.expr, nil); err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		n := 0
		var fr Frame
		for f.Next(&fr) == nil {
			n++
		}
		if n != tc.want {
			t.Errorf("%s: %q matched %d frames, want %d", tc.file, tc.expr, n, tc.want)
		}
	}
}

func TestDamageErrorUnwraps(t *testing.T) {
	_, err := readAll(t, pcapFile(1, []byte("abc"))[:30])
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v does not wrap io.ErrUnexpectedEOF", err)
	}
	var de *DamageError
	if !errors.As(err, &de) || de.Frame != 1 || de.Offset != 24 {
		t.Fatalf("%#v", err)
	}
}

// TestPcapngBigEndian reads a section written big-endian, as a SPARC or
// PowerPC machine writes it: the section header's byte-order magic sets
// the order of every block length and field after it.
func TestPcapngBigEndian(t *testing.T) {
	be := binary.BigEndian
	block := func(typ uint32, body []byte) []byte {
		b := be.AppendUint32(be.AppendUint32(nil, typ), uint32(12+len(body)))
		return be.AppendUint32(append(b, body...), uint32(12+len(body)))
	}
	shb := be.AppendUint64(be.AppendUint32(be.AppendUint32(nil, pcapngByteOrderMagic), 1<<16), ^uint64(0))
	idb := be.AppendUint32(be.AppendUint32(nil, 1<<16), 0) // LINKTYPE_ETHERNET, no snaplen
	ts := uint64(1700000000_123456)                        // µs, the default resolution
	epb := be.AppendUint32(nil, 0)
	epb = be.AppendUint32(be.AppendUint32(epb, uint32(ts>>32)), uint32(ts))
	epb = append(be.AppendUint32(be.AppendUint32(epb, 4), 60), "abcd"...)
	data := bytes.Join([][]byte{block(pcapngBlockSHB, shb), block(pcapngBlockIDB, idb), block(pcapngBlockEPB, epb)}, nil)
	frames, err := readAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 1 {
		t.Fatalf("%d frames, want 1", len(frames))
	}
	fr := frames[0]
	if !fr.Time.Equal(time.Unix(1700000000, 123456000)) || string(fr.Data) != "abcd" || fr.Length != 60 || fr.LinkType != 1 {
		t.Errorf("frame %+v", fr)
	}
}

// TestNextDoesNotAllocate holds the readers to decode's rule: nothing is
// allocated per frame, opened or streamed, pcap or pcapng, with a filter
// or without (once each link type's program is compiled).
func TestNextDoesNotAllocate(t *testing.T) {
	const frames = 300
	data := bytes.Repeat([]byte("0123456789abcdef"), 4)
	var pcapRecs, ngBlocks, mixedBlocks [][]byte
	for i := range frames {
		pcapRecs = append(pcapRecs, data)
		ngBlocks = append(ngBlocks, epb(0, uint64(i), data))
		mixedBlocks = append(mixedBlocks, epb(uint32(i%3), uint64(i), data))
	}
	// Ethernet, BSD loopback and LINKTYPE_USER0 in turn: the last is not
	// read, the others each have their program.
	mixed := bytes.Join(append([][]byte{shb(), idb(1, 0), idb(0, 0), idb(147, 0)}, mixedBlocks...), nil)
	notUser0 := func(lt uint32) bool { return lt != 147 }
	for _, tc := range []struct {
		name    string
		content []byte
		filter  string
		reads   func(uint32) bool
		runs    int // frames handed out, less a few for AllocsPerRun's warm-up run
	}{
		{"pcap", pcapFile(1, pcapRecs...), "", nil, frames - 10},
		{"pcapng", bytes.Join(append([][]byte{shb(), idb(1, 0)}, ngBlocks...), nil), "", nil, frames - 10},
		{"pcap filtered", pcapFile(1, pcapRecs...), "greater 10", nil, frames - 10},
		{"pcapng, three link types, filtered", mixed, "greater 10", notUser0, frames*2/3 - 10},
	} {
		path := filepath.Join(t.TempDir(), "capture")
		if err := os.WriteFile(path, tc.content, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, opened := range []bool{true, false} {
			var f *File
			var err error
			if opened {
				f, err = Open(path)
			} else {
				f, err = NewReader(bytes.NewReader(tc.content), path)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.filter != "" || tc.reads != nil {
				if err := f.SetFilter(tc.filter, tc.reads); err != nil {
					t.Fatal(err)
				}
			}
			var fr Frame
			for range 3 { // the first frame of each link type compiles its program
				if err := f.Next(&fr); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(tc.runs-3, func() {
				if err := f.Next(&fr); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s (opened %v): %.1f allocations per frame", tc.name, opened, allocs)
			}
			f.Close()
		}
	}
}
