package controller

import (
	"context"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

func TestCreatePartitions(t *testing.T) {
	type topic struct {
		name       string
		count      int32
		assignment [][]int32 // nil: none given
	}
	type want struct{ err, msg string }
	tests := []struct {
		name   string
		topics []topic
		want   []want
		// partitions: topic -> replica lists after the request
		partitions map[string][][]model.NodeID
		isr        map[string][][]model.NodeID
	}{
		{
			name:   "grow with placement",
			topics: []topic{{name: "rf2", count: 4}},
			want:   []want{{"OK", ""}},
		},
		{
			name:       "grow with an explicit assignment",
			topics:     []topic{{name: "rf2", count: 4, assignment: [][]int32{{3, 1}, {1, 2}}}},
			want:       []want{{"OK", ""}},
			partitions: map[string][][]model.NodeID{"rf2": {ids(1, 2), ids(2, 1), ids(3, 1), ids(1, 2)}},
		},
		{
			name:       "fenced broker left out of the ISR",
			topics:     []topic{{name: "rf2", count: 3, assignment: [][]int32{{4, 1}}}},
			want:       []want{{"OK", ""}},
			partitions: map[string][][]model.NodeID{"rf2": {ids(1, 2), ids(2, 1), ids(4, 1)}},
			isr:        map[string][][]model.NodeID{"rf2": {ids(1, 2), ids(2, 1), ids(1)}},
		},
		{
			name:   "same count",
			topics: []topic{{name: "rf2", count: 2}},
			want:   []want{{"INVALID_PARTITIONS", "Topic already has 2 partition(s)."}},
		},
		{
			name:   "fewer",
			topics: []topic{{name: "rf2", count: 1}},
			want:   []want{{"INVALID_PARTITIONS", "The topic rf2 currently has 2 partition(s); 1 would not be an increase."}},
		},
		{
			name:   "unknown topic",
			topics: []topic{{name: "nope", count: 3}},
			want:   []want{{"UNKNOWN_TOPIC_OR_PARTITION", ""}},
		},
		{
			name:   "duplicate topic",
			topics: []topic{{name: "rf2", count: 3}, {name: "rf1", count: 2}, {name: "rf2", count: 4}},
			want:   []want{{"INVALID_REQUEST", "Duplicate topic name."}, {"OK", ""}},
		},
		{
			name:   "too few assignments",
			topics: []topic{{name: "rf2", count: 4, assignment: [][]int32{{1, 2}}}},
			want:   []want{{"INVALID_REPLICA_ASSIGNMENT", "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified."}},
		},
		{
			name:   "empty assignment list",
			topics: []topic{{name: "rf2", count: 3, assignment: [][]int32{}}},
			want:   []want{{"INVALID_REPLICA_ASSIGNMENT", "Attempted to add 1 additional partition(s), but only 0 assignment(s) were specified."}},
		},
		{
			name:   "empty replica list",
			topics: []topic{{name: "rf2", count: 3, assignment: [][]int32{{}}}},
			want:   []want{{"INVALID_REPLICA_ASSIGNMENT", "The manual partition assignment includes an empty replica list."}},
		},
		{
			name:   "unregistered broker",
			topics: []topic{{name: "rf2", count: 3, assignment: [][]int32{{1, 9}}}},
			want:   []want{{"INVALID_REPLICA_ASSIGNMENT", "The manual partition assignment includes broker 9, but no such broker is registered."}},
		},
		{
			name:   "broker twice",
			topics: []topic{{name: "rf2", count: 3, assignment: [][]int32{{2, 2}}}},
			want:   []want{{"INVALID_REPLICA_ASSIGNMENT", "The manual partition assignment includes the broker 2 more than once."}},
		},
		{
			name:   "other replication factor",
			topics: []topic{{name: "rf2", count: 3, assignment: [][]int32{{1}}}},
			want:   []want{{"INVALID_REPLICA_ASSIGNMENT", "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s)."}},
		},
		{
			name:   "only fenced brokers",
			topics: []topic{{name: "rf1", count: 3, assignment: [][]int32{{1}, {4}}}},
			want:   []want{{"INVALID_REPLICA_ASSIGNMENT", "All brokers specified in the manual partition assignment for partition 2 are fenced or in controlled shutdown."}},
		},
		{
			name:   "replication factor above the live brokers",
			topics: []topic{{name: "rf4", count: 2}},
			want:   []want{{"INVALID_REPLICATION_FACTOR", "Unable to replicate the partition 4 time(s): The target replication factor of 4 cannot be reached because only 3 broker(s) are registered."}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCluster(t, Options{}, 1, 2, 3, 4)
			tc.createTopic(t, "rf1", []int32{1})
			tc.createTopic(t, "rf2", []int32{1, 2}, []int32{2, 1})
			tc.createTopic(t, "rf4", []int32{1, 2, 3, 4})
			tc.register(t, 4, true)
			before := tc.image()
			req := kmsg.NewPtrCreatePartitionsRequest()
			for _, tp := range tt.topics {
				rt := kmsg.NewCreatePartitionsRequestTopic()
				rt.Topic, rt.Count = tp.name, tp.count
				if tp.assignment != nil {
					rt.Assignment = []kmsg.CreatePartitionsRequestTopicAssignment{}
				}
				for _, reps := range tp.assignment {
					rt.Assignment = append(rt.Assignment, kmsg.CreatePartitionsRequestTopicAssignment{Replicas: reps})
				}
				req.Topics = append(req.Topics, rt)
			}
			res, err := tc.c.CreatePartitions(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(tt.want) {
				t.Fatalf("got %d results %+v, want %d", len(res), res, len(tt.want))
			}
			im := tc.image()
			seen := map[string]bool{}
			for i, w := range tt.want {
				r := res[i]
				if errName(r.Err) != w.err || r.Message != w.msg {
					t.Errorf("result %d (%s) = %s %q, want %s %q", i, r.Name, errName(r.Err), r.Message, w.err, w.msg)
				}
				seen[r.Name] = true
				var count int32
				for _, tp := range tt.topics {
					if tp.name == r.Name {
						count = tp.count
					}
				}
				got, old := im.Topics[r.Name], before.Topics[r.Name]
				switch {
				case old == nil:
				case r.Err != nil && len(got.Partitions) != len(old.Partitions):
					t.Errorf("%s: failed request changed the partition count to %d", r.Name, len(got.Partitions))
				case r.Err == nil && int32(len(got.Partitions)) != count:
					t.Errorf("%s: %d partitions, want %d", r.Name, len(got.Partitions), count)
				}
			}
			for name, want := range tt.partitions {
				checkPlacement(t, name, im.Topics[name].Partitions, want, false)
			}
			for name, want := range tt.isr {
				checkPlacement(t, name, im.Topics[name].Partitions, want, true)
			}
			for _, p := range im.Topics["rf2"].Partitions {
				if p.LeaderEpoch != 0 || p.Leader != p.ISR[0] || len(p.Replicas) != 2 {
					t.Errorf("new partition %+v: want leader epoch 0, leader = first ISR member, 2 replicas", p)
				}
			}
		})
	}
}

func checkPlacement(t *testing.T, topic string, parts []metadata.Partition, want [][]model.NodeID, isr bool) {
	t.Helper()
	if len(parts) != len(want) {
		t.Fatalf("%s: %d partitions, want %d", topic, len(parts), len(want))
	}
	for i, p := range parts {
		got := p.Replicas
		if isr {
			got = p.ISR
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("%s-%d: replicas/isr %s, want %s", topic, i, fmtIDs(got), fmtIDs(want[i]))
		}
	}
}

func TestCreatePartitionsPlacement(t *testing.T) {
	tc := newTestCluster(t, Options{}, 1, 2, 3)
	tc.register(t, 4, true)
	tc.createTopic(t, "t", []int32{1, 2})
	req := kmsg.NewPtrCreatePartitionsRequest()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = "t", 7
	req.Topics = append(req.Topics, rt)
	if res, err := tc.c.CreatePartitions(context.Background(), req); err != nil || res[0].Err != nil {
		t.Fatalf("create partitions: %v %+v", err, res)
	}
	leaders := map[model.NodeID]int{}
	for i, p := range tc.image().Topics["t"].Partitions[1:] {
		if len(p.Replicas) != 2 || p.Replicas[0] == p.Replicas[1] || slices.Contains(p.Replicas, 4) {
			t.Errorf("partition %d replicas %v: want 2 distinct unfenced brokers", i+1, p.Replicas)
		}
		leaders[p.Leader]++
	}
	if len(leaders) != 3 {
		t.Errorf("leaders of new partitions %v: want all three live brokers to lead some", leaders)
	}
}

func TestCreatePartitionsValidateOnly(t *testing.T) {
	tc := newTestCluster(t, Options{}, 1)
	tc.createTopic(t, "t", []int32{1})
	before := tc.q.applied()
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.ValidateOnly = true
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = "t", 3
	req.Topics = append(req.Topics, rt)
	res, err := tc.c.CreatePartitions(context.Background(), req)
	if err != nil || res[0].Err != nil {
		t.Fatalf("validate only: %v %+v", err, res)
	}
	if n := len(tc.image().Topics["t"].Partitions); n != 1 || tc.q.applied() != before {
		t.Fatalf("validate only wrote: %d partitions, %d entries", n, tc.q.applied()-before)
	}
}
