package group

import (
	"context"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// A broker without a group coordinator answers every group API with
// COORDINATOR_NOT_AVAILABLE rather than failing.
func TestNilCoordinator(t *testing.T) {
	var c *Coordinator
	ctx := context.Background()
	want := codeCoordinatorNotAvailable
	if _, code, _ := c.FindCoordinator(ctx, "g"); code != want {
		t.Errorf("FindCoordinator: %d", code)
	}
	join := joinReq{group: "g"}.build()
	if r := c.JoinGroup(ctx, join, Client{})(); r.ErrorCode != want {
		t.Errorf("JoinGroup: %d", r.ErrorCode)
	}
	if r := c.SyncGroup(ctx, &kmsg.SyncGroupRequest{Group: "g"})(); r.ErrorCode != want {
		t.Errorf("SyncGroup: %d", r.ErrorCode)
	}
	if r := c.Heartbeat(&kmsg.HeartbeatRequest{Group: "g"})(); r.ErrorCode != want {
		t.Errorf("Heartbeat: %d", r.ErrorCode)
	}
	if r := c.LeaveGroup(&kmsg.LeaveGroupRequest{Group: "g"})(); r.ErrorCode != want {
		t.Errorf("LeaveGroup: %d", r.ErrorCode)
	}
	if r := c.OffsetFetch(&kmsg.OffsetFetchRequest{Version: 7, Group: "g"})(); r.ErrorCode != want {
		t.Errorf("OffsetFetch: %d", r.ErrorCode)
	}
	if r := c.OffsetDelete(&kmsg.OffsetDeleteRequest{Group: "g"})(); r.ErrorCode != want {
		t.Errorf("OffsetDelete: %d", r.ErrorCode)
	}
	if r := c.ListGroups(&kmsg.ListGroupsRequest{})(); r.ErrorCode != want {
		t.Errorf("ListGroups: %d", r.ErrorCode)
	}
	if r := c.DescribeGroups(&kmsg.DescribeGroupsRequest{Groups: []string{"g"}})(); r.Groups[0].ErrorCode != want {
		t.Errorf("DescribeGroups: %d", r.Groups[0].ErrorCode)
	}
	if r := c.DeleteGroups(&kmsg.DeleteGroupsRequest{Groups: []string{"g"}})(); r.Groups[0].ErrorCode != want {
		t.Errorf("DeleteGroups: %d", r.Groups[0].ErrorCode)
	}
	// Unknown topics are refused before the coordinator is asked.
	commit := &kmsg.OffsetCommitRequest{Group: "g", Topics: []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{}}}}}
	if r := c.OffsetCommit(commit)(); r.Topics[0].Partitions[0].ErrorCode != codeUnknownTopicOrPartition {
		t.Errorf("OffsetCommit: %d", r.Topics[0].Partitions[0].ErrorCode)
	}
}

func TestRuntimeCode(t *testing.T) {
	for _, err := range []error{runtime.ErrClosed, runtime.ErrFailed, fmt.Errorf("%w: disk", runtime.ErrFailed)} {
		if runtimeCode(err) != codeNotCoordinator {
			t.Errorf("runtimeCode(%v) = %d, want NOT_COORDINATOR", err, runtimeCode(err))
		}
	}
	if runtimeCode(nil) != 0 {
		t.Error("runtimeCode(nil) is not 0")
	}
}
