// Package bench is the workload engine behind `sluice bench` and
// bench/compare: it drives any Kafka-protocol broker with franz-go clients
// and measures what a user would, in the spirit of Kafka's
// kafka-producer-perf-test and kafka-consumer-perf-test and of the Open
// Messaging Benchmark.
//
// A run is described by a Spec and started with Run, which returns a
// Result (records/s, MB/s, latency percentiles, and for e2e an Integrity
// check):
//
//   - produce: Producers clients send Records records (or for Duration) of
//     RecordSize bytes, round-robin over the topic's partitions, optionally
//     paced at Rate records/s. Latency is send to acknowledgement, taken in
//     the produce promise.
//   - consume: one client reads the topic from its start offsets.
//     Throughput only.
//   - e2e: produce (normally at a fixed Rate) while one client consumes
//     from the end offsets taken before the run. Latency is send to
//     consume. Every record value starts with a header (run id, producer,
//     partition, per-(producer, partition) sequence number, send time; see
//     payload.go), so the consumer checks that no acknowledged record is
//     lost, duplicated, reordered within its stream, or misrouted.
//
// Measuring: latencies go into a log-linear Histogram (HdrHistogram's
// layout, 0.8% precision, no allocation per value). Send times are
// monotonic nanoseconds since the run's start, so e2e needs producer and
// consumer in one process. Under a Rate, a record's send time is its
// scheduled time (Pacer), so a broker stall is measured rather than hidden
// (coordinated omission). Records are reused through a pool once their
// promise has run, so the client side allocates nothing per record in
// steady state.
//
// A fallback is never silent: when idempotence is asked for and the broker
// does not serve InitProducerId, franz-go would quietly produce without it;
// the run does the same but records a note in the Result.
package bench
