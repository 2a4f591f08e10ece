package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// describeTopicPartitions sends DescribeTopicPartitions through cl.
func describeTopicPartitions(ctx context.Context, t *testing.T, n *node.Node, limit int32, cursor *kmsg.DescribeTopicPartitionsRequestCursor, topics ...string) *kmsg.DescribeTopicPartitionsResponse {
	t.Helper()
	req := kmsg.NewPtrDescribeTopicPartitionsRequest()
	req.ResponsePartitionLimit, req.Cursor = limit, cursor
	for _, name := range topics {
		rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
		rt.Topic = name
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, nodetest.Client(t, n))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// describedPartitions flattens an answer to "topic:partition" strings.
func describedPartitions(resp *kmsg.DescribeTopicPartitionsResponse) []string {
	var out []string
	for _, st := range resp.Topics {
		for _, sp := range st.Partitions {
			out = append(out, *st.Topic+":"+string(rune('0'+sp.Partition)))
		}
	}
	return out
}

// kafka-topics.sh --describe pages through DescribeTopicPartitions: topics
// in name order, at most the limit of partitions per answer and a cursor
// to the next; a broker that dies shows as an offline replica there and in
// Metadata; unknown topics and a cursor outside the named topics get
// Kafka's errors.
func TestDescribeTopicPartitions(t *testing.T) {
	q := nodetest.StartQuorum(t, 3, func(o *node.Options) {
		o.SessionTimeout, o.HeartbeatInterval = 2*time.Second, 200*time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(nodetest.Client(t, q.Nodes[0]))
	for name, parts := range map[string]int32{"b": 2, "a": 3} {
		if _, err := adm.CreateTopic(ctx, parts, 3, nil, name); err != nil {
			t.Fatal(err)
		}
	}
	n := q.Nodes[0]
	first := describeTopicPartitions(ctx, t, n, 4, nil, "b", "a")
	if got, want := describedPartitions(first), []string{"a:0", "a:1", "a:2", "b:0"}; !slices.Equal(got, want) {
		t.Fatalf("first page %v, want %v", got, want)
	}
	c := first.NextCursor
	if c == nil || c.Topic != "b" || c.Partition != 1 {
		t.Fatalf("next cursor %+v, want b:1", c)
	}
	second := describeTopicPartitions(ctx, t, n, 4, &kmsg.DescribeTopicPartitionsRequestCursor{Topic: c.Topic, Partition: c.Partition}, "a", "b")
	if got := describedPartitions(second); !slices.Equal(got, []string{"b:1"}) || second.NextCursor != nil {
		t.Fatalf("second page %v cursor %+v, want [b:1] and no cursor", got, second.NextCursor)
	}
	p := second.Topics[0].Partitions[0]
	if len(p.Replicas) != 3 || len(p.ISR) != 3 || len(p.OfflineReplicas) != 0 || p.EligibleLeaderReplicas == nil || p.LeaderID < 1 {
		t.Fatalf("partition b:1 %+v", p)
	}

	unknown := describeTopicPartitions(ctx, t, n, 100, nil, "nope", "a")
	if len(unknown.Topics) != 2 || *unknown.Topics[1].Topic != "nope" || unknown.Topics[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic answered %+v", unknown.Topics)
	}
	bad := describeTopicPartitions(ctx, t, n, 100, &kmsg.DescribeTopicPartitionsRequestCursor{Topic: "zzz"}, "a")
	if len(bad.Topics) != 1 || bad.Topics[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("a cursor outside the topics answered %+v", bad.Topics)
	}

	q.Crash(2)
	awaitFenced(ctx, t, n, 3)
	after := describeTopicPartitions(ctx, t, n, 100, nil)
	for _, st := range after.Topics {
		for _, sp := range st.Partitions {
			if !slices.Equal(sp.OfflineReplicas, []int32{3}) {
				t.Errorf("%s:%d offline replicas %v, want [3]", *st.Topic, sp.Partition, sp.OfflineReplicas)
			}
		}
	}
	md, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, nodetest.Client(t, n))
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range md.Topics {
		for _, mp := range mt.Partitions {
			if !slices.Equal(mp.OfflineReplicas, []int32{3}) {
				t.Errorf("Metadata %s:%d offline replicas %v, want [3]", *mt.Topic, mp.Partition, mp.OfflineReplicas)
			}
		}
	}
}
