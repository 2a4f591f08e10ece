package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The leader, its followers with their lag, and the observers, as
// DescribeQuorum reports them.
func TestQuorumFromDescribeQuorum(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	p := kmsg.NewDescribeQuorumResponseTopicPartition()
	p.LeaderID, p.LeaderEpoch, p.HighWatermark = 2, 7, 100
	state := func(id int32, end, fetch, caught int64) kmsg.DescribeQuorumResponseTopicPartitionReplicaState {
		s := kmsg.NewDescribeQuorumResponseTopicPartitionReplicaState()
		s.ReplicaID, s.LogEndOffset, s.LastFetchTimestamp, s.LastCaughtUpTimestamp = id, end, fetch, caught
		return s
	}
	p.CurrentVoters = append(p.CurrentVoters, state(1, 90, 999_000, 998_000), state(2, 100, -1, -1), state(3, 100, 999_900, 999_900))
	p.Observers = append(p.Observers, state(4, -1, 999_500, -1))
	q := newQuorumFrom(p, now)
	want := []replica{
		{ID: 1, Status: "Follower", LogEndOffset: 90, Lag: 10, LastFetchMs: 1000, LastCaughtUpMs: 2000},
		{ID: 2, Status: "Leader", LogEndOffset: 100, Lag: 0, LastFetchMs: -1, LastCaughtUpMs: -1},
		{ID: 3, Status: "Follower", LogEndOffset: 100, Lag: 0, LastFetchMs: 100, LastCaughtUpMs: 100},
		{ID: 4, Status: "Observer", LogEndOffset: -1, Lag: -1, LastFetchMs: 500, LastCaughtUpMs: -1},
	}
	if len(q.Replicas) != len(want) {
		t.Fatalf("replicas %+v", q.Replicas)
	}
	for i := range want {
		if q.Replicas[i] != want[i] {
			t.Errorf("replica %d: %+v, want %+v", i, q.Replicas[i], want[i])
		}
	}
	var out strings.Builder
	if err := q.print(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"LEADER          2\n", "LEADER EPOCH    7\n", "HIGH WATERMARK  100\n", "1     Follower  90       10   1000 ms ago"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out.String())
		}
	}
}
