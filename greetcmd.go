package main

import (
	"context"
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
}

func serveFlagSet(f *serveFlags, addr, scenario *string, port *int) *pflag.FlagSet {
	fs := greetFlagSet("serve", addr, scenario, port)
	fs.StringVar(&f.message, "message", greet.DefaultMessage, "the greeting (a newline is added)")
	fs.BoolVar(&f.once, "once", false, "serve one client, then exit")
	fs.Int64Var(&f.maxRead, "max-read", greet.DefaultMaxRead, "read at most this many bytes from a client")
	fs.DurationVar(&f.timeout, "timeout", greet.DefaultServeTimeout, "give up on a client after this long")
	return fs
}

func serveHelp() string {
	return helpText("usage: synack serve [flags]\n\nThe built-in greeting server: socket, bind, listen, then accept, write, close for each client.\n",
		serveFlagSet(new(serveFlags), new(string), new(string), new(int)))
}

func parseServeFlags(args []string) (serveFlags, error) {
	var f serveFlags
	var addr, scenario string
	var port int
	var err error
	if f.target, err = parseGreetFlags(serveFlagSet(&f, &addr, &scenario, &port), args, &addr, &scenario, &port); err != nil {
		return f, err
	}
	if f.target.scenario == greet.Refused {
		return f, usagef("the refused scenario has no server")
	}
	if f.maxRead <= 0 || f.timeout <= 0 {
		return f, usagef("--max-read and --timeout must be positive")
	}
	return f, nil
}

func runServe(ctx context.Context, f serveFlags, stdout, stderr io.Writer) error {
	srv, err := greet.Listen(f.target.scenario, f.target.addr, f.message)
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.MaxRead, srv.Timeout = f.maxRead, f.timeout
	fmt.Fprintf(stdout, "server: listening on %s (%s)\n", srv.Addr(), f.target.scenario.Network())
	for {
		what, err := srv.ServeOne(ctx)
		if ctx.Err() != nil {
			return nil // stopped by a signal: run reports it
		}
		if err != nil {
			if f.once {
				return err
			}
			fmt.Fprintf(stderr, "synack serve: %v\n", err) // one client failed; serve the next
			continue
		}
		fmt.Fprintf(stdout, "server: %s\n", report.Name(what)) // what quotes the peer's bytes already (%q)
		if f.once {
			return nil
		}
	}
}

type connectFlags struct {
	target  greetTarget
	timeout time.Duration
	maxRead int64
}

func connectFlagSet(f *connectFlags, addr, scenario *string, port *int) *pflag.FlagSet {
	fs := greetFlagSet("connect", addr, scenario, port)
	fs.DurationVar(&f.timeout, "timeout", 5*time.Second, "give up connecting and reading after this long")
	fs.Int64Var(&f.maxRead, "max-read", greet.DefaultMaxRead, "read at most this many bytes from the server")
	return fs
}

func connectHelp() string {
	return helpText("usage: synack connect [flags]\n\nThe built-in greeting client: socket, connect, read, close; prints what the server sent.\n",
		connectFlagSet(new(connectFlags), new(string), new(string), new(int)))
}

func parseConnectFlags(args []string) (connectFlags, error) {
	var f connectFlags
	var addr, scenario string
	var port int
	var err error
	if f.target, err = parseGreetFlags(connectFlagSet(&f, &addr, &scenario, &port), args, &addr, &scenario, &port); err != nil {
		return f, err
	}
	if f.maxRead <= 0 {
		return f, usagef("--max-read must be positive")
	}
	return f, nil
}

func runConnect(ctx context.Context, f connectFlags, stdout, _ io.Writer) error {
	res, err := greet.Client{Timeout: f.timeout, MaxRead: f.maxRead}.Connect(ctx, f.target.scenario, f.target.addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, report.Escape([]byte(strings.TrimSuffix(res.Received, "\n"))))
	return res.Err
}
