package node_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// sessionFetch sends a Fetch v12 of topic in session id at epoch, naming
// the given partitions at their offsets, and returns the answer.
func sessionFetch(t *testing.T, raw *nodetest.Raw, topic string, id, epoch int32, offsets map[int32]int64, maxWait time.Duration) *kmsg.FetchResponse {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, int32(maxWait/time.Millisecond), 1, 1<<20
	req.SessionID, req.SessionEpoch = id, epoch
	if len(offsets) > 0 {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		for p, off := range offsets {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = p, off, 1<<20, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	return raw.Request(req, 12).(*kmsg.FetchResponse)
}

// answered lists the partitions of a fetch answer that carry records.
func answered(resp *kmsg.FetchResponse) (all, withRecords []int32) {
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			all = append(all, p.Partition)
			if len(p.RecordBatches) > 0 {
				withRecords = append(withRecords, p.Partition)
			}
		}
	}
	slices.Sort(all)
	slices.Sort(withRecords)
	return all, withRecords
}

// A fetch session (KIP-227): the full fetch that opens it answers every
// partition; an incremental fetch then names no partition, reads them
// all, and answers only the one that got a record; a repeated epoch is
// refused.
func TestFetchSessionAnswersOnlyNews(t *testing.T) {
	n := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const parts = 8
	if _, err := nodetest.Admin(t, n).CreateTopic(ctx, parts, 1, nil, "fs"); err != nil {
		t.Fatal(err)
	}
	cl := nodetest.Client(t, n, kgo.DefaultProduceTopic("fs"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p := range int32(parts) {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: p, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	raw := nodetest.Dial(t, n)
	offsets := map[int32]int64{}
	for p := range int32(parts) {
		offsets[p] = 0
	}
	resp := sessionFetch(t, raw, "fs", 0, 0, offsets, 0)
	all, data := answered(resp)
	if resp.ErrorCode != 0 || resp.SessionID == 0 || len(all) != parts || len(data) != parts {
		t.Fatalf("full fetch: %v, session %d, partitions %v, with records %v", kerr.ErrorForCode(resp.ErrorCode), resp.SessionID, all, data)
	}
	id := resp.SessionID
	for p := range offsets {
		offsets[p] = 1
	}
	resp = sessionFetch(t, raw, "fs", id, 1, offsets, 100*time.Millisecond)
	if all, _ := answered(resp); resp.ErrorCode != 0 || len(all) != 0 {
		t.Fatalf("incremental fetch with nothing new: %v, partitions %v", kerr.ErrorForCode(resp.ErrorCode), all)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 5, Value: []byte("w")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	resp = sessionFetch(t, raw, "fs", id, 2, nil, 5*time.Second)
	if all, data := answered(resp); !slices.Equal(all, []int32{5}) || !slices.Equal(data, []int32{5}) {
		t.Fatalf("incremental fetch after a record to partition 5: partitions %v, with records %v", all, data)
	}
	if resp := sessionFetch(t, raw, "fs", id, 2, nil, 0); resp.ErrorCode != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("a repeated epoch: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}

// A follower replicates in one fetch session with its leader (its idle
// partitions are not in its requests nor in the answers), and its log is
// the leader's, byte for byte.
func TestFollowerFetchesInASession(t *testing.T) {
	voter := nodetest.Start(t, asVoter)
	follower := nodetest.Start(t, following(voter, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const topics = 4
	for i := range topics {
		if err := createAssigned(ctx, t, voter, fmt.Sprint("fsr", i), []int32{1, 2}); err != nil {
			t.Fatal(err)
		}
	}
	cl := nodetest.Client(t, voter)
	for i := range 200 {
		// Topic 0 gets most records: the others go idle early.
		topic := fmt.Sprint("fsr", min(i%10, topics-1)*(i%2))
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if got := voter.FetchSessions().Len(); got != 1 {
		t.Fatalf("the leader holds %d fetch sessions, want the follower's one", got)
	}
	for i := range topics {
		tp := model.TopicPartition{Topic: fmt.Sprint("fsr", i), Partition: 0}
		waitReplicated(ctx, t, voter, follower, tp)
		if a, b := logBytes(t, voter.Partition(tp)), logBytes(t, follower.Partition(tp)); !bytes.Equal(a, b) {
			t.Fatalf("%s: the follower's log (%d bytes) differs from the leader's (%d bytes)", tp, len(b), len(a))
		}
	}
}

// waitReplicated waits until the follower's log ends where the leader's
// does.
func waitReplicated(ctx context.Context, t *testing.T, leader, follower *node.Node, tp model.TopicPartition) {
	t.Helper()
	for follower.Partition(tp).LogEndOffset() != leader.Partition(tp).LogEndOffset() {
		if ctx.Err() != nil {
			t.Fatalf("%s: follower at %d, leader at %d", tp, follower.Partition(tp).LogEndOffset(), leader.Partition(tp).LogEndOffset())
		}
		time.Sleep(10 * time.Millisecond) // the follower's next fetch: no event here to wait on
	}
}
