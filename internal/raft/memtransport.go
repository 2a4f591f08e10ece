package raft

import (
	"context"
	"sync"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// linkQueue bounds the messages queued from one node to one peer; beyond
// it messages are dropped, as a congested network would.
const linkQueue = 1024

// MemoryNetwork connects the Nodes of one process, for tests and the
// in-process cluster harness. Messages are cloned on Send, so peers never
// share memory, and delivered in order per (sender, receiver) link.
//
// Safe for concurrent use.
type MemoryNetwork struct {
	mu    sync.Mutex
	nodes map[uint64]Receiver // guarded by mu; started transports
}

// NewMemoryNetwork returns an empty network.
func NewMemoryNetwork() *MemoryNetwork {
	return &MemoryNetwork{nodes: make(map[uint64]Receiver)}
}

// Transport returns the transport of node id: pass it in Config.Transport.
func (net *MemoryNetwork) Transport(id uint64) Transport {
	return &memTransport{net: net, id: id}
}

func (net *MemoryNetwork) receiver(id uint64) Receiver {
	net.mu.Lock()
	defer net.mu.Unlock()
	return net.nodes[id]
}

// memTransport is one node's end of a MemoryNetwork: one queue and one
// delivering goroutine per destination.
type memTransport struct {
	net *MemoryNetwork
	id  uint64

	mu      sync.Mutex
	local   Receiver                        // guarded by mu
	ctx     context.Context                 // guarded by mu; done on Stop
	cancel  context.CancelFunc              // guarded by mu
	links   map[uint64]chan *raftpb.Message // guarded by mu
	stopped bool                            // guarded by mu
	wg      sync.WaitGroup
}

func (t *memTransport) Start(local Receiver) error {
	t.mu.Lock()
	t.local = local
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.links = make(map[uint64]chan *raftpb.Message)
	t.mu.Unlock()
	t.net.mu.Lock()
	t.net.nodes[t.id] = local
	t.net.mu.Unlock()
	return nil
}

func (t *memTransport) Send(msgs []*raftpb.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.links == nil {
		return
	}
	for _, m := range msgs {
		to := m.GetTo()
		ch, ok := t.links[to]
		if !ok {
			ch = make(chan *raftpb.Message, linkQueue)
			t.links[to] = ch
			t.wg.Add(1)
			go t.deliver(t.ctx, t.local, to, ch)
		}
		select {
		case ch <- proto.Clone(m).(*raftpb.Message):
		default: // congested: drop, raft retries
			if m.GetType() == raftpb.MsgSnap {
				// raft waits for a report of every snapshot it sends; the
				// report must not block this caller, the raft loop.
				t.wg.Add(1)
				go func(local Receiver) {
					defer t.wg.Done()
					local.ReportSnapshot(to, etcdraft.SnapshotFailure)
				}(t.local)
			}
		}
	}
}

// deliver hands the messages queued for peer to to its node.
func (t *memTransport) deliver(ctx context.Context, local Receiver, to uint64, ch <-chan *raftpb.Message) {
	defer t.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-ch:
			err := errUnreachable
			if r := t.net.receiver(to); r != nil {
				err = r.Step(ctx, m)
			}
			if m.GetType() == raftpb.MsgSnap {
				status := etcdraft.SnapshotFinish
				if err != nil {
					status = etcdraft.SnapshotFailure
				}
				local.ReportSnapshot(to, status)
			}
			if err != nil {
				local.ReportUnreachable(to)
			}
		}
	}
}

func (t *memTransport) Stop() {
	t.net.mu.Lock()
	if t.net.nodes[t.id] == t.local {
		delete(t.net.nodes, t.id)
	}
	t.net.mu.Unlock()
	t.mu.Lock()
	t.stopped = true
	if t.cancel != nil {
		t.cancel()
	}
	t.mu.Unlock()
	t.wg.Wait()
}
