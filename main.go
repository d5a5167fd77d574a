// Command synack captures packets and rebuilds each TCP connection into a
// timeline a person can read and a record a machine can check.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/pflag"

	"synack/decode"
	"synack/expect"
	"synack/report"
)

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitCheck   = 1 // reserved: an expectation failed
	exitUsage   = 2
	exitInput   = 3 // a capture file could not be read (the report may be partial)
	exitCapture = 4 // live capture impossible: no permission, no such interface
	exitBind    = 5 // the server could not bind/listen (address in use, permission)
	exitRefused = 6 // connect refused: nothing listening
	exitTimeout = 7 // connect timed out
	exitIO      = 8 // read or write on the connection failed (including reset)
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `synack: see TCP handshakes, data and teardowns, packet by packet

usage:
  synack demo [--scenario NAME]          watch the built-in server and client talk over loopback (root or CAP_NET_RAW)
  synack read [flags] FILE... [FILTER]   rebuild the TCP connections of pcap/pcapng files
  synack -r FILE [flags] [FILTER]        the same, tcpdump style
  synack check FILE... --expect EXPR     check expectations over the connections of captures (CI)
  synack live [-i IFACE] [FILTER]        capture live and print each packet as it arrives (root or CAP_NET_RAW)
  synack interfaces                      list capture interfaces, like tcpdump -D
  synack serve [--addr A] [--once]       the built-in greeting server
  synack connect [--addr A]              the built-in greeting client
  synack help                            this text

Run "synack COMMAND --help" for a command's flags.
Exit codes: 0 ok, 1 failed check, 2 usage error, 3 input error (report may be partial),
4 capture not possible, 5 bind failed, 6 connection refused, 7 connect timed out, 8 read/write failed.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "read":
		return cmdRead(args[1:], stdout, stderr)
	case "-r", "--read":
		return cmdRead(args, stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "live":
		return cmdLive(args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(args[1:], stdout, stderr)
	case "interfaces":
		return cmdInterfaces(args[1:], stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "connect":
		return cmdConnect(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "synack: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// parseFlags parses a command's flags. When it returns false the command
// ends with the returned code: 0 after --help, 2 after a usage error
// (pflag has printed it).
func parseFlags(fs *pflag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return exitOK, true
}

// output holds the flags that choose how a capture is reported and which
// connections are.
type output struct {
	format     string
	summary    bool
	noTimeline bool
	events     bool
	where      []string
	ids        []uint
	color      string
	maxConns   int
	style      report.Style
	selectors  []*expect.Expr
	nd         *report.NDJSON
	agg        *report.Aggregator // --summary folds connections as they come
	stderr     io.Writer          // for the progress line
	stop       <-chan struct{}    // closed when a signal asks reading to stop
}

func (o *output) flags(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "text", "output format: text, json (synack/v1), ndjson (streamed), zeek (a Zeek conn.log), svg, html or mermaid")
	fs.BoolVar(&o.summary, "summary", false, "only the aggregate: verdicts, conn_states, handshake percentiles, anomalies, top ports")
	fs.BoolVar(&o.noTimeline, "no-timeline", false, "leave out the per-packet lines")
	fs.BoolVar(&o.events, "events", false, "ndjson: add one object per packet")
	fs.StringArrayVar(&o.where, "where", nil, "report only the connections where this holds, e.g. 'server.port=443' (repeatable)")
	fs.UintSliceVar(&o.ids, "conn", nil, "report only these connection IDs (repeatable, or comma-separated)")
	fs.StringVar(&o.color, "color", "auto", "colour text output: auto (on a terminal, unless NO_COLOR is set), always or never")
	fs.IntVar(&o.maxConns, "max-conns", decode.DefaultMaxConns, "connections held at once; past it the least recently active are handed over early (-1: no cap)")
}

// prepare checks the flags; cmd names the command in messages.
func (o *output) prepare(cmd string, stdout, stderr io.Writer) bool {
	switch o.format {
	case "text", "json", "ndjson", "zeek", "svg", "html", "mermaid":
	default:
		fmt.Fprintf(stderr, "synack %s: unknown --format %q (want text, json, ndjson, zeek, svg, html or mermaid)\n", cmd, o.format)
		return false
	}
	var err error
	if o.selectors, err = parseWhere(o.where); err == nil {
		o.style, err = styleFor(stdout, o.color)
	}
	if err != nil {
		fmt.Fprintf(stderr, "synack %s: %v\n", cmd, err)
		return false
	}
	o.stderr = stderr
	switch {
	case o.format == "ndjson":
		o.nd = report.NewNDJSON(stdout)
	case o.summary:
		o.agg = report.NewAggregator()
	}
	return true
}

// selected reports whether --where and --conn let c through.
func (o *output) selected(c *decode.Conn) bool {
	if len(o.ids) > 0 && !slices.Contains(o.ids, uint(c.ID)) {
		return false
	}
	return expect.Match(c, o.selectors)
}

// configure sets what the decoder must keep: summaries and conn.logs need
// no events; NDJSON streams them as they come and keeps none.
func (o *output) configure(cfg *decode.Config) {
	cfg.MaxConns = o.maxConns
	if o.summary || o.format == "zeek" {
		cfg.DropEvents = true // these outputs show no packets
	}
	cfg.Recycle = o.nd != nil || o.agg != nil // their sinks keep nothing
	if o.nd == nil {
		return
	}
	cfg.DropEvents = true
	if o.events {
		prev := cfg.OnEvent
		cfg.OnEvent = func(c *decode.Conn, e decode.Event) {
			if prev != nil {
				prev(c, e)
			}
			if o.selected(c) {
				o.nd.Event(c, &e)
			}
		}
	}
}

// keep is the decoder's sink: NDJSON writes each selected connection as it
// is handed over; the other formats collect them for the end.
func (o *output) keep(rep *report.Capture) func(*decode.Conn) {
	return func(c *decode.Conn) {
		switch {
		case !o.selected(c):
		case o.nd != nil:
			o.nd.Conn(c)
		case o.agg != nil:
			o.agg.Add(c)
		default:
			rep.Conns = append(rep.Conns, c)
		}
	}
}

// write renders one capture as the flags say.
func (o *output) write(w io.Writer, rep *report.Capture) error {
	switch {
	case o.nd != nil:
		return o.nd.Totals(rep)
	case o.format == "zeek":
		return report.Zeek(w, rep)
	case o.format == "svg":
		return report.SVG(w, rep)
	case o.format == "html":
		return report.HTML(w, rep)
	case o.format == "mermaid":
		return report.Mermaid(w, rep)
	case o.summary && o.format == "json":
		return report.SummaryJSON(w, rep, o.takeAggregate())
	case o.summary:
		return report.Summary(w, rep, o.takeAggregate())
	case o.format == "json":
		return report.JSON(w, rep)
	}
	return report.Text(w, rep, report.TextOptions{NoTimeline: o.noTimeline, Style: o.style})
}

// takeAggregate hands over the summary folded so far and starts a new one
// for the next capture.
func (o *output) takeAggregate() *report.Aggregator {
	a := o.agg
	o.agg = report.NewAggregator()
	return a
}

// forFile returns a copy of the output settings writing to w, with its own
// streaming writer and aggregator, for a file read alongside others.
func (o *output) forFile(w io.Writer) *output {
	c := *o
	if o.nd != nil {
		c.nd = report.NewNDJSON(w)
	}
	if o.agg != nil {
		c.agg = report.NewAggregator()
	}
	return &c
}
