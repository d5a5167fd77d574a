package report

import (
	"strings"

	"synack/decode"
)

// Style is how text output meets a terminal: ANSI colour, and a width to
// fit timeline lines into (0: no limit).
type Style struct {
	Color bool
	Width int
	// Absolute shows sequence and acknowledgement numbers as they are on
	// the wire (tcpdump -S) instead of relative to each side's ISN.
	Absolute bool
}

// ANSI SGR codes.
const (
	sgrBold    = "1"
	sgrDim     = "2"
	sgrRed     = "31"
	sgrGreen   = "32"
	sgrYellow  = "33"
	sgrMagenta = "35"
	sgrCyan    = "36"
	sgrBoldRed = "1;31"
)

// paint wraps text in an SGR colour when colour is on.
func (s Style) paint(code, text string) string {
	if !s.Color || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// fit shortens text so that it takes at most n columns, ending in "…".
func fit(text string, n int) string {
	if n <= 0 || width(text) <= n {
		return text
	}
	r := []rune(text)
	return string(r[:max(n-1, 0)]) + "…"
}

func verdictColor(v decode.Verdict) string {
	switch v {
	case decode.Complete, decode.UDPFlow:
		return sgrGreen
	case decode.Refused, decode.Reset:
		return sgrRed
	}
	return sgrYellow
}

// meaningText is the last column of a timeline line: what the segment
// means, its back-off, its anomalies and its payload preview.
func meaningText(e *decode.Event, st Style, room int) string {
	meaning := e.Note.String()
	if e.Backoff > 0 {
		meaning += " (+" + Duration(e.Backoff) + ")"
	}
	anomalies := anomalyText(e)
	full := meaning
	if anomalies != "" {
		full += " " + anomalies
	}
	if p := preview(e); p != "" {
		full += ` "` + p + `"`
	}
	full = fit(full, room)
	if anomalies == "" || !st.Color {
		return full
	}
	// Colour the anomalies where fitting left them whole.
	return strings.Replace(full, anomalies, st.paint(sgrBoldRed, anomalies), 1)
}
