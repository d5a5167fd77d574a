package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"synack/capture"
	"synack/decode"
	"synack/greet"
	"synack/report"
)

// closeWait bounds how long the demo waits, after its client is done, for
// the last packets (both FINs acknowledged, or the RST) to be captured.
const closeWait = 2 * time.Second

type demoFlags struct {
	port           int
	report         reportFlags
	message, write string
	scenario       greet.Scenario
	iface          string
	timeout        time.Duration
	user           string
	followSymlinks bool
	portSet        bool // --port given: a port taken is an error, not a reason to pick another
}

func demoFlagSet(f *demoFlags, scenario *string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	fs.IntVar(&f.port, "port", 12345, "port of the demo server on 127.0.0.1")
	fs.StringVar(&f.message, "message", greet.DefaultMessage, "the server's greeting (a newline is added)")
	fs.StringVar(scenario, "scenario", string(greet.Greeting), "greeting, client-closes, refused, reset, half-close, udp, data, time-wait, syn-drop")
	fs.StringVarP(&f.write, "write", "w", "", "also write the captured packets to this pcap file (created as the user -Z names)")
	fs.BoolVar(&f.followSymlinks, "follow-symlinks", false, "let -w write through a symbolic link (refused by default: synack runs privileged)")
	f.report.register(fs)
	fs.Lookup("explain").DefValue = "true" // a learner's first run explains; --explain=false turns it off
	f.report.explain = true
	fs.StringVarP(&f.iface, "interface", "i", "", "loopback interface (default: found from libpcap's device flags)")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Second, "the client's connect and read timeout")
	fs.StringVarP(&f.user, "relinquish-privileges", "Z", "", "once capturing, become this user (default under sudo: the user who ran sudo; root keeps root)")
	return fs
}

func demoHelp() string {
	return helpText("usage: synack demo [flags]\n\nRuns the built-in server and client on 127.0.0.1 while capturing their packets, then shows the connection.\nNeeds root or CAP_NET_RAW.\n",
		demoFlagSet(new(demoFlags), new(string)))
}

func parseDemoFlags(args []string) (demoFlags, error) {
	var f demoFlags
	var scenario string
	fs := demoFlagSet(&f, &scenario)
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	if err := noArgs(fs.Args()); err != nil {
		return f, err
	}
	var err error
	if f.scenario, err = greet.ParseScenario(scenario); err != nil {
		return f, &usageError{err.Error()}
	}
	if err := f.report.check(); err != nil {
		return f, err
	}
	if f.port <= 0 || f.port > 65535 {
		return f, usagef("--port %d is not a port", f.port)
	}
	f.portSet = fs.Changed("port")
	return f, nil
}

func runDemo(ctx context.Context, f demoFlags, stdout, stderr io.Writer) error {
	r, err := newRenderer(f.report, stdout)
	if err != nil {
		return err
	}
	r.collect = true // a few connections, written whole after the programs' lines
	if f.iface != "" {
		if err := checkLoopback(f.iface); err != nil {
			return err
		}
	}
	if !f.portSet && !portFree(f.scenario, f.port) {
		// Another demo (or program) holds the default port: take another,
		// so that two demos at once each have their own.
		taken := f.port
		if f.port, err = freePort(f.scenario); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "synack demo: port %d is taken; the server listens on %d instead\n", taken, f.port)
	}
	// The client's own port is chosen now, so that the capture sees this
	// demo's connection alone: not another demo's, nor a straggler of an
	// earlier one on the same server port.
	client := greet.Client{Timeout: f.timeout}
	if client.LocalPort, err = freePort(f.scenario); err != nil {
		return err
	}
	// The udp scenario runs the TCP greeting first, to contrast the two.
	flows := 1
	filter := fmt.Sprintf("tcp port %d and tcp port %d", f.port, client.LocalPort)
	if f.scenario == greet.UDP {
		flows, filter = 2, fmt.Sprintf("port %d and port %d", f.port, client.LocalPort)
	}
	finished := make(chan struct{})
	ended := map[uint64]bool{}
	cfg := decode.Config{UDP: true, OnEvent: func(c *decode.Conn, e decode.Event) {
		if exchangeOver(c, &e) && !ended[c.ID] {
			if ended[c.ID] = true; len(ended) == flows {
				close(finished)
			}
		}
	}}
	// Capture first, so that permission problems stop the demo before any
	// socket is opened and the handle is live before the first SYN.
	lc := capture.LiveConfig{Interface: f.iface, Filter: filter, Snaplen: liveSnaplen(f.write), BufferSize: 16 << 20}
	live, err := openLive(lc, output{f.write, f.followSymlinks}, f.user, r.options(cfg, stdout), stderr)
	if err != nil {
		return err
	}
	if r.nd != nil {
		r.nd.Source = live.Interface()
	}
	loopCtx, stopLoop := context.WithCancel(context.Background())
	defer stopLoop()
	loopDone := make(chan error, 1)
	go func() { loopDone <- live.Loop(loopCtx, 0) }()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(f.port))
	var calls []report.Call
	programs, playErr := runScenario(ctx, f.scenario, addr, f.message, client, &calls)
	if exchanged(playErr) {
		select { // the exchange happened: wait for its last packets
		case <-finished:
		case <-time.After(closeWait):
		case <-ctx.Done():
		}
	}
	stopLoop()
	loopErr := <-loopDone
	rep, err := live.Finish()
	rep.Programs, rep.Calls = programs, calls
	err = errors.Join(err, r.write(stdout, rep))
	if f.scenario == greet.UDP && f.report.format == "text" && !f.report.summary {
		report.Contrast(stdout, rep.Conns)
	}
	if err = errors.Join(loopErr, err); err != nil {
		return &captureError{err}
	}
	if intended(f.scenario, playErr) {
		return nil // the failure is the point of the scenario
	}
	if playErr != nil {
		return &shown{playErr} // the programs' lines above say what went wrong
	}
	return nil
}

// exchanged reports whether the client and server got as far as talking
// (or being refused), so that their last packets are worth waiting for.
func exchanged(err error) bool {
	var se *greet.StepError
	if err == nil {
		return true
	}
	if !errors.As(err, &se) {
		return false
	}
	switch stepExit(se) {
	case exitRefused, exitIO:
		return true
	}
	return false
}

// intended reports whether err is the failure the scenario shows on
// purpose: refused by nothing listening, reset by the server.
func intended(s greet.Scenario, err error) bool {
	var se *greet.StepError
	if !errors.As(err, &se) {
		return false
	}
	code := stepExit(se)
	return code == exitRefused && s == greet.Refused || code == exitIO && s == greet.Reset || code == exitTimeout && s == greet.SYNDrop
}

// runScenario plays the scenario with the built-in server and client and
// returns what they said, one line each, and the first failure.
func runScenario(ctx context.Context, scenario greet.Scenario, addr, message string, client greet.Client, calls *[]report.Call) ([]string, error) {
	var lines []string
	if scenario == greet.UDP {
		// First the TCP greeting, then the same greeting over UDP.
		tcp, err := playOnce(ctx, greet.Greeting, addr, message, client, calls)
		lines = append(lines, prefixed("tcp ", tcp)...)
		if err != nil {
			return lines, err
		}
		udp, err := playOnce(ctx, greet.UDP, addr, message, client, calls)
		return append(lines, prefixed("udp ", udp)...), err
	}
	lines, err := playOnce(ctx, scenario, addr, message, client, calls)
	if scenario == greet.TimeWait && err == nil {
		lines = append(lines, timeWaitLines(addr, client.LocalPort)...)
	}
	return lines, err
}

// timeWaitLines show what TIME-WAIT means to a server: the side that
// closed first (the server) keeps the connection, and a restarted server
// that does not set SO_REUSEADDR cannot bind its port meanwhile.
func timeWaitLines(addr string, clientPort int) []string {
	server := netip.MustParseAddrPort(addr)
	client := netip.AddrPortFrom(server.Addr(), uint16(clientPort))
	var lines []string
	switch tw, err := greet.InTimeWait(server, client, time.Second); {
	case err != nil:
		return append(lines, "server: "+err.Error())
	case tw:
		lines = append(lines, fmt.Sprintf("server: closed first, so %s ↔ %s is in TIME-WAIT now (ss -tan state time-wait lists it) for 2×MSL, 60 s on Linux", server, client))
	default:
		lines = append(lines, fmt.Sprintf("server: %s ↔ %s is not in TIME-WAIT", server, client))
	}
	if err := greet.Rebind(addr, false); errors.Is(err, syscall.EADDRINUSE) {
		lines = append(lines, "server restarted without SO_REUSEADDR: bind() failed: address already in use — the TIME-WAIT connection holds the port")
	} else if err != nil {
		lines = append(lines, "server restarted without SO_REUSEADDR: "+err.Error())
	} else {
		lines = append(lines, "server restarted without SO_REUSEADDR: bound")
	}
	if err := greet.Rebind(addr, true); err != nil {
		lines = append(lines, "server restarted with SO_REUSEADDR: "+err.Error())
	} else {
		lines = append(lines, "server restarted with SO_REUSEADDR (what Go and most servers set): bound, TIME-WAIT or not")
	}
	return lines
}

func prefixed(p string, lines []string) []string {
	for i := range lines {
		lines[i] = p + lines[i]
	}
	return lines
}

// playOnce runs one server (unless the scenario has none) and one client.
func playOnce(ctx context.Context, scenario greet.Scenario, addr, message string, client greet.Client, calls *[]report.Call) ([]string, error) {
	var lines []string
	record := func(cs []greet.Call) { *calls = appendCalls(*calls, scenario, uint16(client.LocalPort), cs) }
	ctx, cancel := context.WithTimeout(ctx, client.Timeout)
	defer cancel()
	served := make(chan string, 1)
	if scenario == greet.Refused {
		lines = append(lines, "server: none: nothing listens on "+addr)
		served <- ""
	} else {
		srv, err := greet.Listen(scenario, addr, message)
		if err != nil {
			return append(lines, "server: "+err.Error()), err
		}
		defer srv.Close()
		srv.OnlyPort = client.LocalPort
		steps := "socket, bind, listen" // then accept, write, close per client
		if scenario == greet.UDP {
			steps = "socket, bind: UDP has no listen and no accept; it waits in recvfrom and answers with sendto"
		}
		lines = append(lines, fmt.Sprintf("server: listening on %s (%s: %s)", srv.Addr(), scenario.Network(), steps))
		if scenario == greet.SYNDrop {
			// It never accepts: accepting would make room in the queue.
			served <- "server: listen backlog 0, one connection waiting in the accept queue, never accepted: the kernel drops every further SYN"
		} else {
			go func() {
				what, err := srv.ServeOne(ctx)
				if err != nil {
					what = err.Error()
				}
				record(srv.Calls) // before the send: read after the receive
				served <- "server: " + what
			}()
		}
	}
	res, err := client.Connect(ctx, scenario, addr)
	var clientCalls []greet.Call
	if res != nil {
		clientCalls = res.Calls
	}
	switch {
	case err != nil:
		lines = append(lines, "client: "+err.Error())
		cancel() // the server will see no client
	case res.Err != nil:
		lines = append(lines, fmt.Sprintf("client: %s received %s, then %v", res.Local, quoted(res.Received), res.Err))
		err = res.Err
	default:
		lines = append(lines, fmt.Sprintf("client: %s received %s and closed", res.Local, received(res.Received)))
	}
	if s := <-served; s != "" {
		lines = append(lines, s)
	}
	record(clientCalls)
	return lines, err
}

// received shows what the client read: the greeting, and a count for
// what followed it (the data scenario's bytes).
func received(s string) string {
	first, rest, _ := strings.Cut(s, "\n")
	if rest == "" {
		return quoted(s)
	}
	return fmt.Sprintf("%s and %d bytes more", quoted(first+"\n"), len(rest))
}

// checkLoopback refuses a capture interface that is not a loopback one:
// the demo's server and client talk over 127.0.0.1, so any other
// interface would see none of it.
func checkLoopback(iface string) error {
	devs, err := capture.Devices()
	if err != nil {
		return &captureError{err}
	}
	for _, d := range devs {
		if d.Name == iface {
			if d.Loopback {
				return nil
			}
			return usagef("-i %s: the demo's server and client talk over loopback (127.0.0.1), which %s does not carry; leave -i out, or name a loopback interface", iface, iface)
		}
	}
	return &captureError{fmt.Errorf("capture on %s: %w (run `synack interfaces` to list them)", iface, capture.ErrNoInterface)}
}

// portFree reports whether 127.0.0.1:port can be bound for the scenario.
func portFree(s greet.Scenario, port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if s == greet.UDP {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		pc.Close()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// freePort is a port of 127.0.0.1 that the kernel says is free (for UDP
// too, in the udp scenario).
func freePort(s greet.Scenario) (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if portFree(s, port) {
			return port, nil
		}
	}
	return 0, errors.New("find a free port: none after 20 tries")
}
