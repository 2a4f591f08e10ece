// Package runtime runs coordinator shards: a shard is a state machine kept
// in ONE partition of an internal compacted topic (__consumer_offsets for
// groups, __transaction_state for transactions, later
// __share_group_state), the design of Kafka's CoordinatorRuntime
// (KIP-848).
//
// Slots (slots.go) are what a coordinator keeps of its shards: one per
// partition of its topic that this broker leads. The metadata listener
// only registers a slot and starts its load on a goroutine of its own
// (it must never wait, let alone propose to the controller); a failed
// load is retried, a shard whose write failed is loaded again, and a
// change of leader epoch or topic id unloads it for a fresh load. Route
// and Get answer NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS for keys
// without a loaded shard; FindCoordinator creates the topic on first use
// (topic.go).
//
// Lifecycle: Load replays the partition from its log start offset to its
// log end offset into the Machine (Replay per record; transaction markers
// go to a MarkerReplayer, txn.go), then runs Machine.Loaded as the first operation, where the
// machine arms its timers. From then on every change is an operation,
// Shard.Run(op) or, in two steps, Shard.Submit(op) then its wait: the op
// computes on the in-memory state and writes records through its Writer;
// the runtime appends them as ONE uncompressed batch, replays the records
// the op asked for into the machine, and releases the shard, all on the
// caller's goroutine (so a connection's requests take effect in the order
// it sent them). The wait then blocks until the log is durable up to its
// end (an fsync shared with every other waiter, group commit) and only
// then runs the op's callbacks (Writer.Then), which answer clients. So no
// answer ever reflects state that a crash could lose, and operations on
// one shard still pipeline: the next op runs while the previous one waits
// for its fsync. Kafka instead applies records only once committed and reverts on
// failure with snapshots; here a failed write stops the shard (Unloaded,
// Options.OnFailure) and its owner reloads it from the log, which is the
// truth.
//
// Timers (session timeouts, rebalance delays, periodic cleanups) are part
// of the shard: Writer.Schedule arms one by key, a later Schedule of the
// same key replaces it, Writer.Cancel drops it, and when it fires its op
// runs like any other operation. Time comes from an injectable Clock, so
// tests drive timers deterministically (runtimetest.Clock).
//
// Concurrency: operations on one shard are serialized by the shard's
// mutex; different shards run in parallel. A Machine's state is touched
// only by Replay, Loaded, Unloaded and ops, all under that mutex.
package runtime
