package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"all hold", []string{"check", "fixtures/greeting.pcap", "fixtures/ipv6.pcap", "-e", "connections=1", "-e", "verdict=complete",
			"-e", "handshake.complete", "-e", "rst=0", "-e", "conn_state=SF", "-e", "syn_to_synack<5ms", "-e", "retransmission=0"},
			exitOK, []string{"14 passed, 0 failed"}, ""},
		{"failures name file, connection, expected and actual", []string{"check", "fixtures/reset.pcap", "fixtures/greeting.pcap",
			"-e", "verdict=complete", "-e", "rst=0"}, exitCheck,
			[]string{"FAIL  fixtures/reset.pcap: verdict=complete", "connection 1 127.0.0.1:53328 → 127.0.0.1:12347: expected verdict=complete, actual verdict=reset",
				"FAIL  fixtures/reset.pcap: rst=0", "actual rst=1", "2 passed, 2 failed"}, ""},
		{"where selects connections", []string{"check", "fixtures/port-reuse.pcap", "--where", "verdict=complete", "-e", "connections=2",
			"-e", "history=ShAdfFa"}, exitOK, []string{"2 passed, 0 failed"}, ""},
		{"where with CIDR", []string{"check", "fixtures/raw.pcap", "--where", "client.ip=2001:db8::/32", "-e", "connections=1", "-e", "server.port=443"},
			exitOK, []string{"2 passed"}, ""},
		{"nothing selected fails a per-connection expectation", []string{"check", "fixtures/greeting.pcap", "--where", "server.port=1",
			"-e", "verdict=complete"}, exitCheck, []string{"no connection to check"}, ""},
		{"bad expression points at the token", []string{"check", "fixtures/greeting.pcap", "-e", "syn_to_synack<5"}, exitUsage, nil,
			"syn_to_synack wants a duration with a unit (e.g. 5ms), not \"5\"\n  syn_to_synack<5\n                ^"},
		{"connections in --where", []string{"check", "fixtures/greeting.pcap", "--where", "connections>1", "-e", "rst=0"}, exitUsage, nil,
			"use it with --expect, not --where"},
		{"no expectation", []string{"check", "fixtures/greeting.pcap"}, exitUsage, nil, "at least one capture file and one --expect"},
		{"unreadable capture", []string{"check", "fixtures/truncated.pcap", "-e", "rst=0"}, exitInput, nil, "reading stopped at frame 6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
		})
	}
}

func TestCheckJUnit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	code, _, stderr := runCLI("check", "fixtures/greeting.pcap", "fixtures/refused.pcap", "-e", "verdict=complete", "-e", "connections>=1", "--junit", path)
	if code != exitCheck {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, data)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Tests != 2 || doc.Suites[0].Failures != 0 || doc.Suites[1].Failures != 1 {
		t.Fatalf("suites: %+v", doc.Suites)
	}
	if f := doc.Suites[1].Cases[0].Failure; f == nil || !strings.Contains(f.Message, "actual verdict=refused") {
		t.Errorf("refused.pcap verdict=complete: %+v", doc.Suites[1].Cases[0])
	}
}

// TestCheckJUnitSchema writes JUnit for captures that pass, fail, are
// missing and are truncated, and checks it against what the Jenkins xunit
// plugin's JUnit schema (junit-10.xsd) and Ant's require: testsuite's
// name, tests, failures and errors attributes; time as SUREFIRE_TIME;
// testcase's name; a capture that cannot be read is a testsuite with an
// <error> case naming the cause (it vanished before); classnames carry no
// dots or slashes from the path.
func TestCheckJUnitSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	missing := filepath.Join(t.TempDir(), "missing.pcap")
	code, out, _ := runCLI("check", "fixtures/greeting.pcap", "fixtures/refused.pcap", missing, "fixtures/truncated.pcap",
		"-e", "verdict=complete", "--junit", path)
	if code != exitInput || !strings.Contains(out, "1 passed, 1 failed, 2 captures not read") {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type fault struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
	}
	var doc struct {
		XMLName  xml.Name
		Tests    string `xml:"tests,attr"`
		Failures string `xml:"failures,attr"`
		Errors   string `xml:"errors,attr"`
		Time     string `xml:"time,attr"`
		Suites   []struct {
			Attrs []xml.Attr `xml:",any,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *fault `xml:"failure"`
				Error     *fault `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, data)
	}
	surefireTime := regexp.MustCompile(`^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$`)
	if doc.XMLName.Local != "testsuites" || doc.Tests != "4" || doc.Failures != "1" || doc.Errors != "2" || !surefireTime.MatchString(doc.Time) {
		t.Errorf("testsuites: %s tests=%s failures=%s errors=%s time=%s", doc.XMLName.Local, doc.Tests, doc.Failures, doc.Errors, doc.Time)
	}
	if len(doc.Suites) != 4 {
		t.Fatalf("%d suites, want one per capture:\n%s", len(doc.Suites), data)
	}
	for i, s := range doc.Suites {
		attrs := map[string]string{}
		for _, a := range s.Attrs {
			attrs[a.Name.Local] = a.Value
		}
		for _, required := range []string{"name", "tests", "failures", "errors", "time", "timestamp", "hostname"} {
			if _, ok := attrs[required]; !ok {
				t.Errorf("suite %d lacks %s", i, required)
			}
		}
		if !surefireTime.MatchString(attrs["time"]) {
			t.Errorf("suite %d: time %q is not a SUREFIRE_TIME", i, attrs["time"])
		}
		for _, c := range s.Cases {
			if c.Name == "" || !surefireTime.MatchString(c.Time) || strings.ContainsAny(strings.TrimPrefix(c.Classname, "synack_check."), "./") {
				t.Errorf("suite %d: case %+v", i, c)
			}
		}
	}
	for i, want := range []string{"", "expectation", "input", "input"} {
		c := doc.Suites[i].Cases[0]
		switch {
		case want == "" && (c.Failure != nil || c.Error != nil),
			want == "expectation" && (c.Failure == nil || c.Failure.Type != want),
			want == "input" && (c.Error == nil || c.Error.Type != want || c.Error.Message == ""):
			t.Errorf("suite %d: %+v, want %q", i, c, want)
		}
	}
	if e := doc.Suites[2].Cases[0].Error; e == nil || !strings.Contains(e.Message, "no such file") {
		t.Errorf("the missing capture's error does not say why: %+v", e)
	}
}

// TestCheckListsLowestIDs: check evaluates connections as they are handed
// over, keeping none: of the connections that break an expectation it
// lists the 100 with the lowest IDs, in ID order, and counts the rest;
// --max-conns caps the connections held, as for read, without changing
// what is counted.
func TestCheckListsLowestIDs(t *testing.T) {
	pcap := filepath.Join(t.TempDir(), "syns.pcap")
	writeSYNFlood(t, pcap, 250)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		not    []string
	}{
		{"failures past 100 are counted", []string{"-e", "verdict=complete"}, exitCheck,
			[]string{"FAIL  ", "connection 1 ", "connection 100 ", "… and 150 more connections (the 100 with the lowest IDs are listed)", "0 passed, 1 failed"},
			[]string{"connection 101 "}},
		{"one more", []string{"--where", "client.port<=1124", "-e", "verdict=complete"}, exitCheck,
			[]string{"connection 100 ", "… and 1 more connection (the 100"}, []string{"connection 101 "}},
		{"under a cap of 10", []string{"--max-conns", "10", "-e", "connections=250", "-e", "verdict=no-answer"}, exitOK,
			[]string{"2 passed, 0 failed"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(append([]string{"check", pcap}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %.3000s\nstderr: %s", code, tc.code, out, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%.3000s", s, out)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%.3000s", s, out)
				}
			}
			for i := 1; i < 100 && tc.code == exitCheck; i++ {
				a, b := strings.Index(out, fmt.Sprintf("connection %d ", i)), strings.Index(out, fmt.Sprintf("connection %d ", i+1))
				if a < 0 || b < a {
					t.Fatalf("connection %d not listed before connection %d:\n%.3000s", i, i+1, out)
				}
			}
		})
	}
}
