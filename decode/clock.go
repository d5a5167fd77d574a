package decode

import "time"

// sweepEvery is how often, in capture time, idle connections are looked for.
const sweepEvery = 10 * time.Second

// backStep is how far back a frame may be dated and still be taken on its
// own word: frames captured on several queues or interfaces come a little
// out of order.
const backStep = sweepEvery

// sweepClock is the capture time by which idle connections are handed
// over. Capture time is the capture host's clock: NTP steps it, and a
// driver or a hostile file can date one frame in 2106. Zeek runs its
// timers by network_time, which follows the packets wherever they go, and
// tshark never expires a conversation; followed blindly, one frame from
// 2106 would hand every connection over at once and then stop the
// hand-over for the rest of the file (the next sweep being due in 2106).
//
// So the clock takes a frame's date when it is at most maxStep (the
// longest timeout) ahead of the clock or backStep behind it. A date
// further off is taken only once the next frame agrees with it (is dated
// within the same bounds of it): one frame alone never moves the clock
// far, while a real gap in the traffic or a step of the host's clock
// costs a frame's delay. A step back that two frames agree on restarts
// the sweep schedule from there, and connections last active "after" it
// count as active at the step.
//
// The frame whose date the clock has not taken still goes to its
// connection, which is handed over first if the frame's own date says it
// has been idle past its timeout: that is what a real gap in the traffic
// means, and a date from 2106 costs that one connection alone.
type sweepClock struct {
	now  time.Time
	next time.Time // when the next sweep is due
	// horizon is at most now+maxStep: a date up to it is taken at the
	// cost of a comparison, and only one past it costs an Add.
	horizon time.Time
	// prev is the previous frame's date, taken or not, and prevConn the
	// connection it went to (nil if none, or handed over since).
	prev      time.Time
	prevTaken bool
	prevConn  *Conn
	// stepped is when the clock last stepped back (at first, the first
	// frame's date).
	stepped time.Time
	started bool
	maxStep time.Duration
}

// near reports whether the clock takes a step from a to t on one frame's
// word.
func (k *sweepClock) near(a, t time.Time) bool {
	return !t.Before(a.Add(-backStep)) && !t.After(a.Add(k.maxStep))
}

// observe moves the clock for a frame dated t. It returns the time to
// stamp the frame's connection with (t when the clock took it, else the
// clock's own time), whether it took t, and whether a sweep is due.
func (k *sweepClock) observe(t time.Time) (stamp time.Time, taken, sweep bool) {
	prev, prevTaken, prevConn := k.prev, k.prevTaken, k.prevConn
	k.prev, k.prevTaken, k.prevConn = t, true, nil
	switch {
	case !t.Before(k.now) && !t.After(k.horizon) && k.started: // the usual step: no Add
		k.now = t
	case !k.started:
		k.started, k.now, k.stepped = true, t, t
		k.horizon = t.Add(k.maxStep)
	case k.near(k.now, t):
		if t.After(k.now) {
			k.now, k.horizon = t, t.Add(k.maxStep)
		}
	case !prevTaken && k.near(prev, t):
		// t confirms the previous frame's date: take both.
		if t.Before(k.now) {
			k.stepped, k.next = t, t.Add(sweepEvery)
		}
		k.now, k.horizon = t, t.Add(k.maxStep)
		if prevConn != nil {
			prevConn.stamp(prev)
		}
	default:
		k.prevTaken = false
		return k.now, false, false
	}
	return t, true, !k.now.Before(k.next)
}

// swept records a sweep at the clock's time.
func (k *sweepClock) swept() { k.next = k.now.Add(sweepEvery) }

// lastActive is when c last saw a segment, by the clock.
func (k *sweepClock) lastActive(c *Conn) time.Time {
	last := c.FirstSeen.Add(c.active)
	if last.After(k.now) { // active before the clock stepped back
		return k.stepped
	}
	return last
}

// stamp records that c saw a segment at clock time t. (Conn.add stamps
// it at the segment's date, which is the clock's time when the clock
// took the date: that spares a Sub per packet.)
func (c *Conn) stamp(t time.Time) { c.active = t.Sub(c.FirstSeen) }
