//go:build !cgo

package capture

import (
	"fmt"
	"time"
)

// A build without cgo has no libpcap: it reads saved captures, and every
// live operation returns an error wrapping ErrNoLibpcap.

// Live is a live capture, which this build cannot open.
type Live struct{}

// OpenLive returns an error wrapping ErrNoLibpcap.
func OpenLive(LiveConfig) (*Live, error) {
	return nil, fmt.Errorf("live capture: %w; it reads saved captures only (synack read)", ErrNoLibpcap)
}

// Interface is "": no Live is ever opened here.
func (l *Live) Interface() string { return "" }

// Snaplen is 0: no Live is ever opened here.
func (l *Live) Snaplen() int { return 0 }

// Drain is 0: no Live is ever opened here.
func (l *Live) Drain() time.Duration { return 0 }

// LinkType is 0: no Live is ever opened here.
func (l *Live) LinkType() uint32 { return 0 }

// Next returns ErrNoLibpcap.
func (l *Live) Next(*Frame) error { return ErrNoLibpcap }

// Stats returns ErrNoLibpcap.
func (l *Live) Stats() (Stats, error) { return Stats{}, ErrNoLibpcap }

// Close does nothing.
func (l *Live) Close() {}

// Devices returns an error wrapping ErrNoLibpcap: the list of capture
// interfaces is libpcap's (pcap_findalldevs).
func Devices() ([]Device, error) {
	return nil, fmt.Errorf("list interfaces: %w", ErrNoLibpcap)
}

// LibpcapVersion, for synack version, says that there is none.
func LibpcapVersion() string { return "libpcap: not in this build (CGO_ENABLED=0)" }
