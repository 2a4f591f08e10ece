package node_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// KIP-951: a produce or fetch sent to a broker that does not lead the
// partition is answered NOT_LEADER_OR_FOLLOWER naming the leader, its
// epoch and its endpoint, so that clients move without a metadata
// refresh.
func TestNotLeaderAnswerNamesTheLeader(t *testing.T) {
	voter := nodetest.Start(t, asVoter)
	broker := nodetest.Start(t, following(voter, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := createAssigned(ctx, t, voter, "hint", []int32{2, 1}); err != nil {
		t.Fatal(err)
	}
	waitIndex(ctx, t, broker.Metadata(), voter.Metadata().Current().Index)
	topicID := voter.Metadata().Current().Topics["hint"].ID
	host, portStr, _ := net.SplitHostPort(broker.Addr())
	port, _ := strconv.Atoi(portStr)

	// Produce v11 to node 1, which follows.
	bb := batch.NewBuilder(batch.NewBatchInfo(batch.CodecNone))
	if err := bb.Add(&batch.Record{Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	pr := kmsg.NewPtrProduceRequest()
	pr.Acks, pr.TimeoutMillis = -1, 5000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "hint"
	pp := kmsg.NewProduceRequestTopicPartition()
	var err error
	if pp.Records, err = bb.Build(nil); err != nil {
		t.Fatal(err)
	}
	pt.Partitions = append(pt.Partitions, pp)
	pr.Topics = append(pr.Topics, pt)
	presp := nodetest.Dial(t, voter).Request(pr, 11).(*kmsg.ProduceResponse)
	sp := presp.Topics[0].Partitions[0]
	if sp.ErrorCode != kerr.NotLeaderForPartition.Code || sp.CurrentLeader.LeaderID != 2 || sp.CurrentLeader.LeaderEpoch < 0 {
		t.Fatalf("produce to a follower: code %d, current leader %+v", sp.ErrorCode, sp.CurrentLeader)
	}
	if len(presp.Brokers) != 1 || presp.Brokers[0].NodeID != 2 || presp.Brokers[0].Host != host || presp.Brokers[0].Port != int32(port) {
		t.Fatalf("produce answer's brokers %+v, want node 2 at %s", presp.Brokers, broker.Addr())
	}

	// Fetch v17 (topic ids) to node 1.
	fr := kmsg.NewPtrFetchRequest()
	fr.ReplicaID, fr.MaxWaitMillis, fr.MaxBytes = -1, 0, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.TopicID = topicID
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = 1<<20, -1
	ft.Partitions = append(ft.Partitions, fp)
	fr.Topics = append(fr.Topics, ft)
	fresp := nodetest.Dial(t, voter).Request(fr, 17).(*kmsg.FetchResponse)
	fpart := fresp.Topics[0].Partitions[0]
	if fpart.ErrorCode != kerr.NotLeaderForPartition.Code || fpart.CurrentLeader.LeaderID != 2 {
		t.Fatalf("fetch from a follower: code %d, current leader %+v", fpart.ErrorCode, fpart.CurrentLeader)
	}
	if len(fresp.Brokers) != 1 || fresp.Brokers[0].NodeID != 2 || fresp.Brokers[0].Port != int32(port) {
		t.Fatalf("fetch answer's node endpoints %+v, want node 2", fresp.Brokers)
	}
}
