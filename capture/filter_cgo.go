//go:build cgo

package capture

/*
#cgo LDFLAGS: -lpcap
#include <stdlib.h>
#include <pcap/pcap.h>

// compile_filter compiles expr for link type lt with libpcap, the same
// compiler tcpdump uses. On failure it copies libpcap's message to errbuf.
static int compile_filter(int lt, int snaplen, const char *expr, struct bpf_program *prog, char *errbuf, int errlen) {
	pcap_t *p = pcap_open_dead(lt, snaplen);
	if (p == NULL) {
		snprintf(errbuf, errlen, "pcap_open_dead failed");
		return -1;
	}
	int rc = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc != 0) {
		snprintf(errbuf, errlen, "%s", pcap_geterr(p));
	}
	pcap_close(p);
	return rc;
}
*/
import "C"

import (
	"errors"
	"unsafe"

	"golang.org/x/net/bpf"
)

// CompileFilter compiles a tcpdump filter expression for frames of the
// given link type (a file's LINKTYPE_ value).
func CompileFilter(expr string, linkType uint32) (*Filter, error) {
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var prog C.struct_bpf_program
	var errbuf [C.PCAP_ERRBUF_SIZE]C.char
	if C.compile_filter(C.int(dlt(linkType)), C.int(MaxFrame), cexpr, &prog, &errbuf[0], C.int(len(errbuf))) != 0 {
		return nil, &FilterError{Expr: expr, Err: errors.New(C.GoString(&errbuf[0]))}
	}
	defer C.pcap_freecode(&prog)
	insns := unsafe.Slice(prog.bf_insns, int(prog.bf_len))
	raw := make([]bpf.Instruction, len(insns))
	for i, in := range insns {
		raw[i] = bpf.RawInstruction{Op: uint16(in.code), Jt: uint8(in.jt), Jf: uint8(in.jf), K: uint32(in.k)}.Disassemble()
	}
	vm, err := bpf.NewVM(raw)
	if err != nil {
		return nil, &FilterError{Expr: expr, Err: err}
	}
	return &Filter{expr: expr, vm: vm}, nil
}

// dlt is the DLT_ value libpcap's compiler knows a LINKTYPE_ value by.
// Files store LINKTYPE_ values; the two agree from 104 up and for most
// below, but raw IP is LINKTYPE_RAW (101) in a file and DLT_RAW (12 here,
// 14 on OpenBSD) to pcap_open_dead, which does not translate (libpcap's
// linktype_to_dlt in pcap-common.c does, for files it reads itself). The
// decoder also reads 14 as raw IP, as OpenBSD writes it.
func dlt(linkType uint32) uint32 {
	switch linkType {
	case 101, 14:
		return C.DLT_RAW
	}
	return linkType
}
