package handler

// The metadata log for brokers that are not voters, on the CONTROLLER
// listener (as a KRaft observer fetches __cluster_metadata from the
// quorum). A follower sends Fetch for __cluster_metadata partition 0 with
// fetch_offset = the index after the last entry it applied; the answer
// holds the committed entries after it, each as one record batch whose
// base offset is the entry's raft index and whose one record's value is
// the entry (metadata.EncodeEntry), and high_watermark = the voter's
// applied index + 1. With nothing new the fetch long-polls up to
// max_wait_ms. A follower too far behind for the voter's journal is
// answered with snapshot_id (the image's index + 1, epoch 0) instead, and
// fetches the image with FetchSnapshot, which answers the voter's current
// image (its JSON, as in raft snapshots) in one piece, whatever the
// requested id: the snapshot id it answers with says where to continue.
// The wire is Kafka's; the payloads are Sluice's (docs/format/metadata.md).

import (
	"context"
	"encoding/json"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// metadataTopicID is KRaft's fixed id of __cluster_metadata.
var metadataTopicID = [16]byte{15: 1}

func handleMetadataFetch(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.FetchRequest)
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(req.GetVersion())
	if len(req.Topics) != 1 || len(req.Topics[0].Partitions) != 1 || req.Topics[0].Partitions[0].Partition != 0 ||
		(req.Topics[0].Topic != model.ClusterMetadataTopic && req.Topics[0].TopicID != metadataTopicID) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return Now(resp)
	}
	from := uint64(max(req.Topics[0].Partitions[0].FetchOffset-1, 0))
	maxBytes := int(max(min(req.MaxBytes, req.Topics[0].Partitions[0].PartitionMaxBytes), 1))
	answer := func() (kmsg.Response, bool) {
		es, im := b.Metadata.Follow(from, maxBytes)
		if len(es) == 0 && im == nil {
			return nil, false
		}
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = req.Topics[0].Topic, req.Topics[0].TopicID
		sp := kmsg.NewFetchResponseTopicPartition()
		sp.HighWatermark = int64(b.Metadata.Current().Index) + 1
		sp.LogStartOffset = 0
		if im != nil {
			sp.SnapshotID.EndOffset, sp.SnapshotID.Epoch = int64(im.Index)+1, 0
		}
		for _, e := range es {
			sp.RecordBatches = appendEntryBatch(sp.RecordBatches, e)
		}
		st.Partitions = append(st.Partitions, sp)
		resp.Topics = append(resp.Topics, st)
		return resp, true
	}
	if m, ok := answer(); ok {
		return Now(m)
	}
	if req.MaxWaitMillis <= 0 {
		return Now(emptyMetadataFetch(req, b.Metadata.Current()))
	}
	return Later(func() kmsg.Response {
		ctx, cancel := context.WithTimeout(r.Ctx, time.Duration(req.MaxWaitMillis)*time.Millisecond)
		defer cancel()
		for {
			changed := b.Metadata.Changed()
			if m, ok := answer(); ok {
				return m
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return emptyMetadataFetch(req, b.Metadata.Current())
			}
		}
	})
}

// emptyMetadataFetch is the answer with nothing new.
func emptyMetadataFetch(req *kmsg.FetchRequest, im *metadata.Image) *kmsg.FetchResponse {
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(req.GetVersion())
	st := kmsg.NewFetchResponseTopic()
	st.Topic, st.TopicID = req.Topics[0].Topic, req.Topics[0].TopicID
	sp := kmsg.NewFetchResponseTopicPartition()
	sp.HighWatermark = int64(im.Index) + 1
	st.Partitions = append(st.Partitions, sp)
	resp.Topics = append(resp.Topics, st)
	return resp
}

// appendEntryBatch appends e as one record batch at offset e.Index.
func appendEntryBatch(dst []byte, e metadata.Entry) []byte {
	info := batch.NewBatchInfo(batch.CodecNone)
	info.BaseOffset = int64(e.Index)
	bl := batch.NewBuilder(info)
	if err := bl.Add(&batch.Record{Value: e.Data}); err != nil {
		panic("metadata entry batch: " + err.Error()) // one record always fits
	}
	out, err := bl.Build(dst)
	if err != nil {
		panic("metadata entry batch: " + err.Error())
	}
	return out
}

func handleMetadataSnapshot(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.FetchSnapshotRequest)
	resp := kmsg.NewPtrFetchSnapshotResponse()
	resp.SetVersion(req.GetVersion())
	if len(req.Topics) != 1 || len(req.Topics[0].Partitions) != 1 || req.Topics[0].Topic != model.ClusterMetadataTopic {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return Now(resp)
	}
	im := b.Metadata.Current()
	data, err := json.Marshal(im)
	if err != nil {
		resp.ErrorCode = kerr.UnknownServerError.Code
		return Now(resp)
	}
	st := kmsg.NewFetchSnapshotResponseTopic()
	st.Topic = req.Topics[0].Topic
	sp := kmsg.NewFetchSnapshotResponseTopicPartition()
	sp.SnapshotID.EndOffset, sp.SnapshotID.Epoch = int64(im.Index)+1, 0
	sp.Size, sp.Position, sp.Bytes = int64(len(data)), 0, data
	st.Partitions = append(st.Partitions, sp)
	resp.Topics = append(resp.Topics, st)
	return Now(resp)
}
