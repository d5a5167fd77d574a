package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"synack/decode"
	"synack/expect"
	"synack/report"
)

// checkResult is one expectation on one capture.
type checkResult struct {
	file     string
	expr     *expect.Expr
	failures []string // one per connection that broke it
	elapsed  time.Duration
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	var expects, wheres []string
	var junit, filter string
	var verbose bool
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringArrayVarP(&expects, "expect", "e", nil, "an expectation, e.g. 'verdict=complete' or 'syn_to_synack<5ms'; repeatable")
	fs.StringArrayVar(&wheres, "where", nil, "check only the connections where this holds, e.g. 'server.port=443'; repeatable")
	fs.StringVar(&junit, "junit", "", "also write the results as JUnit XML to this file")
	fs.StringVarP(&filter, "filter", "f", "", "BPF filter in tcpdump syntax")
	fs.BoolVarP(&verbose, "verbose", "v", false, "list the expectations that hold too")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: synack check FILE... --expect EXPR... [--where EXPR...] [--junit FILE]\n\n"+
			"EXPR is FIELD OP VALUE with OP one of = != < <= > >=, or a yes/no FIELD alone.\nFields: %s\n\n"+
			"Exit codes: 0 all hold, 1 some failed, 2 usage error, 3 input error.\n\nflags:\n%s",
			strings.Join(expect.Fields(), ", "), fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 || len(expects) == 0 {
		fmt.Fprintf(stderr, "synack check: give at least one capture file and one --expect\n")
		fs.Usage()
		return exitUsage
	}
	exprs, err := parseExprs("--expect", expects, true)
	if err == nil {
		_, err = parseWhere(wheres)
	}
	if err != nil {
		fmt.Fprintf(stderr, "synack check: %v\n", err)
		return exitUsage
	}
	where, _ := parseWhere(wheres)
	code := exitOK
	var results []checkResult
	for _, name := range fs.Args() {
		start := time.Now()
		rep, err := readCapture(name, filter, decode.Config{DropEvents: true})
		if err == nil && rep.Error != "" {
			err = fmt.Errorf("reading stopped at %s", rep.Error)
		}
		if err != nil {
			fmt.Fprintf(stderr, "synack check: %s: %v\n", name, err)
			code = exitInput
			continue
		}
		conns := expect.Select(rep.Conns, where)
		for _, e := range exprs {
			r := evaluate(name, e, conns)
			r.elapsed = time.Since(start)
			results = append(results, r)
			printResult(stdout, &r, verbose)
			if len(r.failures) > 0 && code == exitOK {
				code = exitCheck
			}
		}
	}
	failed := 0
	for _, r := range results {
		if len(r.failures) > 0 {
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", len(results)-failed, failed)
	if junit != "" {
		if err := writeJUnit(junit, results); err != nil {
			fmt.Fprintf(stderr, "synack check: %v\n", err)
			return exitInput
		}
	}
	return code
}

// parseExprs parses expressions given with flag; capture-level fields
// (connections) are allowed only where allowCapture says.
func parseExprs(flag string, texts []string, allowCapture bool) ([]*expect.Expr, error) {
	var out []*expect.Expr
	for _, t := range texts {
		e, err := expect.Parse(t)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flag, t, err)
		}
		if e.Capture() && !allowCapture {
			return nil, fmt.Errorf("%s %q: %s counts connections: use it with --expect, not %s", flag, t, e.Field, flag)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseWhere(texts []string) ([]*expect.Expr, error) { return parseExprs("--where", texts, false) }

func evaluate(file string, e *expect.Expr, conns []*decode.Conn) checkResult {
	r := checkResult{file: file, expr: e}
	if e.Capture() {
		if ok, actual := e.Count(len(conns)); !ok {
			r.failures = append(r.failures, fmt.Sprintf("expected %s, actual %s", e.Text, actual))
		}
		return r
	}
	if len(conns) == 0 {
		r.failures = append(r.failures, "no connection to check")
	}
	for _, c := range conns {
		if ok, actual := e.Eval(c); !ok {
			r.failures = append(r.failures, fmt.Sprintf("connection %d %s → %s: expected %s, actual %s=%s",
				c.ID, c.Client, c.Server, e.Text, e.Field, report.Escape([]byte(actual))))
		}
	}
	return r
}

func printResult(w io.Writer, r *checkResult, verbose bool) {
	if len(r.failures) == 0 {
		if verbose {
			fmt.Fprintf(w, "ok    %s: %s\n", r.file, r.expr.Text)
		}
		return
	}
	fmt.Fprintf(w, "FAIL  %s: %s\n", r.file, r.expr.Text)
	for _, f := range r.failures {
		fmt.Fprintf(w, "        %s\n", f)
	}
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one testsuite per file, one testcase per expectation.
func writeJUnit(path string, results []checkResult) error {
	var doc junitSuites
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.file]
		if !ok {
			i = len(doc.Suites)
			index[r.file] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: r.file})
		}
		s := &doc.Suites[i]
		tc := junitCase{Name: r.expr.Text, Classname: "synack.check." + r.file, Time: fmt.Sprintf("%.3f", r.elapsed.Seconds())}
		if len(r.failures) > 0 {
			tc.Failure = &junitFailure{Message: r.failures[0], Text: strings.Join(r.failures, "\n")}
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
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
