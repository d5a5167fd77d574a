package capture

import "errors"

// ErrInterrupted ends a read that was waiting for data (a pipe, a FIFO,
// standard input) when the context given to OpenContext was cancelled.
var ErrInterrupted = errors.New("reading interrupted")
