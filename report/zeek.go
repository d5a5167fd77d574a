package report

import (
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"time"

	"synack/decode"
)

// zeekFields are conn.log's columns, in Zeek's order, with their types.
var zeekFields = [][2]string{
	{"ts", "time"}, {"uid", "string"}, {"id.orig_h", "addr"}, {"id.orig_p", "port"}, {"id.resp_h", "addr"},
	{"id.resp_p", "port"}, {"proto", "enum"}, {"service", "string"}, {"duration", "interval"},
	{"orig_bytes", "count"}, {"resp_bytes", "count"}, {"conn_state", "string"}, {"local_orig", "bool"},
	{"local_resp", "bool"}, {"missed_bytes", "count"}, {"history", "string"}, {"orig_pkts", "count"},
	{"orig_ip_bytes", "count"}, {"resp_pkts", "count"}, {"resp_ip_bytes", "count"}, {"tunnel_parents", "set[string]"},
}

const zeekTimeFormat = "2006-01-02-15-04-05"

// Zeek writes the connections as a Zeek conn.log (TSV with Zeek's header
// lines), which zeek-cut and Zeek's log readers take. Fields synack does
// not know (service, local_orig, local_resp, tunnel_parents) are unset
// ("-"); missed_bytes is 0 since synack does not reassemble. #open and
// #close carry the capture's first and last packet times so that the log
// is reproducible.
func Zeek(w io.Writer, c *Capture) error { return Whole(NewZeek(w), c) }

// zeekHeader writes the conn.log's header lines; first is the capture's
// first packet time.
func zeekHeader(w io.Writer, first time.Time) {
	fmt.Fprintf(w, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n")
	fmt.Fprintf(w, "#open\t%s\n#fields", zeekStamp(first))
	for _, f := range zeekFields {
		fmt.Fprintf(w, "\t%s", f[0])
	}
	fmt.Fprintf(w, "\n#types")
	for _, f := range zeekFields {
		fmt.Fprintf(w, "\t%s", f[1])
	}
	fmt.Fprintln(w)
}

// zeekStamp formats #open and #close, whose strftime form has four-digit
// years: a time outside 0000–9999 is clamped to that range.
func zeekStamp(t time.Time) string {
	t = t.UTC()
	switch first, last := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC); {
	case t.Before(first):
		t = first
	case t.After(last):
		t = last
	}
	return t.Format(zeekTimeFormat)
}

// zeekUID makes a connection's uid: 'C' and 17 base62 characters, as
// Zeek's look, derived from the connection so that it is reproducible.
func zeekUID(c *decode.Conn) string {
	h := fnv.New128a()
	fmt.Fprintf(h, "%d %s %s %d", c.FirstSeen.UnixNano(), c.Client, c.Server, c.ID)
	sum := h.Sum(nil)
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := []byte("C00000000000000000")
	for i := 1; i < len(b); i++ { // 17 characters from 16 bytes: the first byte serves twice
		b[i] = digits[(int(sum[(i-1)%len(sum)])+i)%62]
	}
	return string(b)
}

func zeekRow(w io.Writer, c *decode.Conn) {
	// Zeek sets duration, orig_bytes and resp_bytes only for a duration
	// above 0 (set_conn in base/protocols/conn/main.zeek).
	duration, origBytes, respBytes := "-", "-", "-"
	if d := c.ZeekDuration; d > 0 {
		duration = fmt.Sprintf("%.6f", d.Seconds())
		origBytes, respBytes = strconv.FormatUint(c.ZeekBytes[decode.Client], 10), strconv.FormatUint(c.ZeekBytes[decode.Server], 10)
	}
	history := c.History
	if history == "" {
		history = "-"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t-\t%s\t%s\t%s\t%s\t-\t-\t0\t%s\t%d\t%d\t%d\t%d\t-\n",
		epochSeconds(c.FirstSeen, 6), zeekUID(c),
		c.Client.Addr().Unmap(), c.Client.Port(), c.Server.Addr().Unmap(), c.Server.Port(), c.Proto,
		duration, origBytes, respBytes, c.ConnState, history,
		c.Packets[decode.Client], c.IPBytes[decode.Client], c.Packets[decode.Server], c.IPBytes[decode.Server])
}
