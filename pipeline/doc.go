// Package pipeline carries one source of frames — a capture file, standard
// input or a live capture handle — through one decoder into a
// report.Capture: the frame loop, the two-goroutine batch reader of
// regular files, draining a live handle, and the -w copy of live frames.
//
// Work is cancelled through a context.Context and progress is reported
// through a callback. The package prints nothing and knows nothing of
// flags, terminals or exit codes: errors come back as values (a damaged
// file is the report's Err, a bad filter a *capture.FilterError).
package pipeline
