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

// greetExit maps a server or client failure to its exit code.
func greetExit(err error) int {
	var se *greet.StepError
	if !errors.As(err, &se) {
		return exitIO
	}
	switch {
	case se.Step == greet.StepBind || se.Step == greet.StepListen:
		return exitBind
	case se.Cause == greet.CauseRefused:
		return exitRefused
	case se.Cause == greet.CauseTimeout:
		return exitTimeout
	}
	return exitIO
}

// withPort replaces the port of addr when port is set.
func withPort(addr string, port int) (string, error) {
	if port == 0 {
		return addr, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("bad --addr %q: %w", addr, err)
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// shown renders what a peer sent for the terminal: escaped, without the
// final newline.
func shown(s string) string { return `"` + report.Escape([]byte(strings.TrimSuffix(s, "\n"))) + `"` }

// greetTarget holds the flags serve and connect share.
type greetTarget struct {
	addr, scenario string
	port           int
}

func greetFlags(name string, stderr io.Writer, g *greetTarget) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&g.addr, "addr", greet.DefaultAddr, "address to "+map[string]string{"serve": "listen on", "connect": "connect to"}[name])
	fs.IntVar(&g.port, "port", 0, "port, overriding the one in --addr")
	fs.StringVar(&g.scenario, "scenario", string(greet.Greeting), "greeting, client-closes, reset, half-close, udp")
	return fs
}

// resolve checks the scenario and applies --port to --addr.
func (g *greetTarget) resolve() (greet.Scenario, string, error) {
	scenario, err := greet.ParseScenario(g.scenario)
	if err != nil {
		return "", "", err
	}
	addr, err := withPort(g.addr, g.port)
	return scenario, addr, err
}

func cmdServe(args []string, stdout, stderr io.Writer) int {
	var target greetTarget
	var message string
	var once bool
	fs := greetFlags("serve", stderr, &target)
	fs.StringVar(&message, "message", greet.DefaultMessage, "the greeting (a newline is added)")
	fs.BoolVar(&once, "once", false, "serve one client, then exit")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	scenario, addr, err := target.resolve()
	if err != nil || scenario == greet.Refused {
		if err == nil {
			err = errors.New("the refused scenario has no server")
		}
		fmt.Fprintf(stderr, "synack serve: %v\n", err)
		return exitUsage
	}
	srv, err := greet.Listen(scenario, addr, message)
	if err != nil {
		fmt.Fprintf(stderr, "synack serve: %v\n", err)
		return greetExit(err)
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "server: listening on %s (%s)\n", srv.Addr(), scenario.Network())
	st := stopOnSignal()
	defer st.release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-st.C; cancel() }()
	for {
		what, err := srv.ServeOne(ctx)
		if ctx.Err() != nil {
			return st.stopped()
		}
		if err != nil {
			fmt.Fprintf(stderr, "synack serve: %v\n", err)
			if once {
				return greetExit(err)
			}
			continue
		}
		fmt.Fprintf(stdout, "server: %s\n", report.Escape([]byte(what)))
		if once {
			return exitOK
		}
	}
}

func cmdConnect(args []string, stdout, stderr io.Writer) int {
	var target greetTarget
	var timeout time.Duration
	fs := greetFlags("connect", stderr, &target)
	fs.DurationVar(&timeout, "timeout", 5*time.Second, "give up connecting and reading after this long")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	scenario, addr, err := target.resolve()
	if err != nil {
		fmt.Fprintf(stderr, "synack connect: %v\n", err)
		return exitUsage
	}
	res, err := greet.Connect(context.Background(), scenario, addr, timeout)
	if err != nil {
		fmt.Fprintf(stderr, "synack connect: %v\n", err)
		return greetExit(err)
	}
	fmt.Fprintln(stdout, report.Escape([]byte(strings.TrimSuffix(res.Received, "\n"))))
	if res.Err != nil {
		fmt.Fprintf(stderr, "synack connect: %v\n", res.Err)
		return greetExit(res.Err)
	}
	return exitOK
}
