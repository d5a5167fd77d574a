//go:build cgo

package capture

import (
	"fmt"
	"strings"

	"github.com/google/gopacket/pcap"
)

// Live is an open live capture.
type Live struct {
	h     *pcap.Handle
	iface string
	lt    uint32 // asked once: each pcap_datalink call is a cgo call
	n     uint64
}

// OpenLive opens and activates a capture handle that delivers packets in
// blocks, as tcpdump's does: the kernel hands a block over when it is full
// or PollInterval after it was started, so a packet waits at most that
// long, and a burst costs one wake-up per block, not one per packet (in
// immediate mode the wake-ups cost more CPU than the decoding). A reader
// that stops waits one more PollInterval to collect the last block (see
// pipeline.Live.Loop).
func OpenLive(cfg LiveConfig) (*Live, error) {
	iface := cfg.Interface
	if iface == "" {
		var err error
		if iface, err = LoopbackInterface(); err != nil {
			return nil, err
		}
	}
	snap := cfg.Snaplen
	if snap <= 0 {
		snap = 262144
	}
	in, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return nil, classify(iface, err)
	}
	defer in.CleanUp()
	for _, set := range []func() error{
		func() error { return in.SetSnapLen(snap) },
		func() error { return in.SetPromisc(cfg.Promisc) },
		func() error { return in.SetTimeout(PollInterval) },
		func() error {
			if cfg.BufferSize > 0 {
				return in.SetBufferSize(cfg.BufferSize)
			}
			return nil
		},
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("configure capture on %s: %w", iface, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		return nil, classify(iface, err)
	}
	if cfg.Filter != "" {
		if err := h.SetBPFFilter(cfg.Filter); err != nil {
			h.Close()
			return nil, &FilterError{Expr: cfg.Filter, Err: err}
		}
	}
	return &Live{h: h, iface: iface, lt: uint32(h.LinkType())}, nil
}

// classify turns libpcap's activation errors into ours.
func classify(iface string, err error) error {
	msg := err.Error()
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "permission") || strings.Contains(lower, "not permitted"):
		return fmt.Errorf("capture on %s: %w (libpcap: %s)", iface, ErrPermission, msg)
	case strings.Contains(lower, "no such device") || strings.Contains(lower, "doesn't exist"):
		return fmt.Errorf("capture on %s: %w (run `synack interfaces` to list them)", iface, ErrNoInterface)
	}
	return fmt.Errorf("capture on %s: %w", iface, err)
}

// Interface is the name of the captured interface.
func (l *Live) Interface() string { return l.iface }

// LinkType is the link type of the interface.
func (l *Live) LinkType() uint32 { return l.lt }

// Next waits for the next packet. It returns ErrTimeout when none came
// within the poll interval.
func (l *Live) Next(fr *Frame) error {
	data, ci, err := l.h.ZeroCopyReadPacketData()
	if err != nil {
		if err == pcap.NextErrorTimeoutExpired {
			return ErrTimeout
		}
		return fmt.Errorf("capture on %s: %w", l.iface, err)
	}
	l.n++
	fr.Number = l.n
	fr.Time = ci.Timestamp
	fr.Data = data
	fr.Length = ci.Length
	fr.LinkType = l.lt
	return nil
}

// Stats returns libpcap's counters.
func (l *Live) Stats() (Stats, error) {
	s, err := l.h.Stats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture statistics: %w", err)
	}
	return Stats{Received: uint64(s.PacketsReceived), DroppedByKernel: uint64(s.PacketsDropped), DroppedByIface: uint64(s.PacketsIfDropped)}, nil
}

// Close releases the handle.
func (l *Live) Close() { l.h.Close() }

// libpcap's PCAP_IF_* flags.
const (
	ifLoopback = 0x1
	ifUp       = 0x2
	ifRunning  = 0x4
)

// Devices lists the interfaces libpcap can capture on, in libpcap's order
// (the order of `tcpdump -D`).
func Devices() ([]Device, error) {
	ifs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	out := make([]Device, 0, len(ifs))
	for _, i := range ifs {
		d := Device{Name: i.Name, Description: i.Description, Loopback: i.Flags&ifLoopback != 0, Up: i.Flags&ifUp != 0, Running: i.Flags&ifRunning != 0}
		for _, a := range i.Addresses {
			d.Addresses = append(d.Addresses, a.IP.String())
		}
		out = append(out, d)
	}
	return out, nil
}

// LibpcapVersion is libpcap's own version string, as pcap_lib_version
// gives it ("libpcap version 1.10.3 (with TPACKET_V3)").
func LibpcapVersion() string { return pcap.Version() }
