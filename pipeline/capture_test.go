package pipeline_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"synack/capture"
	"synack/decode"
	"synack/pipeline"
	"synack/report"
)

// greetingFrames are the eight Ethernet frames of fixtures/greeting.pcap,
// copied: the connection the captures below are made of.
func greetingFrames(t *testing.T) []capture.Frame {
	t.Helper()
	f, err := capture.Open("../fixtures/greeting.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var frames []capture.Frame
	for {
		var fr capture.Frame
		err := f.Next(&fr)
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		fr.Data = bytes.Clone(fr.Data)
		frames = append(frames, fr)
	}
}

// pcapMicro is a little-endian µs pcap of the frames; fracs, if given,
// replace the frames' fractions of a second.
func pcapMicro(frames []capture.Frame, fracs map[int]uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(le.AppendUint16(b, 2), 4)
	b = le.AppendUint32(le.AppendUint32(b, 0), 0)
	b = le.AppendUint32(le.AppendUint32(b, 65535), 1)
	for i, fr := range frames {
		frac, ok := fracs[i]
		if !ok {
			frac = uint32(fr.Time.Nanosecond() / 1000)
		}
		b = le.AppendUint32(le.AppendUint32(b, uint32(fr.Time.Unix())), frac)
		b = le.AppendUint32(le.AppendUint32(b, uint32(len(fr.Data))), uint32(len(fr.Data)))
		b = append(b, fr.Data...)
	}
	return b
}

// readBoth reads a capture as a mapped file (frames parsed ahead in
// batches) and streamed (one frame at a time): both must give the same.
func readBoth(t *testing.T, data []byte, opt pipeline.Options, check func(t *testing.T, rep *report.Capture, err error)) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("mapped", func(t *testing.T) {
		rep, err := pipeline.ReadFile(context.Background(), path, opt)
		check(t, rep, err)
	})
	t.Run("streamed", func(t *testing.T) {
		file, err := capture.NewReader(bytes.NewReader(data), path)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := pipeline.Read(context.Background(), file, opt)
		check(t, rep, err)
	})
}

// wantGreeting checks a report of the whole greeting: one complete
// connection of frames frames, and exactly the warnings given.
func wantGreeting(t *testing.T, rep *report.Capture, err error, frames uint64, warnings ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("error %v", err)
	}
	if rep.Err != nil {
		t.Errorf("reading stopped: %v", rep.Err)
	}
	if rep.Totals.Packets != frames || len(rep.Conns) != 1 || rep.Conns[0].Verdict != decode.Complete {
		t.Errorf("%d frames, %d connections (want %d frames, one complete connection)", rep.Totals.Packets, len(rep.Conns), frames)
	}
	var got []string
	for _, w := range rep.Warnings {
		got = append(got, w.Error())
	}
	if strings.Join(got, "\n") != strings.Join(warnings, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(warnings, "\n"))
	}
}

// TestCaptureWarningsReachReport: a frame the reader keeps with a warning
// (here a fraction of a second of 1,000,050 µs) is decoded, and the
// warning is the report's, whichever way the file is read.
func TestCaptureWarningsReachReport(t *testing.T) {
	frames := greetingFrames(t)
	data := pcapMicro(frames, map[int]uint32{2: 1_000_050})
	readBoth(t, data, pipeline.Options{}, func(t *testing.T, rep *report.Capture, err error) {
		sec := frames[2].Time.Unix() + 1
		wantGreeting(t, rep, err, 8, "frame 3: timestamp fraction 1000050 µs out of range (a second is 1000000): carried into the seconds, read as "+
			time.Unix(sec, 50_000).UTC().Format(time.RFC3339Nano))
		if len(rep.Conns) == 1 && len(rep.Conns[0].Events) == 8 {
			c := rep.Conns[0]
			if got, want := c.FirstSeen.Add(c.Events[2].T), time.Unix(sec, 50_000); !got.Equal(want) {
				t.Errorf("frame 3 at %v, want %v", got, want)
			}
		}
	})
}
