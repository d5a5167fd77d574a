// Command synack captures packets and rebuilds each TCP connection into a
// timeline a person can read and a record a machine can check.
//
// The root package holds flags, wiring and the one map from errors to
// exit codes; each command is a parseXFlags function (no I/O) and a runX
// function. The frames flow through the packages: capture → pipeline →
// decode → report.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"synack/capture"
	"synack/greet"
	"synack/pipeline"
	"synack/report"
)

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitCheck   = 1 // an expectation failed
	exitUsage   = 2
	exitInput   = 3 // a capture file could not be read (the report may be partial)
	exitCapture = 4 // live capture impossible: no permission, no such interface
	exitBind    = 5 // the server could not bind/listen (address in use, permission)
	exitRefused = 6 // connect refused: nothing listening
	exitTimeout = 7 // connect timed out
	exitIO      = 8 // read or write on the connection failed (including reset)
)

func main() {
	limitMemory()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// memoryLimit is the soft limit synack asks Go's collector to keep its
// memory under (debug.SetMemoryLimit): past it the collector runs more
// often, so that the room of connections handed over is used again before
// the heap grows (with the collector's default pacing, a heap of a million
// connections open at once may double before it collects). Work that
// needs more goes on, the collector taking at most half the CPU.
const memoryLimit = 960 << 20

// limitMemory sets memoryLimit, unless GOMEMLIMIT chose a limit already.
func limitMemory() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
}

const usage = `synack: see TCP handshakes, data and teardowns, packet by packet

usage:
  synack demo [--scenario NAME]          watch the built-in server and client talk over loopback (root or CAP_NET_RAW)
  synack read [flags] FILE... [FILTER]   rebuild the TCP connections of pcap/pcapng files
  synack -r FILE [flags] [FILTER]        the same, tcpdump style
  synack check FILE... --expect EXPR     check expectations over the connections of captures (CI)
  synack live [-i IFACE] [FILTER]        capture live and print each packet as it arrives (root or CAP_NET_RAW)
  synack -i IFACE [flags] [FILTER]       the same, tcpdump style
  synack interfaces                      list capture interfaces, like tcpdump -D (synack -D)
  synack serve [--addr A] [-w FILE]      the built-in greeting server (-w: its packets beside its socket calls)
  synack connect [--addr A] [-w FILE]    the built-in greeting client (-w: the same)
  synack version                         versions of synack, Go, gopacket and libpcap (synack --version)
  synack help                            this text

Run "synack COMMAND --help" for a command's flags.
Exit codes: 0 ok, 1 failed check, 2 usage error, 3 input error (report may be partial),
4 capture not possible, 5 bind failed, 6 connection refused, 7 connect timed out, 8 read/write failed.
`

// command is one subcommand: its flags parsed and run, and its --help.
type command struct {
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	help func() string
}

// lookup binds each command's parseXFlags to its runX.
func lookup(name string) (command, bool) {
	switch name {
	case "read":
		return command{bind(parseReadFlags, runRead), readHelp}, true
	case "check":
		return command{bind(parseCheckFlags, runCheck), checkHelp}, true
	case "live":
		return command{bind(parseLiveFlags, runLive), liveHelp}, true
	case "demo":
		return command{bind(parseDemoFlags, runDemo), demoHelp}, true
	case "interfaces":
		return command{bind(parseInterfacesFlags, runInterfaces), interfacesHelp}, true
	case "serve":
		return command{bind(parseServeFlags, runServe), serveHelp}, true
	case "connect":
		return command{bind(parseConnectFlags, runConnect), connectHelp}, true
	case "version":
		return command{bind(parseVersionFlags, runVersion), versionHelp}, true
	}
	return command{}, false
}

// bind makes a command's two functions one: parse, then run.
func bind[F any](parse func([]string) (F, error), run func(context.Context, F, io.Writer, io.Writer) error) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		f, err := parse(args)
		if err != nil {
			return err
		}
		return run(ctx, f, stdout, stderr)
	}
}

// run runs the command args name and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "--version", "-V":
		name = "version"
	default:
		if strings.HasPrefix(name, "-") {
			if name, rest = tcpdumpStyle(args), args; name == "interfaces" {
				rest = nil
			}
		}
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "synack: unknown command %q\n\n%s", report.Name(name), usage)
		return exitUsage
	}
	ctx, stop, caught := signalContext(context.Background())
	err := cmd.run(ctx, rest, stdout, stderr)
	stop()
	if s := caught(); s != nil {
		err = errors.Join(err, &signalled{s}) // the work stopped for it: its exit code (a second would have killed us)
	}
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprint(stdout, cmd.help())
		return exitOK
	}
	printErrors(stderr, name, err)
	if errors.Is(err, capture.ErrNoLibpcap) && errors.As(err, new(*capture.FilterError)) { // once, however many files said it
		fmt.Fprintf(stderr, "Without libpcap, choose connections with --where instead (e.g. --where 'server.port=443'),\n"+
			"or let tcpdump filter first: tcpdump -r FILE -w - 'FILTER' | synack %s -\n", name)
	}
	if errors.As(err, new(*usageError)) || errors.As(err, new(*pflagError)) {
		fmt.Fprintf(stderr, "Run \"synack %s --help\" for its flags.\n", name)
	}
	return exitCode(err)
}

// tcpdumpStyle names the command a command line that starts with a flag
// stands for, as tcpdump reads it: -D lists interfaces, -r FILE reads
// (also combined, -nr FILE, and after other flags: --format json -r f),
// -i IFACE captures live; otherwise it is read's flags before the files.
func tcpdumpStyle(args []string) string {
	has := func(long string, short byte) bool {
		for _, a := range args {
			if a == "--" {
				return false
			}
			if a == long || strings.HasPrefix(a, long+"=") {
				return true
			}
			// A cluster of short flags, -nr or -nnr: the letter last takes
			// the value that follows.
			if len(a) >= 2 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], short) >= 0 {
				return true
			}
		}
		return false
	}
	switch {
	case len(args) == 1 && args[0] == "-D", len(args) == 1 && args[0] == "--list-interfaces":
		return "interfaces"
	case has("--read", 'r'):
		return "read"
	case has("--interface", 'i'):
		return "live"
	}
	return "read"
}

// signalContext is cancelled by the first SIGINT or SIGTERM: the work in
// hand stops and its report is still written. After that first signal the
// handlers are released, so a second one kills the process as it would
// any program. caught says which signal came, if one did.
func signalContext(parent context.Context) (ctx context.Context, stop func(), caught func() os.Signal) {
	which := make(chan os.Signal, 1)
	signal.Notify(which, os.Interrupt, syscall.SIGTERM)
	ctx, stopCtx := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	released := make(chan struct{})
	go func() {
		<-ctx.Done()
		stopCtx()
		signal.Stop(which)
		close(released)
	}()
	var sig os.Signal
	stop = func() { stopCtx(); <-released }
	caught = func() os.Signal {
		if sig == nil {
			select {
			case sig = <-which:
			default:
			}
		}
		return sig
	}
	return ctx, stop, caught
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// pflagError is a flag pflag could not parse (unknown, or a bad value).
type pflagError struct{ err error }

func (e *pflagError) Error() string { return e.err.Error() }
func (e *pflagError) Unwrap() error { return e.err }

// checkFailed is an expectation that did not hold.
type checkFailed struct{ failed int }

func (e *checkFailed) Error() string { return fmt.Sprintf("%d expectations failed", e.failed) }

// captureError is a live capture that could not be opened or run.
type captureError struct{ err error }

func (e *captureError) Error() string { return e.err.Error() }
func (e *captureError) Unwrap() error { return e.err }

// signalled is the signal that stopped the work: the shell's code for
// death by that signal is the exit code.
type signalled struct{ sig os.Signal }

func (e *signalled) Error() string { return "stopped by " + e.sig.String() }

// shown wraps an error whose message was already written (beside a
// report that went on): it keeps its exit code and is not printed again.
type shown struct{ err error }

func (e *shown) Error() string { return e.err.Error() }
func (e *shown) Unwrap() error { return e.err }

// exitCode is the one map from errors to the documented exit codes. For
// several errors (joined) the largest code wins, as a signal's does.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		code := exitOK
		for _, e := range joined.Unwrap() {
			code = max(code, exitCode(e))
		}
		return code
	}
	var (
		sig  *signalled
		step *greet.StepError
	)
	switch {
	case errors.As(err, &sig):
		if sig.sig == syscall.SIGTERM {
			return 128 + int(syscall.SIGTERM)
		}
		return 128 + int(syscall.SIGINT)
	case errors.As(err, new(*usageError)), errors.As(err, new(*pflagError)), errors.As(err, new(*capture.FilterError)):
		return exitUsage
	case errors.As(err, new(*checkFailed)):
		return exitCheck
	case errors.As(err, new(*captureError)), errors.Is(err, capture.ErrPermission), errors.Is(err, capture.ErrNoInterface), errors.Is(err, capture.ErrNoLibpcap):
		return exitCapture
	case errors.As(err, &step):
		return stepExit(step)
	case errors.As(err, new(*pipeline.InputError)):
		return exitInput
	}
	return exitInput
}

// stepExit maps a failed socket step of the built-in server or client.
func stepExit(se *greet.StepError) int {
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

// printErrors writes each error not yet shown, one line each.
func printErrors(stderr io.Writer, cmd string, err error) {
	if err == nil {
		return
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			printErrors(stderr, cmd, e)
		}
		return
	}
	if errors.As(err, new(*shown)) || errors.As(err, new(*signalled)) || errors.As(err, new(*checkFailed)) {
		return
	}
	// Messages quote file and interface names: escaped, so that a name
	// cannot drive the terminal. A usage error may span lines of synack's
	// own (an expression, a caret under the bad token): kept as lines.
	msg := report.Name(err.Error())
	if errors.As(err, new(*usageError)) {
		lines := strings.Split(err.Error(), "\n")
		for i := range lines {
			lines[i] = report.Name(lines[i])
		}
		msg = strings.Join(lines, "\n")
	}
	fmt.Fprintf(stderr, "synack %s: %s\n", cmd, msg)
	if errors.Is(err, capture.ErrPermission) {
		self, _ := os.Executable()
		if self == "" {
			self = "./synack"
		}
		fmt.Fprintf(stderr, "Live capture needs root or CAP_NET_RAW. Either run it with sudo (sudo %s %s),\n"+
			"or grant the capability once: sudo setcap cap_net_raw,cap_net_admin=eip %s (make setcap does it)\n",
			report.Name(self), report.Name(strings.Join(os.Args[1:], " ")), report.Name(self))
	}
}

// errHelp asks for a command's --help (pflag's own value, so that flag
// sets and hand-parsed commands say it alike).
var errHelp = pflag.ErrHelp

// parseFlags parses a command's flags; its FlagSet prints nothing (the
// edge prints the error, and the help on pflag.ErrHelp).
func parseFlags(fs *pflag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return &pflagError{err}
	}
	return nil
}

// noArgs refuses arguments to a command that takes none but flags.
func noArgs(args []string) error {
	if len(args) > 0 {
		return usagef("takes no arguments (got %q)", strings.Join(args, " "))
	}
	return nil
}

// helpText is a command's --help: its header, then its flags.
func helpText(header string, fs *pflag.FlagSet) string {
	return header + "\nflags:\n" + fs.FlagUsages()
}
