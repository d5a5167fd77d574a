// Package decode turns link-layer frames into TCP connections: it parses each
// frame without allocating, keeps a table of connections keyed by their
// 4-tuple, and hands every finished connection to a Sink as a plain record
// (endpoints, handshake, per-packet events, counters). Three analysers
// follow each connection, each a type of its own: RFC 9293's state
// machine, Zeek's endpoint machine and tshark's analysis flags. Their
// summing-up (Verdict, ConnState, History, ZeekBytes) is written into the
// record's fields when it is handed over, so a record is final then and
// rendering it runs no analysis. Sequence numbers are Seq, compared in
// wrapping 32-bit space.
//
// The package prints nothing and knows nothing of files or output formats.
// Frames come in through Decoder.Packet, or split in two so that parsing
// can run ahead on another goroutine: Parser.Parse fills a Parsed, and
// Decoder.Apply runs it through the connection table in capture order
// (the pipeline's batch reader does this). Records go out through Sink.
package decode
