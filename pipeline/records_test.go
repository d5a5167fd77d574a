package pipeline_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"synack/decode"
	"synack/pipeline"
)

// TestRecordsGivenBack: a decoder that takes its records from a pool
// (decode.Config.Records), each given back once the sink has copied it,
// hands over the same connections, events included, as one that makes a
// record for each: the room for events a record brings back is reused,
// never shared with a connection still open.
func TestRecordsGivenBack(t *testing.T) {
	for _, name := range []string{"netem.pcap", "parallel.pcap", "handshakes.pcap", "loss.pcap", "late-fin.pcap", "port-reuse.pcap"} {
		t.Run(name, func(t *testing.T) {
			path := "../fixtures/" + name
			var want []*decode.Conn // fresh records, in the order handed over
			keep := decode.SinkFunc(func(c *decode.Conn) { want = append(want, c) })
			if _, err := pipeline.ReadFile(context.Background(), path, pipeline.Options{Sink: keep}); err != nil {
				t.Fatal(err)
			}
			// The sink holds the last records a while before it gives
			// them back, as renderers on other goroutines do, and checks
			// that none changed meanwhile.
			records := decode.NewRecords(4)
			var got, held []*decode.Conn
			giveBack := func() {
				c := held[0]
				held = held[1:]
				if cp := got[len(got)-len(held)-1]; !reflect.DeepEqual(c.Events, cp.Events) {
					t.Errorf("connection %d: its events changed after it was handed over", c.ID)
				}
				records.Put(c)
			}
			opt := pipeline.Options{Decode: decode.Config{Records: records}, Sink: decode.SinkFunc(func(c *decode.Conn) {
				cp := *c
				cp.Events = slices.Clone(c.Events)
				got = append(got, &cp)
				if held = append(held, c); len(held) > 3 {
					giveBack()
				}
			})}
			if _, err := pipeline.ReadFile(context.Background(), path, opt); err != nil {
				t.Fatal(err)
			}
			for len(held) > 0 {
				giveBack()
			}
			if len(got) != len(want) {
				t.Fatalf("%d connections, want %d", len(got), len(want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("connection %d differs from the one a fresh record holds", want[i].ID)
				}
			}
			if records.Len() == 0 {
				t.Error("no record given back")
			}
		})
	}
}
