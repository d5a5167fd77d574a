//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package main

import "golang.org/x/sys/unix"

// ioctlReadTermios asks for a terminal's attributes: TCGETS is Linux's;
// macOS and the BSDs call it TIOCGETA (as golang.org/x/term does).
const ioctlReadTermios = unix.TIOCGETA
