package wire

// Fetch response bodies (API key 1), versions 4-18, encoded with each
// partition's records left where they lie: in a segment file (sent by
// sendfile) or in a caller's slice. The bytes are exactly those of
// kmsg.FetchResponse.AppendTo with RecordBatches filled in; the layout per
// version is in docs/format/fetch-response.md. Version notes: v5 adds
// log_start_offset (KIP-107), v7 error_code and session_id (KIP-227), v11
// preferred_read_replica (KIP-392), v12 flexible encoding (KIP-482) with
// the diverging_epoch, current_leader and snapshot_id tags (KIP-595,
// KIP-630), v13 topic ids instead of names (KIP-516), v16
// node_endpoints (KIP-951). Versions below 4 carry old message formats,
// which Kafka 4 no longer serves (KIP-896).

import (
	"fmt"
	"math"

	"github.com/sluice-io/sluice/internal/model"
)

// Fetch response versions EncodeFetch writes.
const (
	FetchMinVersion int16 = 4
	FetchMaxVersion int16 = 18
)

// FetchResponse is a Fetch response body whose records are referenced,
// not held. It is a plain value; safe for concurrent reads.
type FetchResponse struct {
	ThrottleMillis int32
	ErrorCode      int16 // v7+, fetch session errors
	SessionID      int32 // v7+
	Topics         []FetchTopic
	// NodeEndpoints (v16+, tag 0) are the brokers named by CurrentLeader
	// fields; sent only when non-empty, dropped below v16 as Kafka does.
	NodeEndpoints []NodeEndpoint
}

// FetchTopic is one topic of a FetchResponse. It is a plain value.
type FetchTopic struct {
	Topic      string        // v4-v12
	TopicID    model.TopicID // v13+
	Partitions []FetchPartition
}

// FetchPartition is one partition of a FetchResponse. Its zero value is
// not Kafka's "nothing known": use NewFetchPartition for the -1 defaults.
// It is a plain value.
type FetchPartition struct {
	Partition        int32
	ErrorCode        int16
	HighWatermark    model.Offset
	LastStableOffset model.Offset
	LogStartOffset   model.Offset // v5+
	// AbortedTransactions is nil for null (read_uncommitted), non-nil
	// (maybe empty) for a read_committed fetch.
	AbortedTransactions  []AbortedTransaction
	PreferredReadReplica model.NodeID // v11+, -1 for none (KIP-392)
	// Records is the partition's record bytes in a file; RecordsBytes the
	// same in memory (at most one is set). With neither, the records field
	// is empty (length 0, not null), as Kafka sends it.
	Records      FileSection
	RecordsBytes []byte
	// Tagged fields (v12+), each sent only when set and not Kafka's
	// all -1 default.
	DivergingEpoch *DivergingEpoch // tag 0
	CurrentLeader  *CurrentLeader  // tag 1
	SnapshotID     *SnapshotID     // tag 2
}

// NewFetchPartition returns a partition answer with Kafka's defaults:
// unknown offsets (-1) and no preferred read replica.
func NewFetchPartition(partition int32, errorCode int16) FetchPartition {
	return FetchPartition{
		Partition:            partition,
		ErrorCode:            errorCode,
		HighWatermark:        -1,
		LastStableOffset:     -1,
		LogStartOffset:       -1,
		PreferredReadReplica: -1,
	}
}

// AbortedTransaction is an aborted transaction within the returned
// offsets: its producer and the offset of its first record.
type AbortedTransaction struct {
	ProducerID  model.ProducerID
	FirstOffset model.Offset
}

// DivergingEpoch tells a follower where its log diverges from the leader's
// (KIP-595): the largest epoch and its end offset it shares.
type DivergingEpoch struct {
	Epoch     model.LeaderEpoch
	EndOffset model.Offset
}

// CurrentLeader names the partition's leader when the fetch went to a
// broker that is not (KIP-595; clients act on it since KIP-951).
type CurrentLeader struct {
	LeaderID    model.NodeID
	LeaderEpoch model.LeaderEpoch
}

// SnapshotID points a fetcher below the log start to a snapshot (KIP-630).
type SnapshotID struct {
	EndOffset model.Offset
	Epoch     model.LeaderEpoch
}

// NodeEndpoint is a broker's address (KIP-951).
type NodeEndpoint struct {
	NodeID model.NodeID
	Host   string
	Port   int32
	Rack   *string
}

// EncodeFetch resets dst and encodes r at version into it; on error dst is
// left empty. Records are referenced, not copied: dst must be written
// before the files are closed or the slices reused. It allocates nothing
// once dst's buffers have grown.
func EncodeFetch(version int16, r *FetchResponse, dst *Body) error {
	dst.Reset()
	if version < FetchMinVersion || version > FetchMaxVersion {
		return fmt.Errorf("%w: fetch v%d, encodable v%d-v%d", ErrUnsupportedVersion, version, FetchMinVersion, FetchMaxVersion)
	}
	flexible := version >= 12
	dst.i32(r.ThrottleMillis)
	if version >= 7 {
		dst.i16(r.ErrorCode)
		dst.i32(r.SessionID)
	}
	dst.arrayLen(len(r.Topics), flexible)
	for i := range r.Topics {
		t := &r.Topics[i]
		if version >= 13 {
			dst.uuid(t.TopicID)
		} else {
			dst.str(t.Topic, flexible)
		}
		dst.arrayLen(len(t.Partitions), flexible)
		for j := range t.Partitions {
			if err := encodeFetchPartition(dst, version, &t.Partitions[j]); err != nil {
				dst.Reset()
				return fmt.Errorf("fetch topic %q (id %s) partition %d: %w", t.Topic, t.TopicID, t.Partitions[j].Partition, err)
			}
		}
		if flexible {
			dst.uvarint(0) // topic tagged fields
		}
	}
	if flexible {
		encodeNodeEndpoints(dst, version, r.NodeEndpoints)
	}
	dst.closeRun()
	return nil
}

func encodeFetchPartition(dst *Body, version int16, p *FetchPartition) error {
	flexible := version >= 12
	dst.i32(p.Partition)
	dst.i16(p.ErrorCode)
	dst.i64(int64(p.HighWatermark))
	dst.i64(int64(p.LastStableOffset))
	if version >= 5 {
		dst.i64(int64(p.LogStartOffset))
	}
	dst.nullableArrayLen(len(p.AbortedTransactions), p.AbortedTransactions == nil, flexible)
	for _, a := range p.AbortedTransactions {
		dst.i64(int64(a.ProducerID))
		dst.i64(int64(a.FirstOffset))
		if flexible {
			dst.uvarint(0)
		}
	}
	if version >= 11 {
		dst.i32(int32(p.PreferredReadReplica))
	}
	if err := encodeRecords(dst, p, flexible); err != nil {
		return err
	}
	if flexible {
		encodePartitionTags(dst, p)
	}
	return nil
}

// encodeRecords writes the records field: a length, then the bytes by
// reference.
func encodeRecords(dst *Body, p *FetchPartition, flexible bool) error {
	s := p.Records
	switch {
	case s.Pos < 0 || s.Len < 0 || s.Len > math.MaxInt32-1 || len(p.RecordsBytes) > math.MaxInt32-1:
		return fmt.Errorf("%w: section %d+%d, %d bytes", ErrRecords, s.Pos, s.Len, len(p.RecordsBytes))
	case s.Len == 0:
		dst.bytesLen(int64(len(p.RecordsBytes)), flexible)
		dst.appendMem(p.RecordsBytes)
		return nil
	case len(p.RecordsBytes) > 0:
		return fmt.Errorf("%w: both a file section and %d bytes", ErrRecords, len(p.RecordsBytes))
	case s.File == nil:
		return fmt.Errorf("%w: section %d+%d without a file", ErrRecords, s.Pos, s.Len)
	}
	dst.bytesLen(s.Len, flexible)
	dst.appendFile(s)
	return nil
}

// Sizes of the partition tagged fields' values: their fields plus an
// empty tagged-field section.
const (
	divergingEpochSize = 4 + 8 + 1
	currentLeaderSize  = 4 + 4 + 1
	snapshotIDSize     = 8 + 4 + 1
)

func encodePartitionTags(dst *Body, p *FetchPartition) {
	de := p.DivergingEpoch
	if de != nil && de.Epoch == -1 && de.EndOffset == -1 {
		de = nil
	}
	cl := p.CurrentLeader
	if cl != nil && cl.LeaderID == -1 && cl.LeaderEpoch == -1 {
		cl = nil
	}
	sn := p.SnapshotID
	if sn != nil && sn.EndOffset == -1 && sn.Epoch == -1 {
		sn = nil
	}
	n := 0
	for _, set := range [...]bool{de != nil, cl != nil, sn != nil} {
		if set {
			n++
		}
	}
	dst.uvarint(uint64(n))
	if de != nil {
		dst.uvarint(0)
		dst.uvarint(divergingEpochSize)
		dst.i32(int32(de.Epoch))
		dst.i64(int64(de.EndOffset))
		dst.uvarint(0)
	}
	if cl != nil {
		dst.uvarint(1)
		dst.uvarint(currentLeaderSize)
		dst.i32(int32(cl.LeaderID))
		dst.i32(int32(cl.LeaderEpoch))
		dst.uvarint(0)
	}
	if sn != nil {
		dst.uvarint(2)
		dst.uvarint(snapshotIDSize)
		dst.i64(int64(sn.EndOffset))
		dst.i32(int32(sn.Epoch))
		dst.uvarint(0)
	}
}

// encodeNodeEndpoints writes the response's tagged fields: node_endpoints
// (tag 0, v16+) when there are any.
func encodeNodeEndpoints(dst *Body, version int16, eps []NodeEndpoint) {
	if version < 16 || len(eps) == 0 {
		dst.uvarint(0)
		return
	}
	size := uvarintLen(uint64(len(eps)) + 1)
	for i := range eps {
		host := &eps[i].Host
		size += 4 + compactStrLen(host) + 4 + compactStrLen(eps[i].Rack) + 1
	}
	dst.uvarint(1)
	dst.uvarint(0)
	dst.uvarint(uint64(size))
	dst.arrayLen(len(eps), true)
	for i := range eps {
		e := &eps[i]
		dst.i32(int32(e.NodeID))
		dst.str(e.Host, true)
		dst.i32(e.Port)
		dst.nullableStr(e.Rack, true)
		dst.uvarint(0)
	}
}
