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
	bw  *bufio.Writer
	enc *json.Encoder
	err error
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
	j := connJSON(c)
	j.Events = nil
	n.encode(struct {
		Type string `json:"type"`
		jsonConn
	}{"connection", j})
}

// Event writes one packet of connection c.
func (n *NDJSON) Event(c *decode.Conn, e *decode.Event) {
	n.encode(struct {
		Type string `json:"type"`
		Conn uint64 `json:"conn"`
		jsonEvent
	}{"event", c.ID, eventJSON(c, e)})
}

// Totals writes the closing object and flushes. It returns the first
// error met while writing.
func (n *NDJSON) Totals(c *Capture) error {
	n.encode(struct {
		Type     string     `json:"type"`
		Schema   string     `json:"schema"`
		Source   jsonSource `json:"source"`
		Totals   jsonTotals `json:"totals"`
		Warnings []string   `json:"warnings,omitempty"`
		Error    string     `json:"error,omitempty"`
		Capture  *Stats     `json:"capture,omitempty"`
	}{"totals", Schema, sourceJSON(c), totalsJSON(c), c.warningTexts(), errText(c.Err), c.Stats})
	if err := n.bw.Flush(); n.err == nil {
		n.err = err
	}
	return n.err
}
