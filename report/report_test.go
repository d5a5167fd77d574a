package report

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"synack/decode"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Hello, Client!", "Hello, Client!"},
		{"GET / HTTP/1.1\r\n", `GET / HTTP/1.1\r\n`},
		{"\x1b[2J\x1b]0;title\x07", `\x1b[2J\x1b]0;title\x07`},
		{"a\bb\x7f", `a\x08b\x7f`},
		{"\xff\xfe", `\xff\xfe`},
		{"é", `\xc3\xa9`},
		{"\u202e", `\xe2\x80\xae`},
		{`quote " and \ backslash`, `quote \" and \\ backslash`},
		{"\t\x00", `\t\x00`},
	} {
		if got := Escape([]byte(tc.in)); got != tc.want {
			t.Errorf("Escape(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{850, "850ns"},
		{45 * time.Microsecond, "45µs"},
		{45499, "45µs"},
		{1234567, "1.235ms"},
		{2500 * time.Millisecond, "2.500s"},
		{0, "0ns"},
	} {
		if got := Duration(tc.d); got != tc.want {
			t.Errorf("Duration(%d) = %s, want %s", tc.d, got, tc.want)
		}
	}
}

func TestArrow(t *testing.T) {
	for _, tc := range []struct {
		d    decode.Dir
		f    decode.Flags
		want string
	}{
		{decode.ClientToServer, decode.SYN, "──[S]────────────────────▶"},
		{decode.ServerToClient, decode.SYN | decode.ACK, "◀───────────────────[S.]──"},
		{decode.ServerToClient, decode.FIN | decode.PSH | decode.ACK, "◀──────────────────[FP.]──"},
	} {
		got := Arrow(tc.d, tc.f)
		if got != tc.want {
			t.Errorf("Arrow(%s, %s) = %s, want %s", tc.d, tc.f, got, tc.want)
		}
		if width(got) != arrowWidth {
			t.Errorf("Arrow(%s, %s) is %d columns, want %d", tc.d, tc.f, width(got), arrowWidth)
		}
	}
}

func TestStyle(t *testing.T) {
	c := &decode.Conn{ID: 1}
	e := &decode.Event{Dir: decode.ServerToClient, Flags: decode.PSH | decode.ACK, Len: 400, Note: decode.NoteData,
		Anomalies: decode.Retransmission, ClientState: decode.Established, ServerState: decode.Established}
	plain := EventLine(c, e, nil, Style{})
	if strings.Contains(plain, "\x1b") || !strings.Contains(plain, "data [retransmission]") {
		t.Fatalf("plain line: %q", plain)
	}
	colored := EventLine(c, e, nil, Style{Color: true})
	if !strings.Contains(colored, "\x1b[1;31m[retransmission]\x1b[0m") || !strings.Contains(colored, "\x1b[35m◀") {
		t.Errorf("colour line: %q", colored)
	}
	if stripped := ansi.ReplaceAllString(colored, ""); stripped != plain {
		t.Errorf("colour changes the text:\n%q\n%q", stripped, plain)
	}
	narrow := EventLine(c, e, nil, Style{Width: 140})
	if width(narrow)+2 > 140 || !strings.HasSuffix(narrow, "…") {
		t.Errorf("a 140-column line is %d wide: %q", width(narrow)+2, narrow)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestFixedMatchesStrconv holds the integer formatting of times (the
// timeline's seconds, Duration's milliseconds and seconds) to what
// strconv.AppendFloat writes of the float, around every rounding edge
// and over a spread of values up to weeks.
func TestFixedMatchesStrconv(t *testing.T) {
	ds := []time.Duration{0, 1, 499, 500, 501, 999, 1000, 1499, 1500, 1501, 2500, 999_999, 1_000_000,
		1_000_499, 1_000_500, 1_000_501, 999_999_499, 999_999_500, 999_999_999, time.Second,
		1_499_999, 1_500_000, 1_500_001, 2_500_000, 9_999_999_500, 86400*time.Second + 500,
		1<<50 - 1, 1 << 50, 1<<62 + 12345, -1, -1500}
	x := uint64(0x9e3779b97f4a7c15)
	for range 200000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		d := time.Duration(x % (uint64(1) << (x % 53)))
		ds = append(ds, d, d/1000*1000+500, d/1e6*1e6+500_000, d/1e6*1e6+499_999)
	}
	for _, d := range ds {
		if got, want := string(appendSeconds(nil, d, 6)), strconv.FormatFloat(d.Seconds(), 'f', 6, 64); got != want {
			t.Fatalf("appendSeconds(%d, 6) = %s, want %s", d, got, want)
		}
		if got, want := string(appendSeconds(nil, d, 3)), strconv.FormatFloat(d.Seconds(), 'f', 3, 64); got != want {
			t.Fatalf("appendSeconds(%d, 3) = %s, want %s", d, got, want)
		}
		if d < time.Second && d >= time.Millisecond {
			if got, want := Duration(d), strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)+"ms"; got != want {
				t.Fatalf("Duration(%d) = %s, want %s", d, got, want)
			}
		}
	}
}

func TestUintCol(t *testing.T) {
	for _, v := range []uint64{0, 1, 9, 10, 99, 100, 101, 999, 1000, 65535, 1<<32 - 1, 1<<64 - 1, 12345678901} {
		for _, n := range []int{1, 6, 8, 10, 22} {
			if got, want := string(appendUintCol([]byte("x"), v, n)), fmt.Sprintf("x %*d", n, v); got != want {
				t.Errorf("appendUintCol(%d, %d) = %q, want %q", v, n, got, want)
			}
		}
	}
}

// TestDecimals holds appendUint, appendInt and us to strconv and
// time.Duration.Round at the edges of each width and over random values.
func TestDecimals(t *testing.T) {
	vals := []uint64{0, 1<<63 - 1, 1 << 63, 1<<64 - 1}
	for p := uint64(1); p <= 1e19; p *= 10 {
		vals = append(vals, p-1, p, p+1)
		if p == 1e19 {
			break
		}
	}
	x := uint64(0x9E3779B97F4A7C15)
	for range 100000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		vals = append(vals, x, x>>(x%64))
	}
	for _, v := range vals {
		if got, want := string(appendUint([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Fatalf("appendUint(%d) = %s, want %s", v, got, want)
		}
		if got, want := decimalWidth(v), len(strconv.FormatUint(v, 10)); got != want {
			t.Fatalf("decimalWidth(%d) = %d, want %d", v, got, want)
		}
		for _, i := range []int64{int64(v), -int64(v)} {
			if got, want := string(appendInt(nil, i)), strconv.FormatInt(i, 10); got != want {
				t.Fatalf("appendInt(%d) = %s, want %s", i, got, want)
			}
			for _, d := range []time.Duration{time.Duration(i), time.Duration(i) / 1000 * 1000, time.Duration(i)/1000*1000 + 500, time.Duration(i)/1000*1000 - 500} {
				if got, want := us(d), int64(d.Round(time.Microsecond)/time.Microsecond); got != want {
					t.Fatalf("us(%d) = %d, want %d", d, got, want)
				}
			}
		}
	}
}

// TestFNV128a holds the uid's hash to hash/fnv's.
func TestFNV128a(t *testing.T) {
	k := make([]byte, 0, 300)
	x := uint64(0x2545F4914F6CDD1D)
	for n := range 300 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		k = append(k, byte(x))
		h := fnv.New128a()
		h.Write(k[:n])
		want := h.Sum(nil)
		hi, lo := fnv128a(k[:n])
		got := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, hi), lo)
		if !bytes.Equal(got, want) {
			t.Fatalf("fnv128a(%x) = %x, want %x", k[:n], got, want)
		}
	}
}

func TestAppendTime(t *testing.T) {
	for _, tm := range []time.Time{time.Unix(0, 0), time.Unix(1700000000, 123456789), time.Unix(253402300799, 999_999_999),
		time.Unix(-62167219200, 0), time.Unix(1e9, 1), time.Date(2024, 2, 29, 23, 59, 59, 5, time.UTC)} {
		for _, loc := range []*time.Location{time.UTC, time.FixedZone("x", 3600)} {
			tm := tm.In(loc)
			if got, want := string(appendTime(nil, tm)), tm.Format(TimeFormat); got != want {
				t.Errorf("appendTime(%v) = %s, want %s", tm, got, want)
			}
		}
	}
}

// TestCallLines: the programs' socket calls sit in the timeline at their
// time, "  %10.6f  · side: call()" (fmt's bytes), before the segments
// dated at or after them, and those after the last segment at the end.
func TestCallLines(t *testing.T) {
	first := time.Unix(1700000000, 0)
	c := &decode.Conn{ID: 1, Proto: decode.TCP, Client: netip.MustParseAddrPort("10.0.0.1:40000"),
		Server: netip.MustParseAddrPort("10.0.0.2:80"), FirstSeen: first, LastSeen: first.Add(2 * time.Second),
		Events: []decode.Event{{Frame: 1, T: 0, Flags: decode.SYN}, {Frame: 2, T: 1500 * time.Microsecond, Flags: decode.ACK}}}
	calls := []Call{
		{Proto: decode.TCP, ClientPort: 40000, Side: "client", Name: "connect", Start: first.Add(-2500), Return: first.Add(1000500)},
		{Proto: decode.TCP, ClientPort: 40000, Side: "server", Name: "close", Start: first.Add(3 * time.Second), Return: first.Add(3 * time.Second)},
		{Proto: decode.TCP, ClientPort: 1, Side: "client", Name: "other", Start: first, Return: first},
	}
	var b bytes.Buffer
	timeline(&b, c, TextOptions{Calls: calls, lines: newLineCache()})
	var want []string
	for _, m := range []struct {
		d    time.Duration
		text string
	}{{-2500, "client: connect() called"}, {1000500, "client: connect() returns"}, {3 * time.Second, "server: close()"}} {
		want = append(want, fmt.Sprintf("  %10.6f  · %s\n", m.d.Seconds(), m.text))
	}
	lines := strings.SplitAfter(b.String(), "\n")
	var got []string
	for _, l := range lines {
		if strings.Contains(l, "· ") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Fatalf("call lines:\n%s\nwant:\n%s\nwhole:\n%s", strings.Join(got, ""), strings.Join(want, ""), b.String())
	}
	if !strings.HasPrefix(lines[3], "  "+fmt.Sprintf("%10.6f", 0.0)) || !strings.Contains(lines[4], "connect() returns") {
		t.Fatalf("calls out of place:\n%s", b.String())
	}
}

func TestAppendXMLText(t *testing.T) {
	for _, s := range []string{"", "plain", `a<b>&'c"`, "handshake 1.2ms · zeek SF → ok", "bell\x07<", "<\xff>", "rlo\u202e&", "del\x7f", "é&"} {
		if got, want := string(appendXMLText([]byte("x"), s)), "x"+xmlText(s); got != want {
			t.Errorf("appendXMLText(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(appendXMLText(nil, []byte(s))), xmlText(s); got != want {
			t.Errorf("appendXMLText([]byte %q) = %q, want %q", s, got, want)
		}
	}
}

func TestSecondsCol(t *testing.T) {
	x := uint64(88172645463325252)
	ds := []time.Duration{0, 1, 499, 500, 501, 999_999_999_499, 999_999_999_500, 999_999_999_501, time.Hour, 1 << 55, -1, -1500}
	for range 100000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		ds = append(ds, time.Duration(x%(uint64(1)<<(x%44))))
	}
	for _, d := range ds {
		for _, n := range []int{10, 12} {
			if got, want := string(appendSecondsCol([]byte("x"), d, n)), fmt.Sprintf("x%*.6f", n, d.Seconds()); got != want {
				t.Fatalf("appendSecondsCol(%d, %d) = %q, want %q", d, n, got, want)
			}
		}
	}
}

func TestEscapeTable(t *testing.T) {
	k := newLineCache()
	all := make([]byte, 0, 512)
	for c := range 256 {
		all = append(all, byte(c), 'a')
	}
	for _, p := range [][]byte{nil, []byte("GET / HTTP/1.1\r\n"), all, {0, 0, 0}, []byte(`"\`)} {
		if got, want := string(k.escape([]byte("x"), p)), "x"+Escape(p); got != want {
			t.Errorf("escape(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestJSONPreviewTable(t *testing.T) {
	w := newJSONWriter("", false)
	all := make([]byte, 0, 512)
	for c := range 256 {
		all = append(all, byte(c), 'a')
	}
	for _, p := range [][]byte{nil, []byte("GET / HTTP/1.1\r\n"), all, {0, 0, 0}, []byte(`"\`)} {
		for _, cut := range []bool{false, true} {
			if got, want := string(w.preview([]byte("x"), p, cut)), "x"+string(appendJSONPreview(nil, p, cut)); got != want {
				t.Errorf("preview(%q, %v) = %q, want %q", p, cut, got, want)
			}
		}
	}
}

// TestJSONRunsAsCalls: a run recorded from a literal writes what the
// key, open, close and elem calls it stands for write, and leaves the
// writer where they do, indented and compact, from one run to the next
// as connRuns records them.
func TestJSONRunsAsCalls(t *testing.T) {
	type call struct {
		op   byte // k: key, e: elem, any other: open or close
		name string
	}
	steps := []struct {
		literal string
		calls   []call
	}{
		{`,"client":{"ip":`, []call{{'k', "client"}, {'{', ""}, {'k', "ip"}}},
		{`,"port":`, []call{{'k', "port"}}},
		{`},"rtt":{"client":{"samples":`, []call{{'}', ""}, {'k', "rtt"}, {'{', ""}, {'k', "client"}, {'{', ""}, {'k', "samples"}}},
		{`}},"events":[{"frame":`, []call{{'}', ""}, {'}', ""}, {'k', "events"}, {'[', ""}, {'e', ""}, {'{', ""}, {'k', "frame"}}},
		{`},{"frame":`, []call{{'}', ""}, {'e', ""}, {'{', ""}, {'k', "frame"}}},
		{`}],"last":`, []call{{'}', ""}, {']', ""}, {'k', "last"}}},
	}
	for _, indent := range []bool{true, false} {
		// Both writers are in an object two deep, after its first member.
		byCalls, byRuns := newJSONWriter("    ", indent), newJSONWriter("    ", indent)
		for _, w := range []*jsonWriter{&byCalls, &byRuns} {
			w.open('[')
			w.elem()
			w.open('{')
			w.uint("id", 1)
		}
		r := newJSONRecorder(&byRuns)
		for _, s := range steps {
			run := r.run(s.literal)
			byRuns.run(&run)
			for _, c := range s.calls {
				switch c.op {
				case 'k':
					byCalls.key(c.name)
				case 'e':
					byCalls.elem()
				case '{', '[':
					byCalls.open(c.op)
				default:
					byCalls.close(c.op)
				}
			}
			if string(byRuns.b) != string(byCalls.b) || byRuns.depth != byCalls.depth || !slices.Equal(byRuns.empty, byCalls.empty) {
				t.Fatalf("indent %v, after %s: runs wrote\n%s\n(depth %d, empty %v), calls\n%s\n(depth %d, empty %v)", indent, s.literal,
					byRuns.b, byRuns.depth, byRuns.empty, byCalls.b, byCalls.depth, byCalls.empty)
			}
			byRuns.b, byCalls.b = append(byRuns.b, '0'), append(byCalls.b, '0') // the value after the name
		}
	}
}

// TestUDPFlowHeader holds the appended UDP flow header to what fmt
// wrote of it.
func TestUDPFlowHeader(t *testing.T) {
	first := time.Unix(1700000000, 0)
	for _, enc := range []*decode.Encap{nil, {VLANs: [decode.MaxVLANs]uint16{100}, NVLANs: 1}} {
		c := &decode.Conn{ID: 7, Proto: decode.UDP, Client: netip.MustParseAddrPort("[2001:db8::1]:5353"),
			Server: netip.MustParseAddrPort("10.0.0.2:53"), FirstSeen: first, LastSeen: first.Add(1234567 * time.Microsecond),
			Packets: [2]uint64{1, 3}, Bytes: [2]uint64{40, 1}, Encap: enc}
		var want bytes.Buffer
		fmt.Fprintf(&want, "\nudp flow %d  %s → %s\n", c.ID, c.Client, c.Server)
		if c.Encap != nil {
			fmt.Fprintf(&want, "  encapsulation: %s\n", c.Encap)
		}
		fmt.Fprintf(&want, "  no handshake, no teardown: datagrams only · duration %s\n", Duration(c.Duration()))
		for _, s := range []decode.Side{decode.Client, decode.Server} {
			fmt.Fprintf(&want, "  %s → %s: %s, %s payload\n", s, s.Other(), plural(c.Packets[s], "datagram", "datagrams"), plural(c.Bytes[s], "byte", "bytes"))
		}
		if got := string(appendUDPFlow(nil, c)); got != want.String() {
			t.Errorf("appendUDPFlow:\n%s\nwant:\n%s", got, want.String())
		}
	}
}

func TestCivil(t *testing.T) {
	x := uint64(0x2545F4914F6CDD1D)
	secs := []int64{0, -1, 86399, 86400, -86400, -62167219200, -62167219201, 253402300799, 951782400, 951868800, 4107542400}
	for range 200000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		secs = append(secs, int64(x%(253402300800+62167219200))-62167219200)
	}
	for _, u := range secs {
		tm := time.Unix(u, 0).UTC()
		y, mo, d := tm.Date()
		h, mi, s := tm.Clock()
		gy, gmo, gd, gh, gmi, gs := civil(u)
		if gy != y || gmo != int(mo) || gd != d || gh != h || gmi != mi || gs != s {
			t.Fatalf("civil(%d) = %d-%d-%d %d:%d:%d, want %v", u, gy, gmo, gd, gh, gmi, gs, tm)
		}
	}
}
