package main

import (
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"synack/decode"
	"synack/greet"
)

// defaultReport is reportFlags as no flag sets them.
var defaultReport = reportFlags{format: "text", color: "auto", maxConns: decode.DefaultMaxConns}

// withReport returns the defaults changed by set.
func withReport(set func(*reportFlags)) reportFlags {
	r := defaultReport
	set(&r)
	return r
}

// flagCase is one command line and what parsing it must give: the flags,
// or an error of the wanted kind whose message holds errText.
type flagCase[F any] struct {
	name    string
	args    []string
	want    F
	errKind string // "usage", "flag", "help" or "" (no error)
	errText string
}

func checkParse[F any](t *testing.T, parse func([]string) (F, error), cases []flagCase[F]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(tc.args)
			kind := ""
			switch {
			case err == nil:
			case errors.Is(err, pflag.ErrHelp):
				kind = "help"
			case errors.As(err, new(*usageError)):
				kind = "usage"
			case errors.As(err, new(*pflagError)):
				kind = "flag"
			default:
				t.Fatalf("%v: untyped error %v", tc.args, err)
			}
			if kind != tc.errKind || err != nil && !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("%v: error %v (%s), want %s error with %q", tc.args, err, kind, tc.errKind, tc.errText)
			}
			if err == nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%v:\n got  %+v\n want %+v", tc.args, got, tc.want)
			}
			if err != nil && kind != "help" && exitCode(err) != exitUsage {
				t.Errorf("%v: exit code %d for a %s error", tc.args, exitCode(err), kind)
			}
		})
	}
}

func TestParseReadFlags(t *testing.T) {
	base := readFlags{report: defaultReport, maxEvents: decode.DefaultMaxEvents, jobs: 1}
	with := func(set func(*readFlags)) readFlags { f := base; set(&f); return f }
	checkParse(t, parseReadFlags, []flagCase[readFlags]{
		{name: "one file", args: []string{"a.pcap"}, want: with(func(f *readFlags) { f.files = []string{"a.pcap"} })},
		{name: "files and a trailing filter", args: []string{"a.pcap", "b.pcapng", "tcp", "port", "80"},
			want: with(func(f *readFlags) { f.files, f.filter = []string{"a.pcap", "b.pcapng"}, "tcp port 80" })},
		{name: "-r and a trailing filter", args: []string{"-r", "x", "-r", "y", "host", "1.2.3.4"},
			want: with(func(f *readFlags) { f.files, f.filter = []string{"x", "y"}, "host 1.2.3.4" })},
		{name: "-f", args: []string{"-f", "tcp", "a.pcap"}, want: with(func(f *readFlags) { f.files, f.filter = []string{"a.pcap"}, "tcp" })},
		{name: "stdin", args: []string{"-"}, want: with(func(f *readFlags) { f.files = []string{"-"} })},
		{name: "report flags", args: []string{"--format", "json", "--summary", "--no-timeline", "--where", "server.port=443", "--where", "rst=0",
			"--conn", "2,3", "--conn", "5", "--color", "never", "--max-conns", "-1", "--events", "a.pcap"},
			want: with(func(f *readFlags) {
				f.files = []string{"a.pcap"}
				f.report = withReport(func(r *reportFlags) {
					r.format, r.summary, r.noTimeline, r.events, r.color, r.maxConns = "json", true, true, true, "never", -1
					r.where, r.ids = []string{"server.port=443", "rst=0"}, []uint{2, 3, 5}
				})
			})},
		{name: "all events", args: []string{"--all-events", "a.pcap"}, want: with(func(f *readFlags) { f.files, f.maxEvents = []string{"a.pcap"}, -1 })},
		{name: "max events", args: []string{"--max-events", "7", "--udp", "-j", "4", "a.pcap"},
			want: with(func(f *readFlags) { f.files, f.maxEvents, f.udp, f.jobs = []string{"a.pcap"}, 7, true, 4 })},
		{name: "-o for pictures of several files", args: []string{"--format", "svg", "-o", "out", "a.pcap", "b.pcap"},
			want: with(func(f *readFlags) {
				f.files, f.outDir = []string{"a.pcap", "b.pcap"}, "out"
				f.report.format = "svg"
			})},
		{name: "pictures of several files need -o", args: []string{"--format", "html", "a.pcap", "b.pcap"}, errKind: "usage", errText: "--format html makes one document per capture: give -o DIR"},
		{name: "tcpdump habits: -nn, -c, -S, -nr", args: []string{"-nn", "-c", "100", "-S", "-nr", "a.pcap", "tcp"},
			want: with(func(f *readFlags) {
				f.files, f.count, f.filter = []string{"a.pcap"}, 100, "tcp"
				f.report.absolute = true
			})},
		{name: "no file", args: nil, errKind: "usage", errText: "no capture file given"},
		{name: "filter twice", args: []string{"-f", "tcp", "a.pcap", "port", "80"}, errKind: "usage", errText: "either with -f or after the files"},
		{name: "bad format", args: []string{"--format", "xml", "a.pcap"}, errKind: "usage", errText: `unknown --format "xml"`},
		{name: "bad colour", args: []string{"--color", "pink", "a.pcap"}, errKind: "usage", errText: `unknown --color "pink"`},
		{name: "bad where", args: []string{"--where", "nope=1", "a.pcap"}, errKind: "usage", errText: `--where "nope=1"`},
		{name: "connections in where", args: []string{"--where", "connections>1", "a.pcap"}, errKind: "usage", errText: "use it with --expect"},
		{name: "unknown flag", args: []string{"--bogus", "a.pcap"}, errKind: "flag", errText: "unknown flag: --bogus"},
		{name: "bad number", args: []string{"-j", "many", "a.pcap"}, errKind: "flag", errText: `invalid argument "many"`},
		{name: "help", args: []string{"--help"}, errKind: "help"},
	})
}

func TestParseCheckFlags(t *testing.T) {
	checkParse(t, parseCheckFlags, []flagCase[checkFlags]{
		{name: "files and expectations", args: []string{"a.pcap", "b.pcap", "-e", "verdict=complete", "--expect", "connections>=1", "--where", "server.port=80",
			"--junit", "out.xml", "-f", "tcp", "-v"},
			want: checkFlags{files: []string{"a.pcap", "b.pcap"}, expects: []string{"verdict=complete", "connections>=1"}, where: []string{"server.port=80"},
				junit: "out.xml", filter: "tcp", verbose: true, maxConns: decode.DefaultMaxConns}},
		{name: "a cap", args: []string{"a.pcap", "-e", "rst=0", "--max-conns", "-1"},
			want: checkFlags{files: []string{"a.pcap"}, expects: []string{"rst=0"}, maxConns: -1}},
		{name: "no expectation", args: []string{"a.pcap"}, errKind: "usage", errText: "one --expect"},
		{name: "no file", args: []string{"-e", "rst=0"}, errKind: "usage", errText: "one capture file"},
		{name: "bad expectation", args: []string{"a.pcap", "-e", "syn_to_synack<5"}, errKind: "usage", errText: "wants a duration with a unit"},
		{name: "connections in where", args: []string{"a.pcap", "-e", "rst=0", "--where", "connections=1"}, errKind: "usage", errText: "use it with --expect"},
		{name: "unknown flag", args: []string{"a.pcap", "-e", "rst=0", "-x"}, errKind: "flag", errText: "unknown shorthand flag: 'x'"},
		{name: "help", args: []string{"-h"}, errKind: "help"},
	})
}

func TestParseLiveFlags(t *testing.T) {
	base := liveFlags{report: defaultReport, buffer: 16384, snaplen: 512}
	with := func(set func(*liveFlags)) liveFlags { f := base; set(&f); return f }
	checkParse(t, parseLiveFlags, []flagCase[liveFlags]{
		{name: "defaults", args: nil, want: base},
		{name: "interface and trailing filter", args: []string{"-i", "eth0", "tcp", "port", "443"},
			want: with(func(f *liveFlags) { f.iface, f.filter = "eth0", "tcp port 443" })},
		{name: "-w takes whole packets", args: []string{"-w", "out.pcap", "-c", "100", "--duration", "30s"},
			want: with(func(f *liveFlags) { f.write, f.count, f.duration, f.snaplen = "out.pcap", 100, 30*time.Second, 262144 })},
		{name: "snaplen, buffer, promisc, udp, -Z", args: []string{"-s", "96", "-B", "4096", "--promisc", "--udp", "-Z", "nobody", "--summary"},
			want: with(func(f *liveFlags) {
				f.snaplen, f.buffer, f.promisc, f.udp, f.user = 96, 4096, true, true, "nobody"
				f.report.summary = true
			})},
		{name: "filter twice", args: []string{"-f", "tcp", "udp"}, errKind: "usage", errText: "either with -f or after the flags"},
		{name: "bad count", args: []string{"-c", "abc"}, errKind: "flag", errText: `invalid argument "abc" for "-c, --count"`},
		{name: "bad duration", args: []string{"--duration", "soon"}, errKind: "flag", errText: `invalid argument "soon"`},
		{name: "bad format", args: []string{"--format", "pdf"}, errKind: "usage", errText: `unknown --format "pdf"`},
		{name: "help", args: []string{"--help"}, errKind: "help"},
	})
}

func TestParseDemoFlags(t *testing.T) {
	explained := defaultReport
	explained.explain = true // the demo explains unless --explain=false
	base := demoFlags{port: 12345, report: explained, message: greet.DefaultMessage, scenario: greet.Greeting, timeout: 5 * time.Second}
	with := func(set func(*demoFlags)) demoFlags { f := base; set(&f); return f }
	checkParse(t, parseDemoFlags, []flagCase[demoFlags]{
		{name: "defaults", args: nil, want: base},
		{name: "everything", args: []string{"--port", "2000", "--message", "Hi", "-w", "demo.pcap", "--format", "json", "--scenario", "udp",
			"-i", "lo", "--timeout", "1s", "-Z", "root"},
			want: with(func(f *demoFlags) {
				f.port, f.message, f.write, f.scenario, f.iface, f.timeout, f.user = 2000, "Hi", "demo.pcap", greet.UDP, "lo", time.Second, "root"
				f.portSet = true
				f.report.format = "json"
			})},
		{name: "--explain=false", args: []string{"--explain=false"}, want: with(func(f *demoFlags) { f.report.explain = false })},
		{name: "bad scenario", args: []string{"--scenario", "nope"}, errKind: "usage", errText: `unknown scenario "nope"`},
		{name: "port 0", args: []string{"--port", "0"}, errKind: "usage", errText: "--port 0 is not a port"},
		{name: "port too big", args: []string{"--port", "70000"}, errKind: "usage", errText: "--port 70000 is not a port"},
		{name: "stray argument", args: []string{"greeting"}, errKind: "usage", errText: `takes no arguments (got "greeting")`},
		{name: "help", args: []string{"--help"}, errKind: "help"},
	})
}

func TestParseInterfacesFlags(t *testing.T) {
	checkParse(t, parseInterfacesFlags, []flagCase[interfacesFlags]{
		{name: "none", args: nil},
		{name: "stray argument", args: []string{"eth0"}, errKind: "usage", errText: "takes no arguments"},
		{name: "help", args: []string{"--help"}, errKind: "help"},
	})
}

// selfCaptureDefaults are -w's flags when none is given: the report
// explained, as the demo's is.
func selfCaptureDefaults() selfCaptureFlags {
	r := defaultReport
	r.explain = true
	return selfCaptureFlags{report: r}
}

func TestParseServeFlags(t *testing.T) {
	withW := selfCaptureDefaults()
	withW.write, withW.iface, withW.user, withW.report.format, withW.report.explain = "s.pcap", "lo", "nobody", "json", false
	checkParse(t, parseServeFlags, []flagCase[serveFlags]{
		{name: "defaults", args: nil, want: serveFlags{target: greetTarget{addr: greet.DefaultAddr, scenario: greet.Greeting}, message: greet.DefaultMessage, maxRead: greet.DefaultMaxRead, timeout: greet.DefaultServeTimeout, capture: selfCaptureDefaults()}},
		{name: "port overrides addr", args: []string{"--addr", "[::1]:80", "--port", "8080", "--once", "--message", "Hi", "--scenario", "reset", "--max-read", "100", "--timeout", "1s"},
			want: serveFlags{target: greetTarget{addr: "[::1]:8080", scenario: greet.Reset}, message: "Hi", once: true, maxRead: 100, timeout: time.Second, capture: selfCaptureDefaults()}},
		{name: "-w and its report", args: []string{"-w", "s.pcap", "-i", "lo", "-Z", "nobody", "--format", "json", "--explain=false"},
			want: serveFlags{target: greetTarget{addr: greet.DefaultAddr, scenario: greet.Greeting}, message: greet.DefaultMessage, maxRead: greet.DefaultMaxRead, timeout: greet.DefaultServeTimeout, capture: withW}},
		{name: "report flag without -w", args: []string{"--explain=false"}, errKind: "usage", errText: "--explain goes with -w FILE"},
		{name: "no read limit", args: []string{"--max-read", "0"}, errKind: "usage", errText: "must be positive"},
		{name: "refused has no server", args: []string{"--scenario", "refused"}, errKind: "usage", errText: "the refused scenario has no server"},
		{name: "bad addr", args: []string{"--addr", "localhost", "--port", "1"}, errKind: "usage", errText: `bad --addr "localhost"`},
		{name: "bad port", args: []string{"--port", "x"}, errKind: "flag", errText: `invalid argument "x"`},
		{name: "help", args: []string{"--help"}, errKind: "help"},
	})
}

func TestParseConnectFlags(t *testing.T) {
	checkParse(t, parseConnectFlags, []flagCase[connectFlags]{
		{name: "defaults", args: nil, want: connectFlags{target: greetTarget{addr: greet.DefaultAddr, scenario: greet.Greeting}, timeout: 5 * time.Second, maxRead: greet.DefaultMaxRead, capture: selfCaptureDefaults()}},
		{name: "everything", args: []string{"--addr", "10.0.0.1:22", "--timeout", "200ms", "--scenario", "udp", "--max-read", "64"},
			want: connectFlags{target: greetTarget{addr: "10.0.0.1:22", scenario: greet.UDP}, timeout: 200 * time.Millisecond, maxRead: 64, capture: selfCaptureDefaults()}},
		{name: "-w with a named port", args: []string{"-w", "c.pcap", "--addr", "localhost:http"}, errKind: "usage", errText: "must be a number"},
		{name: "-S without -w", args: []string{"-S"}, errKind: "usage", errText: "--absolute goes with -w FILE"},
		{name: "bad scenario", args: []string{"--scenario", "nope"}, errKind: "usage", errText: `unknown scenario "nope"`},
		{name: "bad timeout", args: []string{"--timeout", "5"}, errKind: "flag", errText: `invalid argument "5"`},
		{name: "stray argument", args: []string{"127.0.0.1"}, errKind: "usage", errText: "takes no arguments"},
		{name: "help", args: []string{"--help"}, errKind: "help"},
	})
}

// TestExitCode: the one map from errors to exit codes, joined errors
// included (the largest code wins).
func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"usage", usagef("no capture file given"), exitUsage},
		{"check failed", &checkFailed{2}, exitCheck},
		{"input and check failed", errors.Join(&checkFailed{1}, &damaged{"x.pcap", errors.New("frame 6")}), exitInput},
		{"bind", &greet.StepError{Step: greet.StepBind}, exitBind},
		{"refused", &greet.StepError{Step: greet.StepConnect, Cause: greet.CauseRefused}, exitRefused},
		{"timeout", &greet.StepError{Step: greet.StepRead, Cause: greet.CauseTimeout}, exitTimeout},
		{"reset", &greet.StepError{Step: greet.StepRead}, exitIO},
		{"shown keeps its code", &shown{&greet.StepError{Step: greet.StepBind}}, exitBind},
		{"capture", &captureError{errors.New("no such interface")}, exitCapture},
		{"SIGINT beats the rest", errors.Join(&damaged{"x", errors.New("y")}, &signalled{syscall.SIGINT}), 130},
		{"SIGTERM", &signalled{syscall.SIGTERM}, 143},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestTcpdumpStyle: a command line that starts with a flag is read as
// tcpdump reads it.
func TestTcpdumpStyle(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-r", "f.pcap"}, "read"},
		{[]string{"-nr", "f.pcap"}, "read"},
		{[]string{"--format", "json", "-r", "f.pcap"}, "read"},
		{[]string{"--read=f.pcap"}, "read"},
		{[]string{"--summary", "f.pcap"}, "read"},
		{[]string{"-i", "eth0", "tcp", "port", "80"}, "live"},
		{[]string{"-nni", "eth0"}, "live"},
		{[]string{"-c", "10", "--interface", "lo"}, "live"},
		{[]string{"-D"}, "interfaces"},
		{[]string{"--list-interfaces"}, "interfaces"},
	} {
		if got := tcpdumpStyle(tc.args); got != tc.want {
			t.Errorf("tcpdumpStyle(%q) = %s, want %s", tc.args, got, tc.want)
		}
	}
}

// TestVersion: synack version and --version name synack's build, Go,
// gopacket and libpcap.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, stderr := runCLI(args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, want := range []string{"synack ", "revision ", "go1.", "gopacket v1.1.19", "libpcap version "} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out)
			}
		}
	}
}

// TestUsageErrorsSayWhere: every command, given an unknown flag or a bad
// value, exits 2 and says which flag, pointing at its --help (pflag,
// asked to continue on errors, printed nothing before).
func TestUsageErrorsSayWhere(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"read", "--bogus", "f.pcap"}, "synack read: unknown flag: --bogus"},
		{[]string{"read", "-j", "x", "f.pcap"}, `synack read: invalid argument "x" for "-j, --jobs" flag`},
		{[]string{"check", "--bogus"}, "synack check: unknown flag: --bogus"},
		{[]string{"check", "f.pcap", "-e", "rst=0", "--junit"}, "synack check: flag needs an argument: --junit"},
		{[]string{"live", "--bogus"}, "synack live: unknown flag: --bogus"},
		{[]string{"live", "-c", "abc"}, `synack live: invalid argument "abc" for "-c, --count" flag`},
		{[]string{"demo", "--bogus"}, "synack demo: unknown flag: --bogus"},
		{[]string{"demo", "--port", "x"}, `synack demo: invalid argument "x" for "--port" flag`},
		{[]string{"serve", "--bogus"}, "synack serve: unknown flag: --bogus"},
		{[]string{"serve", "--timeout", "x"}, `synack serve: invalid argument "x" for "--timeout" flag`},
		{[]string{"connect", "--bogus"}, "synack connect: unknown flag: --bogus"},
		{[]string{"connect", "--max-read", "x"}, `synack connect: invalid argument "x" for "--max-read" flag`},
		{[]string{"interfaces", "--bogus"}, `synack interfaces: takes no arguments (got "--bogus")`},
		{[]string{"version", "--bogus"}, `synack version: takes no arguments (got "--bogus")`},
		{[]string{"-r"}, "synack read: flag needs an argument: 'r' in -r"},
	} {
		code, _, stderr := runCLI(tc.args...)
		cmd := strings.Fields(tc.want)[1]
		cmd = strings.TrimSuffix(cmd, ":")
		if code != exitUsage || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, `Run "synack `+cmd+` --help" for its flags.`) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q with a pointer to --help", tc.args, code, stderr, tc.want)
		}
	}
}

func TestParseVersionFlags(t *testing.T) {
	checkParse(t, parseVersionFlags, []flagCase[versionFlags]{
		{name: "none", args: nil},
		{name: "stray argument", args: []string{"-v"}, errKind: "usage", errText: "takes no arguments"},
		{name: "help", args: []string{"--help"}, errKind: "help"},
	})
}
