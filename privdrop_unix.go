//go:build unix

package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// target is who to become after the capture handle is open.
type target struct {
	name     string
	uid, gid int
	groups   []int
}

// dropTarget decides whom to drop to, like tcpdump's -Z: the named user;
// by default, when root runs synack through sudo, the user who ran sudo
// (SUDO_UID, SUDO_GID); "root" (or not being root) keeps things as they
// are. A nil target means no change.
func dropTarget(flag string) (*target, error) {
	if os.Geteuid() != 0 || flag == "root" {
		return nil, nil
	}
	if flag == "" {
		uid, gid := os.Getenv("SUDO_UID"), os.Getenv("SUDO_GID")
		if uid == "" || gid == "" || uid == "0" {
			return nil, nil
		}
		u, err1 := strconv.Atoi(uid)
		g, err2 := strconv.Atoi(gid)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("SUDO_UID %q and SUDO_GID %q are not numbers", uid, gid)
		}
		name := os.Getenv("SUDO_USER")
		if name == "" {
			name = uid
		}
		return &target{name: name, uid: u, gid: g, groups: []int{g}}, nil
	}
	u, err := user.Lookup(flag)
	if err != nil {
		return nil, fmt.Errorf("-Z %s: %w", flag, err)
	}
	t := &target{name: u.Username}
	if t.uid, err = strconv.Atoi(u.Uid); err == nil {
		t.gid, err = strconv.Atoi(u.Gid)
	}
	if err != nil {
		return nil, fmt.Errorf("-Z %s: uid %s, gid %s: %w", flag, u.Uid, u.Gid, err)
	}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if g, err := strconv.Atoi(id); err == nil {
			t.groups = append(t.groups, g)
		}
	}
	if len(t.groups) == 0 {
		t.groups = []int{t.gid}
	}
	return t, nil
}

// drop becomes the target user: groups, gid, uid, in that order, for
// every thread of the process.
func (t *target) drop() error {
	if err := syscall.Setgroups(t.groups); err != nil {
		return fmt.Errorf("drop privileges to %s: setgroups: %w", t.name, err)
	}
	if err := syscall.Setgid(t.gid); err != nil {
		return fmt.Errorf("drop privileges to %s: setgid: %w", t.name, err)
	}
	if err := syscall.Setuid(t.uid); err != nil {
		return fmt.Errorf("drop privileges to %s: setuid: %w", t.name, err)
	}
	return nil
}
