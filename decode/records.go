package decode

// Records is a pool of records for a sink that works on them on other
// goroutines (renders them in parallel, say): the decoder takes each
// record it hands over from the pool (Config.Records), and the sink puts
// it back once done with it, its room for events with it, so that a
// capture's records and their events are not allocated anew for each
// connection. It is safe for concurrent use.
type Records struct {
	free chan *Conn
}

// NewRecords returns a pool that keeps up to n records given back.
func NewRecords(n int) *Records { return &Records{free: make(chan *Conn, n)} }

// maxKeptEvents is the most room for events a record given back keeps:
// a long connection's would hold memory the pool's records seldom need.
const maxKeptEvents = 1024

// Put gives c back: neither the sink nor anyone else may use it after.
func (r *Records) Put(c *Conn) {
	if cap(c.Events) > maxKeptEvents {
		c.Events = nil
	}
	select {
	case r.free <- c:
	default: // the pool is full: let it go
	}
}

// get returns a record given back, or a new one.
func (r *Records) get() *Conn {
	select {
	case c := <-r.free:
		return c
	default:
		return new(Conn)
	}
}

// Len is the number of records given back and not yet used again.
func (r *Records) Len() int { return len(r.free) }
