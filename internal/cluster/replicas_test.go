package cluster

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// imageWith is an image holding one topic of one partition.
func imageWith(name string, id model.TopicID, p metadata.Partition) *metadata.Image {
	im := metadata.Empty()
	t := &metadata.Topic{Name: name, ID: id, Partitions: []metadata.Partition{p}, Configs: map[string]string{}}
	im.Topics[name], im.TopicIDs[id] = t, t
	return im
}

func testResolver(*metadata.Image, map[string]string) replica.Config {
	sc := storage.DefaultConfig()
	sc.FileDeleteDelayMs = 0
	return replica.Config{Storage: sc, MaxMessageBytes: 1 << 20, Codec: -1}
}

// I4: a replica that restarts starts at its checkpointed high watermark,
// not at its log end: records its followers never confirmed stay unread.
func TestHWCheckpointSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	im := imageWith("t", model.NewTopicID(), metadata.Partition{Leader: 1, LeaderEpoch: 0, Epoch: 0,
		Replicas: []model.NodeID{1, 2}, ISR: []model.NodeID{1, 2}})
	tp := model.TopicPartition{Topic: "t", Partition: 0}

	r := New(1, dir, testResolver, quiet)
	r.Reconcile(metadata.Empty(), im)
	p := r.Get(tp)
	now := time.Now().UnixMilli()
	if _, _, err := p.Append(storagetest.Batch(5, 8, now), now); err != nil {
		t.Fatal(err)
	}
	if err := p.UpdateFollowerFetch(replica.FollowerFetch{Replica: 2, FetchOffset: 3, BrokerEpoch: -1}, now); err != nil {
		t.Fatal(err)
	}
	if hw := p.HighWatermark(); hw != 3 {
		t.Fatalf("HW %d before restart, want 3", hw)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	r = New(1, dir, testResolver, quiet)
	defer r.Close()
	r.Reconcile(metadata.Empty(), im)
	p = r.Get(tp)
	if hw, end := p.HighWatermark(), p.LogEndOffset(); hw != 3 || end != 5 {
		t.Fatalf("after restart: HW %d log end %d, want 3 and 5", hw, end)
	}
	if c, err := p.Read(3, 1<<20, true); err != nil || !c.Empty() {
		t.Fatalf("read past the restored HW: %d bytes, %v", c.Size, err)
	}
}
