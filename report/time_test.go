package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"synack/decode"
)

// farTimes are connection times that RFC 3339 can and cannot write, with
// the epoch seconds each is, to nine and to six decimals.
var farTimes = []struct {
	name         string
	t            time.Time
	unix9, unix6 string
}{
	{"2023", time.Unix(1700000000, 123456789), "1700000000.123456789", "1700000000.123456"},
	{"1969", time.Unix(-2, 500_000_000), "-1.500000000", "-1.500000"},
	{"last of 9999", time.Unix(253402300799, 999_999_999), "253402300799.999999999", "253402300799.999999"},
	{"year 10000", time.Unix(253402300800, 500_000_000), "253402300800.500000000", "253402300800.500000"},
	{"year 146138514283", time.Unix(1<<62, 0), "4611686018427387904.000000000", "4611686018427387904.000000"},
	{"first of 0000", time.Unix(-62167219200, 0), "-62167219200.000000000", "-62167219200.000000"},
	{"year -1", time.Unix(-62167219201, 250_000_000), "-62167219200.750000000", "-62167219200.750000"},
}

func farCapture() *Capture {
	c := &Capture{Source: "far", Format: "pcapng", LinkType: "EN10MB"}
	for i, ft := range farTimes {
		c.Conns = append(c.Conns, &decode.Conn{
			ID: uint64(i + 1), FirstSeen: ft.t, LastSeen: ft.t,
			Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:80"),
		})
	}
	return c
}

// checkJSONTime: a connection's first_seen and last_seen are RFC 3339
// (time.Parse takes them, as jq's fromdate, pandas and DuckDB do), or null
// with the time in *_unix as epoch seconds.
func checkJSONTime(t *testing.T, conn map[string]any, i int) {
	t.Helper()
	ft := farTimes[i]
	for _, field := range []string{"first_seen", "last_seen"} {
		switch v := conn[field].(type) {
		case string:
			got, err := time.Parse(time.RFC3339Nano, v)
			if err != nil || !got.Equal(ft.t) {
				t.Errorf("%s: %s %q is not RFC 3339 for %v: %v", ft.name, field, v, ft.t, err)
			}
			if _, ok := conn[field+"_unix"]; ok {
				t.Errorf("%s: %s_unix beside an RFC 3339 time", ft.name, field)
			}
		case nil:
			if got, ok := conn[field+"_unix"].(json.Number); !ok || string(got) != ft.unix9 {
				t.Errorf("%s: %s null, %s_unix %v, want %s", ft.name, field, field, conn[field+"_unix"], ft.unix9)
			}
		default:
			t.Errorf("%s: %s is %T", ft.name, field, v)
		}
	}
}

func decodeJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
}

// TestJSONFarTimes: Go's time.Format writes year 10000 with five digits
// and year -1 as "-0001", neither of which is RFC 3339 (JSON consumers
// reject them). Such a time is null, and its epoch seconds are beside it.
func TestJSONFarTimes(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, farCapture()); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Connections []map[string]any }
	decodeJSON(t, buf.Bytes(), &doc)
	if len(doc.Connections) != len(farTimes) {
		t.Fatalf("%d connections", len(doc.Connections))
	}
	for i, conn := range doc.Connections {
		checkJSONTime(t, conn, i)
	}

	buf.Reset()
	nd := NewNDJSON(&buf)
	c := farCapture()
	for _, conn := range c.Conns {
		nd.Conn(conn)
	}
	if err := nd.Totals(c); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	for i := 0; sc.Scan() && i < len(farTimes); i++ {
		var conn map[string]any
		decodeJSON(t, sc.Bytes(), &conn)
		checkJSONTime(t, conn, i)
	}
}

// TestZeekFarTimes: conn.log's ts is epoch seconds with six decimals, for
// any year; a time before 1970 (Unix -2 s and 0.5 s) is -1.500000, not
// the -2.500000 that Unix() and Nanosecond() printed side by side. The
// #open and #close lines keep four-digit years.
func TestZeekFarTimes(t *testing.T) {
	var buf bytes.Buffer
	if err := Zeek(&buf, farCapture()); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "#open\t"), strings.HasPrefix(line, "#close\t"):
			if stamp := line[strings.Index(line, "\t")+1:]; !regexp.MustCompile(`^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$`).MatchString(stamp) {
				t.Errorf("%q: not Zeek's time format", line)
			}
		case !strings.HasPrefix(line, "#"):
			rows = append(rows, line)
		}
	}
	if len(rows) != len(farTimes) {
		t.Fatalf("%d rows", len(rows))
	}
	for i, row := range rows {
		if ts := strings.Split(row, "\t")[0]; ts != farTimes[i].unix6 {
			t.Errorf("%s: ts %s, want %s", farTimes[i].name, ts, farTimes[i].unix6)
		}
	}
}
