package pipeline

import (
	"context"
	"errors"
	"time"

	"synack/capture"
	"synack/decode"
	"synack/report"
)

// Live is a running live capture: its handle, the decoder its frames go
// to, the -w copy, and the report being built. Open it, run Loop (in one
// goroutine), then Finish.
type Live struct {
	src   *capture.Live
	write *capture.Writer
	s     *session
	flush func()
}

// FlushInterval is the longest a live capture holds per-packet output
// while packets flow (Options.Flush).
const FlushInterval = 100 * time.Millisecond

// OpenLive opens the capture handle. opt.Decode.OnEvent is called from
// the goroutine that runs Loop.
func OpenLive(lc capture.LiveConfig, opt Options) (*Live, error) {
	src, err := capture.OpenLive(lc)
	if err != nil {
		return nil, err
	}
	lt := decode.LinkType(src.LinkType())
	rep := &report.Capture{Source: src.Interface(), Format: "live", LinkType: lt.String(), Filter: lc.Filter}
	if opt.OnOpen != nil {
		opt.OnOpen(rep)
	}
	return &Live{src: src, s: newSession(rep, opt), flush: opt.Flush}, nil
}

// WriteTo copies every frame captured from now on to a new pcap file at
// path (see capture.CreateOutput). Call it before Loop, once privileges
// are dropped, so that the file is created with the rights of the user
// it is for.
func (l *Live) WriteTo(path string, followSymlinks bool) error {
	// The handle's snaplen, not the one asked for: it may capture more
	// (NFLOG's records are whole messages) or less (capped at libpcap's
	// largest), and the file's header must say what its records can hold.
	snap := l.src.Snaplen()
	if snap <= 0 {
		snap = 262144
	}
	w, err := capture.CreateOutput(path, followSymlinks, l.src.LinkType(), snap)
	if err != nil {
		return err
	}
	l.write = w
	return nil
}

// Interface is the captured interface's name.
func (l *Live) Interface() string { return l.src.Interface() }

// LinkType names the interface's link type.
func (l *Live) LinkType() string { return l.s.rep.LinkType }

// Loop reads frames until ctx is done or count frames were read (0: no
// limit). Once ctx is done it goes on reading for the handle's Drain
// time — what the kernel hands over late, a partly filled block or
// NFLOG's batched messages, was captured before the stop — and then
// stops, however busy the link (frame times cannot tell: NFLOG stamps
// some packets when they are read). count stops at exactly count frames,
// as tcpdump's -c does.
func (l *Live) Loop(ctx context.Context, count uint64) error {
	flush := l.flush
	if flush == nil {
		flush = func() {}
	}
	defer flush()
	var f capture.Frame
	var n uint64
	var stop time.Time // when ctx was first seen done
	stopping := func() bool {
		if stop.IsZero() && ctx.Err() != nil {
			stop = time.Now()
		}
		return !stop.IsZero()
	}
	flushed := time.Now()
	for {
		err := l.src.Next(&f)
		if errors.Is(err, capture.ErrTimeout) {
			// Idle: connections past their timeout go now, not with the
			// next packet, and what is held is shown.
			l.s.dec.Idle(time.Now())
			flush()
			flushed = time.Now()
			// Drained once the handle's drain time has passed since the
			// stop: by then the last partly filled block was handed over.
			if stopping() && time.Since(stop) > l.src.Drain() {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
		if l.write != nil {
			if err := l.write.Write(&f); err != nil {
				return err
			}
		}
		l.s.decode(&f)
		if n++; count > 0 && n >= count {
			return nil
		}
		if n%64 == 0 {
			if stopping() && time.Since(stop) > l.src.Drain() {
				return nil
			}
			if time.Since(flushed) >= FlushInterval {
				flush()
				flushed = time.Now()
			}
		}
	}
}

// Finish closes the handle and the -w file, hands over every connection
// still open, and returns the report with libpcap's counters.
func (l *Live) Finish() (*report.Capture, error) {
	st, serr := l.src.Stats()
	l.src.Close()
	l.s.finish()
	if serr == nil {
		l.s.rep.Stats = &report.Stats{Received: st.Received, DroppedByKernel: st.DroppedByKernel, DroppedByIface: st.DroppedByIface}
	}
	if l.write != nil {
		return l.s.rep, l.write.Close()
	}
	return l.s.rep, nil
}
