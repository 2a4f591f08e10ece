package raft

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// StateMachine receives committed entries in log order. Its methods are
// called from one goroutine at a time (Open's, then the node's loop), never
// concurrently, and must not call back into the Node: Propose and Close
// wait for the loop that is calling them.
type StateMachine interface {
	// Apply applies one proposal's payload, committed at index. It is called
	// exactly once per committed proposal, in log order, including during
	// the replay in Open. A non-nil error stops the node: a replica that
	// cannot apply a committed entry must not go on.
	Apply(index uint64, data []byte) error
	// Snapshot returns the state as of the last applied index.
	Snapshot() ([]byte, error)
	// Restore replaces the state with a snapshot taken at index: at Open
	// (the latest local snapshot) and when a lagging follower receives the
	// leader's. Never called for the empty bootstrap snapshot, so a fresh
	// state machine starts empty. Apply resumes at the entries after index.
	Restore(index uint64, data []byte) error
}

// Queue sizes of the driver loop's inputs.
const (
	propQueue   = 256
	recvQueue   = 256
	reportQueue = 64
)

// Node is one voter of the metadata quorum: etcd raft's RawNode driven by
// one goroutine that persists, sends, applies and snapshots.
//
// Safe for concurrent use.
type Node struct {
	id      uint64
	cfg     Config
	sm      StateMachine
	log     *slog.Logger
	tr      Transport
	dirLock *os.File

	// Owned by the loop goroutine (by Open until it starts the loop).
	rn        *etcdraft.RawNode
	ms        *etcdraft.MemoryStorage
	wal       *wal
	hs        *raftpb.HardState // last one written to the WAL
	confState *raftpb.ConfState // as of the applied index
	snapIndex uint64            // index of the latest snapshot
	nextID    uint64            // next proposal id
	waiters   map[uint64]*proposal
	contact   map[uint64]time.Time // when each peer was last heard from
	caughtUp  map[uint64]time.Time // when each peer last had the whole log

	propc   chan *proposal
	recvc   chan *raftpb.Message
	reportc chan func(*etcdraft.RawNode)
	stopc   chan struct{} // closed by Close
	donec   chan struct{} // closed when the loop has exited

	applied atomic.Uint64
	// readyTerm is the term of the last applied entry when that is the
	// current term: a leader has then applied everything committed before
	// its term (LeaderTerm).
	readyTerm atomic.Uint64
	term      atomic.Uint64 // the current term, as last persisted

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	leader  uint64        // guarded by mu
	leaderc chan struct{} // guarded by mu; closed and replaced when leader changes
	err     error         // guarded by mu; why the loop stopped
}

// Open starts the node. On first start it creates cfg.Dir and bootstraps a
// quorum of cfg.Peers; otherwise it restores the latest snapshot into sm and
// replays the committed log after it through sm.Apply. When this node is the
// only voter it campaigns at once and is the leader when Open returns.
func Open(cfg Config, sm StateMachine) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create raft dir: %w", err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("raft_node", cfg.ID)
	ds, err := loadDir(cfg.Dir, cfg.Peers, log)
	if err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("open raft dir %s: %w", cfg.Dir, err)
	}
	n := newNode(cfg, sm, log, lock, ds)
	n.term.Store(ds.hs.GetTerm())
	if err := n.start(ds); err != nil {
		close(n.donec) // the loop never ran; unblocks transport goroutines
		n.tr.Stop()
		_ = n.wal.close()
		_ = lock.Close()
		return nil, err
	}
	go n.run()
	return n, nil
}

func newNode(cfg Config, sm StateMachine, log *slog.Logger, lock *os.File, ds *dirState) *Node {
	return &Node{
		id: cfg.ID, cfg: cfg, sm: sm, log: log, tr: cfg.Transport, dirLock: lock,
		wal:       ds.wal,
		hs:        ds.hs,
		confState: ds.snap.GetMetadata().GetConfState(),
		snapIndex: ds.snap.GetMetadata().GetIndex(),
		nextID:    rand.Uint64(),
		waiters:   make(map[uint64]*proposal),
		contact:   make(map[uint64]time.Time),
		caughtUp:  make(map[uint64]time.Time),
		propc:     make(chan *proposal, propQueue),
		recvc:     make(chan *raftpb.Message, recvQueue),
		reportc:   make(chan func(*etcdraft.RawNode), reportQueue),
		stopc:     make(chan struct{}),
		donec:     make(chan struct{}),
		leaderc:   make(chan struct{}),
	}
}

// start restores the state machine, builds the RawNode, replays the
// committed log and, for a sole voter, wins the election, all before the
// loop runs.
func (n *Node) start(ds *dirState) error {
	if idx := n.snapIndex; idx > bootstrapIndex {
		if err := n.sm.Restore(idx, ds.snap.GetData()); err != nil {
			return fmt.Errorf("restore snapshot %d: %w", idx, err)
		}
	}
	n.applied.Store(n.snapIndex)
	n.ms = etcdraft.NewMemoryStorage()
	if err := n.ms.ApplySnapshot(ds.snap); err != nil {
		return fmt.Errorf("load snapshot: %w", err)
	}
	if err := n.ms.Append(ds.ents); err != nil {
		return fmt.Errorf("load log: %w", err)
	}
	if err := n.ms.SetHardState(ds.hs); err != nil {
		return fmt.Errorf("load hard state: %w", err)
	}
	rn, err := etcdraft.NewRawNode(n.raftConfig())
	if err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	n.rn = rn
	// Open stops the transport on failure, even a failed Start.
	if err := n.tr.Start(n); err != nil {
		return fmt.Errorf("start transport: %w", err)
	}
	if err := n.settle(); err != nil {
		return err
	}
	if !n.soleVoter() {
		return nil
	}
	if err := n.rn.Campaign(); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	return n.settle()
}

func (n *Node) raftConfig() *etcdraft.Config {
	return &etcdraft.Config{
		ID:                        n.id,
		ElectionTick:              n.cfg.ElectionTicks,
		HeartbeatTick:             n.cfg.HeartbeatTicks,
		Storage:                   n.ms,
		Applied:                   n.snapIndex,
		MaxSizePerMsg:             1 << 20,
		MaxInflightMsgs:           256,
		CheckQuorum:               true, // a partitioned leader steps down
		PreVote:                   true, // a rejoining node does not depose a live leader
		DisableProposalForwarding: true, // only the leader proposes: ErrNotLeader
		Logger:                    raftLogger{n.log},
	}
}

// settle handles Ready until raft has nothing more to do by itself.
func (n *Node) settle() error {
	for n.rn.HasReady() {
		if err := n.handleReady(); err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) soleVoter() bool {
	cs := n.confState
	return len(cs.GetVoters()) == 1 && cs.GetVoters()[0] == n.id && len(cs.GetVotersOutgoing()) == 0
}

// Leader returns the id of the current leader, or 0 when none is known.
func (n *Node) Leader() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leader
}

// LeaderWatch returns the current leader (0 when none is known) and a
// channel closed at the next change of the leader or of LeaderTerm, for
// callers that act on leadership (a controller activates when its node
// leads and has applied its term's first entry).
func (n *Node) LeaderWatch() (leader uint64, changed <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leader, n.leaderc
}

// WaitLeader waits until a leader is known and returns its id.
func (n *Node) WaitLeader(ctx context.Context) (uint64, error) {
	for {
		id, changed := n.LeaderWatch()
		if id != 0 {
			return id, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-n.donec:
			return 0, n.stopErr()
		}
	}
}

func (n *Node) setLeader(id uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.leader != id {
		n.leader = id
		close(n.leaderc)
		n.leaderc = make(chan struct{})
	}
}

// notifyWatchers wakes the LeaderWatch callers.
func (n *Node) notifyWatchers() {
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.leaderc)
	n.leaderc = make(chan struct{})
}

// LeaderTerm returns this node's term when it leads and has applied an
// entry of that term (the empty entry a new leader appends), so its state
// machine holds everything committed before: only then may it compute
// new entries from that state (Kafka's active controller claims
// leadership after replaying to its epoch's start). ok is false
// otherwise.
func (n *Node) LeaderTerm() (term uint64, ok bool) {
	term = n.term.Load()
	if n.Leader() != n.id || n.readyTerm.Load() != term {
		return 0, false
	}
	return term, true
}

// AppliedIndex returns the index of the last entry applied to the state
// machine.
func (n *Node) AppliedIndex() uint64 { return n.applied.Load() }

// Step delivers a message received from a peer; transports call it.
func (n *Node) Step(ctx context.Context, m *raftpb.Message) error {
	if m.GetTo() != n.id {
		return fmt.Errorf("raft: message for node %d delivered to node %d", m.GetTo(), n.id)
	}
	select {
	case n.recvc <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.donec:
		return ErrClosed
	}
}

// ReportUnreachable tells raft that a message to peer id was lost.
func (n *Node) ReportUnreachable(id uint64) {
	n.report(func(rn *etcdraft.RawNode) { rn.ReportUnreachable(id) })
}

// ReportSnapshot tells raft whether a snapshot sent to peer id arrived.
func (n *Node) ReportSnapshot(id uint64, status etcdraft.SnapshotStatus) {
	n.report(func(rn *etcdraft.RawNode) { rn.ReportSnapshot(id, status) })
}

func (n *Node) report(f func(*etcdraft.RawNode)) {
	select {
	case n.reportc <- f:
	case <-n.donec:
	}
}

// Close stops the loop and the transport, syncs and closes the WAL and
// releases the data directory. It returns the error that stopped the node
// early, if one did. Waiting proposals fail with ErrClosed.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		close(n.stopc)
		<-n.donec
		n.tr.Stop()
		err := n.wal.close()
		if cerr := n.dirLock.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("unlock raft dir: %w", cerr)
		}
		if serr := n.stopErr(); !errors.Is(serr, ErrClosed) {
			err = errors.Join(serr, err)
		}
		n.closeErr = err
	})
	return n.closeErr
}

// stopErr is why the loop stopped: ErrClosed or a fatal error.
func (n *Node) stopErr() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err == nil {
		return ErrClosed
	}
	return n.err
}
