package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"synack/capture"
	"synack/decode"
	"synack/pipeline"
	"synack/report"
)

type readFlags struct {
	files     []string
	filter    string
	report    reportFlags
	maxEvents int // -1: every event
	udp       bool
	jobs      int
	outDir    string // -o: one document per capture in this directory
	count     uint64 // -c: frames per capture, 0 for all
}

// readFlagSet declares read's flags; -r files and -f go to rfiles and
// filter, for parseReadFlags to reconcile with the arguments.
func readFlagSet(f *readFlags, rfiles *[]string, allEvents *bool) *pflag.FlagSet {
	fs := pflag.NewFlagSet("read", pflag.ContinueOnError)
	fs.StringArrayVarP(rfiles, "read", "r", nil, "capture file to read (pcap or pcapng, - for stdin); repeatable")
	fs.StringVarP(&f.filter, "filter", "f", "", "BPF filter in tcpdump syntax, e.g. 'tcp port 80'")
	f.report.register(fs)
	fs.BoolVar(&f.udp, "udp", false, "follow UDP flows too")
	fs.IntVarP(&f.jobs, "jobs", "j", 1, "read this many files at once (reports still in the order given)")
	fs.IntVar(&f.maxEvents, "max-events", decode.DefaultMaxEvents, "packets kept per connection for the timeline")
	fs.BoolVar(allEvents, "all-events", false, "keep every packet of every connection (memory grows with the file)")
	fs.StringVarP(&f.outDir, "output-dir", "o", "", "write each capture's report to its own file in this directory (NAME.txt, .json, .svg…)")
	fs.Uint64VarP(&f.count, "count", "c", 0, "stop after this many frames (after the filter), as tcpdump -c does")
	noResolve(fs)
	return fs
}

func readHelp() string {
	var f readFlags
	var rfiles []string
	var all bool
	return helpText("usage: synack read [flags] FILE... [FILTER]\n\nA trailing FILTER (tcpdump syntax) may follow the files, as with tcpdump.\n",
		readFlagSet(&f, &rfiles, &all))
}

func parseReadFlags(args []string) (readFlags, error) {
	var f readFlags
	var rfiles []string
	var allEvents bool
	fs := readFlagSet(&f, &rfiles, &allEvents)
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	files, filter := splitFilesFilter(rfiles, fs.Args())
	if f.filter != "" && filter != "" {
		return f, usagef("give the filter either with -f or after the files, not both")
	}
	if filter != "" {
		f.filter = filter
	}
	if len(files) == 0 {
		return f, usagef("no capture file given")
	}
	f.files = files
	if allEvents || f.maxEvents < 0 {
		f.maxEvents = -1
	}
	if f.jobs < 1 {
		f.jobs = 1
	}
	if err := f.report.check(); err != nil {
		return f, err
	}
	if len(f.files) > 1 && f.report.oneDocument() && f.outDir == "" {
		return f, usagef("--format %s makes one document per capture: give -o DIR to write %d of them there", f.report.format, len(f.files))
	}
	return f, nil
}

func runRead(ctx context.Context, f readFlags, stdout, stderr io.Writer) error {
	r, err := newRenderer(f.report, stdout)
	if err != nil {
		return err
	}
	outputs, err := outputNames(f)
	if err != nil {
		return err
	}
	// Several JSON documents on stdout make one array, which json.load
	// and jq read; one capture stays one document.
	var list *jsonList
	if f.report.format == "json" && len(f.files) > 1 && outputs == nil {
		list = &jsonList{w: stdout}
		defer list.close()
	}
	if f.jobs > 1 && len(f.files) > 1 {
		return readParallel(ctx, f, r, outputs, list, stdout, stderr)
	}
	var errs []error
	for i, name := range f.files {
		switch {
		case outputs != nil:
			err = readInto(ctx, name, outputs[i], f, r, stderr)
		case list != nil:
			err = readOne(ctx, name, f, r, list.item(), stderr)
		default:
			err = readOne(ctx, name, f, r, stdout, stderr)
		}
		errs = append(errs, err)
		if fatal(err) || ctx.Err() != nil {
			break // a stop request: the report so far is written, the other files are not read
		}
	}
	return errors.Join(errs...)
}

// fatal reports whether an error for one file makes the others not worth
// reading: a bad filter is bad for all of them; an output that cannot be
// written takes no more.
func fatal(err error) bool {
	return errors.As(err, new(*capture.FilterError)) || errors.As(err, new(*writeError))
}

// writeError is a report that could not be written.
type writeError struct{ err error }

func (e *writeError) Error() string { return "write report: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// damaged is a capture read only up to the point its error names.
type damaged struct {
	source string
	err    error
}

func (e *damaged) Error() string {
	return fmt.Sprintf("%s: reading stopped at %v; the report covers the frames before it", e.source, e.err)
}
func (e *damaged) Unwrap() error { return e.err }

// readOne reads one capture and writes its report; per-frame warnings go
// to stderr as they are met.
func readOne(ctx context.Context, name string, f readFlags, r *renderer, stdout, stderr io.Writer) error {
	if r.nd != nil {
		r.nd.Source = name
		if name == "-" {
			r.nd.Source = "stdin" // as capture names it
		}
	}
	opt := r.options(decode.Config{MaxEvents: f.maxEvents, UDP: f.udp}, stdout)
	opt.Filter, opt.Count = f.filter, f.count
	prog := newProgress(stderr, name)
	if prog != nil {
		opt.Progress = prog.update
	}
	rep, err := pipeline.ReadFile(ctx, name, opt)
	if prog != nil {
		prog.done()
	}
	if err != nil {
		if r.ordered != nil {
			r.ordered.Abandon()
		}
		r.ordered = nil // nothing was written: no connection came
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(stderr, "synack: %s: warning: %v\n", report.Name(rep.Source), w)
	}
	if rep.WarningsOmitted > 0 {
		fmt.Fprintf(stderr, "synack: %s: %d more warnings not shown\n", report.Name(rep.Source), rep.WarningsOmitted)
	}
	if err := r.write(stdout, rep); err != nil {
		return &writeError{err}
	}
	if rep.Err != nil {
		return &damaged{rep.Source, rep.Err}
	}
	return nil
}

// outputNames are the -o documents, one per capture: DIR/NAME.EXT, NAME
// the capture's base name without .pcap, .pcapng or .gz, made unique.
// Nil without -o.
func outputNames(f readFlags) ([]string, error) {
	if f.outDir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(f.outDir, 0o755); err != nil {
		return nil, fmt.Errorf("-o: %w", err)
	}
	seen := map[string]int{}
	names := make([]string, len(f.files))
	for i, file := range f.files {
		base := filepath.Base(file)
		if file == "-" {
			base = "stdin"
		}
		for _, ext := range []string{".gz", ".pcapng", ".pcap"} {
			base = strings.TrimSuffix(base, ext)
		}
		if seen[base]++; seen[base] > 1 {
			base = fmt.Sprintf("%s-%d", base, seen[base])
		}
		names[i] = filepath.Join(f.outDir, base+"."+f.report.extension())
	}
	return names, nil
}

// readInto reads one capture and writes its report to the file at path.
func readInto(ctx context.Context, name, path string, f readFlags, r *renderer, stderr io.Writer) error {
	out, err := os.Create(path)
	if err != nil {
		return &writeError{err}
	}
	err = readOne(ctx, name, f, r.forFile(out, true), out, stderr)
	if cerr := out.Close(); cerr != nil && err == nil {
		err = &writeError{cerr}
	}
	return err
}

// readParallel reads up to jobs files at once, each into a spool file
// (or its -o document), and writes the reports (and warnings) in the
// order the files were given.
func readParallel(ctx context.Context, f readFlags, r *renderer, outputs []string, list *jsonList, stdout, stderr io.Writer) error {
	type result struct {
		spool *os.File
		msgs  bytes.Buffer
		err   error
	}
	results := make([]*result, len(f.files))
	done := make([]chan struct{}, len(f.files))
	slots := make(chan struct{}, f.jobs)
	for i, name := range f.files {
		done[i] = make(chan struct{})
		res := &result{}
		results[i] = res
		go func() {
			defer close(done[i])
			slots <- struct{}{}
			defer func() { <-slots }()
			if outputs != nil {
				res.err = readInto(ctx, name, outputs[i], f, r, &res.msgs)
				return
			}
			spool, err := os.CreateTemp("", "synack-*.out")
			if err != nil {
				res.err = fmt.Errorf("%s: spool: %w", name, err)
				return
			}
			os.Remove(spool.Name()) // it lives as long as it is open
			res.spool = spool
			res.err = readOne(ctx, name, f, r.forFile(spool, false), spool, &res.msgs)
		}()
	}
	var errs []error
	for i, res := range results {
		<-done[i]
		stderr.Write(res.msgs.Bytes())
		if res.spool != nil {
			if _, err := res.spool.Seek(0, io.SeekStart); err == nil {
				if list != nil {
					io.Copy(list.item(), res.spool)
				} else {
					io.Copy(stdout, res.spool)
				}
			}
			res.spool.Close()
		}
		errs = append(errs, res.err)
	}
	return errors.Join(errs...)
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

// jsonList writes documents as the elements of one JSON array: "[" before
// the first, "," between, "]" after the last ("[]" when there is none).
type jsonList struct {
	w io.Writer
	n int
}

// item is the writer for the next document: the separator goes out with
// its first byte, so that a capture that writes nothing adds nothing.
func (l *jsonList) item() io.Writer { return &listItem{l: l} }

func (l *jsonList) close() {
	if l.n == 0 {
		io.WriteString(l.w, "[")
	}
	io.WriteString(l.w, "]\n")
}

type listItem struct {
	l       *jsonList
	started bool
}

func (i *listItem) Write(p []byte) (int, error) {
	if !i.started && len(p) > 0 {
		i.started = true
		sep := ",\n"
		if i.l.n == 0 {
			sep = "[\n"
		}
		i.l.n++
		if _, err := io.WriteString(i.l.w, sep); err != nil {
			return 0, err
		}
	}
	return i.l.w.Write(p)
}
