package pipeline

import (
	"context"
	"testing"
	"time"

	"synack/capture"
	"synack/decode"
)

// TestProducerStopsWhenConsumerQuits: when the consumer of batches stops
// early (a panic unwinds through it), the producer must return
// instead of waiting for a free batch or a reader forever — before, every
// damaged file read under -j leaked a goroutine.
func TestProducerStopsWhenConsumerQuits(t *testing.T) {
	for _, tc := range []struct {
		name string
		wait string // where the producer is when the consumer quits
	}{
		{"waiting to hand over a batch", "send"},
		{"waiting for a free batch", "free"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, err := capture.Open("../fixtures/loss.pcap")
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			free, full, quit := make(chan *batch, 1), make(chan *batch), make(chan struct{})
			free <- new(batch)
			ended := make(chan struct{})
			go func() { produce(context.Background(), file, 0, decode.NewParser(), free, full, quit); close(ended) }()
			if tc.wait == "free" {
				<-full // take the first batch and never give it back
			}
			close(quit)
			select {
			case <-ended:
			case <-time.After(5 * time.Second):
				t.Fatal("the producer is still running after the consumer quit")
			}
		})
	}
}
