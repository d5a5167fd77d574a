package report_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"synack/decode"
	"synack/pipeline"
	"synack/report"
)

// TestJSONWriterMatchesEncodingJSON holds the hand-written JSON encoder
// to encoding/json's bytes for every connection of every fixture, indented
// (the document) and compact (NDJSON).
func TestJSONWriterMatchesEncodingJSON(t *testing.T) {
	files, err := filepath.Glob("../fixtures/*.pcap*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".json") {
			continue
		}
		rep, _ := pipeline.ReadFile(context.Background(), f, pipeline.Options{Decode: decode.Config{UDP: true}})
		if rep == nil {
			continue
		}
		// One writer per file and layout, as a document has: what it
		// keeps from one connection to the next is checked too.
		writers := []*report.JSONWriter{report.NewJSONWriter(true), report.NewJSONWriter(false)}
		for _, c := range rep.Conns {
			for _, jw := range writers {
				indent := jw == writers[0]
				std, hand, err := jw.ConnBoth(c)
				if err != nil {
					t.Fatalf("%s conn %d: %v", f, c.ID, err)
				}
				if !bytes.Equal(std, hand) {
					t.Fatalf("%s conn %d (indent %v):\nencoding/json:\n%s\nhand-written:\n%s", f, c.ID, indent, std, hand)
				}
				n++
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d connections compared", n)
	}
}

func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "\x00\x01\x08\x0c\n\r\t\x1b\x1f\x7f",
		"<script>&amp;</script>", "caf\u00e9 \u202e bidi", "line\u2028para\u2029end",
		"bad \xff\xfe utf-8 \xc3", "\xe2\x80", "emoji \U0001F600", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		std, hand := report.JSONStringBoth(s)
		if !bytes.Equal(std, hand) {
			t.Errorf("%q: encoding/json %s, hand-written %s", s, std, hand)
		}
	}
}
