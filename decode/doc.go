// Package decode turns link-layer frames into TCP connections: it parses each
// frame without allocating, keeps a table of connections keyed by their
// 4-tuple, and hands every finished connection to a Sink as a plain record
// (endpoints, handshake, per-packet events, counters, verdict).
//
// The package prints nothing and knows nothing of files or output formats:
// frames come in through Decoder.Packet, records go out through Sink.
package decode
