package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// benchFrameCount is the size of the capture the benchmarks build when
// SYNACK_BENCH_PCAP does not name one (about 15 MB of pcap).
const benchFrameCount = 80000

// benchFrames builds Ethernet/IPv4/TCP frames with the size mix of
// fixtures/gen's capture: most are bare ACKs (54 bytes), the rest carry
// 100–600 bytes of payload.
func benchFrames(n int) []Frame {
	r := rand.New(rand.NewPCG(1, 2))
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	frames := make([]Frame, n)
	for i := range frames {
		payload := 0
		if r.IntN(10) < 4 {
			payload = 100 + r.IntN(500)
		}
		b := make([]byte, 54+payload)
		copy(b, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0})
		binary.BigEndian.PutUint16(b[16:], uint16(40+payload))
		copy(b[20:], []byte{0x40, 0, 64, 6})
		binary.BigEndian.PutUint32(b[26:], r.Uint32())
		binary.BigEndian.PutUint32(b[30:], r.Uint32())
		binary.BigEndian.PutUint32(b[38:], r.Uint32())
		b[46], b[47] = 5<<4, 0x10
		t = t.Add(time.Duration(r.Int64N(int64(2 * time.Millisecond))))
		frames[i] = Frame{Time: t, Data: b, Length: len(b), LinkType: 1}
	}
	return frames
}

// benchCaptures is one set of packets in three files.
type benchCaptures struct {
	pcap, pcapng, gz string
	packets          int
	pcapSize         int64
}

// makeBenchCaptures writes the pcap (or takes SYNACK_BENCH_PCAP, e.g. the
// 40,000-connection file of `go run ./fixtures/gen -conns 40000 -open 500
// -seed 1`), then the same packets as pcapng (pcapgo's writer: ns
// resolution, one interface) and the pcap gzip-compressed.
func makeBenchCaptures(b *testing.B) benchCaptures {
	dir := b.TempDir()
	c := benchCaptures{pcap: os.Getenv("SYNACK_BENCH_PCAP"), pcapng: filepath.Join(dir, "b.pcapng"), gz: filepath.Join(dir, "b.pcap.gz")}
	if c.pcap == "" {
		c.pcap = filepath.Join(dir, "b.pcap")
		writeBenchPcap(b, c.pcap, benchFrames(benchFrameCount))
	}
	st, err := os.Stat(c.pcap)
	if err != nil {
		b.Fatal(err)
	}
	c.pcapSize = st.Size()
	c.packets = writeBenchPcapng(b, c.pcap, c.pcapng)
	writeBenchGzip(b, c.pcap, c.gz)
	b.Logf("%s: %d packets, %.1f MB", c.pcap, c.packets, float64(c.pcapSize)/1e6)
	return c
}

func writeBenchPcap(b *testing.B, path string, frames []Frame) {
	w, err := Create(path, 1, 65535)
	if err != nil {
		b.Fatal(err)
	}
	for i := range frames {
		if err := w.Write(&frames[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// writeBenchPcapng copies the pcap to pcapng and returns the packet count.
func writeBenchPcapng(b *testing.B, from, to string) int {
	in, err := Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	w, err := pcapgo.NewNgWriter(out, layers.LinkType(in.LinkType()))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	var fr Frame
	for ; ; n++ {
		if err := in.Next(&fr); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: fr.Time, CaptureLength: len(fr.Data), Length: fr.Length}
		if err := w.WritePacket(ci, fr.Data); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	return n
}

func writeBenchGzip(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
	if _, err := io.Copy(zw, in); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReadFile reads a whole capture per iteration with capture's
// reader and with pcapgo's zero-copy readers. pcapgo gets the same 1 MiB
// bufio buffer as the stream path, which is the fairest setting for it.
//
//	go test ./capture -run '^$' -bench ReadFile
//	SYNACK_BENCH_PCAP=/tmp/bench.pcap go test ./capture -run '^$' -bench ReadFile
func BenchmarkReadFile(b *testing.B) {
	c := makeBenchCaptures(b)
	sizeOf := func(path string) int64 {
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		return st.Size()
	}
	ngSize := sizeOf(c.pcapng)
	for _, bc := range []struct {
		name string
		size int64 // bytes read, decompressed
		read func(b *testing.B) int
	}{
		{"pcap/synack", c.pcapSize, synackRead(c.pcap)},
		{"pcap/pcapgo", c.pcapSize, pcapgoRead(c.pcap)},
		{"pcapng/synack", ngSize, synackRead(c.pcapng)},
		{"pcapng/pcapgo", ngSize, pcapgoNgRead(c.pcapng)},
		{"pcap.gz/synack", c.pcapSize, synackRead(c.gz)},
		{"pcap.gz/pcapgo", c.pcapSize, pcapgoRead(c.gz)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(bc.size)
			for b.Loop() {
				if n := bc.read(b); n != c.packets {
					b.Fatalf("read %d packets, want %d", n, c.packets)
				}
			}
			b.ReportMetric(float64(c.packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// synackRead reads path with Open.
func synackRead(path string) func(*testing.B) int {
	return func(b *testing.B) int {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		n, sum := 0, 0
		var fr Frame
		for {
			err := f.Next(&fr)
			if err == io.EOF {
				benchSink = sum
				return n
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
			sum += int(fr.Data[12]) + fr.Length // touch the frame, as a decoder would
		}
	}
}

// benchSink keeps the compiler from dropping the readers' work.
var benchSink int

func pcapgoRead(path string) func(*testing.B) int {
	return func(b *testing.B) int {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		r, err := pcapgo.NewReader(bufio.NewReaderSize(f, bufSize))
		if err != nil {
			b.Fatal(err)
		}
		return drain(b, r)
	}
}

func pcapgoNgRead(path string) func(*testing.B) int {
	return func(b *testing.B) int {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		r, err := pcapgo.NewNgReader(bufio.NewReaderSize(f, bufSize), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			b.Fatal(err)
		}
		return drain(b, r)
	}
}

func drain(b *testing.B, r gopacket.ZeroCopyPacketDataSource) int {
	n, sum := 0, 0
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			benchSink = sum
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
		sum += int(data[12]) + ci.Length
	}
}

// BenchmarkWriteFile writes the benchmark frames as a nanosecond pcap to
// /dev/null, through capture's Writer and through pcapgo's writer on the
// same 64 KiB bufio buffer, so that only the writers differ.
func BenchmarkWriteFile(b *testing.B) {
	frames := benchFrames(benchFrameCount)
	size := int64(24)
	for _, fr := range frames {
		size += 16 + int64(len(fr.Data))
	}
	for _, bc := range []struct {
		name  string
		write func(b *testing.B)
	}{
		{"synack", func(b *testing.B) { synackWrite(b, frames) }},
		{"pcapgo", func(b *testing.B) { pcapgoWrite(b, frames) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				bc.write(b)
			}
			b.ReportMetric(float64(len(frames))*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

func synackWrite(b *testing.B, frames []Frame) { writeBenchPcap(b, os.DevNull, frames) }

func pcapgoWrite(b *testing.B, frames []Frame) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 64<<10)
	w := pcapgo.NewWriterNanos(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		b.Fatal(err)
	}
	for _, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: fr.Time, CaptureLength: len(fr.Data), Length: max(fr.Length, len(fr.Data))}
		if err := w.WritePacket(ci, fr.Data); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
}
