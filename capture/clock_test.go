package capture

import (
	"encoding/binary"
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
