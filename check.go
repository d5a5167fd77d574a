package main

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
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
}

type checkFlags struct {
	files   []string
	expects []string
	where   []string
	junit   string
	filter  string
	verbose bool
}

func checkFlagSet(f *checkFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.StringArrayVarP(&f.expects, "expect", "e", nil, "an expectation, e.g. 'verdict=complete' or 'syn_to_synack<5ms'; repeatable")
	fs.StringArrayVar(&f.where, "where", nil, "check only the connections where this holds, e.g. 'server.port=443'; repeatable")
	fs.StringVar(&f.junit, "junit", "", "also write the results as JUnit XML to this file")
	fs.StringVarP(&f.filter, "filter", "f", "", "BPF filter in tcpdump syntax")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "list the expectations that hold too")
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
		rep, err := pipeline.ReadFile(ctx, name, pipeline.Options{Filter: f.filter, Decode: decode.Config{DropEvents: true}})
		if err == nil && rep.Err != nil {
			err = &damaged{rep.Source, rep.Err}
		}
		if err != nil {
			errs = append(errs, err)
			if fatal(err) || ctx.Err() != nil {
				break
			}
			continue
		}
		conns := expect.Select(rep.Conns, where)
		for _, e := range exprs {
			r := evaluate(name, e, conns)
			r.elapsed = time.Since(start)
			results = append(results, r)
			printResult(stdout, &r, f.verbose)
		}
	}
	failed := 0
	for _, r := range results {
		if len(r.failures) > 0 {
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", len(results)-failed, failed)
	if f.junit != "" {
		if err := writeJUnit(f.junit, results); err != nil {
			errs = append(errs, err)
		}
	}
	if failed > 0 {
		errs = append(errs, &checkFailed{failed})
	}
	return errors.Join(errs...)
}

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
			fmt.Fprintf(w, "ok    %s: %s\n", report.Name(r.file), r.expr.Text)
		}
		return
	}
	fmt.Fprintf(w, "FAIL  %s: %s\n", report.Name(r.file), r.expr.Text)
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
