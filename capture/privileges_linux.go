//go:build cgo

package capture

/*
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

// clear_caps empties the calling thread's effective, permitted and
// inheritable capability sets.
static int clear_caps(void) {
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	return syscall(SYS_capset, &hdr, data);
}

static void capset_handler(int sig, siginfo_t *si, void *uc) {
	int saved = errno;
	clear_caps();
	errno = saved;
}

static struct sigaction previous;

// capset_signal is SIGSYS, as in libcap's psx: the Go runtime never lets
// a thread block it (it is a _SigThrow signal), whatever signal mask the
// process was started with, where a real-time signal may be blocked on
// the threads that inherit that mask. The handler is in place only while
// DropCapabilities runs, then Go's is restored.
static int capset_signal(void) { return SIGSYS; }

// install_capset_handler makes capset_signal() clear the receiving
// thread's capabilities.
static int install_capset_handler(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = capset_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(capset_signal(), &sa, &previous) == 0 ? 0 : errno;
}

static void restore_handler(void) { sigaction(capset_signal(), &previous, NULL); }

static int clear_own_caps(void) { return clear_caps() == 0 ? 0 : errno; }

static int signal_thread(int tid) {
	return syscall(SYS_tgkill, getpid(), tid, capset_signal()) == 0 ? 0 : errno;
}
*/
import "C"

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// DropCapabilities empties the capability sets (effective, permitted,
// inheritable) of every thread of the process, as tcpdump does once its
// handle is open: a binary given CAP_NET_RAW and CAP_NET_ADMIN with
// setcap needs them to open the handle, and for nothing after that.
//
// Capabilities belong to threads, and a Go process has many: the calling
// thread clears its own, every other is asked by a signal to clear its
// own (as libcap's psx does), and /proc/self/task is read until no thread
// holds any; after 2 s a thread still holding some is an error. A process
// with none does nothing.
func DropCapabilities() error {
	held, err := threadsWithCapabilities()
	if err != nil || len(held) == 0 {
		return err
	}
	runtime.LockOSThread() // the thread that clears its own stays this one
	defer runtime.UnlockOSThread()
	if e := C.install_capset_handler(); e != 0 {
		return fmt.Errorf("drop capabilities: sigaction: %w", syscall.Errno(e))
	}
	defer C.restore_handler()
	if e := C.clear_own_caps(); e != 0 {
		return fmt.Errorf("drop capabilities: capset: %w", syscall.Errno(e))
	}
	for deadline := time.Now().Add(2 * time.Second); ; {
		if held, err = threadsWithCapabilities(); err != nil || len(held) == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drop capabilities: threads %v still hold some after 2 s", held)
		}
		for _, tid := range held {
			if e := C.signal_thread(C.int(tid)); e != 0 && syscall.Errno(e) != syscall.ESRCH {
				return fmt.Errorf("drop capabilities: signal thread %d: %w", tid, syscall.Errno(e))
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// threadsWithCapabilities lists the threads of this process whose
// effective, permitted or inheritable set is not empty.
func threadsWithCapabilities() ([]int, error) {
	dirs, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("drop capabilities: %w", err)
	}
	var held []int
	for _, d := range dirs {
		tid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc/self/task", d.Name(), "status"))
		if err != nil {
			continue // the thread has exited
		}
		if holdsCapabilities(status) {
			held = append(held, tid)
		}
	}
	return held, nil
}

// holdsCapabilities reads a /proc status file's CapInh, CapPrm and CapEff
// lines.
func holdsCapabilities(status []byte) bool {
	for _, line := range bytes.Split(status, []byte("\n")) {
		for _, set := range []string{"CapInh:", "CapPrm:", "CapEff:"} {
			if v, ok := bytes.CutPrefix(line, []byte(set)); ok {
				if n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 16, 64); err != nil || n != 0 {
					return true
				}
			}
		}
	}
	return false
}
