package main

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"synack/capture"
)

// hostileFrames are damaged frames, each with the warning it must raise.
// They are built from the greeting's SYN (Ethernet, IPv4, TCP with
// options) by breaking one field.
func hostileFrames(t *testing.T) (good [][]byte, bad []struct {
	name, warning string
	frame         []byte
}) {
	t.Helper()
	f, err := capture.Open("fixtures/greeting.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fr capture.Frame
	for f.Next(&fr) == nil {
		good = append(good, append([]byte(nil), fr.Data...))
	}
	syn := good[0] // 14 Ethernet + 20 IPv4 + 40 TCP (options)
	mut := func(change func(b []byte) []byte) []byte { return change(append([]byte(nil), syn...)) }
	const ip, tcp = 14, 34
	bad = []struct {
		name, warning string
		frame         []byte
	}{
		{"IHL below 5", "IPv4: Invalid (too small) IP header length (3 < 5)", mut(func(b []byte) []byte { b[ip] = 0x43; return b })},
		{"IHL past the total length", "IPv4: Invalid IP header length > IP length", mut(func(b []byte) []byte {
			b[ip] = 0x4f
			binary.BigEndian.PutUint16(b[ip+2:], 40)
			return b
		})},
		{"total length below 20", "IPv4: Invalid (too small) IP length (12 < 20)", mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[ip+2:], 12); return b })},
		{"total length shorter than the TCP header", "TCP: Invalid TCP header. Length 10 less than 20",
			mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[ip+2:], 30); return b })},
		{"TCP data offset below 5", "TCP: Invalid TCP data offset 2 < 5", mut(func(b []byte) []byte { b[tcp+12] = 0x20; return b })},
		{"TCP data offset past the end", "TCP: TCP data offset greater than packet length", mut(func(b []byte) []byte { b[tcp+12] = 0xf0; return b })},
		{"TCP option length 0", "TCP: Invalid TCP option length 0 < 2", mut(func(b []byte) []byte { b[tcp+20], b[tcp+21] = 2, 0; return b })},
		{"TCP option past the header", "TCP: Invalid TCP option length 40 exceeds remaining", mut(func(b []byte) []byte { b[tcp+20], b[tcp+21] = 2, 40; return b })},
		{"snaplen inside the Ethernet header", "Ethernet", syn[:10]},
		{"snaplen inside the IP header", "IPv4: Invalid ip4 header. Length 12 less than 20", syn[:26]},
	}
	return good, bad
}

// TestHostileFrames puts each damaged frame among the greeting's frames
// and checks that it raises its warning, named by frame number, while the
// greeting is still reported whole.
func TestHostileFrames(t *testing.T) {
	good, bad := hostileFrames(t)
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hostile.pcap")
			frames := append([][]byte{good[0], tc.frame}, good[1:]...)
			writePcap(t, path, frames)
			code, out, stderr := runCLI("read", "--no-timeline", path)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "warning: frame 2: "+tc.warning) {
				t.Errorf("stderr lacks %q:\n%s", "frame 2: "+tc.warning, stderr)
			}
			if !strings.Contains(out, "1 connection (1 complete)") || !strings.Contains(out, "1 malformed") {
				t.Errorf("the greeting is not reported whole:\n%s", out)
			}
		})
	}
}

// writePcap writes Ethernet frames as a pcap file, 1 ms apart, with
// synack's own writer.
func writePcap(t *testing.T, path string, frames [][]byte) {
	t.Helper()
	w, err := capture.Create(path, 1, 65535)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		fr := capture.Frame{Time: time.Unix(1700000000, int64(i)*int64(time.Millisecond)), Data: f, Length: len(f)}
		if err := w.Write(&fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
