package raft

import "github.com/sluice-io/sluice/internal/model"

// Raft ids and Kafka node ids. etcd raft reserves id 0 for "none", while
// Kafka allows node.id 0 (many Kafka configurations number their nodes
// from 0). A voter's raft id is its node id, except that node 0 gets
// node0PeerID, above every int32 node id; data directories written by a
// node of another id keep their raft ids.

// node0PeerID is the raft id of node.id 0.
const node0PeerID = 1 << 40

// PeerID is the raft id of the voter with node id n (n >= 0).
func PeerID(n model.NodeID) uint64 {
	if n == 0 {
		return node0PeerID
	}
	return uint64(n)
}

// NodeOf is the node id of raft id id; -1 for 0 ("none": no leader).
func NodeOf(id uint64) model.NodeID {
	switch id {
	case 0:
		return -1
	case node0PeerID:
		return 0
	}
	return model.NodeID(id)
}
