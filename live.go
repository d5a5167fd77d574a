package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"synack/capture"
	"synack/decode"
	"synack/report"
)

// liveCapture is a running live capture: its handle, the decoder its
// frames go to, the -w file, and the report being built.
type liveCapture struct {
	live *capture.Live
	dec  *decode.Decoder
	out  *capture.Writer
	rep  *report.Capture
}

// openLiveCapture opens the handle (and the -w file) and prepares the
// report. cfg.OnEvent is called from the goroutine that runs loop.
func openLiveCapture(lc capture.LiveConfig, cfg decode.Config, writeTo string, out *output) (*liveCapture, error) {
	live, err := capture.OpenLive(lc)
	if err != nil {
		return nil, err
	}
	c := &liveCapture{live: live}
	lt := decode.LinkType(live.LinkType())
	c.rep = &report.Capture{Source: live.Interface(), Format: "live", LinkType: lt.String(), Filter: lc.Filter}
	c.dec = decode.New(cfg, decode.SinkFunc(out.keep(c.rep)))
	if writeTo != "" {
		snap := lc.Snaplen
		if snap <= 0 {
			snap = 262144
		}
		if c.out, err = capture.Create(writeTo, live.LinkType(), snap); err != nil {
			live.Close()
			return nil, err
		}
	}
	return c, nil
}

// dropPrivileges becomes the -Z user once the handle (and the -w file) are
// open: capturing needs root, nothing after that does. On failure it
// closes the capture and says why.
func (c *liveCapture) dropPrivileges(flag string, stderr io.Writer) error {
	err := c.becomeUser(flag, stderr)
	if err != nil {
		c.finish()
		fmt.Fprintf(stderr, "synack: %v\n", err)
	}
	return err
}

func (c *liveCapture) becomeUser(flag string, stderr io.Writer) error {
	t, err := dropTarget(flag)
	if err != nil || t == nil {
		return err
	}
	var w *os.File
	if c.out != nil {
		w = c.out.File()
	}
	if err := t.drop(w); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "synack: capturing as %s (uid %d, gid %d) from here on; -Z root keeps root\n", t.name, t.uid, t.gid)
	return nil
}

// loop reads frames until stop is closed, count frames were read (0: no
// limit) or until has passed (zero: no limit). After a stop by signal or
// time it drains what the kernel already holds, so that nothing captured
// is lost; -c stops at exactly count frames, like tcpdump.
func (c *liveCapture) loop(stop <-chan struct{}, count uint64, until time.Time) error {
	var f capture.Frame
	var n uint64
	stopping := false
	for {
		if !stopping {
			select {
			case <-stop:
				stopping = true
			default:
				stopping = !until.IsZero() && time.Now().After(until)
			}
		}
		err := c.live.Next(&f)
		if errors.Is(err, capture.ErrTimeout) {
			if stopping {
				return nil // drained: nothing more was pending
			}
			continue
		}
		if err != nil {
			return err
		}
		if c.out != nil {
			if err := c.out.Write(&f); err != nil {
				return err
			}
		}
		decodeFrame(c.dec, &f, c.rep)
		if n++; count > 0 && n >= count {
			return nil
		}
	}
}

// finish closes the handle and the -w file, flushes the decoder, and
// completes the report with libpcap's counters.
func (c *liveCapture) finish() error {
	st, serr := c.live.Stats()
	c.live.Close()
	c.dec.Flush()
	sortByID(c.rep.Conns)
	c.rep.Totals = c.dec.Totals()
	if serr == nil {
		c.rep.Stats = &report.Stats{Received: st.Received, DroppedByKernel: st.DroppedByKernel, DroppedByIface: st.DroppedByIface}
	}
	if c.out != nil {
		return c.out.Close()
	}
	return nil
}

// captureExit maps a live-capture error to its message and exit code.
func captureExit(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "synack: %v\n", err)
	if errors.Is(err, capture.ErrPermission) {
		self, _ := os.Executable()
		if self == "" {
			self = "./synack"
		}
		fmt.Fprintf(stderr, "Live capture needs root or CAP_NET_RAW. Either run it with sudo (sudo %s %s),\n"+
			"or grant the capability once: sudo setcap cap_net_raw,cap_net_admin=eip %s (make setcap does it)\n",
			self, strings.Join(os.Args[1:], " "), self)
	}
	if strings.HasPrefix(err.Error(), "bad filter") {
		return exitUsage
	}
	return exitCapture
}

// stopper turns the first SIGINT or SIGTERM into a request to stop (the
// work in hand finishes, the report is written) and a second one into an
// immediate exit.
type stopper struct {
	C    <-chan struct{} // closed at the first signal
	code atomic.Int32    // 130 for SIGINT, 143 for SIGTERM, once stopped
	sig  chan os.Signal
	done chan struct{}
}

// exitCodeFor is the shell's code for death by signal s: 128 + its number.
func exitCodeFor(s os.Signal) int32 {
	if s == syscall.SIGTERM {
		return 143
	}
	return 130
}

func stopOnSignal() *stopper {
	stop := make(chan struct{})
	st := &stopper{C: stop, sig: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(st.sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-st.sig:
			st.code.Store(exitCodeFor(s))
			close(stop)
		case <-st.done:
			return
		}
		select {
		case s := <-st.sig:
			os.Exit(int(exitCodeFor(s)))
		case <-st.done:
		}
	}()
	return st
}

// stopped is the exit code for the signal that stopped the work, or 0.
func (st *stopper) stopped() int { return int(st.code.Load()) }

// release stops listening for signals.
func (st *stopper) release() { signal.Stop(st.sig); close(st.done) }

type liveFlags struct {
	iface, filter, write string
	user                 string
	out                  output
	count                uint64
	duration             time.Duration
	snaplen, buffer      int
	promisc, udp         bool
}

func cmdLive(args []string, stdout, stderr io.Writer) int {
	var f liveFlags
	fs := pflag.NewFlagSet("live", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVarP(&f.iface, "interface", "i", "", "interface to capture on (default: the loopback interface)")
	fs.StringVarP(&f.filter, "filter", "f", "", "BPF filter in tcpdump syntax; may also follow the flags")
	fs.Uint64VarP(&f.count, "count", "c", 0, "stop after this many packets")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (e.g. 10s)")
	fs.IntVarP(&f.snaplen, "snaplen", "s", 0, "bytes captured per packet (default 512: every header and the payload preview; 262144 with -w)")
	fs.IntVarP(&f.buffer, "buffer-size", "B", 16384, "kernel capture buffer in KiB (libpcap's default is 2048; bursts of short connections need more)")
	fs.BoolVar(&f.promisc, "promisc", false, "put the interface in promiscuous mode")
	fs.StringVarP(&f.write, "write", "w", "", "also write every captured packet to this pcap file")
	f.out.flags(fs)
	fs.BoolVar(&f.udp, "udp", false, "follow UDP flows too")
	fs.StringVarP(&f.user, "relinquish-privileges", "Z", "", "once capturing, become this user (default under sudo: the user who ran sudo; root keeps root)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: synack live [flags] [FILTER]\n\nStops on -c, --duration, or Ctrl-C; packets already captured are always reported.\n\nflags:\n%s", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if trailing := strings.Join(fs.Args(), " "); trailing != "" {
		if f.filter != "" {
			fmt.Fprintf(stderr, "synack: give the filter either with -f or after the flags, not both\n")
			return exitUsage
		}
		f.filter = trailing
	}
	if !f.out.prepare("live", stdout, stderr) {
		return exitUsage
	}
	cfg := decode.Config{UDP: f.udp}
	f.out.configure(&cfg)
	if f.out.format == "text" && !f.out.summary {
		cfg.OnEvent = func(c *decode.Conn, e decode.Event) {
			if f.out.selected(c) {
				printLive(stdout, c, &e, f.out.style)
			}
		}
	}
	if f.snaplen <= 0 {
		f.snaplen = liveSnaplen(f.write)
	}
	lc, err := openLiveCapture(capture.LiveConfig{Interface: f.iface, Filter: f.filter, Snaplen: f.snaplen, Promisc: f.promisc, BufferSize: f.buffer * 1024}, cfg, f.write, &f.out)
	if err != nil {
		return captureExit(stderr, err)
	}
	if err := lc.dropPrivileges(f.user, stderr); err != nil {
		return exitCapture
	}
	fmt.Fprintf(stderr, "synack: capturing on %s (%s)", lc.live.Interface(), lc.rep.LinkType)
	if f.filter != "" {
		fmt.Fprintf(stderr, ", filter %q", f.filter)
	}
	fmt.Fprintf(stderr, "; Ctrl-C stops\n")
	st := stopOnSignal()
	defer st.release()
	var until time.Time
	if f.duration > 0 {
		until = time.Now().Add(f.duration)
	}
	loopErr := lc.loop(st.C, f.count, until)
	if err := lc.finish(); err != nil && loopErr == nil {
		loopErr = err
	}
	if cfg.OnEvent != nil {
		// The packets were printed as they came: the table and totals.
		report.Text(stdout, lc.rep, report.TextOptions{SummaryOnly: true, Style: f.out.style})
	} else {
		f.out.write(stdout, lc.rep)
	}
	if loopErr != nil {
		fmt.Fprintf(stderr, "synack: %v\n", loopErr)
		return exitCapture
	}
	if code := st.stopped(); code != 0 {
		return code
	}
	return exitOK
}

// printLive prints one packet as it arrives, tagged with its connection,
// and the connection's summary once it has closed.
func printLive(w io.Writer, c *decode.Conn, e *decode.Event, st report.Style) {
	if c.Packets[0]+c.Packets[1] == 1 {
		fmt.Fprintf(w, "#%-4d %s %s → %s\n", c.ID, c.Proto, c.Client, c.Server)
	}
	var prev *decode.Event // the event before e, if still kept
	if n := len(c.Events); n >= 2 && c.Events[n-1].Frame == e.Frame {
		prev = &c.Events[n-2]
	}
	fmt.Fprintf(w, "#%-4d %s\n", c.ID, report.EventLine(c, e, prev, st))
	if e.Note&decode.NoteClosed != 0 || e.Flags&decode.RST != 0 {
		fmt.Fprintf(w, "#%-4d %s\n", c.ID, report.ConnLine(c))
	}
}

func cmdInterfaces(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "usage: synack interfaces\n")
		return exitUsage
	}
	devs, err := capture.Devices()
	if err != nil {
		fmt.Fprintf(stderr, "synack: %v\n", err)
		return exitCapture
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
	return exitOK
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
