package fetchsession

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/wire"
	"github.com/sluice-io/sluice/internal/model"
)

// request builds a Fetch v12 request (topics by name) for topic t's
// partitions at the given fetch offsets.
func request(id, epoch int32, offsets map[int32]int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.SessionID, req.SessionEpoch = 12, id, epoch
	if len(offsets) > 0 {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = "t"
		for _, p := range slices.Sorted(func(yield func(int32) bool) {
			for p := range offsets {
				if !yield(p) {
					return
				}
			}
		}) {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset = p, offsets[p]
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	return req
}

// answer is what a read of req's partitions finds: hw per partition and
// records on those in withData.
func answer(req *kmsg.FetchRequest, hw map[int32]int64, withData ...int32) *wire.FetchResponse {
	resp := &wire.FetchResponse{}
	for _, rt := range req.Topics {
		t := wire.FetchTopic{Topic: rt.Topic}
		for _, rp := range rt.Partitions {
			p := wire.NewFetchPartition(rp.Partition, 0)
			p.HighWatermark, p.LastStableOffset, p.LogStartOffset = model.Offset(hw[rp.Partition]), model.Offset(hw[rp.Partition]), 0
			if slices.Contains(withData, rp.Partition) {
				p.RecordsBytes = []byte("batch")
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// partitions lists the answer's partitions.
func partitions(resp *wire.FetchResponse) []int32 {
	var out []int32
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out = append(out, p.Partition)
		}
	}
	return out
}

// fetched lists the partitions and offsets a request reads.
func fetched(req *kmsg.FetchRequest) string {
	var s string
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			s += fmt.Sprintf("%s-%d@%d ", t.Topic, p.Partition, p.FetchOffset)
		}
	}
	return s
}

// A session opened by a full fetch answers later incremental fetches with
// only the partitions that have records or moved offsets, reads every
// partition of the session at the offsets it was last given, and follows
// the fetcher's updates and forgotten partitions.
func TestIncrementalFetches(t *testing.T) {
	c := NewCache(10, nil)
	hw := map[int32]int64{0: 5, 1: 5, 2: 5}

	full := request(0, 0, map[int32]int64{0: 0, 1: 0, 2: 0})
	f, code := c.Begin(full)
	if code != 0 || f == nil {
		t.Fatalf("open: %v %v", f, code)
	}
	resp := answer(full, hw, 0, 1, 2)
	f.Finish(resp)
	if resp.SessionID == 0 || !slices.Equal(partitions(resp), []int32{0, 1, 2}) {
		t.Fatalf("full answer: session %d, partitions %v", resp.SessionID, partitions(resp))
	}
	id := resp.SessionID

	// Partitions 0 and 1 were read to 5; 2 stays behind (its offset is not
	// sent). Only partition 0 has new records now.
	inc := request(id, 1, map[int32]int64{0: 5, 1: 5})
	f, code = c.Begin(inc)
	if code != 0 {
		t.Fatalf("incremental: %v", kerr.ErrorForCode(code))
	}
	if got := fetched(inc); got != "t-0@5 t-1@5 t-2@0 " {
		t.Fatalf("incremental fetch reads %q", got)
	}
	resp = answer(inc, hw, 0)
	f.Finish(resp)
	if !slices.Equal(partitions(resp), []int32{0}) || resp.SessionID != id {
		t.Fatalf("incremental answer: session %d, partitions %v, want [0]", resp.SessionID, partitions(resp))
	}

	// A moved high watermark is news without records.
	hw[1] = 7
	inc = request(id, 2, nil)
	f, _ = c.Begin(inc)
	resp = answer(inc, hw)
	f.Finish(resp)
	if !slices.Equal(partitions(resp), []int32{1}) {
		t.Fatalf("after partition 1's HW moved: %v, want [1]", partitions(resp))
	}

	// Forgetting partition 2.
	inc = request(id, 3, nil)
	inc.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "t", Partitions: []int32{2}}}
	f, _ = c.Begin(inc)
	if got := fetched(inc); got != "t-0@5 t-1@5 " {
		t.Fatalf("after forgetting 2 the fetch reads %q", got)
	}
	f.Finish(answer(inc, hw))

	// Epochs are checked; an unknown session is refused.
	if _, code := c.Begin(request(id, 3, nil)); code != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("a repeated epoch: %v", kerr.ErrorForCode(code))
	}
	if _, code := c.Begin(request(id+1, 1, nil)); code != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("an unknown session: %v", kerr.ErrorForCode(code))
	}
	// FINAL closes the session and fetches without one.
	if f, _ := c.Begin(request(id, -1, map[int32]int64{0: 5})); f != nil || c.Len() != 0 {
		t.Fatalf("FINAL: fetch %v, %d sessions left", f, c.Len())
	}
}

// A full cache makes room only from a session idle for EvictAfter or a
// smaller one; else the new fetcher goes on without a session.
func TestEviction(t *testing.T) {
	now := time.Unix(1000, 0)
	c := NewCache(1, func() time.Time { return now })
	big := map[int32]int64{0: 0, 1: 0, 2: 0}
	f, _ := c.Begin(request(0, 0, big))
	resp := &wire.FetchResponse{}
	f.Finish(resp)
	first := resp.SessionID
	if f, _ := c.Begin(request(0, 0, map[int32]int64{0: 0})); f != nil {
		t.Fatal("a smaller session evicted a larger busy one")
	}
	now = now.Add(EvictAfter)
	f, _ = c.Begin(request(0, 0, map[int32]int64{0: 0}))
	if f == nil || c.Len() != 1 {
		t.Fatalf("an idle session was not evicted: %v, %d sessions", f, c.Len())
	}
	if _, code := c.Begin(request(first, 1, nil)); code != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("the evicted session: %v", kerr.ErrorForCode(code))
	}
	if f, _ := c.Begin(request(0, 0, big)); f == nil {
		t.Fatal("a larger session did not take the place of a smaller one")
	}
	if f, _ := NewCache(0, nil).Begin(request(0, 0, big)); f != nil {
		t.Fatal("a cache of 0 slots opened a session")
	}
}
