#include "textflag.h"

// func prefetch(p unsafe.Pointer)
TEXT ·prefetch(SB), NOSPLIT, $0-8
	MOVD	p+0(FP), R0
	PRFM	(R0), PLDL1KEEP
	PRFM	64(R0), PLDL1KEEP
	RET

// func prefetchRange(p unsafe.Pointer, n uintptr)
TEXT ·prefetchRange(SB), NOSPLIT, $0-16
	MOVD	p+0(FP), R0
	MOVD	n+8(FP), R1
	ADD	R0, R1, R2
	SUB	$1, R2
	PRFM	(R2), PLDL1KEEP
loop:
	PRFM	(R0), PLDL1KEEP
	ADD	$64, R0
	SUBS	$64, R1
	BGT	loop
	RET

// func prefetchRangeW(p unsafe.Pointer, n uintptr)
TEXT ·prefetchRangeW(SB), NOSPLIT, $0-16
	MOVD	p+0(FP), R0
	MOVD	n+8(FP), R1
	ADD	R0, R1, R2
	SUB	$1, R2
	PRFM	(R2), PSTL1KEEP
loopw:
	PRFM	(R0), PSTL1KEEP
	ADD	$64, R0
	SUBS	$64, R1
	BGT	loopw
	RET
