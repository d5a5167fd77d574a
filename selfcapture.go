package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"synack/capture"
	"synack/decode"
	"synack/greet"
	"synack/pipeline"
	"synack/report"
)

// selfCaptureFlags are serve's and connect's -w and what goes with it:
// the capture of the program's own sockets, and the report shown after.
type selfCaptureFlags struct {
	write, iface, user string
	followSymlinks     bool
	report             reportFlags
}

// selfCaptureFlagSet declares them; when says when the report is shown.
func selfCaptureFlagSet(f *selfCaptureFlags, when string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("capture", pflag.ContinueOnError)
	fs.StringVarP(&f.write, "write", "w", "", "capture this program's packets to this pcap file (created as the user -Z names) and show its connections "+when+", with its socket calls beside the segments (root or CAP_NET_RAW)")
	fs.BoolVar(&f.followSymlinks, "follow-symlinks", false, "let -w write through a symbolic link (refused by default: synack runs privileged)")
	fs.StringVarP(&f.iface, "interface", "i", "", "with -w: the interface to capture on (default: loopback for a loopback --addr, otherwise any)")
	fs.StringVarP(&f.user, "relinquish-privileges", "Z", "", "with -w: once capturing, become this user (default under sudo: the user who ran sudo; root keeps root)")
	f.report.register(fs)
	fs.Lookup("explain").DefValue = "true" // explained, as the demo is
	f.report.explain = true
	return fs
}

// check refuses the report's flags without -w (there is no report), and
// checks their values with it.
func (f *selfCaptureFlags) check(fs *pflag.FlagSet) error {
	if f.write != "" {
		return f.report.check()
	}
	var stray string
	selfCaptureFlagSet(new(selfCaptureFlags), "").VisitAll(func(fl *pflag.Flag) {
		if stray == "" && fs.Changed(fl.Name) {
			stray = fl.Name
		}
	})
	if stray != "" {
		return usagef("--%s goes with -w FILE: it is about the capture of this program's packets, which -w turns on", stray)
	}
	return nil
}

// selfCapture captures the packets of serve's or connect's own sockets
// (-w), keeps their socket calls, and at the end shows both together, as
// the demo does.
type selfCapture struct {
	text     bool
	r        *renderer
	live     *pipeline.Live
	stopLoop context.CancelFunc
	loopDone chan error
	// programs is where the program's own lines go: stdout beside a text
	// report, stderr beside a document (JSON, SVG…) that stdout holds.
	programs io.Writer
	lines    []string
	calls    []report.Call

	mu      sync.Mutex
	ended   map[uint16]bool // by client port: connections over
	changed chan struct{}   // closed (and replaced) when one ends
}

// startSelfCapture opens the capture (privileged), drops privileges as
// -Z says, creates the -w file and starts reading; addr is the
// program's address (it picks the interface), filter the BPF filter,
// when what the notice says about the report.
func startSelfCapture(f selfCaptureFlags, addr, filter, when string, stdout, stderr io.Writer) (*selfCapture, error) {
	r, err := newRenderer(f.report, stdout)
	if err != nil {
		return nil, err
	}
	r.collect = true // written whole at the end, with the calls
	s := &selfCapture{text: f.report.format == "text", r: r, programs: stdout, ended: map[uint16]bool{}, changed: make(chan struct{})}
	if !s.text {
		s.programs = stderr
	}
	iface := f.iface
	if iface == "" && !greet.Loopback(addr) {
		iface = "any" // clients from anywhere, or a server anywhere
	}
	cfg := decode.Config{UDP: true, OnEvent: s.onEvent}
	lc := capture.LiveConfig{Interface: iface, Filter: filter, Snaplen: liveSnaplen(f.write), BufferSize: 16 << 20}
	if s.live, err = openLive(lc, output{f.write, f.followSymlinks}, f.user, r.options(cfg, stdout), stderr); err != nil {
		return nil, err
	}
	if r.nd != nil {
		r.nd.Source = s.live.Interface()
	}
	fmt.Fprintf(stderr, "synack: capturing on %s (%s), filter %q, to %s; the connections are shown %s\n",
		report.Name(s.live.Interface()), s.live.LinkType(), filter, report.Name(f.write), when)
	var loopCtx context.Context
	loopCtx, s.stopLoop = context.WithCancel(context.Background())
	s.loopDone = make(chan error, 1)
	go func() { s.loopDone <- s.live.Loop(loopCtx, 0) }()
	return s, nil
}

// onEvent notes connections that are over: closed, reset, or a UDP flow
// answered.
func (s *selfCapture) onEvent(c *decode.Conn, e decode.Event) {
	if !exchangeOver(c, &e) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if port := c.Client.Port(); !s.ended[port] {
		s.ended[port] = true
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// waitEnded waits, at most closeWait, for the last packets of the
// connection from client port: the exchange is over in the program
// before its last ACK is on the wire.
func (s *selfCapture) waitEnded(ctx context.Context, client uint16) {
	timeout := time.After(closeWait)
	for {
		s.mu.Lock()
		ended, changed := s.ended[client], s.changed
		s.mu.Unlock()
		if ended {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			return
		case <-ctx.Done():
			return
		}
	}
}

// program keeps a line the program printed, for the documents that carry
// them (JSON's programs).
func (s *selfCapture) program(line string) { s.lines = append(s.lines, line) }

// record keeps the socket calls of the scenario's connection from
// client port.
func (s *selfCapture) record(scenario greet.Scenario, client uint16, calls []greet.Call) {
	s.calls = appendCalls(s.calls, scenario, client, calls)
}

// appendCalls appends the socket calls a built-in program made for the
// connection (or UDP flow) from client port, as the report sets them
// beside its segments.
func appendCalls(dst []report.Call, scenario greet.Scenario, client uint16, calls []greet.Call) []report.Call {
	proto := decode.TCP
	if scenario == greet.UDP {
		proto = decode.UDP
	}
	for _, k := range calls {
		dst = append(dst, report.Call{Proto: proto, ClientPort: client, Side: k.Side, Name: k.Name, Start: k.Start, Return: k.Return})
	}
	return dst
}

// exchangeOver reports whether e ends what the built-in programs
// exchange on c, so that its last packets need no more waiting for: the
// connection closed or was reset, or a UDP flow was answered.
func exchangeOver(c *decode.Conn, e *decode.Event) bool {
	return e.Note&decode.NoteClosed != 0 || e.Flags&decode.RST != 0 ||
		c.Proto == decode.UDP && c.Packets[0] > 0 && c.Packets[1] > 0
}

// finish stops the capture and writes the report, the calls set beside
// the segments.
func (s *selfCapture) finish(stdout io.Writer) error {
	s.stopLoop()
	loopErr := <-s.loopDone
	rep, err := s.live.Finish()
	rep.Calls = s.calls
	if !s.text {
		rep.Programs = s.lines // the text report follows the lines printed
	}
	err = errors.Join(err, s.r.write(stdout, rep))
	if err = errors.Join(loopErr, err); err != nil {
		return &captureError{err}
	}
	return nil
}
