package raft

import (
	"context"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Receiver is the node side of a Transport: where it delivers the messages
// it receives and reports what it could not deliver. *Node implements it;
// every method is safe for concurrent use.
type Receiver interface {
	// Step hands a message addressed to this node to raft. It blocks until
	// the node takes the message, ctx is done or the node is closed.
	Step(ctx context.Context, m *raftpb.Message) error
	// ReportUnreachable tells raft that a message to peer id was lost.
	ReportUnreachable(id uint64)
	// ReportSnapshot tells raft whether a MsgSnap to peer id arrived.
	ReportSnapshot(id uint64, status etcdraft.SnapshotStatus)
}

// Transport carries raft messages between the peers of a quorum. Raft
// tolerates lost, duplicated and reordered messages, so delivery is best
// effort. Implementations must be safe for concurrent use.
type Transport interface {
	// Start binds the transport to the local node before its first Send.
	Start(local Receiver) error
	// Send queues msgs for their recipients (Message.To) and returns
	// without waiting for the network: it runs on the raft loop. The
	// transport owns msgs afterwards and must not modify them. A MsgSnap
	// must be reported back with Receiver.ReportSnapshot.
	Send(msgs []*raftpb.Message)
	// Stop stops delivery in both directions and waits for the
	// transport's goroutines to exit. It is called once, after the node's
	// loop has stopped, and also when Start failed or was never reached.
	Stop()
}

// nopTransport serves a quorum of one, which never sends a message.
type nopTransport struct{}

func (nopTransport) Start(Receiver) error   { return nil }
func (nopTransport) Send([]*raftpb.Message) {}
func (nopTransport) Stop()                  {}
