//go:build aix || linux || solaris

package main

import "golang.org/x/sys/unix"

// ioctlReadTermios asks for a terminal's attributes (as golang.org/x/term
// does on these systems).
const ioctlReadTermios = unix.TCGETS
