package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
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
