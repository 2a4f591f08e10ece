package controller

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// With broker.rack set, the replicas of a new topic's partitions land on
// different racks, and leadership is spread evenly over the brokers.
func TestRackAwarePlacement(t *testing.T) {
	tc := newTestCluster(t, Options{NumPartitions: 1, DefaultReplicationFactor: 1})
	racks := map[model.NodeID]string{1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c"}
	for id := model.NodeID(1); id <= 6; id++ {
		if err := tc.c.Register(context.Background(), metadata.BrokerRecord{ID: id, Host: "localhost", Port: 9000 + int32(id), Rack: racks[id]}); err != nil {
			t.Fatal(err)
		}
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "racked", 12, 3
	req.Topics = append(req.Topics, rt)
	if res, err := tc.c.CreateTopics(context.Background(), req); err != nil || res[0].Err != nil {
		t.Fatalf("create: %v %+v", err, res)
	}
	leaders := map[model.NodeID]int{}
	for p, part := range tc.image().Topics["racked"].Partitions {
		seen := map[string]bool{}
		for _, r := range part.Replicas {
			if seen[racks[r]] {
				t.Errorf("partition %d: replicas %v put two on rack %s", p, part.Replicas, racks[r])
			}
			seen[racks[r]] = true
		}
		leaders[part.Leader]++
	}
	for id := model.NodeID(1); id <= 6; id++ {
		if leaders[id] != 2 {
			t.Errorf("broker %d leads %d of 12 partitions, want 2 (%v)", id, leaders[id], leaders)
		}
	}
}
