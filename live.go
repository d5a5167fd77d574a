package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"synack/capture"
	"synack/decode"
	"synack/pipeline"
	"synack/report"
)

type liveFlags struct {
	iface, filter, write string
	user                 string
	report               reportFlags
	count                uint64
	duration             time.Duration
	snaplen, buffer      int // buffer in KiB
	promisc, udp         bool
	followSymlinks       bool
}

func liveFlagSet(f *liveFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("live", pflag.ContinueOnError)
	fs.StringVarP(&f.iface, "interface", "i", "", "interface to capture on (default: the loopback interface)")
	fs.StringVarP(&f.filter, "filter", "f", "", "BPF filter in tcpdump syntax; may also follow the flags")
	fs.Uint64VarP(&f.count, "count", "c", 0, "stop after this many packets")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (e.g. 10s)")
	fs.IntVarP(&f.snaplen, "snaplen", "s", 0, "bytes captured per packet (default 512: every header and the payload preview; 262144 with -w)")
	fs.IntVarP(&f.buffer, "buffer-size", "B", 16384, "kernel capture buffer in KiB (libpcap's default is 2048; bursts of short connections need more)")
	fs.BoolVar(&f.promisc, "promisc", false, "put the interface in promiscuous mode")
	fs.StringVarP(&f.write, "write", "w", "", "also write every captured packet to this pcap file (created as the user -Z names)")
	fs.BoolVar(&f.followSymlinks, "follow-symlinks", false, "let -w write through a symbolic link (refused by default: synack runs privileged)")
	f.report.register(fs)
	fs.BoolVar(&f.udp, "udp", false, "follow UDP flows too")
	fs.StringVarP(&f.user, "relinquish-privileges", "Z", "", "once capturing, become this user (default under sudo: the user who ran sudo; root keeps root)")
	noResolve(fs)
	return fs
}

func liveHelp() string {
	return helpText("usage: synack live [flags] [FILTER]\n\nStops on -c, --duration, or Ctrl-C; packets already captured are always reported.\n",
		liveFlagSet(new(liveFlags)))
}

func parseLiveFlags(args []string) (liveFlags, error) {
	var f liveFlags
	fs := liveFlagSet(&f)
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	if trailing := strings.Join(fs.Args(), " "); trailing != "" {
		if f.filter != "" {
			return f, usagef("give the filter either with -f or after the flags, not both")
		}
		f.filter = trailing
	}
	if f.snaplen <= 0 {
		f.snaplen = liveSnaplen(f.write)
	}
	return f, f.report.check()
}

func runLive(ctx context.Context, f liveFlags, stdout, stderr io.Writer) error {
	r, err := newRenderer(f.report, stdout)
	if err != nil {
		return err
	}
	cfg := decode.Config{UDP: f.udp}
	perPacket := f.report.format == "text" && !f.report.summary
	// Packets are printed as they come, through a buffer the loop flushes
	// when the capture goes idle and at least every 100 ms: one write per
	// line made printing the bottleneck, and the kernel dropped packets.
	lines := bufio.NewWriterSize(stdout, 64<<10)
	if perPacket {
		p := newLivePrinter(lines, r.style)
		cfg.OnEvent = func(c *decode.Conn, e decode.Event) {
			if r.selected(c) {
				p.print(c, &e)
			}
		}
	}
	r.summaryOnly, r.live = perPacket, true
	opt := r.options(cfg, stdout)
	opt.Flush = func() { lines.Flush(); r.flush() }
	lc := capture.LiveConfig{Interface: f.iface, Filter: f.filter, Snaplen: f.snaplen, Promisc: f.promisc, BufferSize: f.buffer * 1024}
	live, err := openLive(lc, output{f.write, f.followSymlinks}, f.user, opt, stderr)
	if err != nil {
		return err
	}
	if r.nd != nil {
		r.nd.Source = live.Interface()
	}
	fmt.Fprintf(stderr, "synack: capturing on %s (%s)", report.Name(live.Interface()), live.LinkType())
	if f.filter != "" {
		fmt.Fprintf(stderr, ", filter %q", f.filter)
	}
	fmt.Fprintf(stderr, "; Ctrl-C stops\n")
	loopCtx := ctx
	if f.duration > 0 {
		var cancel context.CancelFunc
		loopCtx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	loopErr := live.Loop(loopCtx, f.count)
	rep, err := live.Finish()
	err = errors.Join(err, r.write(stdout, rep)) // per packet: the table and totals alone
	if loopErr != nil {
		return errors.Join(&captureError{loopErr}, err)
	}
	if err != nil {
		return &captureError{err}
	}
	return nil
}

// output is where -w copies the captured frames.
type output struct {
	path           string // "": nowhere
	followSymlinks bool
}

// openLive opens the capture, drops privileges as -Z says (capturing
// needs root, nothing after that does), then creates the -w file with
// the rights of the user it is for, as tcpdump does: a user allowed to
// sudo synack gets no file they could not write themselves.
func openLive(lc capture.LiveConfig, out output, user string, opt pipeline.Options, stderr io.Writer) (*pipeline.Live, error) {
	live, err := pipeline.OpenLive(lc, opt)
	if err != nil {
		var bad *capture.FilterError
		if errors.As(err, &bad) {
			return nil, err
		}
		return nil, &captureError{err}
	}
	t, err := dropTarget(user)
	if err == nil && t != nil {
		if err = t.drop(); err == nil {
			fmt.Fprintf(stderr, "synack: capturing as %s (uid %d, gid %d) from here on; -Z root keeps root\n", report.Name(t.name), t.uid, t.gid)
		}
	}
	if err == nil && os.Geteuid() != 0 {
		// Not root (any more): a setcap'd binary still holds CAP_NET_RAW
		// and CAP_NET_ADMIN; the open handle needs neither. Root, under
		// -Z root, keeps root.
		err = capture.DropCapabilities()
	}
	if err == nil && out.path != "" {
		err = live.WriteTo(out.path, out.followSymlinks)
	}
	if err != nil {
		live.Finish()
		return nil, &captureError{err}
	}
	return live, nil
}

// livePrinter prints each packet as it arrives, tagged with its
// connection, and the connection's summary once it has closed. Lines are
// appended into a reused buffer: with fmt and a string per column they
// cost ten times the decoding of the packet (BenchmarkLivePrinter: 2.6–3.1
// µs a packet printed, 0.26 decoded; appended, 0.9 printed).
type livePrinter struct {
	w     io.Writer
	lines *report.Lines
	buf   []byte
}

func newLivePrinter(w io.Writer, st report.Style) *livePrinter {
	return &livePrinter{w: w, lines: report.NewLines(st)}
}

func (p *livePrinter) print(c *decode.Conn, e *decode.Event) {
	b := p.buf[:0]
	if c.Packets[0]+c.Packets[1] == 1 {
		b = report.AppendEndpoints(appendTag(b, c.ID), c)
		b = append(b, '\n')
	}
	var prev *decode.Event // the event before e, if still kept
	if n := len(c.Events); n >= 2 && c.Events[n-1].Frame == e.Frame {
		prev = &c.Events[n-2]
	}
	b = p.lines.AppendEventLine(appendTag(b, c.ID), c, e, prev)
	b = append(b, '\n')
	if e.Note&decode.NoteClosed != 0 || e.Flags&decode.RST != 0 {
		b = report.AppendConnLine(appendTag(b, c.ID), c)
		b = append(b, '\n')
	}
	p.buf = b
	p.w.Write(b)
}

// appendTag appends "#%-4d " of id.
func appendTag(b []byte, id uint64) []byte {
	b = append(b, '#')
	start := len(b)
	b = strconv.AppendUint(b, id, 10)
	for len(b)-start < 4 {
		b = append(b, ' ')
	}
	return append(b, ' ')
}

type interfacesFlags struct{}

func interfacesHelp() string {
	return "usage: synack interfaces\n\nLists the capture interfaces, like tcpdump -D.\n"
}

func parseInterfacesFlags(args []string) (interfacesFlags, error) {
	if len(args) == 1 && (args[0] == "--help" || args[0] == "-h") {
		return interfacesFlags{}, errHelp
	}
	return interfacesFlags{}, noArgs(args)
}

func runInterfaces(_ context.Context, _ interfacesFlags, stdout, _ io.Writer) error {
	devs, err := capture.Devices()
	if err != nil {
		return &captureError{err}
	}
	for i, d := range devs {
		var tags []string
		for _, t := range []struct {
			on   bool
			name string
		}{{d.Up, "Up"}, {d.Running, "Running"}, {d.Loopback, "Loopback"}} {
			if t.on {
				tags = append(tags, t.name)
			}
		}
		line := fmt.Sprintf("%d.%s", i+1, d.Name)
		if d.Description != "" {
			line += " (" + d.Description + ")"
		}
		if len(tags) > 0 {
			line += " [" + strings.Join(tags, ", ") + "]"
		}
		if len(d.Addresses) > 0 {
			line += " " + strings.Join(d.Addresses, " ")
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

// liveSnaplen is the default snapshot length: 512 bytes hold every header
// synack reads and the payload preview, and keep the kernel's ring small
// per packet, so that a burst of connections is not dropped (with 262144,
// libpcap's TPACKET_V3 blocks are so large that 5,000 loopback connections
// lost a third of their packets here; with 512, none). A -w file gets
// whole packets, as tcpdump writes them.
func liveSnaplen(writeTo string) int {
	if writeTo != "" {
		return 262144
	}
	return 512
}
