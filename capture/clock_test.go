package capture

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// TestPcapTimestampFraction: a record whose fraction is a whole second or
// more (as a broken writer stores it) is a warning for that frame, carried
// into the seconds; the frames after it are read as usual.
func TestPcapTimestampFraction(t *testing.T) {
	recs := [][]byte{[]byte("one"), []byte("two"), []byte("three")}
	micro := pcapFile(1, recs...)
	binary.LittleEndian.PutUint32(micro[24+16+3+4:], 2_500_000) // frame 2: 2.5 s of µs
	nano := pcapFile(1, recs...)
	binary.LittleEndian.PutUint32(nano, pcapNano)
	binary.LittleEndian.PutUint32(nano[24+16+3+4:], 4_000_000_123) // frame 2: 4 s and 123 ns
	for _, tc := range []struct {
		name string
		data []byte
		want time.Time // frame 2
		warn string
	}{
		{"µs", micro, time.Unix(1700000001+2, 500_000_000), "frame 2: timestamp fraction 2500000 µs out of range (a second is 1000000): carried into the seconds, read as 2023-11-14T22:13:23.5Z"},
		{"ns", nano, time.Unix(1700000001+4, 123), "frame 2: timestamp fraction 4000000123 ns out of range (a second is 1000000000): carried into the seconds, read as 2023-11-14T22:13:25.000000123Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames, err := readAll(t, tc.data)
			if err != nil {
				t.Fatalf("reading ended: %v", err)
			}
			if len(frames) != 3 {
				t.Fatalf("%d frames, want 3", len(frames))
			}
			if got := frames[1]; !got.Time.Equal(tc.want) || string(got.Data) != "two" {
				t.Errorf("frame 2: %v %q, want %v", got.Time, got.Data, tc.want)
			}
			if w := frames[1].Warning; w == nil || w.Error() != tc.warn {
				t.Errorf("frame 2 warning %v, want %q", w, tc.warn)
			}
			if frames[0].Warning != nil || frames[2].Warning != nil {
				t.Errorf("warnings on sound frames: %v, %v", frames[0].Warning, frames[2].Warning)
			}
		})
	}
}

// idbWith is an interface description block with the options if_tsresol
// (code 9) and if_tsoffset (code 14).
func idbWith(linkType uint16, tsresol byte, tsoffset int64) []byte {
	body := make([]byte, 8)
	binary.LittleEndian.PutUint16(body, linkType)
	body = append(body, 9, 0, 1, 0, tsresol, 0, 0, 0)
	body = append(body, 14, 0, 8, 0)
	body = binary.LittleEndian.AppendUint64(body, uint64(tsoffset))
	body = append(body, 0, 0, 0, 0) // opt_endofopt
	return pcapngBlock(pcapngBlockIDB, body)
}

// TestPcapngTimestampRange: a 64-bit timestamp scaled by if_tsresol and
// moved by if_tsoffset may not fit int64 seconds. Such a time used to wrap
// (to 1969, or to a date before the Unix epoch); now it is clamped to
// [1970, 2^62 s] with a warning, and a time that fits but lies past year
// 9999 is kept, with a warning.
func TestPcapngTimestampRange(t *testing.T) {
	const maxInt64 = 1<<63 - 1
	ceiling := time.Unix(1<<62, 0)
	for _, tc := range []struct {
		name    string
		tsresol byte
		offset  int64
		ts      uint64
		want    time.Time
		warn    string // "" for none
	}{
		{"sound", 6, 1700000000, 5, time.Unix(1700000000, 5000), ""},
		{"seconds, all ones", 0, 0, 1<<64 - 1, ceiling,
			"frame 1: timestamp 18446744073709551615 × 10^-0 s + if_tsoffset 0 s is after 2^62 s (year 146138514283): clamped to 2^62 s"},
		{"2^-0 s, top bit", 0x80, 0, 1 << 63, ceiling,
			"frame 1: timestamp 9223372036854775808 × 2^-0 s + if_tsoffset 0 s is after 2^62 s (year 146138514283): clamped to 2^62 s"},
		{"offset overflows", 6, maxInt64, 3_000_000, ceiling,
			"frame 1: timestamp 3000000 × 10^-6 s + if_tsoffset 9223372036854775807 s is after 2^62 s (year 146138514283): clamped to 2^62 s"},
		{"large timestamp, offset brings it back", 0, -maxInt64 - 1, 1<<63 + 1700000000, time.Unix(1700000000, 0), ""},
		{"before 1970", 6, -100, 5, time.Unix(0, 0),
			"frame 1: timestamp 5 × 10^-6 s + if_tsoffset -100 s is before 1970: clamped to 1970-01-01T00:00:00Z"},
		{"year 36812", 6, 1 << 40, 0, time.Unix(1<<40, 0),
			"frame 1: timestamp 0 × 10^-6 s + if_tsoffset 1099511627776 s is in year 36812, after 9999: kept"},
		{"10^-20 s", 20, 0, 1e19, time.Unix(0, 100_000_000), ""},
		{"2^-64 s", 0x80 | 64, 0, 1 << 63, time.Unix(0, 500_000_000), ""},
		{"2^-127 s", 0x80 | 127, 7, 1<<64 - 1, time.Unix(7, 0), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Join([][]byte{shb(), idbWith(1, tc.tsresol, tc.offset), epb(0, tc.ts, []byte("frame")), epb(0, 0, []byte("next"))}, nil)
			frames, err := readAll(t, data)
			if err != nil {
				t.Fatalf("reading ended: %v", err)
			}
			if len(frames) != 2 {
				t.Fatalf("%d frames, want 2", len(frames))
			}
			fr := frames[0]
			if !fr.Time.Equal(tc.want) {
				t.Errorf("time %v (%d s), want %v", fr.Time, fr.Time.Unix(), tc.want)
			}
			if fr.Time.Before(time.Unix(0, 0)) {
				t.Errorf("time %v is before 1970", fr.Time)
			}
			switch {
			case tc.warn == "" && fr.Warning != nil:
				t.Errorf("warning %v", fr.Warning)
			case tc.warn != "" && (fr.Warning == nil || !strings.Contains(fr.Warning.Error(), tc.warn)):
				t.Errorf("warning %v, want %q", fr.Warning, tc.warn)
			}
		})
	}
}
