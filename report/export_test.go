package report

import (
	"bytes"
	"encoding/json"

	"synack/decode"
)

// JSONConnBoth is connection c as encoding/json writes it (the reference)
// and as jsonWriter does, indented as in the document (indent) or compact
// as in NDJSON.
func JSONConnBoth(c *decode.Conn, indent bool) (std, hand []byte, err error) {
	j := connJSON(c)
	for i := range c.Events {
		j.Events = append(j.Events, eventJSON(c, &c.Events[i]))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("    ", "  ")
	}
	if err := enc.Encode(j); err != nil {
		return nil, nil, err
	}
	w := newJSONWriter("    ", indent)
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
