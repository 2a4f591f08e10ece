package raft

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults applied by Open to zero Config fields.
const (
	DefaultTickInterval    = 100 * time.Millisecond
	DefaultElectionTicks   = 10
	DefaultHeartbeatTicks  = 1
	DefaultSnapshotEntries = 10000
)

// MaxEntryBytes bounds one proposal's payload.
const MaxEntryBytes = 64 << 20

// Peer is one voter of the quorum. Addr is where its Transport reaches it;
// the in-memory transport ignores it.
type Peer struct {
	ID   uint64
	Addr string
}

// Config configures a Node. The zero value of every field but ID, Dir and
// Peers has a default.
type Config struct {
	// ID is this node's id (Kafka's node.id); never 0.
	ID uint64
	// Dir holds the write-ahead log and snapshots; created on first start.
	Dir string
	// Peers are the voters of the quorum, this node included. They are read
	// at bootstrap only: afterwards the membership recorded in the log rules.
	Peers []Peer
	// TickInterval is the length of one raft tick.
	TickInterval time.Duration
	// ElectionTicks is the election timeout in ticks (randomised by raft
	// between ElectionTicks and 2*ElectionTicks).
	ElectionTicks int
	// HeartbeatTicks is the leader's heartbeat interval in ticks.
	HeartbeatTicks int
	// SnapshotEntries: take a snapshot and compact the log every
	// SnapshotEntries applied entries.
	SnapshotEntries uint64
	// Transport carries raft messages to the other peers. It may be nil
	// only when Peers is this node alone.
	Transport Transport
	// Logger receives the node's and etcd raft's logs; nil means
	// slog.Default().
	Logger *slog.Logger
}

// withDefaults returns cfg with defaults filled in, or why it is invalid.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.ID == 0 {
		return cfg, errors.New("raft config: ID must not be 0")
	}
	if cfg.Dir == "" {
		return cfg, errors.New("raft config: Dir is empty")
	}
	if err := checkPeers(cfg.ID, cfg.Peers); err != nil {
		return cfg, err
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = DefaultTickInterval
	}
	if cfg.ElectionTicks <= 0 {
		cfg.ElectionTicks = DefaultElectionTicks
	}
	if cfg.HeartbeatTicks <= 0 {
		cfg.HeartbeatTicks = DefaultHeartbeatTicks
	}
	if cfg.HeartbeatTicks >= cfg.ElectionTicks {
		return cfg, fmt.Errorf("raft config: HeartbeatTicks %d must be below ElectionTicks %d",
			cfg.HeartbeatTicks, cfg.ElectionTicks)
	}
	if cfg.SnapshotEntries == 0 {
		cfg.SnapshotEntries = DefaultSnapshotEntries
	}
	if cfg.Transport == nil {
		if len(cfg.Peers) > 1 {
			return cfg, errors.New("raft config: Transport is nil but there are other peers")
		}
		cfg.Transport = nopTransport{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

func checkPeers(self uint64, peers []Peer) error {
	seen := make(map[uint64]bool, len(peers))
	for _, p := range peers {
		if p.ID == 0 {
			return errors.New("raft config: peer ID must not be 0")
		}
		if seen[p.ID] {
			return fmt.Errorf("raft config: peer %d listed twice", p.ID)
		}
		seen[p.ID] = true
	}
	if !seen[self] {
		return fmt.Errorf("raft config: Peers does not list this node (%d)", self)
	}
	return nil
}
