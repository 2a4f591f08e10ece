// Package wirefuzz is a wire fuzzer: it runs the real sluice binary as a
// child process (127.0.0.1, free ports, a temp data dir), writes a known
// set of records with acks=all to check topics, then sends mutated valid
// requests of every API the broker advertises over raw TCP connections
// for a set time, and checks afterwards that the broker survived: it
// still answers ApiVersions and Metadata, every acknowledged record reads
// back unchanged (same offsets, keys, values), before and after a clean
// restart, the process never died, its log holds no panic, and its RSS
// stayed under a bound (the maximum is reported).
//
//	go test ./tests/wirefuzz/                                   # 15 s (the normal suite)
//	go test ./tests/wirefuzz/ -wirefuzz.duration=1h -timeout 0  # make wirefuzz
//
// # Requests
//
// Each worker owns a connection and loops: it picks an API the broker
// advertises and a version (mostly in range), builds a request with kmsg
// whose fields are set at random and then aimed at the fuzzer's own
// topics, groups and transactional ids (names starting "fz"), with a
// valid record batch where records go; then mutates it: fields (ints to
// edge values, arrays grown, strings long or empty), the encoded bytes
// (flips, interesting values over 1-8 byte windows, truncation, inserted
// or deleted bytes), the header (key, version, correlation id), or the
// size prefix (shorter or longer than what follows). Several requests are
// often sent back to back before the answers are read. A connection the
// broker closes is reopened (closing is allowed on a malformed frame).
//
// # What is never sent
//
// The check topics ("wirefuzz-check-*") are never named by the fuzzer: a
// mutated request that contains a check topic's name or id anywhere in
// its bytes is dropped before it is sent, so no legitimate DeleteTopics,
// DeleteRecords, CreatePartitions, AlterConfigs or Produce can touch
// them. AlterConfigs and IncrementalAlterConfigs of broker resources are
// dropped (log.retention.* would delete the check records legitimately).
// CreateTopics and CreatePartitions that would take the broker past
// -wirefuzz.partitions partitions in all are dropped: issue 13's defect 6
// (a partition count that exhausts memory or file descriptors) is fixed
// on its own, and a fuzzer that creates topics for an hour must not
// measure the file-descriptor limit instead. Topics are not created by
// Metadata or Produce (auto.create.topics.enable=false).
//
// # Reproducing
//
// Every run logs its seed (-wirefuzz.seed); a worker's choices follow from
// it, though the broker's timing does not. When a check fails, the last
// frames each worker sent are written to -wirefuzz.out (default a temp
// dir, printed), and -wirefuzz.replay=<dir> sends them again, in order,
// each on a connection of its own, to a fresh broker, naming the frame
// after which it stopped serving. A frame that killed the broker is kept
// in testdata/regress/, which TestWireFuzzRegressions replays in the
// normal suite. A failure that needs two connections racing (the
// first one this found: a CreateTopics cancelled by its client while the
// next one ran) may not replay; the seed, the broker's log and a unit
// test of the race are then the record. -wirefuzz.bin fuzzes a given
// binary (an older build, to show a fix), -wirefuzz.race builds the
// broker with the race detector.
package wirefuzz
