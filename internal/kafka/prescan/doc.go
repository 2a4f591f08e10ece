// Package prescan enforces the decoder limits Apache Kafka 4.4 added to
// request parsing, before franz-go's kmsg decodes a request body.
//
// # Why
//
// kmsg allocates an array's elements before it reads them. It refuses a
// count whose elements cannot fit in the bytes left, at their fewest
// encoded bytes, but an element takes far more memory than wire bytes
// (a Produce v9+ topic is 3 bytes on the wire and a 64-byte Go struct),
// so a 100 MiB frame (socket.request.max.bytes) could decode into ~2 GB.
// Unknown tagged fields are kept in a map per struct, two wire bytes
// each. Kafka 4.4 (after two 2026 CVEs: array-allocation and
// tagged-field amplification in its generated readers) refuses an array
// of more than 1,000,000 elements and more than 10,000 tagged fields,
// and checks every length against the bytes that remain before
// allocating from it.
//
// # How
//
// Check walks the body, as kmsg will read it, without allocating: every
// length and count is read with kmsg's own rules (compact uvarint or
// classic int16/int32 lengths, -1 as null, the 32-bit uvarint of kbin,
// bytes after the last field allowed) and checked before the walk goes
// on: an array against MaxArrayLen and against the bytes left at its
// element's fewest bytes, a string or byte length against the bytes
// left, the tagged fields of the whole request against MaxTaggedFields.
// It also adds up what the decoded Go values will take (an array's
// element size times its count, from kmsg's own types by reflection;
// nullable structs and strings; unknown tags) and refuses a body whose
// sum passes DecodeBudget, which bounds the memory one request can make
// the decoder take to a small multiple of its size whatever its shape.
// A body Check accepts is decoded by kmsg unchanged; kmsg is not forked.
//
// The walk follows a table of every request's layout (schema_gen.go)
// generated from the DSL kmsg itself is generated from (franz-go's
// generate/definitions, read from the module cache by gen.go), compiled
// per version at init. TestSchemaMatchesKmsg proves the table is kmsg's:
// for every request and version, kmsg's encoding of a request with every
// field set is walked to its last byte (known tagged fields included).
//
// The alternatives were worse: a fork of kmsg with limits in its
// generated readers would have to follow every franz-go release, and a
// walk without a schema cannot tell an array count from any other int32.
// The walk allocates nothing and reads a Produce's records as one
// length-prefixed span, never record by record. It costs 50-60 ns for a
// Produce of one partition, 130-170 ns for six and 110-150 ns for a
// Fetch of six (prescan_bench_test.go, on a shared 2-core machine): 12-30%
// of kmsg's own decode of the same bodies.
//
// A body Check refuses is a malformed frame: the connection closes, as
// for any body kmsg cannot decode. The request header's tagged fields
// are bounded by wire.ParseRequestHeader (they are skipped, never kept).
//
// Everything here is read-only after init and safe for concurrent use.
package prescan

//go:generate go run gen.go
