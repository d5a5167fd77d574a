package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
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
	port            int
	out             output
	message, write  string
	scenario, iface string
	timeout         time.Duration
	user            string
}

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	var f demoFlags
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&f.port, "port", 12345, "port of the demo server on 127.0.0.1")
	fs.StringVar(&f.message, "message", greet.DefaultMessage, "the server's greeting (a newline is added)")
	fs.StringVar(&f.scenario, "scenario", string(greet.Greeting), "greeting, client-closes, refused, reset, half-close, udp")
	fs.StringVarP(&f.write, "write", "w", "", "also write the captured packets to this pcap file")
	f.out.flags(fs)
	fs.StringVarP(&f.iface, "interface", "i", "", "loopback interface (default: found from libpcap's device flags)")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Second, "the client's connect and read timeout")
	fs.StringVarP(&f.user, "relinquish-privileges", "Z", "", "once capturing, become this user (default under sudo: the user who ran sudo; root keeps root)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: synack demo [flags]\n\nRuns the built-in server and client on 127.0.0.1 while capturing their packets, then shows the connection.\nNeeds root or CAP_NET_RAW.\n\nflags:\n%s", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	scenario, err := greet.ParseScenario(f.scenario)
	if err != nil {
		fmt.Fprintf(stderr, "synack demo: %v\n", err)
		return exitUsage
	}
	if !f.out.prepare("demo", stdout, stderr) {
		return exitUsage
	}
	if f.port <= 0 || f.port > 65535 {
		fmt.Fprintf(stderr, "synack demo: --port %d is not a port\n", f.port)
		return exitUsage
	}

	// The udp scenario runs the TCP greeting first, to contrast the two.
	flows := 1
	filter := fmt.Sprintf("tcp port %d", f.port)
	if scenario == greet.UDP {
		flows, filter = 2, fmt.Sprintf("port %d", f.port)
	}
	finished := make(chan struct{})
	ended := map[uint64]bool{}
	cfg := decode.Config{UDP: true, OnEvent: func(c *decode.Conn, e decode.Event) {
		done := e.Note&decode.NoteClosed != 0 || e.Flags&decode.RST != 0 ||
			c.Proto == decode.UDP && c.Packets[0] > 0 && c.Packets[1] > 0
		if done && !ended[c.ID] {
			if ended[c.ID] = true; len(ended) == flows {
				close(finished)
			}
		}
	}}
	// Capture first, so that permission problems stop the demo before any
	// socket is opened and the handle is live before the first SYN.
	f.out.configure(&cfg)
	lc, err := openLiveCapture(capture.LiveConfig{Interface: f.iface, Filter: filter, Snaplen: liveSnaplen(f.write), BufferSize: 16 << 20}, cfg, f.write, &f.out)
	if err != nil {
		return captureExit(stderr, err)
	}
	if err := lc.dropPrivileges(f.user, stderr); err != nil {
		return exitCapture
	}
	stop := make(chan struct{})
	loopDone := make(chan error, 1)
	go func() { loopDone <- lc.loop(stop, 0, time.Time{}) }()

	st := stopOnSignal()
	defer st.release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-st.C; cancel() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(f.port))
	programs, code := runScenario(ctx, scenario, addr, f.message, f.timeout)
	if code == exitOK || code == exitRefused || code == exitIO {
		select { // the exchange happened: wait for its last packets
		case <-finished:
		case <-time.After(closeWait):
		case <-st.C:
		}
	}
	close(stop)
	loopErr := <-loopDone
	if err := lc.finish(); err != nil && loopErr == nil {
		loopErr = err
	}
	lc.rep.Programs = programs
	f.out.write(stdout, lc.rep)
	if scenario == greet.UDP && f.out.format == "text" && !f.out.summary {
		report.Contrast(stdout, lc.rep.Conns)
	}
	if loopErr != nil {
		fmt.Fprintf(stderr, "synack: %v\n", loopErr)
		return exitCapture
	}
	if s := st.stopped(); s != 0 {
		return s
	}
	if code == exitRefused && scenario == greet.Refused || code == exitIO && scenario == greet.Reset {
		return exitOK // the failure is the point of the scenario
	}
	return code
}

// runScenario plays the scenario with the built-in server and client and
// returns what they said, one line each, and the exit code of the first
// failure.
func runScenario(ctx context.Context, scenario greet.Scenario, addr, message string, timeout time.Duration) ([]string, int) {
	var lines []string
	if scenario == greet.UDP {
		// First the TCP greeting, then the same greeting over UDP.
		tcp, code := playOnce(ctx, greet.Greeting, addr, message, timeout)
		lines = append(lines, prefixed("tcp ", tcp)...)
		if code != exitOK {
			return lines, code
		}
		udp, code := playOnce(ctx, greet.UDP, addr, message, timeout)
		return append(lines, prefixed("udp ", udp)...), code
	}
	return playOnce(ctx, scenario, addr, message, timeout)
}

func prefixed(p string, lines []string) []string {
	for i := range lines {
		lines[i] = p + lines[i]
	}
	return lines
}

// playOnce runs one server (unless the scenario has none) and one client.
func playOnce(ctx context.Context, scenario greet.Scenario, addr, message string, timeout time.Duration) ([]string, int) {
	var lines []string
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	served := make(chan string, 1)
	if scenario == greet.Refused {
		lines = append(lines, "server: none: nothing listens on "+addr)
		served <- ""
	} else {
		srv, err := greet.Listen(scenario, addr, message)
		if err != nil {
			return append(lines, "server: "+err.Error()), greetExit(err)
		}
		defer srv.Close()
		lines = append(lines, fmt.Sprintf("server: listening on %s (%s: socket, bind, listen)", srv.Addr(), scenario.Network()))
		go func() {
			what, err := srv.ServeOne(ctx)
			if err != nil {
				what = err.Error()
			}
			served <- "server: " + what
		}()
	}
	res, err := greet.Connect(ctx, scenario, addr, timeout)
	code := exitOK
	switch {
	case err != nil:
		lines = append(lines, "client: "+err.Error())
		code = greetExit(err)
		cancel() // the server will see no client
	case res.Err != nil:
		lines = append(lines, fmt.Sprintf("client: %s received %s, then %v", res.Local, shown(res.Received), res.Err))
		code = greetExit(res.Err)
	default:
		lines = append(lines, fmt.Sprintf("client: %s received %s and closed", res.Local, shown(res.Received)))
	}
	if s := <-served; s != "" {
		lines = append(lines, s)
	}
	return lines, code
}
