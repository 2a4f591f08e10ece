package handler

// DescribeQuorum (key 55, KIP-595/KIP-836/KIP-853), on the CONTROLLER
// listener: the metadata quorum as `kafka-metadata-quorum.sh describe
// --status/--replication` shows it. Only the leader knows its followers'
// progress, so a voter that does not lead answers
// NOT_LEADER_OR_FOLLOWER with the leader it knows, as Kafka's
// non-leader voters do. Offsets are the metadata log's (raft index + 1
// is the log end after an entry, docs/format/metadata.md); the
// observers are the brokers that are not voters and heartbeat to this
// controller, each at the metadata offset it last reported (-1 before
// its first heartbeat to this controller). On the
// client listener a broker answers itself when it leads the quorum and
// otherwise forwards the request to the voters, as Kafka's brokers do
// (franz-go and kafka-metadata-quorum --bootstrap-server send it to the
// broker named controller in Metadata).

import (
	"context"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/raft"
)

// QuorumView is the metadata quorum as one node sees it.
type QuorumView interface {
	// Status is the quorum as this voter sees it; an error on a broker
	// that is not a voter.
	Status(ctx context.Context) (raft.Status, error)
	// VoterAddr is where voter id's CONTROLLER listener is, "" unknown.
	VoterAddr(id uint64) string
	// Forward asks the quorum's leader.
	Forward(ctx context.Context, req *kmsg.DescribeQuorumRequest) (*kmsg.DescribeQuorumResponse, error)
}

func handleDescribeQuorum(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DescribeQuorumRequest)
	resp := kmsg.NewPtrDescribeQuorumResponse()
	resp.SetVersion(req.GetVersion())
	if len(req.Topics) != 1 || req.Topics[0].Topic != model.ClusterMetadataTopic ||
		len(req.Topics[0].Partitions) != 1 || req.Topics[0].Partitions[0].Partition != 0 {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return Now(resp)
	}
	if b.Quorum == nil {
		resp.ErrorCode = kerr.NotController.Code
		return Now(resp)
	}
	ctx, cancel := context.WithTimeout(r.Ctx, 5*time.Second)
	defer cancel()
	st, err := b.Quorum.Status(ctx)
	self := raft.PeerID(b.Settings.NodeID)
	if b.Settings.Endpoint != ControllerEndpoint && (err != nil || st.Leader != self) {
		return forwardDescribeQuorum(b, r, req)
	}
	if err != nil {
		resp.ErrorCode = kerr.RequestTimedOut.Code
		return Now(resp)
	}
	rt := kmsg.NewDescribeQuorumResponseTopic()
	rt.Topic = model.ClusterMetadataTopic
	rp := kmsg.NewDescribeQuorumResponseTopicPartition()
	rp.LeaderID, rp.LeaderEpoch = leaderID(st.Leader), int32(st.Term)
	if st.Leader != self {
		rp.ErrorCode = kerr.NotLeaderForPartition.Code
	} else {
		rp.HighWatermark = int64(st.Commit) + 1
		for _, v := range st.Voters {
			rp.CurrentVoters = append(rp.CurrentVoters, replicaState(int32(raft.NodeOf(v.ID)), int64(v.Match)+1, v.LastContact, v.LastCaughtUp, v.ID == st.Leader))
		}
		// By node id (node 0's raft id sorts last).
		slices.SortFunc(rp.CurrentVoters, func(a, b kmsg.DescribeQuorumResponseTopicPartitionReplicaState) int {
			return int(a.ReplicaID) - int(b.ReplicaID)
		})
		rp.Observers = observers(b, st)
	}
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	for _, v := range st.Voters {
		host, port, ok := splitAddr(b.Quorum.VoterAddr(v.ID))
		if !ok {
			continue
		}
		n := kmsg.NewDescribeQuorumResponseNode()
		n.NodeID = int32(raft.NodeOf(v.ID))
		l := kmsg.NewDescribeQuorumResponseNodeListener()
		l.Name, l.Host, l.Port = r.Conn.Listener, host, port
		n.Listeners = append(n.Listeners, l)
		resp.Nodes = append(resp.Nodes, n)
	}
	slices.SortFunc(resp.Nodes, func(a, b kmsg.DescribeQuorumResponseNode) int { return int(a.NodeID) - int(b.NodeID) })
	return Now(resp)
}

// forwardDescribeQuorum answers with the quorum leader's answer, at the
// version the client asked for.
func forwardDescribeQuorum(b *Broker, r *Request, req *kmsg.DescribeQuorumRequest) *Reply {
	version := req.GetVersion()
	return Later(func() kmsg.Response {
		ctx, cancel := context.WithTimeout(r.Ctx, 30*time.Second)
		defer cancel()
		fwd := *req
		resp, err := b.Quorum.Forward(ctx, &fwd)
		if err != nil {
			resp = kmsg.NewPtrDescribeQuorumResponse()
			resp.ErrorCode, resp.ErrorMessage = controllerErrorCode(err), errorMessage(err)
		}
		resp.SetVersion(version)
		return resp
	})
}

func leaderID(id uint64) int32 { return int32(raft.NodeOf(id)) }

// replicaState is one replica's line; the leader's own times are -1, as
// Kafka reports them.
func replicaState(id int32, logEnd int64, contact, caughtUp time.Time, leader bool) kmsg.DescribeQuorumResponseTopicPartitionReplicaState {
	s := kmsg.NewDescribeQuorumResponseTopicPartitionReplicaState()
	s.ReplicaID, s.LogEndOffset = id, logEnd
	if !leader {
		s.LastFetchTimestamp, s.LastCaughtUpTimestamp = millis(contact), millis(caughtUp)
	}
	return s
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}

// observers lists the registered brokers that are not voters, each at
// the metadata offset and time of its last heartbeat to this controller
// (-1 before its first one).
func observers(b *Broker, st raft.Status) []kmsg.DescribeQuorumResponseTopicPartitionReplicaState {
	var seen map[model.NodeID]controller.Seen
	if b.Sessions != nil {
		seen = b.Sessions.Sessions()
	}
	var out []kmsg.DescribeQuorumResponseTopicPartitionReplicaState
	for _, id := range b.Metadata.Current().BrokerIDs() {
		if slices.ContainsFunc(st.Voters, func(v raft.VoterStatus) bool { return v.ID == raft.PeerID(id) }) {
			continue
		}
		s, ok := seen[id]
		end, at, caughtUp := int64(-1), time.Time{}, time.Time{}
		if ok {
			at = s.At
			if s.MetadataOffset >= 0 {
				end = s.MetadataOffset + 1
			}
			if end > int64(st.Commit) {
				caughtUp = s.At
			}
		}
		out = append(out, replicaState(int32(id), end, at, caughtUp, false))
	}
	return out
}

func splitAddr(addr string) (string, uint16, bool) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, false
	}
	port, err := strconv.ParseUint(p, 10, 16)
	return host, uint16(port), err == nil
}
