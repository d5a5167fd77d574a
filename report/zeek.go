package report

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
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
func zeekUID(c *decode.Conn) string { return string(appendZeekUID(nil, c)) }

// appendZeekUID appends zeekUID(c).
func appendZeekUID(b []byte, c *decode.Conn) []byte {
	// What fmt.Fprintf(h, "%d %s %s %d", FirstSeen.UnixNano(), Client,
	// Server, ID) writes, appended.
	var in [128]byte
	k := strconv.AppendInt(in[:0], c.FirstSeen.UnixNano(), 10)
	k = append(k, ' ')
	k = appendAddrPort(k, c.Client)
	k = append(k, ' ')
	k = appendAddrPort(k, c.Server)
	k = append(k, ' ')
	k = strconv.AppendUint(k, c.ID, 10)
	var sum [16]byte
	hi, lo := fnv128a(k)
	binary.BigEndian.PutUint64(sum[:8], hi)
	binary.BigEndian.PutUint64(sum[8:], lo)
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	n := len(b)
	b = grow(b, 18)
	uid := b[n:]
	uid[0] = 'C'
	for i := 1; i < len(uid); i++ { // 17 characters from 16 bytes: the first byte serves twice
		uid[i] = digits[(int(sum[(i-1)%len(sum)])+i)%62]
	}
	return b
}

// fnv128a is hash/fnv's New128a sum of k, high and low halves: the
// same loop with the state in two variables rather than behind the
// hash's pointer (a store and a load a byte), three times as fast.
func fnv128a(k []byte) (hi, lo uint64) {
	hi, lo = 0x6c62272e07bb0142, 0x62b821756295c58d // the offset basis
	for _, c := range k {
		lo ^= uint64(c)
		// Times the prime, 2^88 + 0x13b, mod 2^128: lo*0x13b in full,
		// plus lo*2^88 and hi*0x13b in the high half.
		h, l := bits.Mul64(0x13b, lo)
		hi, lo = h+lo<<24+0x13b*hi, l
	}
	return hi, lo
}

// appendAddrPort and appendAddr append what String returns.
func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	if !ap.Addr().IsValid() {
		return append(b, ap.String()...)
	}
	return ap.AppendTo(b)
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, a.String()...)
	}
	return a.AppendTo(b)
}

// appendZeekRow appends c's conn.log row, as
// "%s\t%s\t%s\t%d\t%s\t%d\t%s\t-\t%s\t%s\t%s\t%s\t-\t-\t0\t%s\t%d\t%d\t%d\t%d\t-\n"
// would write it.
func appendZeekRow(b []byte, c *decode.Conn) []byte {
	tab := func(b []byte) []byte { return append(b, '\t') }
	b = append(b, epochSeconds(c.FirstSeen, 6)...)
	b = appendZeekUID(tab(b), c)
	b = appendAddr(tab(b), c.Client.Addr().Unmap())
	b = strconv.AppendUint(tab(b), uint64(c.Client.Port()), 10)
	b = appendAddr(tab(b), c.Server.Addr().Unmap())
	b = strconv.AppendUint(tab(b), uint64(c.Server.Port()), 10)
	b = append(tab(b), c.Proto.String()...)
	b = append(b, "\t-\t"...)
	// Zeek sets duration, orig_bytes and resp_bytes only for a duration
	// above 0 (set_conn in base/protocols/conn/main.zeek).
	if d := c.ZeekDuration; d > 0 {
		b = strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64)
		b = strconv.AppendUint(tab(b), c.ZeekBytes[decode.Client], 10)
		b = strconv.AppendUint(tab(b), c.ZeekBytes[decode.Server], 10)
	} else {
		b = append(b, "-\t-\t-"...)
	}
	b = append(tab(b), c.ConnState.String()...)
	b = append(b, "\t-\t-\t0\t"...)
	if c.History == "" {
		b = append(b, '-')
	} else {
		b = append(b, c.History...)
	}
	b = strconv.AppendUint(tab(b), c.Packets[decode.Client], 10)
	b = strconv.AppendUint(tab(b), c.IPBytes[decode.Client], 10)
	b = strconv.AppendUint(tab(b), c.Packets[decode.Server], 10)
	b = strconv.AppendUint(tab(b), c.IPBytes[decode.Server], 10)
	return append(b, "\t-\n"...)
}
