package main

import (
	"bufio"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// writeSYNFlood writes a pcap of n SYNs from random sources to one server.
func writeSYNFlood(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	w.Write(hdr)
	r := rand.New(rand.NewPCG(7, 7))
	frame := make([]byte, 54)
	copy(frame, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6})
	copy(frame[30:34], []byte{192, 0, 2, 1}) // the server
	frame[36], frame[37] = 0, 80
	frame[46], frame[47] = 5<<4, 0x02
	rec := make([]byte, 16)
	for i := range n {
		binary.BigEndian.PutUint32(frame[26:30], r.Uint32()|1)         // source address
		binary.BigEndian.PutUint16(frame[34:36], uint16(1024+i%60000)) // source port
		binary.BigEndian.PutUint32(frame[38:42], r.Uint32())           // ISN
		binary.LittleEndian.PutUint32(rec[0:], uint32(1700000000+i/10000))
		binary.LittleEndian.PutUint32(rec[4:], uint32(i%10000)*100)
		binary.LittleEndian.PutUint32(rec[8:], 54)
		binary.LittleEndian.PutUint32(rec[12:], 54)
		w.Write(rec)
		w.Write(frame)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestSYNFloodStaysBounded reads a million SYNs from random sources with
// the connection cap at 10,000: every SYN is reported, the cap's early
// hand-overs are counted and announced, and the process's peak memory
// stays small.
func TestSYNFloodStaysBounded(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "flood.pcap")
	writeSYNFlood(t, pcap, 1_000_000)
	bin := filepath.Join(dir, "synack")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "read", "--summary", "--max-conns", "10000", pcap)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"1000000 connections", "no-answer 1000000", "S0 1000000", "handed over early at the --max-conns cap"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr.String(), "10000 connections held at once: the least recently active are handed over early (--max-conns)") {
		t.Errorf("no warning about the cap:\n%s", stderr.String())
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB
	t.Logf("1,000,000 SYNs, --max-conns 10000: peak RSS %d MiB", rss>>10)
	if rss > 96<<10 {
		t.Errorf("peak RSS %d MiB under a SYN flood with a 10,000-connection cap", rss>>10)
	}
}
