package main

import (
	"io"
	"runtime"
	"slices"

	"github.com/spf13/pflag"

	"synack/decode"
	"synack/expect"
	"synack/pipeline"
	"synack/report"
)

// reportFlags are the flags that choose how a capture is reported and
// which of its connections are.
type reportFlags struct {
	format     string
	summary    bool
	noTimeline bool
	events     bool
	where      []string
	ids        []uint
	color      string
	maxConns   int
	absolute   bool // -S
	explain    bool // --explain
}

func (o *reportFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "text", "output format: text, json (synack/v1), ndjson (streamed), zeek (a Zeek conn.log), svg, html or mermaid")
	fs.BoolVar(&o.summary, "summary", false, "only the aggregate: verdicts, conn_states, handshake percentiles, anomalies, top ports")
	fs.BoolVar(&o.noTimeline, "no-timeline", false, "leave out the per-packet lines")
	fs.BoolVar(&o.events, "events", false, "ndjson: add one object per packet")
	fs.StringArrayVar(&o.where, "where", nil, "report only the connections where this holds, e.g. 'server.port=443' (repeatable)")
	fs.UintSliceVar(&o.ids, "conn", nil, "report only these connection IDs (repeatable, or comma-separated)")
	fs.StringVar(&o.color, "color", "auto", "colour text output: auto (on a terminal, unless NO_COLOR is set), always or never")
	fs.BoolVar(&o.explain, "explain", false, "text and HTML: explain each kind of segment the first time it appears in a connection (what it is, why, the RFC), and why the connection ended so")
	fs.BoolVarP(&o.absolute, "absolute", "S", false, "show sequence and acknowledgement numbers as on the wire, as tcpdump -S (default: relative to each side's ISN)")
	fs.IntVar(&o.maxConns, "max-conns", decode.DefaultMaxConns, maxConnsUsage)
}

// noResolve accepts tcpdump's -n (and -nn): synack never resolves
// addresses or ports to names, so there is nothing to turn off.
func noResolve(fs *pflag.FlagSet) {
	fs.CountP("no-resolve", "n", "accepted for tcpdump's habit (-n, -nn): synack never resolves addresses or ports to names")
}

// check validates the values the flags were given.
func (o *reportFlags) check() error {
	switch o.format {
	case "text", "json", "ndjson", "zeek", "svg", "html", "mermaid":
	default:
		return usagef("unknown --format %q (want text, json, ndjson, zeek, svg, html or mermaid)", o.format)
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return usagef("unknown --color %q (want auto, always or never)", o.color)
	}
	_, err := parseWhere(o.where)
	return err
}

// renderer reports captures as the flags say: it picks the decoder's
// settings, takes connections as they are handed over, and writes.
type renderer struct {
	flags     reportFlags
	style     report.Style
	selectors []*expect.Expr
	nd        *report.NDJSON
	agg       *report.Aggregator // --summary folds connections as they come
	// ordered writes the other formats connection by connection, in
	// connection order, as the decoder hands them over.
	ordered *report.Ordered
	// collect keeps every connection in the report instead (the demo,
	// whose few connections are written whole, with the programs' lines).
	collect bool
	// summaryOnly writes the text report's table and totals alone (live,
	// whose packets were printed as they came).
	summaryOnly bool
	// live writes a conn.log's rows as connections end, as Zeek does: a
	// live capture cannot wait for a connection that may last for hours.
	live bool
}

// newRenderer prepares reporting to stdout (its colour and width).
func newRenderer(f reportFlags, stdout io.Writer) (*renderer, error) {
	r := &renderer{flags: f}
	var err error
	if r.selectors, err = parseWhere(f.where); err != nil {
		return nil, err
	}
	r.style = styleFor(stdout, f.color)
	r.style.Absolute = f.absolute
	switch {
	case f.format == "ndjson":
		r.nd = report.NewNDJSON(stdout)
	case f.summary:
		r.agg = report.NewAggregator()
	}
	return r, nil
}

// forFile returns a renderer writing to w, with its own streaming writer
// and aggregator, for a file read alongside others; restyle decides
// colour and width for w itself (a document of its own, not a spool
// copied to stdout later).
func (r *renderer) forFile(w io.Writer, restyle bool) *renderer {
	c := *r
	if restyle {
		c.style = styleFor(w, r.flags.color)
		c.style.Absolute = r.flags.absolute
	}
	if r.nd != nil {
		c.nd = report.NewNDJSON(w)
	}
	if r.agg != nil {
		c.agg = report.NewAggregator()
	}
	return &c
}

// selected reports whether --where and --conn let c through.
func (r *renderer) selected(c *decode.Conn) bool {
	if len(r.flags.ids) > 0 && !slices.Contains(r.flags.ids, uint(c.ID)) {
		return false
	}
	return expect.Match(c, r.selectors)
}

// configure sets what the decoder must keep: summaries and conn.logs need
// no events; NDJSON streams them as they come and keeps none.
func (r *renderer) configure(cfg *decode.Config) {
	cfg.MaxConns = r.flags.maxConns
	if r.flags.summary || r.flags.format == "zeek" {
		cfg.DropEvents = true // these outputs show no packets
	}
	cfg.Recycle = r.nd != nil || r.agg != nil // their sinks keep nothing
	if r.nd == nil {
		return
	}
	cfg.DropEvents = true
	if r.flags.events {
		prev := cfg.OnEvent
		cfg.OnEvent = func(c *decode.Conn, e decode.Event) {
			if prev != nil {
				prev(c, e)
			}
			if r.selected(c) {
				r.nd.Event(c, &e)
			}
		}
	}
}

// options are the pipeline options for one capture: which connections
// reach the report, and where they go as they are handed over (NDJSON
// writes each, --summary folds each, the other formats keep them).
func (r *renderer) options(cfg decode.Config, w io.Writer) pipeline.Options {
	r.configure(&cfg)
	opt := pipeline.Options{Decode: cfg, Select: r.selected}
	switch {
	case r.nd != nil && !r.flags.events && !r.live && !r.collect:
		// Rows rendered on goroutines of their own, written as handed
		// over: the rows of --events interleave with the packets, live
		// flushes them when the capture goes idle, and the demo's and
		// serve's and connect's captures (collect) name their source
		// once open.
		r.order(&opt, func(*report.Capture) report.Document { return r.nd.Rows() }, true, true)
		opt.Sink = decode.SinkFunc(func(c *decode.Conn) { r.ordered.Conn(c, true) })
	case r.nd != nil:
		opt.Sink = decode.SinkFunc(r.nd.Conn)
	case r.agg != nil:
		opt.Sink = decode.SinkFunc(r.agg.Add)
	case r.collect:
	default:
		// Rendered at hand-over, so the decoder may reuse the record; a
		// connection not selected keeps its turn in the order.
		opt.Decode.Recycle = true
		opt.Select = nil
		// A file's connections are rendered on goroutines of their own,
		// off the decoder's; live keeps rendering on the decoder's, which
		// it flushes when the capture goes idle.
		doc := func(rep *report.Capture) report.Document { return r.document(w, rep) }
		r.order(&opt, doc, r.live && r.flags.format == "zeek", !r.live)
		opt.Sink = decode.SinkFunc(func(c *decode.Conn) { r.ordered.Conn(c, r.selected(c)) })
	}
	return opt
}

// order makes opt's OnOpen start r.ordered on the capture's document:
// emitting as handed over (asIs) or in connection order, rendering on
// goroutines of its own (parallel, the records going back to the decoder
// through a pool) or on the decoder's.
func (r *renderer) order(opt *pipeline.Options, doc func(*report.Capture) report.Document, asIs, parallel bool) {
	workers := runtime.GOMAXPROCS(0)
	var records *decode.Records
	if parallel {
		records = decode.NewRecords(report.RecordsInFlight(workers))
		opt.Decode.Records = records
	}
	opt.OnOpen = func(rep *report.Capture) {
		r.ordered = report.NewOrdered(doc(rep))
		if asIs {
			r.ordered.AsHandedOver()
		}
		if parallel {
			r.ordered.Parallel(workers, records)
		}
	}
}

// document is the streaming writer of the format.
func (r *renderer) document(w io.Writer, rep *report.Capture) report.Document {
	switch r.flags.format {
	case "json":
		return report.NewJSON(w, rep)
	case "zeek":
		return report.NewZeek(w)
	case "svg":
		return report.NewSVG(w, rep)
	case "html":
		return report.NewHTML(w, rep, r.flags.explain)
	case "mermaid":
		return report.NewMermaid(w)
	}
	return report.NewText(w, rep, report.TextOptions{NoTimeline: r.flags.noTimeline, SummaryOnly: r.summaryOnly, Explain: r.flags.explain, Style: r.style})
}

// write renders one capture as the flags say.
func (r *renderer) write(w io.Writer, rep *report.Capture) error {
	f := r.flags
	switch {
	case r.ordered != nil:
		o := r.ordered
		r.ordered = nil
		return o.Close(rep)
	case r.nd != nil:
		return r.nd.Totals(rep)
	case f.summary && (f.format == "text" || f.format == "json"): // the pictures and conn.log ignore --summary
		if f.format == "json" {
			return report.SummaryJSON(w, rep, r.takeAggregate())
		}
		return report.Summary(w, rep, r.takeAggregate())
	}
	// The connections were collected (the demo's): the same documents.
	return report.Whole(r.document(w, rep), rep)
}

// flush writes what the streaming outputs hold, for a live capture gone
// idle: NDJSON rows and the parts of documents that write as they go.
func (r *renderer) flush() {
	switch {
	case r.nd != nil:
		r.nd.Flush()
	case r.ordered != nil:
		r.ordered.Flush()
	}
}

// takeAggregate hands over the summary folded so far and starts a new one
// for the next capture.
func (r *renderer) takeAggregate() *report.Aggregator {
	a := r.agg
	r.agg = report.NewAggregator()
	return a
}

// extension names a document of the format, for -o DIR.
func (o *reportFlags) extension() string {
	if o.summary && o.format != "json" {
		return "summary.txt"
	}
	if o.summary {
		return "summary.json"
	}
	return map[string]string{"text": "txt", "json": "json", "ndjson": "ndjson", "zeek": "conn.log",
		"svg": "svg", "html": "html", "mermaid": "md"}[o.format]
}

// oneDocument reports whether the format makes a document that cannot
// hold a second capture after the first (a picture).
func (o *reportFlags) oneDocument() bool {
	switch o.format {
	case "svg", "html", "mermaid":
		return true
	}
	return false
}

// parseExprs parses expressions given with flag; capture-level fields
// (connections) are allowed only where allowCapture says.
func parseExprs(flag string, texts []string, allowCapture bool) ([]*expect.Expr, error) {
	var out []*expect.Expr
	for _, t := range texts {
		e, err := expect.Parse(t)
		if err != nil {
			return nil, usagef("%s %q: %v", flag, t, err)
		}
		if e.Capture() && !allowCapture {
			return nil, usagef("%s %q: %s counts connections: use it with --expect, not %s", flag, t, e.Field, flag)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseWhere(texts []string) ([]*expect.Expr, error) { return parseExprs("--where", texts, false) }
