package decode

import "time"

// idleSweepEvery is how often Idle looks for connections past their
// timeout while no frame comes.
const idleSweepEvery = time.Second

// Idle tells the decoder that no frame came until now, by the clock the
// frames are dated with (a live capture's: the system's). Connections past
// their timeout are then handed over within about a second of it, without
// waiting for the next frame, so that a streaming output shows a closed
// connection promptly on a quiet interface. A now far from the frames'
// dates (see sweepClock) is not taken.
func (d *Decoder) Idle(now time.Time) {
	k := &d.clock
	if !k.started || !now.After(k.now) || !k.near(k.now, now) {
		return
	}
	k.now = now
	k.bound()
	if now.Sub(d.idleSwept) >= idleSweepEvery {
		d.idleSwept = now
		d.sweep()
	}
}
