package runtime

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// testTopic is the internal topic of these tests; node 1 is this broker.
const testTopic = "__test_state"

// testMachine is a shard's state: how many records it replayed.
type testMachine struct {
	records  int           // guarded by the shard
	gate     chan struct{} // when set, Loaded waits until it is closed
	unloaded chan struct{} // closed by Unloaded
}

func (m *testMachine) Replay(batch.Header, *batch.Record) error {
	m.records++
	return nil
}

func (m *testMachine) Loaded(*Writer) {
	if m.gate != nil {
		<-m.gate
	}
}

func (m *testMachine) Unloaded() { close(m.unloaded) }

type testSlot = Slot[*testMachine]

// made is one machine Slots.New made, with its slot.
type made struct {
	sl *testSlot
	m  *testMachine
}

// fixture is a broker's metadata, local replicas and controller around
// one Slots.
type fixture struct {
	t        *testing.T
	pub      *metadata.Publisher
	index    uint64
	topicID  model.TopicID
	slots    *Slots[*testMachine]
	made     chan made                  // every machine New made, in order
	machine  func(p int32) *testMachine // the next machine of p (New)
	creates  chan *kmsg.CreateTopicsRequest
	createFn func(req *kmsg.CreateTopicsRequest) error // nil creates it, led by node 1

	mu       sync.Mutex
	replicas map[model.TopicPartition]*replica.Partition // guarded by mu
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, pub: metadata.NewPublisher(), topicID: model.NewTopicID(),
		made: make(chan made, 64), creates: make(chan *kmsg.CreateTopicsRequest, 64),
		replicas: map[model.TopicPartition]*replica.Partition{}}
	f.machine = func(int32) *testMachine { return &testMachine{} }
	f.slots = NewSlots(SlotsConfig[*testMachine]{
		Topic: InternalTopic{Name: testTopic, Partitions: 3, ReplicationFactor: 3,
			Configs: map[string]string{"cleanup.policy": "compact", "min.insync.replicas": "3"}},
		Label: "test state", Name: "test coordinator",
		Node: 1, Metadata: f.pub, Replicas: f, Topics: f,
		New: func(sl *testSlot) *testMachine {
			m := f.machine(sl.Partition())
			m.unloaded = make(chan struct{})
			f.made <- made{sl, m}
			return m
		},
	})
	t.Cleanup(f.slots.Close) // before the logs close (cleanups run last first)
	f.publish(metadata.Record{Broker: &metadata.BrokerRecord{ID: 1}}, metadata.Record{Broker: &metadata.BrokerRecord{ID: 2}})
	return f
}

// Get is the fixture's Replicas.
func (f *fixture) Get(tp model.TopicPartition) *replica.Partition {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replicas[tp]
}

// CreateTopics is the fixture's controller: it creates the topic led by
// node 1, as the controller and the replica reconciler would.
func (f *fixture) CreateTopics(_ context.Context, req *kmsg.CreateTopicsRequest) ([]controller.TopicResult, error) {
	f.creates <- req
	if f.createFn != nil {
		if err := f.createFn(req); err != nil {
			return nil, err
		}
	}
	rt := req.Topics[0]
	f.addTopic(rt.NumPartitions, 1)
	return []controller.TopicResult{{Name: rt.Topic, ID: f.topicID, NumPartitions: rt.NumPartitions, ReplicationFactor: rt.ReplicationFactor}}, nil
}

func (f *fixture) publish(recs ...metadata.Record) {
	f.t.Helper()
	data, err := metadata.EncodeEntry(recs)
	if err != nil {
		f.t.Fatal(err)
	}
	f.index++
	if err := f.pub.Apply(f.index, data); err != nil {
		f.t.Fatal(err)
	}
}

// addTopic publishes testTopic with partitions led by leaders[i] (the
// last one for the rest), at leader epoch 0; node 1 holds a replica of
// those it leads.
func (f *fixture) addTopic(partitions int32, leaders ...model.NodeID) {
	f.t.Helper()
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: testTopic, ID: f.topicID}}}
	for p := range partitions {
		leader := leaders[min(int(p), len(leaders)-1)]
		if leader == 1 {
			f.addReplica(p)
		}
		recs = append(recs, f.partition(p, leader, 0))
	}
	f.publish(recs...)
}

func (f *fixture) partition(p int32, leader model.NodeID, epoch model.LeaderEpoch) metadata.Record {
	return metadata.Record{Partition: &metadata.PartitionRecord{TopicID: f.topicID, Partition: p,
		Leader: leader, LeaderEpoch: epoch, Replicas: []model.NodeID{leader}, ISR: []model.NodeID{leader}}}
}

// addReplica opens a local replica of partition p (a small
// max.message.bytes, so a test can make a write fail).
func (f *fixture) addReplica(p int32) {
	f.t.Helper()
	tp := model.TopicPartition{Topic: testTopic, Partition: p}
	cfg := storage.DefaultConfig()
	lg, err := storage.Create(filepath.Join(f.t.TempDir(), tp.String()), f.topicID, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = lg.Close() })
	f.mu.Lock()
	f.replicas[tp] = replica.New(tp, lg, replica.Config{Storage: cfg, MaxMessageBytes: 4096, Codec: -1}, 0)
	f.mu.Unlock()
}

func (f *fixture) setReplica(tp model.TopicPartition, p *replica.Partition) {
	f.mu.Lock()
	f.replicas[tp] = p
	f.mu.Unlock()
}

// closedReplica is a replica of tp holding one batch whose log is closed:
// reading it fails.
func (f *fixture) closedReplica(tp model.TopicPartition) *replica.Partition {
	f.t.Helper()
	cfg := storage.DefaultConfig()
	lg, err := storage.Create(filepath.Join(f.t.TempDir(), tp.String()), f.topicID, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	p := replica.New(tp, lg, replica.Config{Storage: cfg, MaxMessageBytes: 4096, Codec: -1}, 0)
	if _, _, err := p.Append(storagetest.Batch(1, 8, time.Now().UnixMilli()), time.Now().UnixMilli()); err != nil {
		f.t.Fatal(err)
	}
	if err := lg.Close(); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// next returns the next machine New made.
func (f *fixture) next() made {
	f.t.Helper()
	select {
	case m := <-f.made:
		return m
	case <-time.After(10 * time.Second):
		f.t.Fatal("no shard loaded")
		return made{}
	}
}

// loaded returns the next machine New made once its slot is loaded.
func (f *fixture) loaded() made {
	f.t.Helper()
	m := f.next()
	await(f.t, m.sl.Ready(), "slot of partition %d loaded", m.sl.Partition())
	return m
}

func await(t *testing.T, ch <-chan struct{}, what string, args ...any) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting: "+what, args...)
	}
}

func (f *fixture) expectNoLoad() {
	f.t.Helper()
	select {
	case m := <-f.made:
		f.t.Fatalf("unexpected load of partition %d", m.sl.Partition())
	default:
	}
}

// records returns how many records the slot's machine holds.
func records(t *testing.T, sl *testSlot) int {
	t.Helper()
	n := -1
	if err := sl.Run(func(m *testMachine, _ *Writer) { n = m.records }); err != nil {
		t.Fatalf("run: %v", err)
	}
	return n
}

func write(sl *testSlot, value []byte) error {
	return sl.Run(func(_ *testMachine, w *Writer) { w.Append([]byte("k"), value) })
}

func TestSlotsFollowLeadership(t *testing.T) {
	f := newFixture(t)
	f.slots.Start()
	if _, code := f.slots.Get(0); code != codeNotCoordinator {
		t.Fatalf("Get before the topic: code %d, want NOT_COORDINATOR", code)
	}
	f.addTopic(3, 1, 2, 1) // node 1 leads 0 and 2
	a, b := f.loaded(), f.loaded()
	f.expectNoLoad()
	if a.sl.Partition() == b.sl.Partition() || a.sl.Partition() == 1 || b.sl.Partition() == 1 {
		t.Fatalf("loaded partitions %d and %d, want 0 and 2", a.sl.Partition(), b.sl.Partition())
	}
	for p, want := range map[int32]int16{0: 0, 1: codeNotCoordinator, 2: 0} {
		if _, code := f.slots.Get(p); code != want {
			t.Errorf("Get(%d): code %d, want %d", p, code, want)
		}
	}
	if slots, loading := f.slots.Loaded(); len(slots) != 2 || loading {
		t.Fatalf("Loaded: %d slots, loading %v; want 2, false", len(slots), loading)
	}
	p0 := a
	if p0.sl.Partition() != 0 {
		p0 = b
	}
	if err := write(p0.sl, []byte("v")); err != nil {
		t.Fatal(err)
	}

	// A new leader epoch: a new shard, replayed from the log.
	f.publish(f.partition(0, 1, 1))
	again := f.loaded()
	await(t, p0.sl.Context().Done(), "old slot of partition 0 unloaded")
	await(t, p0.m.unloaded, "old machine of partition 0 unloaded")
	if again.sl.Partition() != 0 || again.sl.Epoch() != 1 {
		t.Fatalf("reloaded partition %d at epoch %d, want 0 at 1", again.sl.Partition(), again.sl.Epoch())
	}
	if n := records(t, again.sl); n != 1 {
		t.Fatalf("reloaded machine replayed %d records, want 1", n)
	}
	if err := write(p0.sl, []byte("v")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write to the unloaded slot: %v, want ErrClosed", err)
	}

	// Leadership moves away: the slot goes.
	f.publish(f.partition(0, 2, 2))
	await(t, again.m.unloaded, "partition 0 unloaded")
	if _, code := f.slots.Get(0); code != codeNotCoordinator {
		t.Fatalf("Get(0) after losing it: code %d, want NOT_COORDINATOR", code)
	}
	if slots, _ := f.slots.Loaded(); len(slots) != 1 || slots[0].Partition() != 2 {
		t.Fatalf("Loaded after losing partition 0: %d slots", len(slots))
	}
	f.expectNoLoad()
}

func TestSlotsLoadAsynchronously(t *testing.T) {
	f := newFixture(t)
	gate := make(chan struct{})
	f.machine = func(int32) *testMachine { return &testMachine{gate: gate} }
	f.slots.Start()
	f.addTopic(1, 1) // returns while the load waits: the listener only starts it
	loading := f.next()
	if _, code := f.slots.Get(0); code != codeLoadInProgress {
		t.Fatalf("Get while loading: code %d, want COORDINATOR_LOAD_IN_PROGRESS", code)
	}
	if _, code := f.slots.Route("any"); code != codeLoadInProgress {
		t.Fatalf("Route while loading: code %d, want COORDINATOR_LOAD_IN_PROGRESS", code)
	}
	if slots, busy := f.slots.Loaded(); len(slots) != 0 || !busy {
		t.Fatalf("Loaded while loading: %d slots, loading %v", len(slots), busy)
	}
	if err := loading.sl.Run(func(*testMachine, *Writer) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run on a loading slot: %v, want ErrClosed", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // FindCoordinator waits for the load at most as long as ctx
	if node, code, err := f.slots.FindCoordinator(ctx, "any"); node != 1 || code != 0 || err != nil {
		t.Fatalf("FindCoordinator while loading: %d, %d, %v", node, code, err)
	}

	// Unloaded while loading: the load, once done, closes its shard.
	f.publish(f.partition(0, 1, 1))
	await(t, loading.sl.Context().Done(), "loading slot canceled")
	again := f.next()
	close(gate)
	await(t, loading.m.unloaded, "stale shard closed")
	await(t, again.sl.Ready(), "new slot loaded")
	if sl, code := f.slots.Get(0); code != 0 || sl != again.sl {
		t.Fatalf("Get(0): code %d, slot of epoch %d; want the new slot", code, again.sl.Epoch())
	}
}

func TestSlotsReloadAfterFailedWrite(t *testing.T) {
	f := newFixture(t)
	f.slots.Start()
	f.addTopic(1, 1)
	first := f.loaded()
	if err := write(first.sl, []byte("v")); err != nil {
		t.Fatal(err)
	}
	err := write(first.sl, make([]byte, 8192)) // over max.message.bytes
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("oversized write: %v, want ErrFailed", err)
	}
	second := f.loaded()
	await(t, first.sl.Context().Done(), "failed slot canceled")
	if second.sl == first.sl || second.sl.Epoch() != first.sl.Epoch() {
		t.Fatal("no new slot for the same leadership")
	}
	if n := records(t, second.sl); n != 1 {
		t.Fatalf("reloaded machine has %d records, want the 1 durable one", n)
	}
	if sl, code := f.slots.Get(0); code != 0 || sl != second.sl {
		t.Fatalf("Get(0): code %d, not the reloaded slot", code)
	}
}

func TestSlotsRetryFailedLoad(t *testing.T) {
	f := newFixture(t)
	f.slots.Start()
	f.addTopic(1, 1)
	if err := write(f.loaded().sl, []byte("v")); err != nil {
		t.Fatal(err)
	}
	// The next load reads a closed log and fails; the machine it makes
	// puts the readable replica back for the retry.
	tp := model.TopicPartition{Topic: testTopic, Partition: 0}
	readable := f.Get(tp)
	f.setReplica(tp, f.closedReplica(tp))
	f.machine = func(int32) *testMachine {
		f.setReplica(tp, readable)
		return &testMachine{}
	}
	f.publish(f.partition(0, 1, 1))
	failed, retried := f.next(), f.loaded() // after loadRetry
	if failed.sl != retried.sl {
		t.Fatal("a retry made a new slot")
	}
	if n := records(t, retried.sl); n != 1 {
		t.Fatalf("retried load has %d records, want 1", n)
	}
}

func TestSlotsRoute(t *testing.T) {
	f := newFixture(t)
	f.slots.Start()
	if _, code := f.slots.Route("g"); code != codeNotCoordinator {
		t.Fatalf("Route without the topic: code %d, want NOT_COORDINATOR", code)
	}
	f.addTopic(3, 1)
	for range 3 {
		f.loaded()
	}
	for _, key := range []string{"", "a", "my-group", "日本"} {
		sl, code := f.slots.Route(key)
		if code != 0 || sl.Partition() != Partition(key, 3) {
			t.Errorf("Route(%q): code %d, want partition %d", key, code, Partition(key, 3))
		}
	}
}

func TestSlotsFindCoordinatorCreatesTopicOnce(t *testing.T) {
	f := newFixture(t)
	f.slots.Start()
	// Two live brokers cannot hold a replication factor of 3: no topic,
	// COORDINATOR_NOT_AVAILABLE (it was once capped at 2, and the state
	// stayed on two brokers after the third came).
	if node, code, err := f.slots.FindCoordinator(context.Background(), "early"); node != -1 || code != codeCoordinatorNotAvailable || err == nil {
		t.Fatalf("FindCoordinator with 2 of 3 brokers: %d, %d, %v", node, code, err)
	}
	if len(f.creates) != 0 {
		t.Fatalf("%d creations with 2 of 3 brokers", len(f.creates))
	}
	f.publish(metadata.Record{Broker: &metadata.BrokerRecord{ID: 3}})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			key := fmt.Sprint("key-", i)
			if node, code, err := f.slots.FindCoordinator(context.Background(), key); node != 1 || code != 0 || err != nil {
				t.Errorf("FindCoordinator(%q): %d, %d, %v", key, node, code, err)
			}
		})
	}
	wg.Wait()
	if len(f.creates) != 1 {
		t.Fatalf("%d creations, want 1", len(f.creates))
	}
	rt := (<-f.creates).Topics[0]
	configs := map[string]string{}
	for _, c := range rt.Configs {
		configs[c.Name] = *c.Value
	}
	if rt.Topic != testTopic || rt.NumPartitions != 3 || rt.ReplicationFactor != 3 ||
		configs["cleanup.policy"] != "compact" || configs["min.insync.replicas"] != "3" {
		t.Fatalf("created %s: %d partitions, replication factor %d, configs %v", rt.Topic, rt.NumPartitions, rt.ReplicationFactor, configs)
	}
	if _, _, err := f.slots.FindCoordinator(context.Background(), "later"); err != nil || len(f.creates) != 0 {
		t.Fatalf("FindCoordinator once the topic exists: %v, %d creations", err, len(f.creates))
	}
}

func TestSlotsFindCoordinatorUnavailable(t *testing.T) {
	f := newFixture(t)
	f.publish(metadata.Record{Broker: &metadata.BrokerRecord{ID: 3}})
	f.slots.Start()
	f.createFn = func(*kmsg.CreateTopicsRequest) error { return errors.New("no quorum") }
	if node, code, err := f.slots.FindCoordinator(context.Background(), "k"); node != -1 || code != codeCoordinatorNotAvailable || err == nil {
		t.Fatalf("FindCoordinator when creation fails: %d, %d, %v", node, code, err)
	}
	f.createFn = nil
	f.addTopic(1, 2)
	// A nil ctx is the background.
	if node, code, err := f.slots.FindCoordinator(nil, "k"); node != 2 || code != 0 || err != nil {
		t.Fatalf("FindCoordinator of a partition led elsewhere: %d, %d, %v", node, code, err)
	}
	f.publish(metadata.Record{Broker: &metadata.BrokerRecord{ID: 2, Fenced: true}})
	node, code, err := f.slots.FindCoordinator(context.Background(), "k")
	if node != -1 || code != codeCoordinatorNotAvailable || err == nil || !strings.Contains(err.Error(), "test state partition leader 2 is not available") {
		t.Fatalf("FindCoordinator with a fenced leader: %d, %d, %v", node, code, err)
	}
	if len(f.creates) != 1 {
		t.Fatalf("%d creations, want the 1 that failed", len(f.creates))
	}
}

func TestSlotsClose(t *testing.T) {
	f := newFixture(t)
	f.slots.Start()
	f.addTopic(1, 1)
	m := f.loaded()
	done := make(chan struct{})
	if !f.slots.Go(func() {
		<-m.sl.Context().Done()
		close(done)
	}) {
		t.Fatal("Go refused before Close")
	}
	f.slots.Close()
	select {
	case <-done: // Close waited for it
	default:
		t.Fatal("Close returned before Go's function")
	}
	await(t, m.m.unloaded, "shard unloaded by Close")
	if _, code := f.slots.Get(0); code != codeNotCoordinator {
		t.Fatalf("Get after Close: code %d, want NOT_COORDINATOR", code)
	}
	if f.slots.Go(func() { t.Error("Go ran after Close") }) {
		t.Fatal("Go accepted after Close")
	}
	f.publish(f.partition(0, 1, 1)) // metadata after Close loads nothing
	if _, code := f.slots.Get(0); code != codeNotCoordinator {
		t.Fatalf("Get after a publish past Close: code %d, want NOT_COORDINATOR", code)
	}
	f.expectNoLoad()
}
