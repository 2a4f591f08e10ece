package node_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// A second process started with a node.id that a live broker holds does
// not start: the controller answers DUPLICATE_BROKER_REGISTRATION and the
// startup error names node.id. Once the first has died the same start
// succeeds, the registration is the new process's at a new broker epoch,
// and heartbeats at the old epoch are STALE_BROKER_EPOCH.
func TestDuplicateNodeIDRefused(t *testing.T) {
	voter := nodetest.Start(t, asVoter)
	hb := func(o *node.Options) { o.HeartbeatInterval = 100 * time.Millisecond }
	first := nodetest.Start(t, following(voter, 2), hb)
	awaitUnfenced(context.Background(), t, voter, 2)

	opts := node.TestOptions(t.TempDir())
	opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	following(voter, 2)(&opts)
	hb(&opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if n, err := node.Start(ctx, opts); err == nil {
		n.Close()
		t.Fatal("a second node 2 started while the first lives")
	} else if !errors.Is(err, kerr.DuplicateBrokerRegistration) || !strings.HasPrefix(err.Error(), "node.id: 2 ") {
		t.Fatalf("second node 2: %v; want DUPLICATE_BROKER_REGISTRATION naming node.id", err)
	}

	// A partition the voter leads and node 2 follows.
	if err := createAssigned(context.Background(), t, voter, "dup", []int32{1, 2}); err != nil {
		t.Fatal(err)
	}
	oldEpoch := voter.Metadata().Current().Brokers[2].Epoch
	if err := first.Crash(); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel2()
	second, err := node.Start(ctx2, opts)
	if err != nil {
		t.Fatalf("node 2 after the first died: %v", err)
	}
	defer second.Close()
	if b := voter.Metadata().Current().Brokers[2]; b == nil || b.Fenced || !strings.HasSuffix(second.Addr(), ":"+strconv.Itoa(int(b.Port))) {
		t.Fatalf("registration %+v, the new process listens on %s", b, second.Addr())
	}

	// The first process, had it only been paused, would heartbeat at its
	// old epoch: stale, and its wish to shut down fences nobody.
	ctl := nodetest.Client(t, voter, kgo.SeedBrokers(voter.ControllerAddr()))
	for _, shutdown := range []bool{false, true} {
		req := kmsg.NewPtrBrokerHeartbeatRequest()
		req.BrokerID, req.BrokerEpoch, req.WantShutdown = 2, oldEpoch, shutdown
		resp, err := req.RequestWith(ctx2, ctl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != kerr.StaleBrokerEpoch.Code {
			t.Fatalf("heartbeat (shutdown %v) at the replaced process's epoch %d: %v, want STALE_BROKER_EPOCH",
				shutdown, oldEpoch, kerr.ErrorForCode(resp.ErrorCode))
		}
	}
	if b := voter.Metadata().Current().Brokers[2]; b.Fenced || b.Epoch == oldEpoch {
		t.Fatalf("after the stale heartbeats: %+v (old epoch %d)", b, oldEpoch)
	}

	// Its replica fetches at the old epoch are refused too (KIP-903), once
	// the new process has fetched at its own (it sends -1 until its image
	// shows its registration).
	im := waitTopicPartition(ctx2, t, voter, "dup", func(p metadata.Partition) bool { return len(p.ISR) == 2 })
	fetch := kmsg.NewPtrFetchRequest()
	fetch.ReplicaState.ID, fetch.ReplicaState.Epoch, fetch.MaxWaitMillis = 2, oldEpoch, 0
	rt := kmsg.NewFetchRequestTopic()
	rt.TopicID = im.Topics["dup"].ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.CurrentLeaderEpoch, rp.PartitionMaxBytes = int32(im.Topics["dup"].Partitions[0].LeaderEpoch), 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	fetch.Topics = append(fetch.Topics, rt)
	raw := nodetest.Dial(t, voter)
	for {
		fr := raw.Request(fetch, 15).(*kmsg.FetchResponse)
		code := fr.Topics[0].Partitions[0].ErrorCode
		if code == kerr.NotLeaderForPartition.Code {
			break
		}
		if ctx2.Err() != nil {
			t.Fatalf("a replica fetch at the replaced process's epoch: %v, want NOT_LEADER_OR_FOLLOWER", kerr.ErrorForCode(code))
		}
		// The new process fetches at its epoch once its image holds its
		// registration: another process's progress, no event to wait on.
		time.Sleep(50 * time.Millisecond)
	}
}
