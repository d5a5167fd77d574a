package pipeline_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
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

// asNull rewrites an Ethernet frame carrying IPv4 as a BSD loopback one
// (LINKTYPE_NULL: the address family in host byte order, 2 for AF_INET).
func asNull(eth []byte) []byte { return append([]byte{2, 0, 0, 0}, eth[14:]...) }

// asRaw rewrites an Ethernet frame as a raw IP one (LINKTYPE_RAW).
func asRaw(eth []byte) []byte { return bytes.Clone(eth[14:]) }

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

// ngRecord is one enhanced packet block: a frame on an interface.
type ngRecord struct {
	iface uint32
	fr    capture.Frame
}

// pcapng is a little-endian pcapng file with one interface per link type
// (µs timestamps) and the records.
func pcapng(linkTypes []uint16, recs []ngRecord) []byte {
	le := binary.LittleEndian
	block := func(b []byte, typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		b = le.AppendUint32(le.AppendUint32(b, typ), uint32(12+len(body)))
		return le.AppendUint32(append(b, body...), uint32(12+len(body)))
	}
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = le.AppendUint64(le.AppendUint32(shb, 1), ^uint64(0))
	b := block(nil, 0x0a0d0d0a, shb)
	for _, lt := range linkTypes {
		b = block(b, 1, le.AppendUint32(le.AppendUint32(nil, uint32(lt)), 0))
	}
	for _, r := range recs {
		ts := uint64(r.fr.Time.UnixMicro())
		epb := le.AppendUint32(nil, r.iface)
		epb = le.AppendUint32(le.AppendUint32(epb, uint32(ts>>32)), uint32(ts))
		epb = le.AppendUint32(le.AppendUint32(epb, uint32(len(r.fr.Data))), uint32(len(r.fr.Data)))
		b = block(b, 6, append(epb, r.fr.Data...))
	}
	return b
}

// readBoth reads a capture as a regular file (frames parsed ahead in
// batches) and streamed (one frame at a time): both must give the same.
func readBoth(t *testing.T, data []byte, opt pipeline.Options, check func(t *testing.T, rep *report.Capture, err error)) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("file", func(t *testing.T) {
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

// TestCaptureWarningsAcrossBatches: the batch reader keeps only the
// frames that have a warning, by their place in the batch; warnings on
// the first and last frames of batches, and of the file, reach the report
// in frame order, the same as when the file is read frame by frame.
func TestCaptureWarningsAcrossBatches(t *testing.T) {
	greeting := greetingFrames(t)
	var frames []capture.Frame
	for len(frames) < 11000 { // six batches of 2,048 frames, the last short: each batch's room is used again
		frames = append(frames, greeting...)
	}
	bad := []int{0, 1, 2047, 2048, 4095, 4096, 4097, 8192, 10240, 10241, len(frames) - 1}
	fracs := map[int]uint32{}
	for _, i := range bad {
		fracs[i] = 1_000_050
	}
	var reports [][]string
	readBoth(t, pcapMicro(frames, fracs), pipeline.Options{MaxWarnings: 1000}, func(t *testing.T, rep *report.Capture, err error) {
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range rep.Warnings {
			got = append(got, w.Error())
		}
		var frameWarnings []int
		for _, w := range rep.Warnings {
			var fw *capture.FrameWarning
			if errors.As(w, &fw) {
				frameWarnings = append(frameWarnings, int(fw.Frame)-1)
			}
		}
		if !slices.Equal(frameWarnings, bad) {
			t.Errorf("the reader's warnings are for frames (0-based) %v, want %v", frameWarnings, bad)
		}
		reports = append(reports, got)
	})
	if len(reports) == 2 && !slices.Equal(reports[0], reports[1]) {
		t.Errorf("warnings read in batches:\n%q\nread frame by frame:\n%q", reports[0], reports[1])
	}
}

// TestFilterPerLinkType: libpcap compiles a filter for one link type; a
// pcapng file whose interfaces differ needs one program per link type.
// The program for Ethernet, run over a BSD loopback frame, reads the
// wrong bytes and dropped every frame of the second interface.
func TestFilterPerLinkType(t *testing.T) {
	frames := greetingFrames(t)
	var recs []ngRecord
	for i, fr := range frames {
		if i >= 4 { // the second half of the connection on a loopback interface
			fr.Data = asNull(fr.Data)
			recs = append(recs, ngRecord{1, fr})
			continue
		}
		recs = append(recs, ngRecord{0, fr})
	}
	ethFirst := pcapng([]uint16{1, 0}, recs)
	t.Run("both link types filtered", func(t *testing.T) {
		readBoth(t, ethFirst, pipeline.Options{Filter: "tcp port 12345"}, func(t *testing.T, rep *report.Capture, err error) {
			wantGreeting(t, rep, err, 8)
		})
	})
	// libpcap knows LINKTYPE_RAW (101) as DLT_RAW (12): compiled for 101
	// the filter failed, and a raw IP interface's frames were skipped.
	t.Run("Ethernet and raw IP filtered", func(t *testing.T) {
		raw := slices.Clone(recs)
		for i := range raw[4:] {
			raw[4+i].fr.Data = asRaw(frames[4+i].Data)
		}
		readBoth(t, pcapng([]uint16{1, 101}, raw), pipeline.Options{Filter: "tcp port 12345"}, func(t *testing.T, rep *report.Capture, err error) {
			wantGreeting(t, rep, err, 8)
		})
	})
	// Ethernet addresses mean nothing on BSD loopback: libpcap refuses the
	// filter for it. The file's link type is Ethernet, so the filter
	// stands, and the loopback interface's frames are left out, counted.
	t.Run("filter not for the second link type", func(t *testing.T) {
		opt := pipeline.Options{Filter: "ether host 00:00:00:00:00:00"}
		readBoth(t, ethFirst, opt, func(t *testing.T, rep *report.Capture, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if rep.Totals.Packets != 4 || rep.Err != nil {
				t.Errorf("%d frames (want 4), error %v", rep.Totals.Packets, rep.Err)
			}
			want := `interface 1: bad filter "ether host 00:00:00:00:00:00": ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel, for link type 0 (NULL): 4 frames skipped (first: frame 5)`
			if len(rep.Warnings) != 1 || rep.Warnings[0].Error() != want {
				t.Errorf("warnings %q, want %q", rep.Warnings, want)
			}
		})
	})
	// The file's own link type is held to the filter as before: a usage
	// error, before anything is read.
	t.Run("filter not for the first link type", func(t *testing.T) {
		for i := range recs {
			recs[i].iface = 1 - recs[i].iface
		}
		nullFirst := pcapng([]uint16{0, 1}, recs)
		readBoth(t, nullFirst, pipeline.Options{Filter: "ether host 00:00:00:00:00:00"}, func(t *testing.T, rep *report.Capture, err error) {
			if !errors.As(err, new(*capture.FilterError)) || !errors.As(err, new(*pipeline.InputError)) {
				t.Fatalf("error %v, want an InputError for the filter", err)
			}
		})
	})
}

// TestFirstInterfaceUnsupported: a pcapng file whose first interface has
// a link type synack does not read (147, LINKTYPE_USER0) was refused
// whole; the frames of its other interfaces are read now, and the
// skipped interface is named in a warning. A file with no interface synack
// reads is refused as before.
func TestFirstInterfaceUnsupported(t *testing.T) {
	frames := greetingFrames(t)
	junk := capture.Frame{Time: frames[0].Time, Data: []byte("not a frame synack reads")}
	recs := []ngRecord{{0, junk}}
	for i, fr := range frames {
		recs = append(recs, ngRecord{1, fr})
		if i == 3 {
			recs = append(recs, ngRecord{0, junk})
		}
	}
	mixed := pcapng([]uint16{147, 1}, recs)
	const skipped = "interface 0: unsupported link type 147: 2 frames skipped (first: frame 1)"
	for _, filter := range []string{"", "tcp port 12345"} {
		t.Run("filter "+filter, func(t *testing.T) {
			readBoth(t, mixed, pipeline.Options{Filter: filter}, func(t *testing.T, rep *report.Capture, err error) {
				wantGreeting(t, rep, err, 8, skipped)
			})
		})
	}
	t.Run("bad filter", func(t *testing.T) {
		readBoth(t, mixed, pipeline.Options{Filter: "tcp port"}, func(t *testing.T, rep *report.Capture, err error) {
			if !errors.As(err, new(*capture.FilterError)) || !errors.As(err, new(*pipeline.InputError)) {
				t.Fatalf("error %v, want an InputError for the filter", err)
			}
		})
	})
	t.Run("no interface synack reads", func(t *testing.T) {
		only := pcapng([]uint16{147, 147}, []ngRecord{{0, junk}, {1, junk}})
		readBoth(t, only, pipeline.Options{}, func(t *testing.T, rep *report.Capture, err error) {
			if !errors.Is(err, decode.ErrUnsupportedLinkType) || !strings.Contains(err.Error(), "unsupported link type 147") {
				t.Fatalf("error %v, want unsupported link type 147", err)
			}
		})
	})
}
