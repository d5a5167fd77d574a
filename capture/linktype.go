package capture

import (
	"sync"
	"sync/atomic"
)

// LinkTypeSeen is a link type met in a file, and what became of its
// frames.
type LinkTypeSeen struct {
	LinkType  uint32
	Interface uint32 // the interface of its first frame (pcapng; 0 in pcap)
	Frame     uint64 // its first frame (0: none yet, the file's link type)
	Read      bool   // the caller reads it (SetFilter's reads)
	// Err is why the filter is not used for it: libpcap's *FilterError.
	// Its frames are then skipped.
	Err error
	// Skipped counts the frames left out for not being read, or for Err.
	Skipped uint64
}

// linkState is what Next keeps for one link type.
type linkState struct {
	seen    LinkTypeSeen // Skipped aside; Frame and Interface written under linkTypes.mu
	skip    bool
	filter  *Filter
	skipped atomic.Uint64
}

// linkTypes is the File's table of link types, for SetFilter.
type linkTypes struct {
	expr  string
	reads func(linkType uint32) bool
	cur   *linkState // the last frame's, which the next is most likely of
	byLT  map[uint32]*linkState
	// filtered: a link type read has its program, so later compile
	// errors are warnings (LinkTypes) rather than the end of reading.
	filtered bool
	mu       sync.Mutex   // order, and each state's seen, for LinkTypes
	order    []*linkState // in the order met
}

// SetFilter makes Next hand out only the frames of the link types reads
// accepts (nil: every one) that the tcpdump filter expr accepts ("":
// every frame). The frames of other link types are skipped and counted
// (LinkTypes).
//
// libpcap compiles an expression for one link type, and a pcapng file's
// interfaces may each have their own: the program for Ethernet run over
// a raw IP frame reads the wrong bytes. So expr is compiled for each link
// type read as its first frame comes. It must compile for the first of
// them: for the file's own link type (the first interface's) that is
// checked here, and SetFilter returns libpcap's *FilterError; when the
// file's own link type is not read, Next returns it, at the first frame
// of a link type that is. For any later link type, a compile error skips
// its frames, which LinkTypes reports: the filter stands for the frames
// it can be applied to.
func (f *File) SetFilter(expr string, reads func(linkType uint32) bool) error {
	lts := &linkTypes{expr: expr, reads: reads, byLT: map[uint32]*linkState{}}
	if lt := f.LinkType(); reads == nil || reads(lt) {
		if _, err := lts.add(LinkTypeSeen{LinkType: lt}); err != nil {
			return err
		}
	}
	f.lts = lts
	return nil
}

// admit reports whether Next hands out fr, given its link type; it
// returns the *FilterError that ends reading, if the first link type
// read has no program.
func (f *File) admit(fr *Frame) (bool, error) {
	ls := f.lts.cur
	if ls == nil || ls.seen.LinkType != fr.LinkType {
		var err error
		if ls, err = f.lts.state(fr); err != nil {
			return false, err
		}
		f.lts.cur = ls
	}
	if ls.skip {
		ls.skipped.Add(1)
		return false, nil
	}
	return ls.filter == nil || ls.filter.Match(fr.Data), nil
}

// state finds or makes the state of fr's link type.
func (t *linkTypes) state(fr *Frame) (*linkState, error) {
	if ls := t.byLT[fr.LinkType]; ls != nil {
		if ls.seen.Frame == 0 {
			t.mu.Lock()
			ls.seen.Frame, ls.seen.Interface = fr.Number, fr.Interface
			t.mu.Unlock()
		}
		return ls, nil
	}
	return t.add(LinkTypeSeen{LinkType: fr.LinkType, Interface: fr.Interface, Frame: fr.Number})
}

// add makes the state of a link type met for the first time, compiling
// the filter for it if it is read.
func (t *linkTypes) add(seen LinkTypeSeen) (*linkState, error) {
	seen.Read = t.reads == nil || t.reads(seen.LinkType)
	ls := &linkState{seen: seen, skip: !seen.Read}
	if seen.Read && t.expr != "" {
		flt, err := CompileFilter(t.expr, seen.LinkType)
		if err != nil && !t.filtered {
			return nil, err
		}
		ls.filter, ls.seen.Err, ls.skip = flt, err, err != nil
	}
	t.filtered = t.filtered || (seen.Read && !ls.skip)
	t.mu.Lock()
	t.byLT[seen.LinkType] = ls
	t.order = append(t.order, ls)
	t.mu.Unlock()
	return ls, nil
}

// LinkTypes lists the link types met so far (and the file's own, when it
// is read and SetFilter was called), in the order met, with the frames
// skipped of each. It may be called while another goroutine reads.
func (f *File) LinkTypes() []LinkTypeSeen {
	t := f.lts
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]LinkTypeSeen, len(t.order))
	for i, ls := range t.order {
		out[i] = ls.seen
		out[i].Skipped = ls.skipped.Load()
	}
	return out
}

// OneLinkType reports whether every frame of the file has the file's
// link type (a pcap file); a pcapng file's interfaces may each have
// another.
func (f *File) OneLinkType() bool {
	_, ok := f.rr.(*pcapReader)
	return ok
}
