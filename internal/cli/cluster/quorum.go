package cluster

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/controller"
)

// quorum is what `cluster quorum` prints, and its --json form
// (kafka-metadata-quorum.sh describe --status and --replication in one).
type quorum struct {
	LeaderID      int32     `json:"leader_id"`
	LeaderEpoch   int32     `json:"leader_epoch"`
	HighWatermark int64     `json:"high_watermark"`
	Replicas      []replica `json:"replicas"`
}

type replica struct {
	ID     int32  `json:"id"`
	Status string `json:"status"` // Leader, Follower or Observer
	// LogEndOffset is the replica's metadata log end as the leader
	// knows it (-1 unknown); Lag is the high watermark minus it.
	LogEndOffset int64 `json:"log_end_offset"`
	Lag          int64 `json:"lag"`
	// LastFetchMs and LastCaughtUpMs are how long ago, in ms (-1 unknown
	// or the leader itself).
	LastFetchMs    int64 `json:"last_fetch_ms_ago"`
	LastCaughtUpMs int64 `json:"last_caught_up_ms_ago"`
}

func newQuorum(cfg *clientcmd.Config) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "quorum",
		Short: "Show the metadata quorum: leader, voters and observers with their lag",
		Long: `Show the metadata quorum (DescribeQuorum, as kafka-metadata-quorum.sh
describe --status --replication): the active controller (the quorum's
leader) and its epoch, the metadata log's high watermark, and for every
voter and observer (a broker that is not a controller) its log end, its
lag behind the high watermark and when the leader last heard from it.`,
		Example: `  sluice cluster quorum
  sluice cluster quorum -b 127.0.0.1:19092 --json`,
		Args: clientcmd.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := cfg.NewClient(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			req := controller.NewDescribeQuorumRequest()
			resp, err := req.RequestWith(cmd.Context(), cl)
			if err != nil {
				return fmt.Errorf("describe quorum: %w", err)
			}
			if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
				return fmt.Errorf("describe quorum: %w", err)
			}
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				return fmt.Errorf("describe quorum: the answer names no metadata partition")
			}
			p := resp.Topics[0].Partitions[0]
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("describe quorum: %w", err)
			}
			q := newQuorumFrom(p, time.Now())
			if asJSON {
				return clientcmd.WriteJSON(cmd.OutOrStdout(), q)
			}
			return q.print(cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

func newQuorumFrom(p kmsg.DescribeQuorumResponseTopicPartition, now time.Time) quorum {
	q := quorum{LeaderID: p.LeaderID, LeaderEpoch: p.LeaderEpoch, HighWatermark: p.HighWatermark, Replicas: []replica{}}
	add := func(s kmsg.DescribeQuorumResponseTopicPartitionReplicaState, status string) {
		r := replica{ID: s.ReplicaID, Status: status, LogEndOffset: s.LogEndOffset, Lag: -1,
			LastFetchMs: ago(now, s.LastFetchTimestamp), LastCaughtUpMs: ago(now, s.LastCaughtUpTimestamp)}
		if s.LogEndOffset >= 0 {
			r.Lag = max(p.HighWatermark-s.LogEndOffset, 0)
		}
		q.Replicas = append(q.Replicas, r)
	}
	for _, v := range p.CurrentVoters {
		status := "Follower"
		if v.ReplicaID == p.LeaderID {
			status = "Leader"
		}
		add(v, status)
	}
	for _, o := range p.Observers {
		add(o, "Observer")
	}
	return q
}

// ago is how long before now a timestamp (ms) was, -1 when unknown.
func ago(now time.Time, ms int64) int64 {
	if ms < 0 {
		return -1
	}
	return max(now.UnixMilli()-ms, 0)
}

func (q quorum) print(w io.Writer) error {
	fmt.Fprintf(w, "LEADER          %d\n", q.LeaderID)
	fmt.Fprintf(w, "LEADER EPOCH    %d\n", q.LeaderEpoch)
	fmt.Fprintf(w, "HIGH WATERMARK  %d\n\n", q.HighWatermark)
	t := clientcmd.NewTable(w, "NODE", "STATUS", "LOG END", "LAG", "LAST FETCH", "LAST CAUGHT UP")
	for _, r := range q.Replicas {
		t.Row(r.ID, r.Status, r.LogEndOffset, r.Lag, msAgo(r.LastFetchMs), msAgo(r.LastCaughtUpMs))
	}
	return t.Flush()
}

func msAgo(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return fmt.Sprintf("%d ms ago", ms)
}
