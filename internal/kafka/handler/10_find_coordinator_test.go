package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestFindCoordinator(t *testing.T) {
	a := startAdmin(t)
	md, err := a.adm.BrokerMetadata(admCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	me := md.Brokers[0]
	for v := int16(0); v <= 6; v++ {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey, req.CoordinatorKeys = "g", []string{"g", "other"}
		resp := a.requestAt(t, v, req).(*kmsg.FindCoordinatorResponse)
		if v < 4 {
			if resp.ErrorCode != 0 || resp.NodeID != me.NodeID || resp.Host != me.Host || resp.Port != me.Port {
				t.Fatalf("v%d: %+v", v, resp)
			}
			continue
		}
		if len(resp.Coordinators) != 2 {
			t.Fatalf("v%d: %d coordinators for 2 keys", v, len(resp.Coordinators))
		}
		for i, c := range resp.Coordinators {
			if c.Key != req.CoordinatorKeys[i] || c.ErrorCode != 0 || c.NodeID != me.NodeID || c.Host != me.Host || c.Port != me.Port {
				t.Fatalf("v%d key %d: %+v", v, i, c)
			}
		}
	}
	// The first lookup created __consumer_offsets, compacted.
	topics, err := a.adm.ListTopicsWithInternal(admCtx(t), "__consumer_offsets")
	if err != nil {
		t.Fatal(err)
	}
	td := topics["__consumer_offsets"]
	if td.Err != nil || !td.IsInternal || len(td.Partitions) != 5 {
		t.Fatalf("__consumer_offsets: %+v", td)
	}
	cfgs, err := a.adm.DescribeTopicConfigs(admCtx(t), "__consumer_offsets")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfgs[0].Configs {
		if c.Key == "cleanup.policy" && (c.Value == nil || *c.Value != "compact") {
			t.Fatalf("cleanup.policy = %v", c.Value)
		}
	}

	// Key type 1: a transactional id, coordinated by the leader of its
	// __transaction_state partition, created compacted by this lookup.
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorType, req.CoordinatorKeys = 1, []string{"tx"}
	resp := a.requestAt(t, 6, req).(*kmsg.FindCoordinatorResponse)
	if c := resp.Coordinators[0]; c.ErrorCode != 0 || c.NodeID != me.NodeID || c.Port != me.Port {
		t.Fatalf("transactional id: %+v", c)
	}
	topics, err = a.adm.ListTopicsWithInternal(admCtx(t), "__transaction_state")
	if td := topics["__transaction_state"]; err != nil || td.Err != nil || len(td.Partitions) != 5 {
		t.Fatalf("__transaction_state: %+v %v", td, err)
	}
	for _, tt := range []struct {
		keyType int8
		want    string
	}{{2, "INVALID_REQUEST"}} {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType, req.CoordinatorKeys = tt.keyType, []string{"k"}
		resp := a.requestAt(t, 6, req).(*kmsg.FindCoordinatorResponse)
		if c := resp.Coordinators[0]; codeName(c.ErrorCode) != tt.want || c.NodeID != -1 || c.ErrorMessage == nil {
			t.Fatalf("key type %d: %+v", tt.keyType, c)
		}
	}
}
