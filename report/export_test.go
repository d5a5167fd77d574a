package report

import (
	"bytes"
	"encoding/json"
	"io"

	"synack/decode"
)

// JSONWriter is a hand-written JSON encoder kept across connections, as
// a document keeps it (with the caches it fills as it goes).
type JSONWriter struct{ w jsonWriter }

// NewJSONWriter writes indented as in the document (indent) or compact
// as in NDJSON.
func NewJSONWriter(indent bool) *JSONWriter { return &JSONWriter{newJSONWriter("    ", indent)} }

// ConnBoth is connection c as encoding/json writes it (the reference)
// and as the jsonWriter does.
func (jw *JSONWriter) ConnBoth(c *decode.Conn) (std, hand []byte, err error) {
	j := connJSON(c)
	for i := range c.Events {
		j.Events = append(j.Events, eventJSON(c, &c.Events[i]))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if jw.w.indent {
		enc.SetIndent("    ", "  ")
	}
	if err := enc.Encode(j); err != nil {
		return nil, nil, err
	}
	w := &jw.w
	w.b, w.empty = w.b[:0], w.empty[:0]
	w.setDepth(0)
	w.open('{')
	w.conn(&j, c, true)
	w.close('}')
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), w.b, nil
}

// JSONStringBoth is s quoted by encoding/json and by appendJSONString.
func JSONStringBoth(s string) (std, hand []byte) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), appendJSONString(nil, s)
}

// Rewritable reports whether an SVG written to w has its head written
// over at the end rather than its ladders spooled.
func Rewritable(w io.Writer) bool {
	_, _, ok := rewritable(w)
	return ok
}
