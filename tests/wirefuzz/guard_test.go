package wirefuzz

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/wire"
)

// guard decides whether a frame may be sent: never one that names a check
// topic, changes broker configs, or creates partitions past the budget.
// Safe for concurrent use.
type guard struct {
	names      [][]byte   // check topic names
	ids        [][16]byte // check topic ids
	partitions atomic.Int64
	limit      int64 // most partitions the broker may hold
}

// frames splits what the broker reads from a connection into the frames
// it will parse, as its framing does: a size prefix, then that many
// bytes. An incomplete last frame is never parsed (the connection is
// closed after a lying prefix).
func frames(stream []byte) [][]byte {
	var out [][]byte
	for len(stream) >= 4 {
		n := int32(binary.BigEndian.Uint32(stream))
		if n < 0 || int(n) > len(stream)-4 {
			break
		}
		out = append(out, stream[4:4+n])
		stream = stream[4+n:]
	}
	return out
}

// allow reports whether stream (one or more frames) may be sent.
func (g *guard) allow(stream []byte) bool {
	for _, name := range g.names {
		if bytes.Contains(stream, name) {
			return false
		}
	}
	for _, id := range g.ids {
		if bytes.Contains(stream, id[:]) {
			return false
		}
	}
	for _, f := range frames(stream) {
		if !g.allowFrame(f) {
			return false
		}
	}
	return true
}

func (g *guard) allowFrame(f []byte) bool {
	h, body, err := wire.ParseRequestHeader(f, func(key, version int16) bool {
		r := kmsg.RequestForKey(key)
		if r == nil {
			return false
		}
		r.SetVersion(version)
		return r.IsFlexible()
	})
	if err != nil {
		return true // the broker closes the connection
	}
	req := kmsg.RequestForKey(h.APIKey)
	if req == nil {
		return true
	}
	req.SetVersion(h.APIVersion)
	if req.ReadFrom(body) != nil {
		return true // undecodable: the broker closes the connection
	}
	switch r := req.(type) {
	case *kmsg.AlterConfigsRequest:
		for _, res := range r.Resources {
			if res.ResourceType != kmsg.ConfigResourceTypeTopic {
				return false
			}
		}
	case *kmsg.IncrementalAlterConfigsRequest:
		for _, res := range r.Resources {
			if res.ResourceType != kmsg.ConfigResourceTypeTopic {
				return false
			}
		}
	case *kmsg.CreateTopicsRequest:
		var n int64
		for _, t := range r.Topics {
			n += max(int64(t.NumPartitions), int64(len(t.ReplicaAssignment)), 1)
		}
		return g.partitions.Load()+n <= g.limit
	case *kmsg.CreatePartitionsRequest:
		var n int64
		for _, t := range r.Topics {
			n += max(int64(t.Count), 0)
		}
		return g.partitions.Load()+n <= g.limit
	}
	return true
}
