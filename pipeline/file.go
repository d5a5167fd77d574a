package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"synack/capture"
	"synack/decode"
	"synack/report"
)

// DefaultMaxWarnings bounds the per-frame warnings kept for one capture.
const DefaultMaxWarnings = 100

// progressEvery is how many frames pass between calls of the progress
// callback and checks of the context in the unbatched frame loop.
const progressEvery = 4096

// Options say how one source is read.
type Options struct {
	// Filter is a BPF filter in tcpdump syntax; empty lets every frame in.
	Filter string
	// Decode configures the decoder.
	Decode decode.Config
	// Select, if set, says which connections are reported: the others
	// are counted in the totals and go nowhere.
	Select func(*decode.Conn) bool
	// Sink takes each selected connection as the decoder hands it over.
	// Nil keeps them in the report's Conns, ordered by ID.
	Sink decode.Sink
	// OnOpen, if set, is called with the report once the source is open
	// and before its first frame: its source, format, link type and
	// filter are known then, for a sink that writes as it goes.
	OnOpen func(*report.Capture)
	// Progress, if set, is called now and then while a file is read with
	// the byte offset reached and the frames read so far.
	Progress func(offset int64, frames uint64)
	// MaxWarnings bounds the per-frame warnings kept (0: DefaultMaxWarnings).
	MaxWarnings int
	// Count, if set, stops a file after this many frames (those the
	// filter let through), as tcpdump's -c does.
	Count uint64
	// Flush, if set, is called by a live capture's Loop (in its goroutine)
	// when the capture goes idle, at least every FlushInterval while
	// packets flow, and when Loop returns: output written per packet
	// (from Decode.OnEvent) can then be buffered, one write for many
	// packets, and still be seen promptly.
	Flush func()
}

// InputError is a source that could not be read at all.
type InputError struct {
	Source string
	Err    error
}

func (e *InputError) Error() string { return e.Source + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// StopError says that reading was cancelled before the end of the source.
type StopError struct {
	Frame uint64 // the first frame not read
	Cause error  // context.Cause of the cancelled context
}

func (e *StopError) Error() string {
	return fmt.Sprintf("frame %d: interrupted (%v)", e.Frame, e.Cause)
}
func (e *StopError) Unwrap() error { return e.Cause }

// ReadFile reads the capture file at path ("-" for standard input) to its
// end or until ctx is cancelled. The error is for a file that could not
// be read at all, an *InputError (wrapping a *capture.FilterError for a
// bad filter); damage later in the file, or a cancellation, is the
// report's Err, and the report covers the frames before it. A read that
// waits on a stalled pipe or FIFO ends as soon as ctx is cancelled.
func ReadFile(ctx context.Context, path string, opt Options) (*report.Capture, error) {
	file, err := capture.OpenContext(ctx, path)
	if errors.Is(err, capture.ErrInterrupted) {
		err = fmt.Errorf("interrupted (%v) before the capture's header was read", context.Cause(ctx))
	}
	if err != nil {
		return nil, &InputError{Source: path, Err: err}
	}
	defer file.Close()
	return Read(ctx, file, opt)
}

// Read is ReadFile for a file already open.
//
// The frames of a link type the decoder does not read are skipped, and
// so are those of a link type the filter does not compile for (libpcap
// compiles per link type: Ethernet addresses mean nothing on raw IP), with
// a warning for each, naming the interface of its first frame. The filter
// must compile for the file's link type (the first interface's), or, when
// synack does not read that, for the first link type it does: else the
// filter is an InputError. A file with no interface synack reads is one
// too; a pcap file, of one link type, is refused before it is read.
func Read(ctx context.Context, file *capture.File, opt Options) (*report.Capture, error) {
	lt := decode.LinkType(file.LinkType())
	if !decode.SupportsLinkType(lt) && file.OneLinkType() {
		return nil, unsupported(file, lt)
	}
	if err := file.SetFilter(opt.Filter, reads); err != nil {
		return nil, &InputError{Source: file.Name(), Err: err}
	}
	rep := &report.Capture{Source: file.Name(), Format: file.Format(), LinkType: lt.String(), Filter: opt.Filter}
	if opt.OnOpen != nil {
		opt.OnOpen(rep)
	}
	s := newSession(rep, opt)
	defer s.dec.Wait() // Flush waits, but a read that fails does not flush
	s.readFile(ctx, file)
	if errors.As(rep.Err, new(*capture.FilterError)) {
		return nil, &InputError{Source: file.Name(), Err: rep.Err}
	}
	seen := file.LinkTypes()
	if rep.Err == nil && !decode.SupportsLinkType(lt) && !slices.ContainsFunc(seen, func(l capture.LinkTypeSeen) bool { return l.Read }) {
		return nil, unsupported(file, lt)
	}
	s.warnSkipped(seen)
	s.finish()
	return rep, nil
}

// reads is the link types the decoder reads, for capture.File.SetFilter.
func reads(lt uint32) bool { return decode.SupportsLinkType(decode.LinkType(lt)) }

func unsupported(file *capture.File, lt decode.LinkType) error {
	return &InputError{Source: file.Name(), Err: fmt.Errorf("%w %d (%s): synack reads Ethernet, Linux cooked (SLL, SLL2), BSD loopback, raw IP, PPP, Cisco HDLC and NFLOG",
		decode.ErrUnsupportedLinkType, uint32(lt), lt)}
}

// warnSkipped puts a warning for each link type whose frames were skipped
// before the per-frame warnings, within the bound: they say what the
// whole report leaves out.
func (s *session) warnSkipped(seen []capture.LinkTypeSeen) {
	var skipped []error
	for _, l := range seen {
		if l.Skipped == 0 {
			continue
		}
		frames := fmt.Sprintf("%d frames", l.Skipped)
		if l.Skipped == 1 {
			frames = "1 frame"
		}
		if l.Err != nil {
			skipped = append(skipped, fmt.Errorf("interface %d: %w, for link type %d (%s): %s skipped (first: frame %d)",
				l.Interface, l.Err, l.LinkType, decode.LinkType(l.LinkType), frames, l.Frame))
		} else {
			skipped = append(skipped, fmt.Errorf("interface %d: %w %d: %s skipped (first: frame %d)",
				l.Interface, decode.ErrUnsupportedLinkType, l.LinkType, frames, l.Frame))
		}
	}
	if len(skipped) == 0 {
		return
	}
	all := append(skipped, s.rep.Warnings...)
	if len(all) > s.maxWarnings {
		s.rep.WarningsOmitted += uint64(len(all) - s.maxWarnings)
		all = all[:s.maxWarnings]
	}
	s.rep.Warnings = all
}

// session is one source being decoded into one report.
type session struct {
	rep         *report.Capture
	dec         *decode.Decoder
	progress    func(int64, uint64)
	maxWarnings int
	collect     bool
	count       uint64 // Options.Count
	taken       uint64 // frames decoded
}

func newSession(rep *report.Capture, opt Options) *session {
	s := &session{rep: rep, progress: opt.Progress, maxWarnings: opt.MaxWarnings, count: opt.Count}
	if s.maxWarnings <= 0 {
		s.maxWarnings = DefaultMaxWarnings
	}
	sink := opt.Sink
	if sink == nil {
		s.collect = true
		sink = decode.SinkFunc(func(c *decode.Conn) { rep.Conns = append(rep.Conns, c) })
	}
	if sel := opt.Select; sel != nil {
		all := sink
		sink = decode.SinkFunc(func(c *decode.Conn) {
			if sel(c) {
				all.Conn(c)
			}
		})
	}
	s.dec = decode.New(opt.Decode, sink)
	return s
}

// finish hands over the connections still open and completes the report.
func (s *session) finish() {
	s.dec.Flush()
	if s.collect {
		report.SortByID(s.rep.Conns)
	}
	s.rep.Totals = s.dec.Totals()
}

// warn keeps a per-frame warning, up to the bound.
func (s *session) warn(err error) {
	if err == nil {
		return
	}
	if len(s.rep.Warnings) < s.maxWarnings {
		s.rep.Warnings = append(s.rep.Warnings, err)
	} else {
		s.rep.WarningsOmitted++
	}
}

// decode hands a captured frame to the decoder, after the reader's
// warning about it, if any.
func (s *session) decode(cf *capture.Frame) {
	s.warn(cf.Warning)
	var df decode.Frame
	toDecode(&df, cf)
	s.warn(s.dec.Packet(&df))
}

// toDecode makes df the decoder's view of cf, field by field: a whole
// decode.Frame built and copied is read in wide loads from the narrower
// stores just made, which wait for every store before them to reach the
// cache (in the batch reader, stores into batch items the other core may
// still hold).
func toDecode(df *decode.Frame, cf *capture.Frame) {
	df.Number, df.Time, df.Data = cf.Number, cf.Time, cf.Data
	df.Length, df.LinkType = cf.Length, decode.LinkType(cf.LinkType)
}

// readFile runs the file's frames through the decoder: a regular file on
// two cores (readBatched), a source that may keep a read waiting (a pipe,
// a FIFO, standard input) frame by frame, so that a cancelled wait ends
// reading at once.
func (s *session) readFile(ctx context.Context, file *capture.File) {
	if file.Regular() {
		s.readBatched(ctx, file, s.count)
		return
	}
	var stopped atomic.Bool // checked every frame: cheaper than ctx.Err
	defer context.AfterFunc(ctx, func() { stopped.Store(true) })()
	var cf capture.Frame
	for {
		if s.progress != nil && cf.Number%progressEvery == 0 {
			s.progress(file.Offset(), cf.Number)
		}
		if stopped.Load() {
			s.rep.Err = &StopError{Frame: cf.Number + 1, Cause: context.Cause(ctx)}
			return
		}
		err := file.Next(&cf)
		if err == io.EOF { // the end, not damage: exactly io.EOF
			return
		}
		if errors.Is(err, capture.ErrInterrupted) { // a wait for data ended by ctx
			s.rep.Err = &StopError{Frame: cf.Number + 1, Cause: context.Cause(ctx)}
			return
		}
		if err != nil {
			s.rep.Err = err
			return
		}
		s.decode(&cf)
		if s.taken++; s.taken == s.count {
			return
		}
	}
}
