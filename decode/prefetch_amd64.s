#include "textflag.h"

// func prefetch(p unsafe.Pointer)
TEXT ·prefetch(SB), NOSPLIT, $0-8
	MOVQ	p+0(FP), AX
	PREFETCHT0	(AX)
	PREFETCHT0	64(AX)
	RET

// func prefetchRange(p unsafe.Pointer, n uintptr)
TEXT ·prefetchRange(SB), NOSPLIT, $0-16
	MOVQ	p+0(FP), AX
	MOVQ	n+8(FP), CX
	LEAQ	-1(AX)(CX*1), DX
	PREFETCHT0	(DX)
loop:
	PREFETCHT0	(AX)
	ADDQ	$64, AX
	SUBQ	$64, CX
	JGT	loop
	RET

// func prefetchRangeW(p unsafe.Pointer, n uintptr)
//
// PREFETCHW (0F 0D /1), which Go's assembler does not know, where CPUID
// says the processor has it (checked once: hasPrefetchW); prefetchRange,
// with the same arguments, where it does not.
TEXT ·prefetchRangeW(SB), NOSPLIT, $0-16
	CMPB	·hasPrefetchW(SB), $0
	JNE	prefetchw
	JMP	·prefetchRange(SB)
prefetchw:
	MOVQ	p+0(FP), AX
	MOVQ	n+8(FP), CX
	LEAQ	-1(AX)(CX*1), DX
	BYTE	$0x0f; BYTE $0x0d; BYTE $0x0a // PREFETCHW (DX): the last byte's line, which the loop may miss
write:
	BYTE	$0x0f; BYTE $0x0d; BYTE $0x08 // PREFETCHW (AX)
	ADDQ	$64, AX
	SUBQ	$64, CX
	JGT	write
	RET

// func cpuidPrefetchW() bool
//
// CPUID leaf 0x80000001, ECX bit 8 (PRFCHW, "3DNowPrefetch"): the
// processor runs PREFETCHW.
TEXT ·cpuidPrefetchW(SB), NOSPLIT, $0-1
	MOVL	$0x80000000, AX
	CPUID
	CMPL	AX, $0x80000001
	JB	no
	MOVL	$0x80000001, AX
	CPUID
	SHRL	$8, CX
	ANDL	$1, CX
	MOVB	CX, ret+0(FP)
	RET
no:
	MOVB	$0, ret+0(FP)
	RET
