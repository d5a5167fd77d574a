package decode

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"synack/capture"
)

// TestBackgroundHandsOverTheSame: records made on the outlet's goroutine
// (Background) are the records made on the decoder's, in the same order,
// with the same totals: over every fixture, and over churn under a cap,
// where connections handed over early go on from their tombstones, with
// records of their own, given back to a pool, and reused.
func TestBackgroundHandsOverTheSame(t *testing.T) {
	type source struct {
		name   string
		frames []Frame
	}
	sources := []source{{"churn", churn(t, 3000, 300, time.Millisecond, 3)}}
	paths, _ := filepath.Glob("../fixtures/*.pcap*")
	for _, path := range paths {
		if filepath.Ext(path) == ".json" {
			continue
		}
		f, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var frames []Frame
		var fr capture.Frame
		for f.Next(&fr) == nil {
			frames = append(frames, Frame{Number: fr.Number, Time: fr.Time, Data: append([]byte(nil), fr.Data...), Length: fr.Length, LinkType: LinkType(fr.LinkType)})
		}
		f.Close()
		sources = append(sources, source{filepath.Base(path), frames})
	}
	configs := map[string]func() Config{
		"default": func() Config { return Config{UDP: true} },
		"cap":     func() Config { return Config{MaxConns: 100, HandshakeTimeout: time.Second, IdleTimeout: time.Second} },
		"pool":    func() Config { return Config{MaxConns: 100, Records: NewRecords(8)} },
		"recycle": func() Config { return Config{DropEvents: true, Recycle: true, MaxConns: 50} },
	}
	run := func(cfg Config, frames []Frame, background bool) ([]Conn, Totals) {
		var got []Conn
		d := New(cfg, SinkFunc(func(c *Conn) {
			got = append(got, *c)
			got[len(got)-1].Events = append([]Event(nil), c.Events...)
			if cfg.Records != nil {
				cfg.Records.Put(c)
			}
		}))
		if background {
			d.Background()
		}
		for i := range frames {
			d.Packet(&frames[i])
		}
		d.Flush()
		return got, d.Totals()
	}
	for name, cfg := range configs {
		for _, src := range sources {
			want, wantTotals := run(cfg(), src.frames, false)
			got, totals := run(cfg(), src.frames, true)
			if totals != wantTotals {
				t.Errorf("%s, %s: totals %+v in the background, %+v on the decoder's goroutine", name, src.name, totals, wantTotals)
			}
			if len(got) != len(want) {
				t.Fatalf("%s, %s: %d records in the background, %d on the decoder's goroutine", name, src.name, len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%s, %s: record %d differs:\n%+v\n%+v", name, src.name, i, got[i], want[i])
				}
			}
		}
	}
}
