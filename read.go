package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"synack/capture"
	"synack/decode"
	"synack/report"
)

// maxWarnings bounds the per-frame warnings kept for one capture.
const maxWarnings = 100

type readFlags struct {
	files     []string
	filter    string
	out       output
	maxEvents int
	allEvents bool
	udp       bool
	jobs      int
}

func cmdRead(args []string, stdout, stderr io.Writer) int {
	var f readFlags
	fs := pflag.NewFlagSet("read", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringArrayVarP(&f.files, "read", "r", nil, "capture file to read (pcap or pcapng, - for stdin); repeatable")
	fs.StringVarP(&f.filter, "filter", "f", "", "BPF filter in tcpdump syntax, e.g. 'tcp port 80'")
	f.out.flags(fs)
	fs.BoolVar(&f.udp, "udp", false, "follow UDP flows too")
	fs.IntVarP(&f.jobs, "jobs", "j", 1, "read this many files at once (reports still in the order given)")
	fs.IntVar(&f.maxEvents, "max-events", decode.DefaultMaxEvents, "packets kept per connection for the timeline")
	fs.BoolVar(&f.allEvents, "all-events", false, "keep every packet of every connection (memory grows with the file)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: synack read [flags] FILE... [FILTER]\n\nA trailing FILTER (tcpdump syntax) may follow the files, as with tcpdump.\n\nflags:\n%s", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	files, filter := splitFilesFilter(f.files, fs.Args())
	if f.filter != "" && filter != "" {
		fmt.Fprintf(stderr, "synack: give the filter either with -f or after the files, not both\n")
		return exitUsage
	}
	if filter == "" {
		filter = f.filter
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "synack read: no capture file given\n")
		fs.Usage()
		return exitUsage
	}
	if !f.out.prepare("read", stdout, stderr) {
		return exitUsage
	}
	cfg := decode.Config{MaxEvents: f.maxEvents, UDP: f.udp}
	if f.allEvents || f.maxEvents < 0 {
		cfg.MaxEvents = -1
	}
	st := stopOnSignal()
	defer st.release()
	f.out.stop = st.C
	if f.jobs > 1 && len(files) > 1 {
		code := readParallel(files, filter, cfg, &f.out, f.jobs, stdout, stderr)
		return max(code, st.stopped())
	}
	code := exitOK
	for _, name := range files {
		c, fatal := readOne(name, filter, cfg, &f.out, stdout, stderr)
		code = max(code, c)
		if s := st.stopped(); s != 0 {
			return s // the report so far is written; the other files are not read
		}
		if fatal {
			return c
		}
	}
	return code
}

// readOne reads one capture and writes its report; fatal means the other
// files are not worth reading (a bad filter).
func readOne(name, filter string, cfg decode.Config, out *output, stdout, stderr io.Writer) (code int, fatal bool) {
	out.configure(&cfg)
	rep, err := readCaptureTo(name, filter, cfg, out)
	if err != nil {
		fmt.Fprintf(stderr, "synack: %s: %v\n", name, err)
		var bad *badFilterError
		if errors.As(err, &bad) {
			return exitUsage, true
		}
		return exitInput, false
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(stderr, "synack: %s: warning: %s\n", rep.Source, w)
	}
	if rep.WarningsOmitted > 0 {
		fmt.Fprintf(stderr, "synack: %s: %d more warnings not shown\n", rep.Source, rep.WarningsOmitted)
	}
	if rep.Error != "" {
		fmt.Fprintf(stderr, "synack: %s: reading stopped at %s; the report covers the frames before it\n", rep.Source, rep.Error)
		code = exitInput
	}
	if err := out.write(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "synack: write report: %v\n", err)
		return exitInput, true
	}
	return code, false
}

// readParallel reads up to jobs files at once, each into a spool file,
// and writes the reports (and messages) in the order the files were given.
func readParallel(files []string, filter string, cfg decode.Config, out *output, jobs int, stdout, stderr io.Writer) int {
	type result struct {
		spool *os.File
		msgs  bytes.Buffer
		code  int
		fatal bool
	}
	results := make([]*result, len(files))
	done := make([]chan struct{}, len(files))
	slots := make(chan struct{}, jobs)
	for i, name := range files {
		done[i] = make(chan struct{})
		r := &result{}
		results[i] = r
		go func() {
			defer close(done[i])
			slots <- struct{}{}
			defer func() { <-slots }()
			spool, err := os.CreateTemp("", "synack-*.out")
			if err != nil {
				fmt.Fprintf(&r.msgs, "synack: %s: spool: %v\n", name, err)
				r.code, r.fatal = exitInput, true
				return
			}
			os.Remove(spool.Name()) // it lives as long as it is open
			r.spool = spool
			r.code, r.fatal = readOne(name, filter, cfg, out.forFile(spool), spool, &r.msgs)
		}()
	}
	code := exitOK
	for i, r := range results {
		<-done[i]
		stderr.Write(r.msgs.Bytes())
		if r.spool != nil {
			if _, err := r.spool.Seek(0, io.SeekStart); err == nil {
				io.Copy(stdout, r.spool)
			}
			r.spool.Close()
		}
		code = max(code, r.code)
	}
	return code
}

// splitFilesFilter separates capture files from a trailing tcpdump-style
// filter. With -r, every argument is filter. Without it, the first argument
// is a file and so is each following one that exists or looks like a path;
// the rest is the filter.
func splitFilesFilter(rflags, args []string) (files []string, filter string) {
	if len(rflags) > 0 {
		return rflags, strings.Join(args, " ")
	}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if i == 0 || a == "-" || strings.ContainsAny(a, "/.") && !strings.ContainsAny(a, " ") {
			files = append(files, a)
			continue
		}
		if _, err := os.Stat(a); err == nil {
			files = append(files, a)
			continue
		}
		break
	}
	return files, strings.Join(args[i:], " ")
}

type badFilterError struct{ err error }

func (e *badFilterError) Error() string { return e.err.Error() }
func (e *badFilterError) Unwrap() error { return e.err }

// readCapture runs one capture file through the decoder and returns its
// report with every connection. The error is for a file that could not be
// opened at all; damage later in the file is in the report's Error.
func readCapture(name, filter string, cfg decode.Config) (*report.Capture, error) {
	return readCaptureTo(name, filter, cfg, nil)
}

// readCaptureTo is readCapture reporting through out: its sink takes each
// finished connection (streaming or selecting), and a large file read on
// a terminal gets a progress line. out nil collects every connection.
func readCaptureTo(name, filter string, cfg decode.Config, out *output) (*report.Capture, error) {
	file, err := capture.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	lt := decode.LinkType(file.LinkType())
	if !decode.SupportsLinkType(lt) {
		return nil, fmt.Errorf("unsupported link type %d (%s): synack reads Ethernet, Linux cooked (SLL, SLL2), BSD loopback and raw IP", uint32(lt), lt)
	}
	rep := &report.Capture{Source: file.Name(), Format: file.Format(), LinkType: lt.String(), Filter: filter}
	if filter != "" {
		flt, err := capture.CompileFilter(filter, uint32(lt))
		if err != nil {
			return nil, &badFilterError{err}
		}
		file.SetFilter(flt)
	}
	sink := func(c *decode.Conn) { rep.Conns = append(rep.Conns, c) }
	var prog *progress
	if out != nil {
		sink = out.keep(rep)
		prog = newProgress(out.stderr, file.Name(), file.Size())
	}
	d := decode.New(cfg, decode.SinkFunc(sink))
	readFrames(file, d, rep, prog, out)
	if prog != nil {
		prog.done()
	}
	d.Flush()
	sortByID(rep.Conns)
	rep.Totals = d.Totals()
	return rep, nil
}

// readFrames runs the file's frames through the decoder. A mapped file
// that shrinks under us makes reading fault: that is reported as damage,
// not a crash, and the report of what was read stands.
func readFrames(file *capture.File, d *decode.Decoder, rep *report.Capture, prog *progress, out *output) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if !capture.MapFault(r) {
				panic(r)
			}
			rep.Error = fmt.Sprintf("byte %d: the file shrank while it was read (%v)", file.Offset(), r)
		}
	}()
	if file.Mapped() {
		readPipelined(file, d, rep, prog, out)
		return
	}
	var cf capture.Frame
	for {
		if cf.Number%4096 == 0 {
			if prog != nil {
				prog.update(file.Offset(), cf.Number)
			}
			if out.interrupted() {
				rep.Error = fmt.Sprintf("frame %d: interrupted by a signal", cf.Number+1)
				return
			}
		}
		err := file.Next(&cf)
		if err == io.EOF {
			return
		}
		if err != nil {
			rep.Error = err.Error()
			return
		}
		decodeFrame(d, &cf, rep)
	}
}

// decodeFrame hands a captured frame to the decoder and keeps the warning
// it may give.
func decodeFrame(d *decode.Decoder, cf *capture.Frame, rep *report.Capture) {
	df := toDecode(cf)
	warn(rep, d.Packet(&df))
}

func toDecode(cf *capture.Frame) decode.Frame {
	return decode.Frame{Number: cf.Number, Time: cf.Time, Data: cf.Data, Length: cf.Length, LinkType: decode.LinkType(cf.LinkType)}
}

// warn keeps a per-frame warning, up to maxWarnings.
func warn(rep *report.Capture, err error) {
	if err == nil {
		return
	}
	if len(rep.Warnings) < maxWarnings {
		rep.Warnings = append(rep.Warnings, err.Error())
	} else {
		rep.WarningsOmitted++
	}
}

// batchSize is how many frames the reading goroutine parses before handing
// them over, and batches how many batches are in flight.
const (
	batchSize = 512
	batches   = 4
)

type batch struct {
	items  [batchSize]decode.Parsed
	n      int
	offset int64 // file offset after the batch, for the progress line
	frames uint64
	err    error // what ended reading (io.EOF at the end), in the last batch
}

// readPipelined reads a mapped file on two cores: a goroutine reads and
// parses frames (their bytes stay valid in the mapping) while this one
// runs them through the connection table in order. Batches go round
// between the two, so nothing is allocated per frame.
func readPipelined(file *capture.File, d *decode.Decoder, rep *report.Capture, prog *progress, out *output) {
	free, full := make(chan *batch, batches), make(chan *batch, batches)
	for range batches {
		free <- new(batch)
	}
	go func() {
		defer close(full)
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		p := decode.NewParser()
		var cf capture.Frame
		b := <-free
		defer func() { // a fault in the mapping ends the file here too
			if r := recover(); r != nil {
				if !capture.MapFault(r) {
					panic(r)
				}
				b.err = fmt.Errorf("byte %d: the file shrank while it was read (%v)", file.Offset(), r)
				full <- b
			}
		}()
		for {
			if err := file.Next(&cf); err != nil {
				b.err = err
				full <- b
				return
			}
			df := toDecode(&cf)
			p.Parse(&df, &b.items[b.n])
			if b.n++; b.n == batchSize {
				b.offset, b.frames = file.Offset(), cf.Number
				full <- b
				b = <-free
				b.n, b.err = 0, nil
				if out.interrupted() {
					b.err = fmt.Errorf("frame %d: interrupted by a signal", cf.Number+1)
					full <- b
					return
				}
			}
		}
	}()
	for b := range full {
		for i := range b.n {
			warn(rep, d.Apply(&b.items[i]))
		}
		if prog != nil && b.err == nil {
			prog.update(b.offset, b.frames)
		}
		if b.err != nil && b.err != io.EOF {
			rep.Error = b.err.Error()
		}
		free <- b
	}
}

// sortByID orders connections as they began.
func sortByID(conns []*decode.Conn) {
	slices.SortFunc(conns, func(a, b *decode.Conn) int { return cmp.Compare(a.ID, b.ID) })
}

// interrupted reports whether a signal has asked reading to stop.
func (o *output) interrupted() bool {
	if o == nil || o.stop == nil {
		return false
	}
	select {
	case <-o.stop:
		return true
	default:
		return false
	}
}
