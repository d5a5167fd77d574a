//go:build !unix

package main

import "runtime"

// target is who to become after the capture handle is open: no one
// here, where there is no setuid(2).
type target struct {
	name     string
	uid, gid int
}

// dropTarget refuses -Z (tcpdump's, which becomes another user through
// setuid(2), a call Windows does not have); without it, or with -Z root,
// synack stays who it is, as it does on unix systems.
func dropTarget(flag string) (*target, error) {
	if flag == "" || flag == "root" {
		return nil, nil
	}
	return nil, usagef("-Z %s: %s has no setuid(2) to become another user; run synack as that user instead", flag, runtime.GOOS)
}

// drop is never called: dropTarget names no target here.
func (t *target) drop() error { return nil }
