package main

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"synack/decode"
	"synack/expect"
	"synack/pipeline"
	"synack/report"
)

// checkResult is one expectation on one capture.
type checkResult struct {
	file     string
	expr     *expect.Expr
	failures []string // one per connection that broke it
	elapsed  time.Duration
	err      error // the capture could not be read (expr is nil)
}

type checkFlags struct {
	files    []string
	expects  []string
	where    []string
	junit    string
	filter   string
	verbose  bool
	maxConns int
}

func checkFlagSet(f *checkFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.StringArrayVarP(&f.expects, "expect", "e", nil, "an expectation, e.g. 'verdict=complete' or 'syn_to_synack<5ms'; repeatable")
	fs.StringArrayVar(&f.where, "where", nil, "check only the connections where this holds, e.g. 'server.port=443'; repeatable")
	fs.StringVar(&f.junit, "junit", "", "also write the results as JUnit XML to this file")
	fs.StringVarP(&f.filter, "filter", "f", "", "BPF filter in tcpdump syntax")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "list the expectations that hold too")
	fs.IntVar(&f.maxConns, "max-conns", decode.DefaultMaxConns, maxConnsUsage)
	return fs
}

func checkHelp() string {
	return helpText(fmt.Sprintf("usage: synack check FILE... --expect EXPR... [--where EXPR...] [--junit FILE]\n\n"+
		"EXPR is FIELD OP VALUE with OP one of = != < <= > >=, or a yes/no FIELD alone.\nFields: %s\n\n"+
		"Exit codes: 0 all hold, 1 some failed, 2 usage error, 3 input error.\n",
		strings.Join(expect.Fields(), ", ")), checkFlagSet(new(checkFlags)))
}

func parseCheckFlags(args []string) (checkFlags, error) {
	var f checkFlags
	fs := checkFlagSet(&f)
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	f.files = fs.Args()
	if len(f.files) == 0 || len(f.expects) == 0 {
		return f, usagef("give at least one capture file and one --expect")
	}
	if _, err := parseExprs("--expect", f.expects, true); err != nil {
		return f, err
	}
	_, err := parseWhere(f.where)
	return f, err
}

func runCheck(ctx context.Context, f checkFlags, stdout, stderr io.Writer) error {
	exprs, err := parseExprs("--expect", f.expects, true)
	if err != nil {
		return err
	}
	where, err := parseWhere(f.where)
	if err != nil {
		return err
	}
	var errs []error
	var results []checkResult
	for _, name := range f.files {
		start := time.Now()
		k := newChecker(exprs, where)
		rep, err := pipeline.ReadFile(ctx, name, pipeline.Options{Filter: f.filter,
			Decode: decode.Config{DropEvents: true, Recycle: true, MaxConns: f.maxConns}, Sink: k})
		if err == nil && rep.Err != nil {
			err = &damaged{rep.Source, rep.Err}
		}
		if err != nil {
			errs = append(errs, err)
			// The capture is a test that could not run: JUnit's <error>.
			results = append(results, checkResult{file: name, err: err, elapsed: time.Since(start)})
			if fatal(err) || ctx.Err() != nil {
				break
			}
			continue
		}
		for i := range exprs {
			r := k.result(name, i)
			r.elapsed = time.Since(start)
			results = append(results, r)
			printResult(stdout, &r, f.verbose)
		}
	}
	failed, unread := 0, 0
	for _, r := range results {
		switch {
		case r.err != nil:
			unread++
		case len(r.failures) > 0:
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed", len(results)-failed-unread, failed)
	if unread > 0 {
		fmt.Fprintf(stdout, ", %d %s not read", unread, map[bool]string{true: "capture", false: "captures"}[unread == 1])
	}
	fmt.Fprintln(stdout)
	if f.junit != "" {
		if err := writeJUnit(f.junit, results, time.Now()); err != nil {
			errs = append(errs, err)
		}
	}
	if failed > 0 {
		errs = append(errs, &checkFailed{failed})
	}
	return errors.Join(errs...)
}

// maxConnsUsage is --max-conns, for read and check.
const maxConnsUsage = "connections held at once; past it the least recently active are handed over early (-1: no cap)"

// maxListed is how many connections that broke an expectation check
// lists per capture: those with the lowest IDs, in ID order, and then how
// many more there were. So a report, and the memory it takes, stay small
// however many connections fail.
const maxListed = 100

// checker evaluates expectations over the connections of one capture as
// the decoder hands them over (a decode.Sink), keeping none of them: for
// each expectation, the failures it lists (maxListed) and counts.
type checker struct {
	exprs    []*expect.Expr
	where    []*expect.Expr
	selected int // connections where every where-expression holds
	failed   []failures
	arrived  uint64
}

// failures are the connections that broke one expectation: the maxListed
// with the lowest IDs, in a heap with the highest on top, and a count.
type failures struct {
	listed []failure
	n      int
}

type failure struct {
	id      uint64
	arrived uint64 // records of one connection (Resumed) keep their order
	text    string
}

func newChecker(exprs, where []*expect.Expr) *checker {
	return &checker{exprs: exprs, where: where, failed: make([]failures, len(exprs))}
}

// Conn evaluates every expectation on c; nothing of c is kept.
func (k *checker) Conn(c *decode.Conn) {
	if !expect.Match(c, k.where) {
		return
	}
	k.selected++
	for i, e := range k.exprs {
		if e.Capture() {
			continue
		}
		ok, actual := e.Eval(c)
		if ok {
			continue
		}
		f := &k.failed[i]
		f.n++
		k.arrived++
		if len(f.listed) == maxListed && c.ID >= f.listed[0].id {
			continue // a connection with a lower ID failed already: not listed
		}
		text := fmt.Sprintf("connection %d %s → %s: expected %s, actual %s=%s",
			c.ID, c.Client, c.Server, e.Text, e.Field, report.Escape([]byte(actual)))
		heap.Push(f, failure{c.ID, k.arrived, text})
		if len(f.listed) > maxListed {
			heap.Pop(f)
		}
	}
}

// failures is a heap (container/heap) with the highest ID on top.
func (f *failures) Len() int { return len(f.listed) }
func (f *failures) Less(i, j int) bool {
	a, b := f.listed[i], f.listed[j]
	return a.id > b.id || a.id == b.id && a.arrived > b.arrived
}
func (f *failures) Swap(i, j int) { f.listed[i], f.listed[j] = f.listed[j], f.listed[i] }
func (f *failures) Push(x any)    { f.listed = append(f.listed, x.(failure)) }
func (f *failures) Pop() any {
	last := f.listed[len(f.listed)-1]
	f.listed = f.listed[:len(f.listed)-1]
	return last
}

// result is the outcome of expectation i on the capture read, file.
func (k *checker) result(file string, i int) checkResult {
	e := k.exprs[i]
	r := checkResult{file: file, expr: e}
	if e.Capture() {
		if ok, actual := e.Count(k.selected); !ok {
			r.failures = append(r.failures, fmt.Sprintf("expected %s, actual %s", e.Text, actual))
		}
		return r
	}
	if k.selected == 0 {
		r.failures = append(r.failures, "no connection to check")
	}
	f := &k.failed[i]
	slices.SortFunc(f.listed, func(a, b failure) int { // the heap is done with: reading has ended
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.arrived, b.arrived))
	})
	for _, l := range f.listed {
		r.failures = append(r.failures, l.text)
	}
	if more := f.n - len(f.listed); more > 0 {
		noun := "connections"
		if more == 1 {
			noun = "connection"
		}
		r.failures = append(r.failures, fmt.Sprintf("… and %d more %s (the %d with the lowest IDs are listed)", more, noun, maxListed))
	}
	return r
}

func printResult(w io.Writer, r *checkResult, verbose bool) {
	if len(r.failures) == 0 {
		if verbose {
			fmt.Fprintf(w, "ok    %s: %s\n", report.Name(r.file), r.expr.Text)
		}
		return
	}
	fmt.Fprintf(w, "FAIL  %s: %s\n", report.Name(r.file), r.expr.Text)
	for _, f := range r.failures {
		fmt.Fprintf(w, "        %s\n", f)
	}
}

// The JUnit document, with what the Ant and Jenkins (xunit) schemas
// require and dashboards show: per suite name, tests, failures, errors,
// time, timestamp and hostname; per case name, classname and time; a
// failed expectation is a <failure>, a capture that could not be read an
// <error>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Hostname  string      `xml:"hostname,attr"`
	Cases     []junitCase `xml:"testcase"`
	elapsed   time.Duration
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Error     *junitFailure `xml:"error"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitClass is a classname dashboards can group by: no dots (a package
// separator to them) and no slashes from the file's path.
func junitClass(file string) string {
	return "synack_check." + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, file)
}

// seconds is a duration as JUnit's time attribute writes it.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// writeJUnit writes one testsuite per file, one testcase per expectation,
// or one erroring testcase for a capture that could not be read.
func writeJUnit(path string, results []checkResult, now time.Time) error {
	host, _ := os.Hostname()
	doc := junitSuites{}
	index := map[string]int{}
	var total time.Duration
	for _, r := range results {
		i, ok := index[r.file]
		if !ok {
			i = len(doc.Suites)
			index[r.file] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: r.file, Timestamp: now.UTC().Format("2006-01-02T15:04:05"), Hostname: host})
		}
		s := &doc.Suites[i]
		tc := junitCase{Classname: junitClass(r.file), Time: seconds(r.elapsed)}
		switch {
		case r.err != nil:
			tc.Name = "read " + r.file
			tc.Error = &junitFailure{Message: r.err.Error(), Type: "input", Text: r.err.Error()}
			s.Errors++
		default:
			tc.Name = r.expr.Text
			if len(r.failures) > 0 {
				tc.Failure = &junitFailure{Message: r.failures[0], Type: "expectation", Text: strings.Join(r.failures, "\n")}
				s.Failures++
			}
		}
		s.Tests++
		s.elapsed = max(s.elapsed, r.elapsed) // a file's cases share one read
		s.Cases = append(s.Cases, tc)
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Time = seconds(s.elapsed)
		doc.Tests, doc.Failures, doc.Errors = doc.Tests+s.Tests, doc.Failures+s.Failures, doc.Errors+s.Errors
		total += s.elapsed
	}
	doc.Time = seconds(total)
	out, err := xml.MarshalIndent(&doc, "", "  ")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	data := append([]byte(xml.Header), append(out, '\n')...)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
