package report

import (
	"regexp"
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
