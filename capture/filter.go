package capture

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// FilterError is a filter expression that libpcap could not compile (a
// user's mistake, not a capture problem), or any expression at all in a
// build without libpcap: then Err wraps ErrNoLibpcap.
type FilterError struct {
	Expr string
	Err  error
}

func (e *FilterError) Error() string {
	if errors.Is(e.Err, ErrNoLibpcap) { // not the expression's fault
		return fmt.Sprintf("cannot compile filter %q: %v", e.Expr, e.Err)
	}
	return fmt.Sprintf("bad filter %q: %v", e.Expr, e.Err)
}
func (e *FilterError) Unwrap() error { return e.Err }

// Filter is a compiled BPF program in tcpdump's filter syntax. Matching
// runs in Go (golang.org/x/net/bpf) and allocates nothing.
type Filter struct {
	expr string
	vm   *bpf.VM
}

// String returns the filter expression.
func (f *Filter) String() string { return f.expr }

// Match reports whether the program accepts the frame. BPF's "len" is the
// captured length here, which differs from the wire length only for frames
// the snaplen cut short.
func (f *Filter) Match(data []byte) bool {
	n, err := f.vm.Run(data)
	return err == nil && n > 0
}
