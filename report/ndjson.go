package report

import (
	"bufio"
	"encoding/json"
	"io"

	"synack/decode"
)

// NDJSON streams a capture as newline-delimited JSON: one
// {"type":"connection",…} object per connection as it is handed over (the
// synack/v1 connection object without its events), optionally one
// {"type":"event","conn":ID,…} object per packet as it is decoded, and a
// closing {"type":"totals",…}. Nothing is kept in memory: it suits jq,
// ClickHouse JSONEachRow and Elasticsearch bulk loading.
type NDJSON struct {
	// Source names the capture (a file name, "stdin", an interface) in
	// every connection row, so that rows from several captures stay
	// apart; set it before the capture's first connection.
	Source string
	bw     *bufio.Writer
	enc    *json.Encoder
	jw     jsonWriter // events
	row    ndjsonRenderer
	rowBuf []byte
	err    error
}

// NewNDJSON writes to w.
func NewNDJSON(w io.Writer) *NDJSON {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &NDJSON{bw: bw, enc: enc}
}

func (n *NDJSON) encode(v any) {
	if n.err == nil {
		n.err = n.enc.Encode(v)
	}
}

// Conn writes one connection.
func (n *NDJSON) Conn(c *decode.Conn) {
	n.row.source = n.Source
	n.rowBuf = n.row.Render(n.rowBuf[:0], c)
	if n.err == nil {
		_, n.err = n.bw.Write(n.rowBuf)
	}
}

// Rows is n as a Document of its connection rows, for an Ordered that
// emits them as handed over (AsHandedOver) and may render them on
// goroutines of its own (Parallel): the same bytes as Conn writes. Its
// Close writes the totals, as Totals does.
func (n *NDJSON) Rows() Document { return ndjsonRows{n} }

type ndjsonRows struct{ n *NDJSON }

func (d ndjsonRows) NewRenderer() Renderer { return &ndjsonRenderer{source: d.n.Source} }

func (d ndjsonRows) Emit(part []byte) error {
	if d.n.err == nil {
		_, d.n.err = d.n.bw.Write(part)
	}
	return d.n.err
}

func (d ndjsonRows) Close(c *Capture) error { return d.n.Totals(c) }

func (d ndjsonRows) Flush() error { return d.n.Flush() }

// ndjsonRenderer renders connection rows.
type ndjsonRenderer struct {
	source string
	jw     jsonWriter
}

func (r *ndjsonRenderer) Render(buf []byte, c *decode.Conn) []byte {
	j := connJSONHead(c)
	w := &r.jw
	w.b, w.depth, w.empty = buf, 0, w.empty[:0]
	w.open('{')
	w.str("type", "connection")
	w.str("source", r.source)
	w.conn(&j, c, false)
	w.close('}')
	buf, w.b = append(w.b, '\n'), nil
	return buf
}

// Event writes one packet of connection c.
func (n *NDJSON) Event(c *decode.Conn, e *decode.Event) {
	w := n.begin("event")
	w.uint("conn", c.ID)
	w.str("uid", zeekUID(c))
	w.key("frame")
	w.event(c, e)
	n.end()
}

// Flush writes what is buffered, so that a reader sees every connection
// handed over so far (a live capture flushes when it goes idle).
func (n *NDJSON) Flush() error {
	if err := n.bw.Flush(); n.err == nil {
		n.err = err
	}
	return n.err
}

// Totals writes the closing object and flushes. It returns the first
// error met while writing.
func (n *NDJSON) Totals(c *Capture) error {
	// source is the capture's name, a string as in the connection rows (a
	// loader gives a column one type); the rest of the synack/v1 source
	// object follows it.
	src := sourceJSON(c)
	n.encode(struct {
		Type     string     `json:"type"`
		Schema   string     `json:"schema"`
		Source   string     `json:"source"`
		Format   string     `json:"format"`
		LinkType string     `json:"link_type"`
		Filter   string     `json:"filter"`
		Totals   jsonTotals `json:"totals"`
		Warnings []string   `json:"warnings,omitempty"`
		Error    string     `json:"error,omitempty"`
		Capture  *Stats     `json:"capture,omitempty"`
	}{"totals", Schema, src.Name, src.Format, src.LinkType, src.Filter, totalsJSON(c), c.warningTexts(), errText(c.Err), c.Stats})
	if err := n.bw.Flush(); n.err == nil {
		n.err = err
	}
	return n.err
}

// begin starts a line's object with its type; end writes it out.
func (n *NDJSON) begin(typ string) *jsonWriter {
	w := &n.jw
	w.b, w.depth, w.empty = w.b[:0], 0, w.empty[:0]
	w.open('{')
	w.str("type", typ)
	return w
}

func (n *NDJSON) end() {
	w := &n.jw
	w.close('}')
	w.b = append(w.b, '\n')
	if n.err == nil {
		_, n.err = n.bw.Write(w.b)
	}
}
