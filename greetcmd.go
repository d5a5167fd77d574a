package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"synack/greet"
	"synack/report"
)

// quoted renders what a peer sent for the terminal: escaped, without the
// final newline, in double quotes.
func quoted(s string) string { return `"` + report.Escape([]byte(strings.TrimSuffix(s, "\n"))) + `"` }

// greetTarget holds the flags serve and connect share, resolved.
type greetTarget struct {
	addr     string
	scenario greet.Scenario
}

// greetFlagSet declares the flags serve and connect share; parseTarget
// resolves them.
func greetFlagSet(name string, addr, scenario *string, port *int) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.StringVar(addr, "addr", greet.DefaultAddr, "address to "+map[string]string{"serve": "listen on", "connect": "connect to"}[name])
	fs.IntVar(port, "port", 0, "port, overriding the one in --addr")
	fs.StringVar(scenario, "scenario", string(greet.Greeting), "greeting, client-closes, reset, half-close, udp, data, time-wait")
	return fs
}

// parseGreetFlags parses serve's or connect's flags (fs, declared with
// greetFlagSet into addr, scenario and port) and resolves the target.
func parseGreetFlags(fs *pflag.FlagSet, args []string, addr, scenario *string, port *int) (greetTarget, error) {
	if err := parseFlags(fs, args); err != nil {
		return greetTarget{}, err
	}
	if err := noArgs(fs.Args()); err != nil {
		return greetTarget{}, err
	}
	return parseTarget(*addr, *scenario, *port)
}

// parseTarget checks the scenario and applies --port to --addr.
func parseTarget(addr, scenario string, port int) (greetTarget, error) {
	s, err := greet.ParseScenario(scenario)
	if err != nil {
		return greetTarget{}, &usageError{err.Error()}
	}
	if port != 0 {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return greetTarget{}, usagef("bad --addr %q: %v", addr, err)
		}
		addr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	return greetTarget{addr: addr, scenario: s}, nil
}

type serveFlags struct {
	target  greetTarget
	message string
	once    bool
	maxRead int64
	timeout time.Duration
	capture selfCaptureFlags
}

func serveFlagSet(f *serveFlags, addr, scenario *string, port *int) *pflag.FlagSet {
	fs := greetFlagSet("serve", addr, scenario, port)
	fs.StringVar(&f.message, "message", greet.DefaultMessage, "the greeting (a newline is added)")
	fs.BoolVar(&f.once, "once", false, "serve one client, then exit")
	fs.Int64Var(&f.maxRead, "max-read", greet.DefaultMaxRead, "read at most this many bytes from a client")
	fs.DurationVar(&f.timeout, "timeout", greet.DefaultServeTimeout, "give up on a client after this long")
	fs.AddFlagSet(selfCaptureFlagSet(&f.capture, "when the server stops (--once, or Ctrl-C)"))
	return fs
}

func serveHelp() string {
	return helpText("usage: synack serve [flags]\n\nThe built-in greeting server: socket, bind, listen, then accept, write, close for each client.\n"+
		"With -w it also captures its own packets (root or CAP_NET_RAW) and, when it stops, shows its connections\nwith its socket calls beside the segments they cause.\n",
		serveFlagSet(new(serveFlags), new(string), new(string), new(int)))
}

func parseServeFlags(args []string) (serveFlags, error) {
	var f serveFlags
	var addr, scenario string
	var port int
	var err error
	fs := serveFlagSet(&f, &addr, &scenario, &port)
	if f.target, err = parseGreetFlags(fs, args, &addr, &scenario, &port); err != nil {
		return f, err
	}
	if f.target.scenario == greet.Refused {
		return f, usagef("the refused scenario has no server")
	}
	if f.maxRead <= 0 || f.timeout <= 0 {
		return f, usagef("--max-read and --timeout must be positive")
	}
	return f, f.capture.check(fs)
}

func runServe(ctx context.Context, f serveFlags, stdout, stderr io.Writer) error {
	// Listen first, as without -w (a port below 1024 binds as root), then
	// capture: the capture's filter needs the port the server got.
	srv, err := greet.Listen(f.target.scenario, f.target.addr, f.message)
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.MaxRead, srv.Timeout = f.maxRead, f.timeout
	out := stdout
	var sc *selfCapture
	if f.capture.write != "" {
		_, port, _ := net.SplitHostPort(srv.Addr())
		filter := fmt.Sprintf("%s port %s", f.target.scenario.Network(), port)
		if sc, err = startSelfCapture(f.capture, f.target.addr, filter, "when the server stops", stdout, stderr); err != nil {
			return err
		}
		out = sc.programs
	}
	say := func(line string) {
		fmt.Fprintln(out, line)
		if sc != nil {
			sc.program(line)
		}
	}
	say(fmt.Sprintf("server: listening on %s (%s)", srv.Addr(), f.target.scenario.Network()))
	err = serveClients(ctx, srv, f.once, say, sc, stderr)
	if sc != nil {
		err = errors.Join(err, sc.finish(stdout))
	}
	return err
}

// serveClients serves one client after another (one with --once) until
// ctx is cancelled; sc, if capturing, gets each client's socket calls.
func serveClients(ctx context.Context, srv *greet.Server, once bool, say func(string), sc *selfCapture, stderr io.Writer) error {
	for {
		what, err := srv.ServeOne(ctx)
		if sc != nil && srv.Peer != nil {
			client := peerPort(srv.Peer)
			sc.record(srv.Scenario(), client, srv.Calls)
			if once {
				sc.waitEnded(ctx, client) // the client's last ACK, or FIN
			}
		}
		if ctx.Err() != nil {
			return nil // stopped by a signal: run reports it
		}
		if err != nil {
			if once {
				return err
			}
			fmt.Fprintf(stderr, "synack serve: %v\n", err) // one client failed; serve the next
			continue
		}
		say("server: " + report.Name(what)) // what quotes the peer's bytes already (%q)
		if once {
			return nil
		}
	}
}

// peerPort is the port of a TCP or UDP address.
func peerPort(a net.Addr) uint16 {
	switch a := a.(type) {
	case *net.TCPAddr:
		return uint16(a.Port)
	case *net.UDPAddr:
		return uint16(a.Port)
	}
	return 0
}

type connectFlags struct {
	target  greetTarget
	timeout time.Duration
	maxRead int64
	capture selfCaptureFlags
}

func connectFlagSet(f *connectFlags, addr, scenario *string, port *int) *pflag.FlagSet {
	fs := greetFlagSet("connect", addr, scenario, port)
	fs.DurationVar(&f.timeout, "timeout", 5*time.Second, "give up connecting and reading after this long")
	fs.Int64Var(&f.maxRead, "max-read", greet.DefaultMaxRead, "read at most this many bytes from the server")
	fs.AddFlagSet(selfCaptureFlagSet(&f.capture, "once the client is done"))
	return fs
}

func connectHelp() string {
	return helpText("usage: synack connect [flags]\n\nThe built-in greeting client: socket, connect, read, close; prints what the server sent.\n"+
		"With -w it also captures its own packets (root or CAP_NET_RAW) and then shows its connection\nwith its socket calls beside the segments they cause.\n",
		connectFlagSet(new(connectFlags), new(string), new(string), new(int)))
}

func parseConnectFlags(args []string) (connectFlags, error) {
	var f connectFlags
	var addr, scenario string
	var port int
	var err error
	fs := connectFlagSet(&f, &addr, &scenario, &port)
	if f.target, err = parseGreetFlags(fs, args, &addr, &scenario, &port); err != nil {
		return f, err
	}
	if f.maxRead <= 0 {
		return f, usagef("--max-read must be positive")
	}
	if f.capture.write != "" {
		if _, port, _ := net.SplitHostPort(f.target.addr); !isPort(port) {
			return f, usagef("-w: the port of --addr %q must be a number (it makes the capture's filter)", f.target.addr)
		}
	}
	return f, f.capture.check(fs)
}

// isPort reports whether s is a port number.
func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n <= 65535
}

func runConnect(ctx context.Context, f connectFlags, stdout, stderr io.Writer) error {
	cl := greet.Client{Timeout: f.timeout, MaxRead: f.maxRead}
	out := stdout
	var sc *selfCapture
	if f.capture.write != "" {
		// The client's port is chosen now, so that the capture sees this
		// client's connection alone (as the demo does).
		var err error
		if cl.LocalPort, err = freePort(f.target.scenario); err != nil {
			return err
		}
		_, port, _ := net.SplitHostPort(f.target.addr)
		network := f.target.scenario.Network()
		filter := fmt.Sprintf("%s port %s and %s port %d", network, port, network, cl.LocalPort)
		if sc, err = startSelfCapture(f.capture, f.target.addr, filter, "once the client is done", stdout, stderr); err != nil {
			return err
		}
		out = sc.programs
	}
	res, err := cl.Connect(ctx, f.target.scenario, f.target.addr)
	if res != nil && err == nil {
		err = res.Err
		line := report.Escape([]byte(strings.TrimSuffix(res.Received, "\n")))
		fmt.Fprintln(out, line)
		if sc != nil {
			sc.program("client: " + res.Local + " received " + quoted(res.Received))
		}
	}
	if sc == nil {
		return err
	}
	if err != nil {
		sc.program("client: " + err.Error())
	}
	if res != nil {
		sc.record(f.target.scenario, uint16(cl.LocalPort), res.Calls)
	}
	if exchanged(err) {
		sc.waitEnded(ctx, uint16(cl.LocalPort))
	}
	return errors.Join(err, sc.finish(stdout))
}
