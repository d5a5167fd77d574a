package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("just some text\n"), 0o644)
	unsupported := filepath.Join(dir, "usb.pcap")
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 189, 0, 0, 0} // LINKTYPE_USB_LINUX
	os.WriteFile(unsupported, hdr, 0o644)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
		stdout string
	}{
		{"no command", nil, exitUsage, "usage:", ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`, ""},
		{"no file", []string{"read"}, exitUsage, "no capture file given", ""},
		{"missing file", []string{"read", filepath.Join(dir, "nope.pcap")}, exitInput, "nope.pcap: open " + dir + "/nope.pcap: no such file or directory", ""},
		{"not a capture", []string{"read", notCapture}, exitInput, "notes.txt: not a pcap or pcapng file (starts with 6a 75 73 74)", ""},
		{"unsupported link type", []string{"read", unsupported}, exitInput, "unsupported link type 189", ""},
		{"bad format", []string{"read", "--format", "xml", "fixtures/greeting.pcap"}, exitUsage, `unknown --format "xml"`, ""},
		{"bad filter", []string{"read", "fixtures/greeting.pcap", "-f", "tcp prot 80"}, exitUsage, `bad filter "tcp prot 80"`, ""},
		{"filter twice", []string{"read", "-f", "tcp", "fixtures/greeting.pcap", "port", "80"}, exitUsage, "either with -f or after the files", ""},
		{"truncated file", []string{"read", "fixtures/truncated.pcap"}, exitInput,
			"reading stopped at frame 6 (byte 424): truncated packet data (20 of 60 bytes); the report covers the frames before it",
			"totals: 1 connection (1 open) · 5 frames"},
		{"truncated file, JSON", []string{"read", "--format", "json", "fixtures/truncated.pcap"}, exitInput,
			"reading stopped at frame 6", `"error": "frame 6 (byte 424): truncated packet data (20 of 60 bytes)"`},
		{"truncated file, HTML", []string{"read", "--format", "html", "fixtures/truncated.pcap"}, exitInput,
			"reading stopped at frame 6", `<p class="why">incomplete: reading stopped at frame 6 (byte 424): truncated packet data (20 of 60 bytes)</p>`},
		{"truncated file, SVG", []string{"read", "--format", "svg", "fixtures/truncated.pcap"}, exitInput,
			"reading stopped at frame 6", `fill="#c62828">incomplete: reading stopped at frame 6 (byte 424): truncated packet data (20 of 60 bytes)</text>`},
		{"truncated file, Mermaid", []string{"read", "--format", "mermaid", "fixtures/truncated.pcap"}, exitInput,
			"reading stopped at frame 6", "```\n\n**incomplete**: `reading stopped at frame 6 (byte 424): truncated packet data (20 of 60 bytes)`\n"},
		{"HTML names the filter", []string{"read", "--format", "html", "fixtures/greeting.pcap", "tcp", "port", "12345"}, exitOK,
			"", `<p>pcap, EN10MB · filter &#34;tcp port 12345&#34; · <a href="#summary">`},
		{"one bad file among good ones", []string{"read", "--no-timeline", "fixtures/greeting.pcap", notCapture}, exitInput, "not a pcap", "1 complete"},
		{"help", []string{"read", "--help"}, exitOK, "", "usage: synack read"},
		{"unknown flag", []string{"read", "--bogus", "fixtures/greeting.pcap"}, exitUsage, "synack read: unknown flag: --bogus\nRun \"synack read --help\" for its flags.", ""},
		{"bad value", []string{"live", "-c", "abc"}, exitUsage, `synack live: invalid argument "abc" for "-c, --count" flag`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderr)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout does not contain %q:\n%s", tc.stdout, out)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"trailing filter like tcpdump", []string{"read", "fixtures/port-reuse.pcap", "fixtures/partial.pcap", "port", "443"}, "totals: 0 connections · 0 frames"},
		{"-f", []string{"read", "-f", "port 443", "fixtures/partial.pcap"}, "totals: 1 connection (1 partial) · 5 frames"},
		{"-r takes every argument as filter", []string{"-r", "fixtures/half-close.pcap", "tcp[tcpflags]", "&", "tcp-fin", "!=", "0"}, "· 2 frames"},
		{"SLL2 filter", []string{"read", "fixtures/any-sll2.pcap", "src", "port", "12351"}, "· 4 frames"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(append(tc.args, "--no-timeline")...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output does not contain %q:\n%s", tc.want, out)
			}
		})
	}
}

func TestReadStdin(t *testing.T) {
	f, err := os.Open("fixtures/dumpcap.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	code, out, stderr := runCLI("read", "--format", "json", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Schema string
		Source struct{ Name, Format string }
		Totals struct{ Connections int }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "synack/v1" || doc.Source.Name != "stdin" || doc.Source.Format != "pcapng" || doc.Totals.Connections != 1 {
		t.Errorf("%+v", doc)
	}
}

// TestNoRawBytesFromTheWire checks that a payload made of escape sequences,
// backspaces and invalid UTF-8 reaches neither the text nor the JSON output
// raw: the only control byte left is our own newline, and the text is valid
// UTF-8 with no bidi override.
func TestNoRawBytesFromTheWire(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		code, out, stderr := runCLI("read", "--format", format, "fixtures/hostile-payload.pcap")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for i, b := range []byte(out) {
			if (b < 0x20 && b != '\n') || b == 0x7f {
				t.Fatalf("%s output has raw byte %#x at %d", format, b, i)
			}
		}
		if !utf8.ValidString(out) || strings.Contains(out, "\u202e") {
			t.Fatalf("%s output carries raw bytes from the payload", format)
		}
		if !strings.Contains(out, `\x1b]0;pwned`) {
			t.Fatalf("%s output does not show the escaped payload", format)
		}
	}
}

// TestSyntheticFixturesAreReproducible regenerates the synthetic fixtures
// and compares them byte for byte with the committed ones.
func TestSyntheticFixturesAreReproducible(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./fixtures/synth", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	made, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(made) < 10 {
		t.Fatalf("synth wrote %d files", len(made))
	}
	for _, m := range made {
		got, _ := os.ReadFile(m)
		want, err := os.ReadFile(filepath.Join("fixtures", filepath.Base(m)))
		if err != nil {
			t.Errorf("%s is not committed: %v", filepath.Base(m), err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("fixtures/%s differs from what fixtures/synth writes", filepath.Base(m))
		}
	}
}

// TestParallelReadKeepsOrder reads several files with -j and expects the
// very same output and messages as one at a time.
func TestParallelReadKeepsOrder(t *testing.T) {
	files, _ := filepath.Glob("fixtures/*.pcap")
	for _, format := range []string{"text", "json", "ndjson", "summary", "zeek"} {
		args := []string{"read", "--format", format}
		if format == "summary" {
			args = []string{"read", "--summary"}
		}
		args = append(args, files...)
		code1, out1, err1 := runCLI(args...)
		codeN, outN, errN := runCLI(append(args, "-j", "3")...)
		if code1 != codeN || out1 != outN || err1 != errN {
			t.Errorf("%s: -j 3 differs from one at a time (exit %d/%d, %d/%d bytes)", format, code1, codeN, len(out1), len(outN))
		}
	}
}

// TestUntrustedNames: a file or interface name is as untrusted as the
// wire: one made of escape sequences, CR and LF, BEL and a bidi override
// reaches no terminal raw (text, check, warnings, errors) and keeps the
// SVG and HTML documents valid.
func TestUntrustedNames(t *testing.T) {
	data, err := os.ReadFile("fixtures/greeting.pcap")
	if err != nil {
		t.Fatal(err)
	}
	const evil = "x\x1b]0;pwned\x07\r\n\x1b[2J\u202e.pcap"
	const shown = `x\x1b]0;pwned\x07\x0d\x0a\x1b[2J\u202e.pcap`
	path := filepath.Join(t.TempDir(), evil)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), evil+"-missing")
	for _, tc := range []struct {
		name string
		args []string
		want string // where the name shows, escaped
	}{
		{"text", []string{"read", "--no-timeline", path}, shown},
		{"check", []string{"check", path, "-e", "rst>0"}, "FAIL  " + filepath.Dir(path) + "/" + shown},
		{"a missing file", []string{"read", missing}, shown + "-missing"},
		{"a missing interface", []string{"live", "-i", evil}, `x\x1b]0;pwned`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out, stderr := runCLI(tc.args...)
			all := out + stderr
			if strings.ContainsAny(strings.ReplaceAll(all, "\n", ""), "\x1b\x07\r\u202e") {
				t.Errorf("a raw control character reached the output:\n%q", all)
			}
			if !strings.Contains(all, tc.want) {
				t.Errorf("the name is not shown escaped (%s):\n%s", tc.want, all)
			}
		})
	}
	for _, format := range []string{"svg", "html"} {
		t.Run(format, func(t *testing.T) {
			code, out, stderr := runCLI("read", "--format", format, path)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if strings.ContainsAny(out, "\x1b\x07\r\u202e") {
				t.Errorf("a raw control character in the %s", format)
			}
			if format == "svg" {
				dec := xml.NewDecoder(strings.NewReader(out))
				for {
					_, err := dec.Token()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("the SVG is not XML: %v", err)
					}
				}
			}
		})
	}
}

// TestOneDocumentPerCapture: pictures of several captures are one
// document each, written to -o DIR (never one document after another on
// stdout), in the order and with the names of the captures.
func TestOneDocumentPerCapture(t *testing.T) {
	dir := t.TempDir()
	files := []string{"fixtures/greeting.pcap", "fixtures/refused.pcap", "fixtures/dumpcap.pcapng"}
	if code, _, stderr := runCLI(append([]string{"read", "--format", "svg"}, files...)...); code != exitUsage || !strings.Contains(stderr, "give -o DIR") {
		t.Errorf("without -o: exit %d, stderr %q", code, stderr)
	}
	for _, jobs := range []string{"1", "3"} {
		out := filepath.Join(dir, "j"+jobs)
		code, stdout, stderr := runCLI(append([]string{"read", "--format", "svg", "-j", jobs, "-o", out}, files...)...)
		if code != exitOK || stdout != "" {
			t.Fatalf("-j %s: exit %d, stdout %d bytes, stderr %q", jobs, code, len(stdout), stderr)
		}
		for _, name := range []string{"greeting.svg", "refused.svg", "dumpcap.svg"} {
			doc, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			var v struct{ XMLName xml.Name }
			if err := xml.Unmarshal(doc, &v); err != nil || v.XMLName.Local != "svg" || strings.Count(string(doc), "<svg") != 1 {
				t.Errorf("%s: not one SVG document: %v", name, err)
			}
		}
	}
}

// TestJSONOfSeveralCaptures: --format json over several captures is one
// JSON value json.load reads (an array of synack/v1 documents, in the
// order given, also under -j), not documents one after another.
func TestJSONOfSeveralCaptures(t *testing.T) {
	for _, args := range [][]string{
		{"read", "--format", "json", "fixtures/greeting.pcap", "fixtures/refused.pcap", "fixtures/missing.pcap", "fixtures/dumpcap.pcapng"},
		{"read", "--format", "json", "-j", "3", "fixtures/greeting.pcap", "fixtures/refused.pcap", "fixtures/missing.pcap", "fixtures/dumpcap.pcapng"},
		{"read", "--format", "json", "--summary", "fixtures/greeting.pcap", "fixtures/refused.pcap", "fixtures/missing.pcap", "fixtures/dumpcap.pcapng"},
	} {
		_, out, _ := runCLI(args...)
		var docs []struct {
			Schema string
			Source struct{ Name string }
		}
		if err := json.Unmarshal([]byte(out), &docs); err != nil {
			t.Fatalf("%v: not one JSON value: %v\n%s", args, err, out)
		}
		var names []string
		for _, d := range docs {
			names = append(names, d.Source.Name)
		}
		if strings.Join(names, " ") != "fixtures/greeting.pcap fixtures/refused.pcap fixtures/dumpcap.pcapng" || docs[0].Schema != "synack/v1" {
			t.Errorf("%v: documents %v", args, names)
		}
	}
}

// TestNDJSONLoads: NDJSON rows of several captures carry their source
// and a uid unique across captures, and a loader's avg() over a timing
// counts only what was measured (null, not 0, for a refused connection's
// SYN→SYN-ACK). The rows are loaded into SQLite through json_extract, and
// into DuckDB where it is installed.
func TestNDJSONLoads(t *testing.T) {
	files := []string{"fixtures/greeting.pcap", "fixtures/refused.pcap", "fixtures/demo-greeting.pcap"}
	code, out, stderr := runCLI(append([]string{"read", "-j", "3", "--format", "ndjson"}, files...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	uids := map[string]bool{}
	var sources []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var row struct {
			Type, Source, UID string
			Handshake         struct {
				SYNToSYNACK *int64 `json:"syn_to_synack_us"`
			}
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if row.Type != "connection" {
			continue
		}
		if row.UID == "" || uids[row.UID] {
			t.Errorf("uid %q missing or repeated", row.UID)
		}
		uids[row.UID] = true
		sources = append(sources, row.Source)
		if (row.Handshake.SYNToSYNACK == nil) != (row.Source == "fixtures/refused.pcap") {
			t.Errorf("%s: syn_to_synack_us %v", row.Source, row.Handshake.SYNToSYNACK)
		}

	}
	if strings.Join(sources, " ") != strings.Join(files, " ") {
		t.Errorf("sources %v, want %v", sources, files)
	}
	dir := t.TempDir()
	nd := filepath.Join(dir, "conns.ndjson")
	if err := os.WriteFile(nd, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if sqlite, err := exec.LookPath("sqlite3"); err != nil {
		t.Log("sqlite3 not installed: the SQLite load is not checked")
	} else {
		// One JSON object per row: .import in a mode without separators.
		got, err := exec.Command(sqlite, filepath.Join(dir, "conns.db"), "CREATE TABLE rows(j TEXT)", ".mode line", ".import "+nd+" rows",
			"SELECT count(*) AS n, count(json_extract(j, '$.handshake.syn_to_synack_us')) AS measured FROM rows WHERE json_extract(j, '$.type') = 'connection'").CombinedOutput()
		if err != nil || !strings.Contains(string(got), "n = 3") || !strings.Contains(string(got), "measured = 2") {
			t.Errorf("sqlite3: %v\n%s", err, got)
		}
	}
	duckdb, err := exec.LookPath("duckdb")
	if err != nil {
		t.Skip("duckdb not installed (no Debian package): the DuckDB load is not checked")
	}
	got, err := exec.Command(duckdb, "-csv", "-c", "SELECT count(*), count(handshake.syn_to_synack_us) FROM read_json_auto('"+nd+"') WHERE type = 'connection'").CombinedOutput()
	if err != nil || !strings.Contains(string(got), "3,2") {
		t.Errorf("duckdb: %v\n%s", err, got)
	}
}

// TestUDPShowsNoTCPColumns: a datagram has no sequence number, no
// acknowledgement and no window: the timeline leaves those columns blank
// instead of showing zeros a learner would take for TCP's.
func TestUDPShowsNoTCPColumns(t *testing.T) {
	code, out, stderr := runCLI("read", "--udp", "--color", "never", "fixtures/demo-udp.pcap")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var datagrams int
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "[udp]") {
			continue
		}
		datagrams++
		if f := strings.Fields(line); len(f) < 4 || f[2] != "datagram" || f[3] != "15" {
			t.Errorf("want time, arrow, flags, then the length alone: %q", line)
		}
	}
	if datagrams != 2 {
		t.Errorf("%d datagram lines:\n%s", datagrams, out)
	}
}

// TestAbsoluteSequenceNumbers: the connection header names each side's
// ISN, JSON carries them, and -S shows seq and ack as on the wire; the
// expected numbers are tshark's tcp.seq_raw and tcp.ack_raw for
// fixtures/greeting.pcap.
func TestAbsoluteSequenceNumbers(t *testing.T) {
	raw := [][2]string{{"1700102478", "0"}, {"1937064169", "1700102479"}, {"1700102479", "1937064170"}, {"1937064170", "1700102479"}}
	code, out, stderr := runCLI("read", "-S", "--color", "never", "fixtures/greeting.pcap")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "client ISN 1700102478 · server ISN 1937064169") {
		t.Errorf("no ISNs in the header:\n%s", out)
	}
	var seen int
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.Contains(line, "──") || seen >= len(raw) {
			continue
		}
		// time, [state], arrow, [state], flags, seq, ack, len, win, meaning…
		for i := range f {
			if f[i] == raw[seen][0] && i+1 < len(f) && f[i+1] == raw[seen][1] {
				seen++
				break
			}
		}
	}
	if seen != len(raw) {
		t.Errorf("only %d of the first %d segments show tshark's raw seq/ack:\n%s", seen, len(raw), out)
	}
	_, js, _ := runCLI("read", "--format", "json", "fixtures/greeting.pcap")
	var doc struct {
		Connections []struct {
			ISN struct{ Client, Server *uint32 }
		}
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc.Connections[0].ISN.Client == nil || *doc.Connections[0].ISN.Client != 1700102478 ||
		doc.Connections[0].ISN.Server == nil || *doc.Connections[0].ISN.Server != 1937064169 {
		t.Errorf("JSON isn: %v %+v", err, doc.Connections)
	}
}
