package pipeline

import (
	"context"
	"io"

	"synack/capture"
	"synack/decode"
)

// batchSize is how many frames the reading goroutine parses before handing
// them over, and batches how many batches are in flight. The reader is
// the faster of the two, so it waits for a free batch and is woken once a
// batch: 2,048 frames (0.7 MB) a batch, not 512, wake it a quarter as
// often, and the applying goroutine, which pays for the wake-up, is what
// bounds the time (5–10% less CPU for --summary on the 200,000-connection
// capture).
const (
	batchSize = 2048
	batches   = 4
)

// ahead is how many frames before applying one the decoder is told of
// it (Decoder.Ahead), and prefetchAhead how many before that its Parsed,
// written on the other core, is asked for (decode.Prefetch): by the time
// Ahead reads it, it is here. From 16 to 48 frames gave the same time.
const (
	ahead         = 16
	prefetchAhead = 24
)

// The reading goroutine asks for each batch item's cache lines, to write
// them, writeAhead items before it parses a frame into it (see
// decode.PrefetchW). Where the two cores share no cache (an AMD EPYC
// virtual machine, 220 ns to move a cache line between them), that took
// --summary on the 200,000-connection capture from 2.3 to about 1.8 times
// the bare reader's time; from 2 to 32 items ahead gave the same.
const writeAhead = 16

type batch struct {
	items [batchSize]decode.Parsed
	// warned are the reader's warnings about items, in order: most items
	// have none, and an array of one per item, written on one core and
	// read on the other, was as many more cache lines to move over.
	warned []itemWarning
	n      int
	offset int64  // file offset after the batch, for progress
	frames uint64 // frames read up to the end of the batch
	err    error  // what ended reading (io.EOF at the end), in the last batch
}

// newBatch returns a batch whose every page has been written: the
// collector scans a batch (its items hold pointers) before the reader has
// filled it, and a page read before it is written costs the reader a
// copy of the kernel's zero page and an interrupt to the other core
// (decode.WriteFirst).
func newBatch() *batch {
	b := new(batch)
	decode.WriteFirst(b.items[:])
	return b
}

// itemWarning is the reader's warning about the batch's item i.
type itemWarning struct {
	i   int
	err error
}

// readBatched reads a file on two cores: a goroutine reads and parses
// frames (the decoder's Parser keeps nothing of a frame's bytes, which the
// next read reuses) while this one runs them through the connection table
// in order, and the decoder makes the records it hands over on a third
// (Decoder.Background), which shares the reader's core. Batches go round
// between them, so nothing is allocated per frame.
//
// The consumer may stop early (a panic unwinds through here): quit tells
// the producer, which then returns instead of waiting for a batch forever.
func (s *session) readBatched(ctx context.Context, file *capture.File, count uint64) {
	free, full := make(chan *batch, batches), make(chan *batch, batches)
	quit := make(chan struct{})
	defer close(quit)
	for range batches {
		free <- newBatch()
	}
	go produce(ctx, file, count, s.dec.NewParser(), free, full, quit)
	s.dec.Background() // until Flush (or Read's Wait)
	for b := range full {
		warned := b.warned
		for i := range b.n {
			if i+prefetchAhead < b.n {
				decode.Prefetch(&b.items[i+prefetchAhead])
			}
			if i+ahead < b.n {
				s.dec.Ahead(&b.items[i+ahead])
			}
			for len(warned) > 0 && warned[0].i == i {
				s.warn(warned[0].err)
				warned = warned[1:]
			}
			s.warn(s.dec.Apply(&b.items[i]))
		}
		if s.progress != nil && b.err == nil {
			s.progress(b.offset, b.frames)
		}
		if b.err != nil && b.err != io.EOF {
			s.rep.Err = b.err
		}
		free <- b
	}
}

// produce reads and parses frames into batches until the file ends, count
// frames were read (0: no limit), it is cancelled, or the consumer quits.
func produce(ctx context.Context, file *capture.File, count uint64, p *decode.Parser, free <-chan *batch, full chan<- *batch, quit <-chan struct{}) {
	defer close(full)
	var cf capture.Frame
	var df decode.Frame
	b := <-free
	send := func() bool {
		select {
		case full <- b:
			return true
		case <-quit:
			return false
		}
	}
	var taken uint64
	for {
		if taken == count && count > 0 {
			b.err = io.EOF
			send()
			return
		}
		if err := file.Next(&cf); err != nil {
			b.err = err
			send()
			return
		}
		taken++
		if b.n+writeAhead < batchSize {
			decode.PrefetchW(&b.items[b.n+writeAhead])
		}
		toDecode(&df, &cf)
		p.Parse(&df, &b.items[b.n])
		if cf.Warning != nil {
			b.warned = append(b.warned, itemWarning{b.n, cf.Warning})
		}
		if b.n++; b.n < batchSize {
			continue
		}
		b.offset, b.frames = file.Offset(), cf.Number
		if !send() {
			return
		}
		select {
		case b = <-free:
		case <-quit:
			return
		}
		clear(b.warned)
		b.n, b.err, b.warned = 0, nil, b.warned[:0]
		if ctx.Err() != nil {
			b.err = &StopError{Frame: cf.Number + 1, Cause: context.Cause(ctx)}
			send()
			return
		}
	}
}
