//go:build unix

package capture

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// openInterruptible reads f through poll(2), so that cancelling ctx ends
// a read that waits; keep leaves f open on Close (standard input).
func openInterruptible(ctx context.Context, f *os.File, name string, keep bool) (*File, error) {
	ir, err := newInterruptible(f)
	if err != nil {
		if !keep {
			f.Close()
		}
		return nil, err
	}
	stop := context.AfterFunc(ctx, ir.interrupt)
	file, err := NewReader(ir, name)
	if err != nil {
		stop()
		ir.close(keep)
		return nil, err
	}
	file.closer = closerFunc(func() error { stop(); return ir.close(keep) })
	return file, nil
}

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

// interruptible reads a file that can block (a pipe, FIFO, terminal or
// socket) by waiting in poll(2) beside a wake-up pipe, so that a read
// stalled on a silent writer ends as soon as it is interrupted. The file
// itself stays in blocking mode: its open file description may be shared
// with other processes (a shell's standard input), and poll needs no
// O_NONBLOCK.
type interruptible struct {
	f    *os.File
	fd   int32
	wake [2]int // read end, write end
	fds  [2]unix.PollFd
	once sync.Once
}

func newInterruptible(f *os.File) (*interruptible, error) {
	p, err := wakePipe()
	if err != nil {
		return nil, fmt.Errorf("wake-up pipe: %w", err)
	}
	// SyscallConn, not Fd: Fd would put a pollable file into blocking
	// mode behind the runtime's back.
	var fd int32 = -1
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(d uintptr) { fd = int32(d) })
	}
	if fd < 0 {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, fmt.Errorf("%s: no file descriptor", f.Name())
	}
	return &interruptible{f: f, fd: fd, wake: p}, nil
}

func (r *interruptible) Read(b []byte) (int, error) {
	r.fds = [2]unix.PollFd{{Fd: r.fd, Events: unix.POLLIN}, {Fd: int32(r.wake[0]), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(r.fds[:], -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("poll %s: %w", r.f.Name(), err)
		}
		if r.fds[1].Revents != 0 {
			return 0, ErrInterrupted
		}
		if r.fds[0].Revents != 0 { // data, end of file, or an error: read says which
			return r.f.Read(b)
		}
	}
}

// interrupt ends the read in progress and every later one.
func (r *interruptible) interrupt() {
	r.once.Do(func() { unix.Write(r.wake[1], []byte{1}) })
}

// Close closes the wake-up pipe and, unless keep, the file.
func (r *interruptible) close(keep bool) error {
	unix.Close(r.wake[0])
	unix.Close(r.wake[1])
	if keep {
		return nil
	}
	return r.f.Close()
}

// openFIFO opens a named pipe for reading. open(2) waits for a writer;
// when ctx is cancelled first, synack opens the FIFO for writing itself,
// which lets its own open return, and gives up.
func openFIFO(ctx context.Context, path string) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	opened := make(chan result, 1)
	go func() {
		f, err := os.Open(path)
		opened <- result{f, err}
	}()
	select {
	case r := <-opened:
		return r.f, r.err
	case <-ctx.Done():
	}
	for {
		// O_NONBLOCK: ENXIO until a reader (ours) is waiting, then at once.
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		select {
		case r := <-opened:
			if r.f != nil {
				r.f.Close()
			}
			return nil, fmt.Errorf("open %s: %w before a writer came", path, ErrInterrupted)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
