package decode

// noListener rewrites a refused connection's server side as what it was:
// nothing listened, so the server held no connection (RFC 9293 §3.5: no
// TCB, state CLOSED) and answered the SYN with a RST. While the SYN was
// the last segment seen, the decoder assumed a listener (LISTEN); once the
// RST says otherwise, the record is made true before it is handed over.
func (c *Conn) noListener() {
	for i := range c.Events {
		if e := &c.Events[i]; e.ServerState == Listen {
			e.ServerState = Closed
		}
	}
}
