//go:build !cgo

package capture

// CompileFilter, in a build without cgo, refuses every expression: the
// compiler of tcpdump's filter language is libpcap's (pcap_compile), and
// this build has no libpcap. The *FilterError wraps ErrNoLibpcap, so that
// the caller can tell the build, not the expression, is at fault.
func CompileFilter(expr string, _ uint32) (*Filter, error) {
	return nil, &FilterError{Expr: expr, Err: ErrNoLibpcap}
}
