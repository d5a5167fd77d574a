package pipeline

import (
	"context"
	"io"
	"runtime/debug"

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
// decode.PrefetchW), and for the mapped file's bytes fileAhead bytes
// before it reads them, fileBlock bytes or more at a time: the
// processor's own prefetching stops at the end of each 4 KiB page, and a
// frame's first bytes were a tenth of the time --summary takes. Where the
// two cores share no cache (an AMD EPYC virtual machine, 220 ns to move a
// cache line between them), the two took --summary on the
// 200,000-connection capture from 2.3 to 1.6–1.8 times the bare reader's
// time; from 2 to 32 items ahead gave the same, 4 and 8 KiB ahead the best.
const (
	writeAhead = 16
	fileAhead  = 4096
	fileBlock  = 1024
)

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

// itemWarning is the reader's warning about the batch's item i.
type itemWarning struct {
	i   int
	err error
}

// readBatched reads a mapped file on two cores: a goroutine reads and
// parses frames (their bytes stay valid in the mapping) while this one
// runs them through the connection table in order, and the decoder makes
// the records it hands over on a third (Decoder.Background), which
// shares the reader's core. Batches go round between them, so nothing is
// allocated per frame.
//
// The consumer may stop early (the mapping faults while a frame is
// applied, and the fault unwinds through here): quit tells the producer,
// which then returns instead of waiting for a batch forever.
func (s *session) readBatched(ctx context.Context, file *capture.File, count uint64) {
	free, full := make(chan *batch, batches), make(chan *batch, batches)
	quit := make(chan struct{})
	defer close(quit)
	for range batches {
		free <- new(batch)
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
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
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
	defer func() { // a fault in the mapping ends the file here too
		if r := recover(); r != nil {
			if !capture.MapFault(r) {
				panic(r)
			}
			b.err = &ShrinkError{Offset: file.Offset(), Fault: r}
			send()
		}
	}()
	var taken uint64
	var asked int64 // the file's bytes before this offset have been asked for
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
		if off := file.Offset(); off+fileAhead >= asked {
			from := max(asked, off)
			asked = off + fileAhead + fileBlock
			decode.PrefetchBytes(file.MappedBytes(from, asked))
		}
		if b.n+writeAhead < batchSize {
			decode.PrefetchW(&b.items[b.n+writeAhead])
		}
		// The frame's fields one by one, not toDecode's copy of the
		// whole: the copy's wide loads from the narrower stores just made
		// wait for every store before them to reach the cache, and those
		// into batch items may wait for the other core.
		df.Number, df.Time, df.Data = cf.Number, cf.Time, cf.Data
		df.Length, df.LinkType = cf.Length, decode.LinkType(cf.LinkType)
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
